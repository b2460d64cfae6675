"""The floor's pages, PDFs and API: a keeper picks from the pick list and ships, the delivery
note read back (pdftotext: Chinese, signature lines; its QR decoded: the receive page), the
pick list PDF in route order, the dispatcher receives partially, the scan page's pick (wrong
batch refused, substitute with a reason), the API idempotent, and who reaches which page."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from reserve.auth.models import Role
from reserve.orders.floor_models import OrderPick, OrderShipment
from reserve.orders.models import OrderSource, OrderStatus
from reserve.stock import ledger
from tests.labels.conftest import read_pdf
from tests.orders import floor_factories
from tests.orders.floor_factories import make_order

floor_site = floor_factories.floor_site  # the fixture
JSON = {"Accept": "application/json"}


@pytest.fixture
def order(db, floor_site):
    """A dispatch: 30 quilts at B-02-01 (Q-2027) and 5 tents at A-01-01."""
    s = floor_site
    return make_order(
        db,
        lines=[
            (s.quilt, [("stock", s.b2, s.quilt_b1, 30)]),
            (s.tent, [("stock", s.a1, s.tent_b1, 5)]),
        ],
    )


@pytest.fixture
def keeper(login_as, floor_site):
    return login_as(Role.KEEPER, warehouses=[floor_site.source])


def _pick_all(client, order, floor_site):
    for line in order.lines:
        source = line.sources[0]
        response = client.post(
            f"/orders/{order.id}/picks",
            data={
                "source_id": source.id,
                "location_id": source.location_id,
                "batch_id": source.batch_id,
                "qty": source.qty,
                "csrf_token": "",
            },
        )
        assert response.status_code == 302


def test_the_pick_list_page_and_pdf_follow_the_location_route(keeper, order, floor_site, tmp_path):
    page = keeper.get(f"/orders/{order.id}/pick-list/{floor_site.source.id}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert html.index("A-01-01") < html.index("B-02-01")  # route order, not line order
    pdf = keeper.get(f"/orders/{order.id}/pick-list/{floor_site.source.id}.pdf")
    assert pdf.mimetype == "application/pdf"
    _pages, text = read_pdf(pdf.data, tmp_path)
    assert "拣货单" in text and order.no in text and "Q-2027" in text
    assert text.index("A-01-01") < text.index("B-02-01")
    assert "拣货人" in text and "复核人" in text


def test_the_keeper_picks_ships_and_prints_the_delivery_note(
    keeper, db, order, floor_site, tmp_path
):
    _pick_all(keeper, order, floor_site)
    response = keeper.post(
        f"/orders/{order.id}/ship/{floor_site.source.id}",
        data={"vehicle_plate": "鲁a 12345", "driver_name": "李师傅", "driver_phone": "13912345678"},
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    shipment = db.scalar(sa.select(OrderShipment).where(OrderShipment.order_id == order.id))
    assert shipment.vehicle_plate == "鲁A12345"
    db.refresh(order)
    assert order.status == OrderStatus.SHIPPED.value
    pdf = keeper.get(f"/orders/{order.id}/shipments/{shipment.id}.pdf")
    pages, text = read_pdf(pdf.data, tmp_path)
    assert "出库单" in text and shipment.no in text and "鲁A12345" in text and "棉被" in text
    for who in ("发货人", "承运人", "接收人"):
        assert who in text
    assert pages == [[f"http://localhost/orders/{order.id}/receive"]]
    assert ledger.verify(db) == []


def test_a_transfers_note_is_a_diaobodan(db, floor_site, login_as, tmp_path):
    s = floor_site
    order = make_order(
        db,
        kind="transfer",
        destination=s.dest,
        lines=[(s.quilt, [("stock", s.b2, s.quilt_b1, 10)])],
    )
    keeper = login_as(Role.KEEPER, warehouses=[s.source])
    _pick_all(keeper, order, s)
    keeper.post(
        f"/orders/{order.id}/ship/{s.source.id}",
        data={"vehicle_plate": "鲁A12345", "driver_name": "李师傅", "driver_phone": "13912345678"},
    )
    shipment = db.scalar(sa.select(OrderShipment).where(OrderShipment.order_id == order.id))
    _pages, text = read_pdf(
        keeper.get(f"/orders/{order.id}/shipments/{shipment.id}.pdf").data, tmp_path
    )
    assert "调拨单" in text and "平阴县储备库" in text


def test_a_bad_plate_shows_on_the_form_and_ships_nothing(keeper, db, order, floor_site):
    _pick_all(keeper, order, floor_site)
    response = keeper.post(
        f"/orders/{order.id}/ship/{floor_site.source.id}",
        data={"vehicle_plate": "ABC", "driver_name": "李师傅", "driver_phone": "13912345678"},
    )
    assert response.status_code == 200
    assert "鲁A12345" in response.get_data(as_text=True)
    assert db.scalar(sa.select(sa.func.count()).select_from(OrderShipment)) == 0


def test_the_dispatcher_receives_partially_and_the_floor_shows_the_shortfall(
    keeper, login_as, db, order, floor_site
):
    _pick_all(keeper, order, floor_site)
    keeper.post(
        f"/orders/{order.id}/ship/{floor_site.source.id}",
        data={"vehicle_plate": "鲁A12345", "driver_name": "李师傅", "driver_phone": "13912345678"},
    )
    dispatcher = login_as(Role.DISPATCHER)
    quilts, tents = (line.sources[0] for line in order.lines)
    missing_reason = dispatcher.post(
        f"/orders/{order.id}/receive", data={f"qty-{quilts.id}": "27", f"qty-{tents.id}": "5"}
    )
    assert missing_reason.status_code == 200  # the form again, nothing signed
    assert "3" in missing_reason.get_data(as_text=True)
    done = dispatcher.post(
        f"/orders/{order.id}/receive",
        data={
            f"qty-{quilts.id}": "27",
            f"reason-{quilts.id}": "3 床途中淋湿",
            f"qty-{tents.id}": "5",
            "signed_by": "王主任",
        },
    )
    assert done.status_code == 302
    floor = dispatcher.get(f"/orders/{order.id}/floor").get_data(as_text=True)
    assert "floor-shortfall" in floor and "3 床途中淋湿" in floor
    db.refresh(order)
    assert order.status == OrderStatus.RECEIVED.value


def _stock_label(app, db, location, batch):
    """A printed stock label of (location, batch), its code as scanned."""
    from reserve.labels.codes import make_code
    from reserve.labels.edge import app_label_key
    from reserve.labels.models import Label, LabelKind

    label = Label(
        kind=LabelKind.STOCK.value,
        warehouse_id=location.warehouse_id,
        location_id=location.id,
        batch_id=batch.id,
        first_printed_by_name="t",
    )
    db.add(label)
    db.flush()
    with app.test_request_context():
        return make_code(label.id, key=app_label_key())


def test_scanning_offers_pick_and_records_it(app, keeper, db, order, floor_site):
    s = floor_site
    code = _stock_label(app, db, s.b2, s.quilt_b1)
    resolved = keeper.get("/scan/resolve.json", query_string={"code": code}).get_json()
    assert "pick" in resolved["actions"]
    offered = keeper.get("/scan/picks.json", query_string={"code": code}).get_json()
    source = order.lines[0].sources[0]
    assert [o["source_id"] for o in offered["sources"]] == [source.id]
    answer = keeper.post(
        "/scan/picks.json",
        data={
            "source_id": source.id,
            "location_id": offered["location_id"],
            "batch_id": offered["batch_id"],
            "qty": 12,
            "code": code,
        },
    )
    assert answer.status_code == 200, answer.get_json()
    pick = db.get(OrderPick, answer.get_json()["pick_id"])
    assert (pick.qty, pick.label_code) == (12, code)


def test_scanning_the_wrong_batch_is_refused_then_taken_as_a_substitute(
    app, keeper, db, order, floor_site
):
    s = floor_site
    code = _stock_label(app, db, s.a1, s.quilt_b2)  # the later batch, elsewhere
    source = order.lines[0].sources[0]
    form = {"source_id": source.id, "location_id": s.a1.id, "batch_id": s.quilt_b2.id, "qty": 5}
    refused = keeper.post("/scan/picks.json", data={**form, "code": code}, headers=JSON)
    assert refused.status_code == 409
    assert refused.get_json()["error"] == "wrong_batch"
    assert db.scalar(sa.select(sa.func.count()).select_from(OrderPick)) == 0
    taken = keeper.post(
        "/scan/picks.json", data={**form, "code": code, "substitute_reason": "货架压住"}
    )
    assert taken.status_code == 200
    assert db.scalar(sa.select(sa.func.count()).select_from(OrderSource)) == 3


def test_the_api_picks_and_ships_idempotently(db, client, api_token, order, floor_site):
    s = floor_site
    headers, _user = api_token(Role.KEEPER, warehouses=[s.source])
    source = order.lines[1].sources[0]
    body = {"source_id": source.id, "location_id": s.a1.id, "batch_id": s.tent_b1.id, "qty": 5}
    first = client.post(
        f"/api/v1/orders/{order.id}/picks",
        json=body,
        headers={**headers, "Idempotency-Key": "pick-0001"},
    )
    again = client.post(
        f"/api/v1/orders/{order.id}/picks",
        json=body,
        headers={**headers, "Idempotency-Key": "pick-0001"},
    )
    assert first.status_code == 201, first.get_json()
    assert again.get_json() == first.get_json()
    assert db.scalar(sa.select(sa.func.count()).select_from(OrderPick)) == 1
    listed = client.get(f"/api/v1/orders/{order.id}/pick-list/{s.source.id}", headers=headers)
    assert [r["location_code"] for r in listed.get_json()["items"]] == ["A-01-01", "B-02-01"]
    shipped = client.post(
        f"/api/v1/orders/{order.id}/ship",
        json={
            "warehouse_id": s.source.id,
            "vehicle_plate": "鲁A12345",
            "driver_name": "李师傅",
            "driver_phone": "13912345678",
        },
        headers={**headers, "Idempotency-Key": "ship-0001"},
    )
    assert shipped.status_code == 201 and shipped.get_json()["order_status"] == "picking"
    mine = client.get("/api/v1/pick-lists", headers=headers).get_json()
    assert [(r["no"], r["to_ship"]) for r in mine["items"]] == [(order.no, 30)]


def test_the_openapi_document_lists_the_floor(client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    for path in (
        "/orders/{order_id}/picks",
        "/orders/{order_id}/ship",
        "/orders/{order_id}/receive",
        "/orders/{order_id}/return",
        "/orders/{order_id}/close",
        "/orders/{order_id}/pick-list/{warehouse_id}",
        "/pick-lists",
    ):
        assert any(p.endswith(path) for p in paths), path


@pytest.mark.parametrize(
    ("role", "floor", "pick_list", "ship", "mine"),
    [
        (Role.ADMIN, 200, 200, 200, 200),
        (Role.DISPATCHER, 200, 200, 403, 403),
        (Role.APPROVER, 200, 200, 403, 403),
        (Role.VIEWER, 200, 200, 403, 403),
        (Role.KEEPER, 200, 200, 200, 200),  # a keeper of the source warehouse
        (Role.ENTERPRISE, 403, 403, 403, 403),
    ],
)
def test_who_reaches_the_floor_pages(
    login_as, order, floor_site, role, floor, pick_list, ship, mine
):
    fields = {"warehouses": [floor_site.source]} if role is Role.KEEPER else {}
    client = login_as(role, **fields)
    w = floor_site.source.id
    assert client.get(f"/orders/{order.id}/floor").status_code == floor
    assert client.get(f"/orders/{order.id}/pick-list/{w}").status_code == pick_list
    assert client.get(f"/orders/{order.id}/ship/{w}").status_code == ship
    assert client.get("/pick-lists").status_code == mine


def test_a_keeper_of_another_warehouse_gets_no_such_order(login_as, order):
    stranger = login_as(Role.KEEPER)  # keeps a warehouse of its own
    assert stranger.get(f"/orders/{order.id}/floor").status_code == 404
    assert stranger.get(f"/api/v1/orders/{order.id}/floor").status_code in (401, 404)
