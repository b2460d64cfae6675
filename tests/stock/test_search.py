""" "How many tents, and where?" (issue 8) and the stock pages' own paths (issue 10): totals per
unit for the whole result, the warehouses by name, the material-by-warehouse pivot, batch and
serial search, pages read by key, and query counts that do not grow with the rows."""

import re

import pytest
from sqlalchemy import select

from reserve.auth.models import Role
from reserve.db import local_today
from reserve.stock import ledger
from reserve.stock.models import Batch, MovementKind
from reserve.stock.queries import StockFilter, find_batches, stock_by_material, stock_pivot
from reserve.warehouses.models import Location


def _stock(db, actor, warehouse, material, batch_no, qty, *, serials=None):
    location = db.scalar(
        select(Location).where(Location.warehouse_id == warehouse.id, Location.code == "A-01-01")
    )
    batch = db.scalar(
        select(Batch).where(Batch.material_id == material.id, Batch.batch_no == batch_no)
    )
    if batch is None:
        batch = Batch(material_id=material.id, batch_no=batch_no, source="purchase")
        db.add(batch)
        db.flush()
    ledger.post_movement(
        db,
        kind=MovementKind.RECEIPT,
        location_id=location.id,
        batch_id=batch.id,
        qty=qty,
        document=ledger.DocumentRef("test", None, "T-1", local_today()),
        actor=actor,
        **({"serial_nos": serials} if serials else {}),
    )
    return batch


@pytest.fixture
def city(db, make_warehouse, make_material, system_actor):
    """Tents (顶) in five warehouses, folding beds (张) in one, a generator (台) elsewhere."""
    names = ["甲库", "乙库", "丙库", "丁库", "戊库"]
    houses = [make_warehouse(code=f"W{i}", name=name) for i, name in enumerate(names)]
    tent = make_material("单帐篷", code="T01", unit="顶")
    bed = make_material("折叠床", code="T02", unit="张")
    other = make_material("发电机", code="T03", unit="台")
    for i, house in enumerate(houses):
        _stock(db, system_actor, house, tent, "TB-1", 100 * (i + 1))  # 100 … 500
    _stock(db, system_actor, houses[0], bed, "BED-1", 300)
    _stock(db, system_actor, houses[1], other, "GEN-1", 2)
    return houses, tent, bed, other


def test_search_totals_per_unit_over_the_whole_result_not_only_the_page(
    login_as, db, city, system_actor
):
    houses, tent, bed, other = city
    dispatcher = login_as(Role.DISPATCHER)
    html = dispatcher.get("/stock?q=T0").get_data(as_text=True)
    totals = html[html.index('id="stock-totals"') :]
    totals = totals[: totals.index("</div>")]
    assert re.search(r'data-unit="顶">可用 <strong>1,500 顶</strong>', totals)
    assert re.search(r'data-unit="张">可用 <strong>300 张</strong>', totals)
    # the totals cover every page: a page of one material still totals all three
    page = stock_by_material(db, system_actor, StockFilter(q="T0"), per_page=1)
    assert [r.code for r in page.items] == ["T01"] and page.next_key == "T01"
    html = dispatcher.get("/stock?q=T0&after=T01").get_data(as_text=True)
    assert "1,500 顶" in html and "T01" not in html.split('id="stock-table"')[1].split("<tbody>")[1]


def test_each_material_names_the_first_three_warehouses_then_how_many_in_all(login_as, db, city):
    html = login_as(Role.DISPATCHER).get("/stock").get_data(as_text=True)
    row = re.search(r'<tr data-material="T01">.*?</tr>', html, re.S).group(0)
    holders = re.search(r"data-holders>(.*?)</td>", row, re.S).group(1)
    # most available first
    assert re.findall(r">(\S库)</a>", holders) == ["戊库", "丁库", "丙库"]
    assert "等 5 处" in holders
    bed = re.search(r'<tr data-material="T02">.*?</tr>', html, re.S).group(0)
    assert "甲库" in bed and "等" not in re.search(r"data-holders>(.*?)</td>", bed, re.S).group(1)


def test_the_pivot_puts_materials_in_rows_and_warehouses_in_columns_with_totals(
    login_as, db, city, system_actor
):
    houses, tent, bed, other = city
    pivot = stock_pivot(db, system_actor, StockFilter())
    assert [r.code for r in pivot.rows] == ["T01", "T02", "T03"]
    assert [w[2] for w in pivot.warehouses] == ["甲库", "乙库", "丙库", "丁库", "戊库"]
    tents = pivot.rows[0]
    assert [tents.cells[h.id] for h in houses] == [100, 200, 300, 400, 500]
    assert tents.total == 1500
    assert {unit: total for unit, _sums, total in pivot.column_totals()} == {
        "顶": 1500,
        "张": 300,
        "台": 2,
    }
    html = login_as(Role.DISPATCHER).get("/stock/pivot?q=帐篷").get_data(as_text=True)
    table = html[html.index('id="pivot-table"') :]
    assert table.count('<th class="text-end" data-warehouse=') == 5
    assert re.search(r"data-total>1,500<", table)
    # each cell links to the material in that warehouse
    cell = f'<td class="text-end" data-warehouse="{houses[4].id}"><a class="text-reset" '
    href = f'href="/stock/materials/{tent.id}?warehouse={houses[4].id}">500</a></td>'
    assert cell + href in table
    assert "折叠床" not in table  # the same filters as the list
    everything = login_as(Role.DISPATCHER).get("/stock/pivot").get_data(as_text=True)
    beds = everything[everything.index('data-material="T02"') :].split("</tr>")[0]
    held = sum(1 for h in houses if h.id in pivot.rows[1].cells)
    assert 0 < held < len(pivot.warehouses)
    assert beds.count("<td></td>") == len(pivot.warehouses) - held  # the others are empty


