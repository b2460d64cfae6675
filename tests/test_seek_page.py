"""Paging by key (reserve.db.seek_page): every row once, in order, whatever the keys' directions,
with rows added meanwhile moving nothing, and a hand-edited key starting at the first page."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from reserve.db import seek_page
from reserve.stock.models import Batch
from reserve.warehouses.models import Warehouse


def _all_pages(db, stmt, keys, per_page, scalars=True):
    seen, after, pages = [], None, 0
    while True:
        page = seek_page(db, stmt, keys, after=after, per_page=per_page, scalars=scalars)
        pages += 1
        seen.extend(page.items)
        if page.next_key is None:
            return seen, pages
        after = page.next_key


@pytest.fixture
def houses(db, make_warehouse):
    made = [make_warehouse(code=f"K{n:02d}", name=f"库{n % 3}") for n in range(23)]
    db.flush()
    return made


@pytest.mark.parametrize("per_page", [1, 5, 22, 23, 50])
def test_every_row_once_in_the_order_of_its_keys(db, houses, per_page):
    stmt = select(Warehouse).where(Warehouse.code.like("K%"))
    keys = [(Warehouse.name, True), (Warehouse.code, False), (Warehouse.id, False)]
    seen, pages = _all_pages(db, stmt, keys, per_page)
    expected = sorted(houses, key=lambda w: (-ord(w.name[-1]), w.code))
    assert [w.code for w in seen] == [w.code for w in expected]
    assert pages == max(1, -(-len(houses) // per_page))


def test_one_direction_uses_a_row_value_and_pages_rows_by_name(db, houses):
    stmt = select(Warehouse.id, Warehouse.code).where(Warehouse.code.like("K%"))
    seen, _pages = _all_pages(db, stmt, [(Warehouse.code, True), (Warehouse.id, True)], 4, False)
    assert [row.code for row in seen] == sorted((w.code for w in houses), reverse=True)


def test_a_row_added_before_the_key_does_not_shift_the_next_page(db, houses, make_warehouse):
    stmt = select(Warehouse).where(Warehouse.code.like("K%"))
    keys = [(Warehouse.code, False), (Warehouse.id, False)]
    first = seek_page(db, stmt, keys, per_page=10, scalars=True)
    make_warehouse(code="K00A", name="插入")  # sorts inside the first page
    db.flush()
    second = seek_page(db, stmt, keys, after=first.next_key, per_page=10, scalars=True)
    assert second.items[0].code == "K10"  # OFFSET would repeat K09


def test_date_and_time_keys_round_trip(db, make_material):
    material = make_material("测试物资")
    day = date(2026, 6, 30)
    made = [
        Batch(
            material_id=material.id,
            batch_no=f"B{n:02d}",
            source="purchase",
            production_date=day - timedelta(n % 4),
            received_at=datetime(2026, 7, 1, 8, n % 5, tzinfo=UTC),
        )
        for n in range(17)
    ]
    db.add_all(made)
    db.flush()
    stmt = select(Batch).where(Batch.material_id == material.id)
    by_day = [(Batch.production_date, True), (Batch.id, False)]
    seen, _pages = _all_pages(db, stmt, by_day, 3)
    assert [b.id for b in seen] == [
        b.id for b in sorted(made, key=lambda b: (-b.production_date.toordinal(), b.id))
    ]
    by_time = [(Batch.received_at, False), (Batch.production_date, True), (Batch.id, True)]
    seen, _pages = _all_pages(db, stmt, by_time, 3)
    assert [b.id for b in seen] == [
        b.id
        for b in sorted(made, key=lambda b: (b.received_at, -b.production_date.toordinal(), -b.id))
    ]


BAD_KEYS = ["", "junk", "[1]", '["K05", "x"]', "{}", "[true, 1]", "[null, 3]", '[["K05"], 1]']


@pytest.mark.parametrize("token", BAD_KEYS)
def test_a_key_that_is_not_one_starts_at_the_first_page(db, houses, token):
    stmt = select(Warehouse).where(Warehouse.code.like("K%"))
    keys = [(Warehouse.code, False), (Warehouse.id, False)]
    page = seek_page(db, stmt, keys, after=token, per_page=5, scalars=True)
    assert [w.code for w in page.items] == ["K00", "K01", "K02", "K03", "K04"]


def _walk_materials(db, sort: str, per_page: int) -> list:
    from reserve.catalog.queries import material_page

    seen, after = [], None
    while True:
        page = material_page(db, sort=sort, after=after, per_page=per_page)
        seen += page.items
        if page.next_key is None:
            return seen
        after = page.next_key


@pytest.mark.parametrize("sort", ["price", "-price", "shelf_life", "-shelf_life", "-category"])
def test_decimal_and_unset_sort_keys_walk_every_material_once(
    db, make_material, make_category, sort
):
    from decimal import Decimal

    made = [
        make_material(
            f"物资{n}",
            code=f"1010100{n:03d}",
            category=make_category(("1010100", "1010200")[n % 2]),
            reference_price=None if n % 4 == 0 else Decimal("12.50") + n % 3,
            shelf_life_days=None if n % 5 == 0 else 300 + n % 2,
        )
        for n in range(13)
    ]
    seen = _walk_materials(db, sort, 4)
    assert sorted(m.id for m in seen) == sorted(m.id for m in made)
    field = {"price": "reference_price", "shelf_life": "shelf_life_days"}.get(sort.lstrip("-"))
    if field:  # unset first going up, last going down; the id breaks ties the same way
        values = [(-1 if getattr(m, field) is None else getattr(m, field), m.id) for m in seen]
        assert values == sorted(values, reverse=sort.startswith("-"))


@pytest.mark.parametrize("token", ["[12.5, 1]", '["NaN", 1]', '["Infinity", 1]', '["x", 1]'])
def test_a_decimal_key_must_be_a_finite_number_written_as_text(db, make_material, token):
    from decimal import Decimal

    from reserve.catalog.queries import material_page

    make_material("物资", code="1010100001", reference_price=Decimal("3"))
    page = material_page(db, sort="price", after=token)
    assert [m.code for m in page.items] == ["1010100001"]  # the first page, not an error


def test_a_capped_count_stops_one_past_the_cap(db, houses):
    from reserve.db import capped_count

    stmt = select(Warehouse).where(Warehouse.code.like("K%")).order_by(Warehouse.code)
    assert capped_count(db, stmt, 5) == 6
    assert capped_count(db, stmt, 100) == len(houses)
