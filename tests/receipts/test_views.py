"""A keeper records and posts a receipt through the pages; another warehouse is 403."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from reserve.auth.actor import Actor
from reserve.auth.models import Role
from reserve.receipts import service
from reserve.receipts.models import Receipt
from reserve.stock.models import Batch, SerialItem, StockBalance
from reserve.warehouses.models import RECEIVING_CODE, Location
from tests.receipts.conftest import TODAY, counts, line, receipt_data


@pytest.fixture
def keeper(login_as):
    client = login_as(Role.KEEPER)
    client.get("/lang/en")  # assert on the English msgids, whatever the Chinese catalogue says
    client.warehouse = client.user.warehouses[0]
    return client


def _locations(db, warehouse) -> dict[str, int]:
    return {
        loc.code: loc.id
        for loc in db.scalars(select(Location).where(Location.warehouse_id == warehouse.id))
    }


def form_data(warehouse_id: int, lines: list[dict], **header) -> dict:
    data = {
        "warehouse_id": str(warehouse_id),
        "source": "purchase",
        "document_date": TODAY.isoformat(),
        "supplier": "济南鲁锦家纺有限公司",
        "funding_source": "市级财政",
        "paper_no": "JNCG-2026-018",
        "note": "",
    }
    data.update(header)
    for index, fields in enumerate(lines):
        for name, value in fields.items():
            data[f"lines-{index}-{name}"] = str(value)
    return data


def test_keeper_records_and_posts_a_receipt(keeper, db, make_material):
    tent = make_material("单帐篷", code="TENT-V", unit="顶")
    pump = make_material("排水泵", code="PUMP-V", unit="台", tracking="serial")
    water = make_material("瓶装水", code="WATER-V", unit="箱", shelf_life_days=730)
    locations = _locations(db, keeper.warehouse)
    page = keeper.get("/receipts/new").get_data(as_text=True)
    assert f'value="{keeper.warehouse.id}" selected' in page  # the only kept warehouse
    assert 'name="lines-4-material_id"' in page and "TENT-V 单帐篷" in page
    assert RECEIVING_CODE in page and "js/receipts.js" in page and "style=" not in page

    produced = TODAY - timedelta(days=30)
    response = keeper.post(
        "/receipts/new",
        data=form_data(
            keeper.warehouse.id,
            [
                {
                    "material_id": tent.id,
                    "batch_no": "T-01",
                    "qty": 12,
                    "unit_cost": "680",
                    "location_id": locations["A-01-01"],
                },
                {},  # an empty row in between is ignored
                {
                    "material_id": water.id,
                    "batch_no": "W-01",
                    "qty": 40,
                    "production_date": produced.isoformat(),
                    "location_id": locations[RECEIVING_CODE],
                },
                {
                    "material_id": pump.id,
                    "batch_no": "P-01",
                    "qty": 2,
                    "serials": "SN-1\r\nSN-2\r\n",
                    "location_id": locations[RECEIVING_CODE],
                },
            ],
        ),
    )
    assert response.status_code == 302, response.get_data(as_text=True)[-3000:]
    receipt = db.scalar(select(Receipt).order_by(Receipt.id.desc()))
    assert response.location.endswith(f"/receipts/{receipt.id}")
    html = keeper.get(response.location).get_data(as_text=True)
    assert receipt.no in html and "Draft" in html and 'id="receipt-post"' in html
    assert (produced + timedelta(days=730)).isoformat() in html  # computed expiry
    assert "SN-1, SN-2" in html and "8,160.00" in html  # 12 × 680

    response = keeper.post(f"/receipts/{receipt.id}/post", follow_redirects=True)
    html = response.get_data(as_text=True)
    assert "posted" in html and 'id="receipt-post"' not in html
    assert (
        db.scalar(
            select(func.sum(StockBalance.qty)).where(
                StockBalance.warehouse_id == keeper.warehouse.id
            )
        )
        == 54
    )
    assert db.scalar(select(func.count()).select_from(SerialItem)) == 2
    listing = keeper.get("/receipts?status=posted").get_data(as_text=True)
    assert receipt.no in listing

    again = keeper.post(f"/receipts/{receipt.id}/post", follow_redirects=True)
    assert "already been posted" in again.get_data(as_text=True)


def test_bad_lines_show_a_message_at_the_line_and_change_nothing(keeper, db, make_material):
    tent = make_material("单帐篷", code="TENT-B")
    before = counts(db)
    response = keeper.post(
        "/receipts/new",
        data=form_data(
            keeper.warehouse.id, [{"material_id": tent.id, "batch_no": "T-01", "qty": "abc"}]
        ),
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "Line 1, Quantity" in html and "is-invalid" in html
    response = keeper.post(
        "/receipts/new",
        data=form_data(
            keeper.warehouse.id, [{}, {"material_id": tent.id, "batch_no": "T-01", "qty": "0"}]
        ),
    )
    html = response.get_data(as_text=True)
    assert "Line 1: A quantity must be greater than zero." in html
    assert 'name="lines-0-qty" type="number" value="0"' in html  # the blank row went away
    assert html.count("is-invalid") == 1  # and the bad field is marked
    response = keeper.post(
        "/receipts/new",
        data=form_data(
            keeper.warehouse.id,
            [{"material_id": tent.id, "batch_no": "T-01", "qty": 1, "serials": "X"}],
        ),
    )
    assert "tracked by batch" in response.get_data(as_text=True)
    assert counts(db) == before


def test_keeper_edits_and_cancels_a_draft(keeper, db, make_material):
    tent = make_material("单帐篷", code="TENT-E")
    receipt = service.create_receipt(
        db, data=receipt_data_for(keeper, tent), actor=Actor.for_user(keeper.user)
    )
    page = keeper.get(f"/receipts/{receipt.id}/edit").get_data(as_text=True)
    assert 'value="B1"' in page
    response = keeper.post(
        f"/receipts/{receipt.id}/edit",
        data=form_data(
            keeper.warehouse.id,
            [{"material_id": tent.id, "batch_no": "B2", "qty": 3}],
            source="donation",
        ),
    )
    assert response.status_code == 302
    db.expire_all()
    assert [(ln.batch_no, ln.qty) for ln in db.get(Receipt, receipt.id).lines] == [("B2", 3)]
    keeper.post(f"/receipts/{receipt.id}/cancel")
    assert db.scalar(select(Receipt.status).where(Receipt.id == receipt.id)) == "cancelled"
    assert keeper.get(f"/receipts/{receipt.id}/edit").status_code == 302
    assert db.scalar(select(func.count()).select_from(Batch)) == 0


def receipt_data_for(client, material):
    class _Site:
        warehouse = client.warehouse

    return receipt_data(_Site, line(material, "B1", 5))


def test_another_warehouse_is_403(keeper, login_as, db, make_material):
    tent = make_material("单帐篷", code="TENT-F")
    other = login_as(Role.KEEPER)
    other_warehouse = other.user.warehouses[0]
    theirs = service.create_receipt(
        db,
        data=receipt_data_for(type("C", (), {"warehouse": other_warehouse}), tent),
        actor=Actor.for_user(other.user),
    )
    before = counts(db)
    assert keeper.get(f"/receipts/new?warehouse_id={other_warehouse.id}").status_code == 403
    assert (
        keeper.post(
            "/receipts/new",
            data=form_data(
                other_warehouse.id, [{"material_id": tent.id, "batch_no": "X", "qty": 1}]
            ),
        ).status_code
        == 403
    )
    for url in (
        f"/receipts/{theirs.id}",
        f"/receipts/{theirs.id}.pdf",
        f"/receipts/{theirs.id}/edit",
    ):
        assert keeper.get(url).status_code == 403, url
    for url in (f"/receipts/{theirs.id}/post", f"/receipts/{theirs.id}/cancel"):
        assert keeper.post(url).status_code == 403, url
    assert counts(db) == before
    assert theirs.no not in keeper.get("/receipts").get_data(as_text=True)
    viewer = login_as(Role.VIEWER)
    assert theirs.no in viewer.get("/receipts").get_data(as_text=True)
    assert viewer.get("/receipts/new").status_code == 403
    assert viewer.post(f"/receipts/{theirs.id}/post").status_code == 403


def test_list_filters_and_has_no_n_plus_one(keeper, db, make_material, count_queries):
    tent = make_material("单帐篷", code="TENT-L")
    actor = Actor.for_user(keeper.user)
    made = [
        service.create_receipt(db, data=receipt_data_for(keeper, tent), actor=actor)
        for _ in range(3)
    ]
    service.post_receipt(db, receipt_id=made[0].id, actor=actor)
    html = keeper.get("/receipts?status=draft").get_data(as_text=True)
    assert made[0].no not in html and made[1].no in html and made[2].no in html
    html = keeper.get(f"/receipts?no={made[2].no[-4:]}").get_data(as_text=True)
    assert made[2].no in html and made[1].no not in html
    future = (TODAY + timedelta(days=5)).isoformat()
    assert "No receipt matches." in keeper.get(f"/receipts?date_from={future}").get_data(
        as_text=True
    )
    with count_queries() as few:
        keeper.get("/receipts")
    for _ in range(5):
        service.create_receipt(db, data=receipt_data_for(keeper, tent), actor=actor)
    with count_queries() as more:
        keeper.get("/receipts")
    assert len(more) == len(few)