def test_the_pivot_columns_are_the_readers_warehouses_only(login_as, db, city):
    houses, tent, bed, other = city
    keeper = login_as(Role.KEEPER, warehouses=[houses[2]])
    html = keeper.get("/stock/pivot").get_data(as_text=True)
    table = html[html.index('id="pivot-table"') :]
    assert "丙库" in table and "甲库" not in table and "戊库" not in table
    assert re.search(r"data-total>300<", table)


def test_a_scanned_batch_number_goes_straight_to_the_batch(login_as, db, city):
    houses, tent, bed, other = city
    dispatcher = login_as(Role.DISPATCHER)
    response = dispatcher.get("/stock?batch=bed-")  # typed in lower case, a prefix
    assert response.status_code == 302
    batch_id = db.scalar(select(Batch.id).where(Batch.batch_no == "BED-1"))
    assert response.location.endswith(f"/stock/materials/{bed.id}?batch={batch_id}")
    html = dispatcher.get(response.location).get_data(as_text=True)
    assert 'id="batch-narrowed"' in html and "BED-1" in html
    assert re.search(r'id="material-total">300 张<', html)


def test_a_batch_prefix_matching_several_batches_lists_them(login_as, db, city, system_actor):
    houses, tent, bed, other = city
    _stock(db, system_actor, houses[0], tent, "TB-2", 7)
    html = login_as(Role.DISPATCHER).get("/stock?batch=TB-").get_data(as_text=True)
    matches = html[html.index('id="batch-matches"') :]
    assert "TB-1" in matches and "TB-2" in matches and "BED-1" not in matches
    assert [m.batch_no for m in find_batches(db, system_actor, "tb")] == ["TB-1", "TB-2"]
    html = login_as(Role.DISPATCHER).get("/stock?batch=NOPE").get_data(as_text=True)
    assert 'id="batch-none"' in html


def test_a_serial_number_finds_its_batch(login_as, db, make_warehouse, make_material):
    from reserve.auth.actor import Actor

    house = make_warehouse(code="WS", name="设备库")
    generator = make_material("发电机", code="GEN", unit="台", tracking="serial")
    actor = Actor.system("test")
    batch = _stock(db, actor, house, generator, "G-2026", 2, serials=["SN-AAA1", "SN-BBB2"])
    assert [m.batch_id for m in find_batches(db, actor, "sn-bbb")] == [batch.id]
    response = login_as(Role.KEEPER, warehouses=[house]).get("/stock?batch=SN-BBB2")
    assert response.status_code == 302 and f"batch={batch.id}" in response.location
    # the keeper of another warehouse finds nothing of it
    other = login_as(Role.KEEPER)
    assert other.get("/stock?batch=SN-BBB2").status_code == 200


def test_the_api_filters_by_batch_number(client, api_token, db, city):
    headers, _ = api_token(Role.DISPATCHER)
    body = client.get("/api/v1/stock?batch=BED", headers=headers).get_json()
    assert [(r["code"], r["qty"]) for r in body["items"]] == [("T02", 300)]


def test_the_material_page_pages_by_key(login_as, db, make_warehouse, make_material, system_actor):
    from reserve.stock.queries import material_balance_page

    houses = [make_warehouse(code=f"P{i}", name=f"库{i}") for i in range(3)]
    tent = make_material("单帐篷", code="PT", unit="顶")
    for house in houses:
        for n in range(4):
            _stock(db, system_actor, house, tent, f"PB-{n}", 1)
    seen, after = [], None
    while True:
        page = material_balance_page(
            db, system_actor, tent.id, near_expiry_days=30, after=after, per_page=5
        )
        seen += [(b.warehouse_code, b.batch_no) for b in page.items]
        if not page.next_key:
            break
        after = int(page.next_key)
    assert seen == [(f"P{i}", f"PB-{n}") for i in range(3) for n in range(4)]
    html = login_as(Role.VIEWER).get(f"/stock/materials/{tent.id}").get_data(as_text=True)
    assert html.count("<tr data-batch=") == 12 and 'id="balances-next"' not in html


@pytest.mark.parametrize(
    "url",
    [
        "/stock",
        "/stock/pivot",
        "/stock?q=T",
        "/stock?batch=QB",
        "/stock/materials/{tent}",
        "/stock/materials/{tent}/card",
        "/stock/export.xlsx",
    ],
)
def test_stock_pages_run_the_same_number_of_queries_for_1_or_8_materials(
    url, login_as, db, make_warehouse, make_material, system_actor, count_queries
):
    houses = [make_warehouse(code=f"Q{i}", name=f"库{i}") for i in range(4)]
    tent = make_material("单帐篷", code="T00", unit="顶")
    _stock(db, system_actor, houses[0], tent, "QB-0", 5)
    _stock(db, system_actor, houses[1], tent, "QB-00", 5)  # two batches: a list, no redirect
    viewer = login_as(Role.VIEWER)
    path = url.format(tent=tent.id)
    viewer.get(path)  # warm: the user, the session
    with count_queries() as few:
        assert viewer.get(path).status_code == 200
    for n in range(1, 8):
        material = make_material(f"物资{n}", code=f"T{n:02d}", unit="件")
        for house in houses:
            _stock(db, system_actor, house, material, f"QB-{n}", n)
            _stock(db, system_actor, house, tent, f"QT-{n}", 1)
    with count_queries() as many:
        assert viewer.get(path).status_code == 200
    assert len(many) == len(few), (path, len(few), len(many))
