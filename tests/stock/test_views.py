import io
import re
from datetime import date

from openpyxl import load_workbook
from sqlalchemy import func, select

from reserve.auth.models import Role
from reserve.stock.models import MovementKind, StockBalance, StockMove, StockMovement
from tests.stock.conftest import post


def test_stock_page_sums_across_locations_and_shows_the_nearest_expiry(
    login_as, db, place, make_batch
):
    expiring = make_batch(place.material, "EXP", expiry=date(2027, 1, 31))
    post(db, place, 100)
    post(db, place, 20, batch=expiring, location=place.a2)
    dispatcher = login_as(Role.DISPATCHER)
    html = dispatcher.get("/stock").get_data(as_text=True)
    assert 'id="stock-table"' in html and "TENT" in html
    assert "120 顶" in html and "2027-01-31" in html


def test_keeper_sees_only_the_stock_of_their_warehouse(login_as, db, place, make_warehouse):
    post(db, place, 100)
    keeper = login_as(Role.KEEPER)  # keeps another, empty warehouse
    html = keeper.get("/stock").get_data(as_text=True)
    assert "TENT" not in html
    html = keeper.get(f"/stock/materials/{place.material.id}").get_data(as_text=True)
    assert "测试库" not in html


def test_stock_card_shows_running_balance_newest_first(login_as, db, place):
    for qty in (50, -20, 5):
        post(db, place, qty)
    html = (
        login_as(Role.VIEWER)
        .get(f"/stock/materials/{place.material.id}/card")
        .get_data(as_text=True)
    )
    table = html[html.index('id="stock-card-table"') :]
    rows = table.split("<tr>")[2:5]
    assert [
        r.count('fw-semibold">35') + r.count('fw-semibold">30') + r.count('fw-semibold">50')
        for r in rows
    ] == [1, 1, 1]
    assert rows[0].index("35") and "T-1" in rows[0]


def test_stock_card_exports_to_excel_with_the_same_balances(login_as, db, place):
    for qty in (50, -20, 5):
        post(db, place, qty)
    response = login_as(Role.VIEWER).get(f"/stock/materials/{place.material.id}/card.xlsx")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.data)).active
    rows = list(sheet.iter_rows(min_row=4, values_only=True))
    assert [(r[7], r[8], r[9]) for r in rows] == [(50, None, 50), (None, 20, 30), (5, None, 35)]


def test_stock_card_filters_by_batch_and_rejects_a_bad_date(login_as, db, place):
    post(db, place, 50)
    post(db, place, 7, batch=place.batch2)
    viewer = login_as(Role.VIEWER)
    url = f"/stock/materials/{place.material.id}/card"
    html = viewer.get(f"{url}?batch={place.batch2.id}").get_data(as_text=True)
    assert re.search(r">B2\s*</td>", html) and not re.search(r">B1\s*</td>", html)
    response = viewer.get(f"{url}?from=31-01-2026")
    assert response.status_code == 200
    assert "2026-01-31" in response.get_data(as_text=True)  # the message shows the format


def test_keeper_moves_stock_between_locations(login_as, db, place):
    keeper = login_as(Role.KEEPER, warehouses=[place.warehouse])
    post(db, place, 30)
    response = keeper.post(
        "/stock/moves/new",
        data={
            "warehouse_id": place.warehouse.id,
            "material_id": place.material.id,
            "batch_id": place.batch.id,
            "from_location_id": place.a1.id,
            "to_location_id": place.a2.id,
            "qty": 12,
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)[-3000:]
    kinds = db.scalars(select(StockMovement.kind).order_by(StockMovement.id)).all()
    assert kinds[-2:] == [MovementKind.MOVE_OUT.value, MovementKind.MOVE_IN.value]
    assert db.scalar(select(StockMove.no)).startswith("YK")


def test_moving_more_than_available_changes_nothing(login_as, db, place):
    keeper = login_as(Role.KEEPER, warehouses=[place.warehouse])
    post(db, place, 5)
    before = db.scalar(select(func.count()).select_from(StockMovement))
    response = keeper.post(
        "/stock/moves/new",
        data={
            "warehouse_id": place.warehouse.id,
            "material_id": place.material.id,
            "batch_id": place.batch.id,
            "from_location_id": place.a1.id,
            "to_location_id": place.a2.id,
            "qty": 6,
        },
    )
    assert response.status_code == 200
    # the message itself, with its figures (the form's help text also says 可用)
    assert "测试库 A-01-01 的 单帐篷（批次 B1）库存不足：可用 5 顶，需要 6 顶。" in (
        response.get_data(as_text=True)
    )
    balances = db.execute(
        select(StockBalance.location_id, StockBalance.qty).where(
            StockBalance.batch_id == place.batch.id
        )
    ).all()
    assert balances == [(place.a1.id, 5)]
    assert db.scalar(select(func.count()).select_from(StockMovement)) == before
    assert db.scalar(select(func.count()).select_from(StockMove)) == 0


def test_a_keeper_cannot_move_stock_in_another_warehouse(login_as, db, place):
    keeper = login_as(Role.KEEPER)  # keeps a different warehouse
    post(db, place, 5)
    response = keeper.post(
        "/stock/moves/new",
        data={
            "warehouse_id": place.warehouse.id,
            "material_id": place.material.id,
            "batch_id": place.batch.id,
            "from_location_id": place.a1.id,
            "to_location_id": place.a2.id,
            "qty": 1,
        },
    )
    # the warehouse is not among the keeper's choices: the form refuses it, field by field
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    select_tag = re.search(r'<select[^>]*id="warehouse_id"[^>]*>', html).group(0)
    assert "is-invalid" in select_tag
    assert "不是有效的选择" in html
    assert db.scalar(select(func.count()).select_from(StockMove)) == 0
