"""Choosing what to count without Ctrl-click list boxes: the new-stocktake page's checkbox trees
(warehouse → rows (排) → locations; categories) work as plain checkboxes; a whole row or
category is one box; bad input says why on its field and opens nothing."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from reserve.auth.models import Role
from reserve.stocktakes.models import Stocktake, StocktakeLine
from reserve.warehouses.models import Location


def html(response) -> str:
    return response.get_data(as_text=True)


@pytest.fixture
def rows(db, stocked, make_batch, move):
    """Row B of two shelves (B-01-01 holds 4 tents) beside row A and the receiving area."""
    s = stocked
    b1 = Location(warehouse_id=s.warehouse.id, code="B-01-01")
    b2 = Location(warehouse_id=s.warehouse.id, code="B-02-01")
    db.add_all([b1, b2])
    db.flush()
    move(b1, make_batch(s.tent, "T-B-01"), 4)
    return b1, b2


@pytest.fixture
def keeper(login_as, stocked):
    client = login_as(Role.KEEPER, warehouses=[stocked.warehouse])
    client.get("/lang/en")
    return client


def newest(db) -> Stocktake | None:
    return db.scalar(select(Stocktake).order_by(Stocktake.id.desc()))


def open_with(keeper, stocked, **data):
    return keeper.post("/stocktakes/new", data={"warehouse_id": stocked.warehouse.id, **data})


def test_the_form_is_a_tree_of_checkboxes_with_counts(keeper, stocked, rows):
    page = html(keeper.get("/stocktakes/new"))
    assert "<select" not in page.split('id="stocktake-form"')[1].split("</form>")[0]
    assert 'id="whole_warehouse"' in page and 'id="all_categories"' in page
    assert 'name="location_rows" value="A"' in page and 'name="location_rows" value="B"' in page
    b1, b2 = rows
    assert f'name="location_ids" value="{b1.id}"' in page
    assert f'name="location_ids" value="{stocked.recv.id}"' in page  # the receiving area
    assert "2 locations, 1 batches" in page  # row B: two shelves, one batch on the books
    assert f'name="category_ids" value="{stocked.tent.category_id}"' in page
    assert re.search(r'id="all_categories"[^>]*checked', page)  # categories: all, to begin
    assert not re.search(r'id="whole_warehouse"[^>]*checked', page)  # locations: a choice
    assert "js/stocktakes.js" in page


def test_a_whole_row_is_one_box(db, keeper, stocked, rows):
    b1, b2 = rows
    response = open_with(keeper, stocked, location_rows="B", all_categories="y")
    assert response.status_code == 302, html(response)[:3000]
    stocktake = newest(db)
    assert sorted(loc.code for loc in stocktake.locations) == ["B-01-01", "B-02-01"]
    lines = db.scalars(select(StocktakeLine).where(StocktakeLine.stocktake_id == stocktake.id))
    assert [(line.location_id, line.system_qty) for line in lines] == [(b1.id, 4)]


def test_rows_locations_and_categories_add_up(db, keeper, stocked, rows, make_category):
    b1, _b2 = rows
    single = make_category("1010101", "单帐篷")
    response = keeper.post(
        "/stocktakes/new",
        data={
            "warehouse_id": stocked.warehouse.id,
            "location_rows": ["A"],
            "location_ids": [str(b1.id), str(stocked.recv.id)],
            # a category ticked with its parent is kept once, as the parent
            "category_ids": [str(single.id), str(stocked.tent.category_id)],
        },
    )
    assert response.status_code == 302, html(response)[:3000]
    stocktake = newest(db)
    assert sorted(loc.code for loc in stocktake.locations) == ["A-01-01", "B-01-01", "RECV"]
    assert [c.id for c in stocktake.categories] == [stocked.tent.category_id]
    materials = set(
        db.scalars(
            select(StocktakeLine.material_id).where(StocktakeLine.stocktake_id == stocktake.id)
        )
    )
    assert materials == {stocked.tent.id}  # the quilts are of another category


def test_the_whole_warehouse_box_counts_everything(db, keeper, stocked, rows):
    response = open_with(
        keeper, stocked, whole_warehouse="y", location_rows="A", all_categories="y"
    )
    assert response.status_code == 302
    stocktake = newest(db)
    assert stocktake.locations == [] and stocktake.categories == []
    lines = db.scalar(select(func.count()).where(StocktakeLine.stocktake_id == stocktake.id))
    assert lines == 4  # tents and quilts at A-01-01, quilts at RECV, tents at B-01-01


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"all_categories": "y"}, "location-errors", "Choose what to count"),
        ({"whole_warehouse": "y"}, "category-errors", "Choose the categories to count"),
        ({"location_rows": "Z", "all_categories": "y"}, "location-errors", "has no row Z"),
        ({"location_ids": "abc", "all_categories": "y"}, "location-errors", ""),
        ({"location_ids": str(2**40), "all_categories": "y"}, "location-errors", "not a valid"),
        ({"whole_warehouse": "y", "category_ids": "0"}, "category-errors", "not a valid id"),
    ],
)
def test_nothing_or_nonsense_chosen_says_why_on_the_field(
    db, keeper, stocked, rows, data, field, message
):
    response = open_with(keeper, stocked, **data)
    page = html(response)
    assert response.status_code == 200
    assert f'id="{field}"' in page and message in page.split(f'id="{field}"')[1][:400]
    assert db.scalar(select(func.count()).select_from(Stocktake)) == 0


def test_a_location_of_another_warehouse_is_refused_on_the_field(
    db, keeper, stocked, make_warehouse
):
    other = make_warehouse()
    theirs = db.scalar(select(Location.id).where(Location.warehouse_id == other.id))
    response = open_with(keeper, stocked, location_ids=str(theirs), all_categories="y")
    page = html(response)
    assert response.status_code == 200
    assert (
        f"Choose locations of {stocked.warehouse.name} only"
        in page.split('id="location-errors"')[1][:400]
    )
    assert db.scalar(select(func.count()).select_from(Stocktake)) == 0


def test_what_was_ticked_is_kept_when_the_form_comes_back(db, keeper, stocked, rows):
    b1, _b2 = rows
    response = open_with(keeper, stocked, location_ids=str(b1.id), location_rows="A")
    page = html(response)  # no category chosen: refused, the ticks stay
    assert re.search(rf'value="{b1.id}" id="location-{b1.id}"[^>]*checked', page)
    assert re.search(r'id="row-A"[^>]*checked', page)
    assert not re.search(r'id="all_categories"[^>]*checked', page)


def test_the_form_page_does_not_grow_queries_with_locations(db, keeper, stocked, count_queries):
    with count_queries() as few:
        assert keeper.get("/stocktakes/new").status_code == 200
    db.add_all(
        Location(warehouse_id=stocked.warehouse.id, code=f"C-{n:02d}-01") for n in range(1, 30)
    )
    db.flush()
    with count_queries() as many:
        page = html(keeper.get("/stocktakes/new"))
    assert "C-29-01" in page and len(many) == len(few)
