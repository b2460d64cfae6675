import re

import pytest
import sqlalchemy as sa

from reserve.auth.models import Role
from reserve.disposals.models import Rotation, Scrap
from reserve.receipts.models import Receipt
from tests.disposals.conftest import days


@pytest.fixture
def keeper_stock(login_as, make_material, put_stock):
    """A keeper (pages in English, for the messages) with 10 expired and 5 fresh tents."""
    keeper = login_as(Role.KEEPER)
    keeper.get("/lang/en")
    warehouse = keeper.user.warehouses[0]
    tent = make_material("单帐篷", near_expiry_days=90)
    location, expired = put_stock(tent, warehouse, 10, expiry_date=days(-3), batch_no="OLD-1")
    _location, fresh = put_stock(tent, warehouse, 5, expiry_date=days(400), batch_no="NEW-1")
    return keeper, warehouse, location, expired, fresh


def _lines(location, batch, qty, serials=""):
    return {
        "lines-0-stock": f"{location.id}:{batch.id}",
        "lines-0-qty": str(qty),
        "lines-0-serial_nos": serials,
    }


def _rotation_form(location, batch, qty, **changes):
    data = {
        "disposition": "donated",
        "counterparty": "某区救助站",
        "document_date": days(0).isoformat(),
        "note": "",
        "replacement_receipt_id": "",
        **_lines(location, batch, qty),
    }
    data.update(changes)
    return data


def _scrap_form(location, batch, qty, **changes):
    data = {
        "reason": "damaged",
        "reason_text": "雨水浸泡",
        "document_date": days(0).isoformat(),
        "note": "",
        **_lines(location, batch, qty),
    }
    data.update(changes)
    return data


def _count(db, model) -> int:
    return db.scalar(sa.select(sa.func.count()).select_from(model))


def test_keeper_rotates_an_expired_batch_from_the_candidates_page(keeper_stock, db, balance):
    keeper, warehouse, location, expired, fresh = keeper_stock
    html = keeper.get("/rotations/candidates").get_data(as_text=True)
    row = re.search(rf'<tr id="candidate-{location.id}-{expired.id}".*?</tr>', html, re.S).group()
    assert 'data-days-left="-3"' in row and "text-danger" in row and "OLD-1" in row
    assert "NEW-1" not in html
    link = f"/rotations/new?location_id={location.id}&amp;batch_id={expired.id}"
    assert link in row

    url = link.replace("&amp;", "&")
    form = keeper.get(url).get_data(as_text=True)
    assert f'value="{location.id}:{expired.id}" selected' in form
    assert re.search(r'<input[^>]*name="lines-0-qty"[^>]*value="10"', form)

    response = keeper.post(url, data=_rotation_form(location, expired, 4))
    assert response.status_code == 302, response.get_data(as_text=True)
    rotation = db.scalar(sa.select(Rotation))
    assert response.headers["Location"].endswith(f"/rotations/{rotation.id}")
    detail = keeper.get(f"/rotations/{rotation.id}").get_data(as_text=True)
    assert rotation.no in detail and 'id="rotation-post"' in detail and "某区救助站" in detail

    assert keeper.post(f"/rotations/{rotation.id}/post").status_code == 302
    assert balance(location, expired) == 6
    detail = keeper.get(f"/rotations/{rotation.id}").get_data(as_text=True)
    assert 'data-status="posted"' in detail and 'id="rotation-post"' not in detail
    again = keeper.post(f"/rotations/{rotation.id}/post", follow_redirects=True)
    assert "already posted" in again.get_data(as_text=True)
    assert balance(location, expired) == 6


@pytest.mark.parametrize(
    "qty, message",
    [
        ("0", "greater than zero"),
        ("-1", "greater than zero"),
        ("1.5", "whole number"),
        ("abc", "whole number"),
        ("", "whole number"),
        ("10000000000", "implausibly large"),
        ("11", "Only 10 顶 of 单帐篷 (batch OLD-1) available at A-01-01; 11 顶 asked for."),
    ],
)
def test_bad_quantities_in_the_forms_show_a_message_and_change_nothing(
    keeper_stock, db, qty, message
):
    keeper, warehouse, location, expired, fresh = keeper_stock
    for url, data, model in (
        ("/rotations/new", _rotation_form(location, expired, qty), Rotation),
        ("/scraps/new", _scrap_form(location, expired, qty), Scrap),
    ):
        response = keeper.post(url, data=data)
        assert response.status_code == 200, (url, qty)
        html = response.get_data(as_text=True)
        assert "alert-danger" in html and message in html, (url, qty)
        assert _count(db, model) == 0


def test_a_line_without_stock_chosen_is_refused(keeper_stock, db):
    keeper, *_ = keeper_stock
    response = keeper.post(
        "/scraps/new",
        data={"reason": "damaged", "lines-0-qty": "3", "document_date": days(0).isoformat()},
    )
    assert "Line 1: choose the stock." in response.get_data(as_text=True)
    response = keeper.post(
        "/scraps/new", data={"reason": "damaged", "document_date": days(0).isoformat()}
    )
    assert "Add at least one line." in response.get_data(as_text=True)
    assert _count(db, Scrap) == 0


def test_scrap_is_requested_approved_and_posted_through_the_pages(
    keeper_stock, login_as, db, balance
):
    keeper, warehouse, location, expired, fresh = keeper_stock
    page = keeper.get("/scraps/new").get_data(as_text=True)
    assert f'value="{location.id}:{fresh.id}"' in page  # any stock may be damaged
    response = keeper.post("/scraps/new", data=_scrap_form(location, fresh, 2))
    assert response.status_code == 302, response.get_data(as_text=True)
    scrap = db.scalar(sa.select(Scrap))
    detail = keeper.get(f"/scraps/{scrap.id}").get_data(as_text=True)
    assert 'data-status="requested"' in detail and 'id="scrap-approve"' not in detail

    approver = login_as(Role.APPROVER)
    assert scrap.no in approver.get("/scraps?status=requested").get_data(as_text=True)
    assert 'id="scrap-approve"' in approver.get(f"/scraps/{scrap.id}").get_data(as_text=True)
    assert (
        approver.post(f"/scraps/{scrap.id}/approve", data={"note": "同意报废"}).status_code == 302
    )
    assert approver.post(f"/scraps/{scrap.id}/post").status_code == 403  # keeps no warehouse

    detail = keeper.get(f"/scraps/{scrap.id}").get_data(as_text=True)
    assert 'data-status="approved"' in detail and "同意报废" in detail
    assert keeper.post(f"/scraps/{scrap.id}/post").status_code == 302
    assert balance(location, fresh) == 3
    assert 'data-status="posted"' in keeper.get(f"/scraps/{scrap.id}").get_data(as_text=True)


def test_the_requester_cannot_approve_through_the_page(
    keeper_stock, keeper_and_approver, login_user, db
):
    keeper, warehouse, location, expired, fresh = keeper_stock
    both = login_user(keeper_and_approver(warehouse))
    both.get("/lang/en")
    assert both.post("/scraps/new", data=_scrap_form(location, expired, 1)).status_code == 302
    scrap = db.scalar(sa.select(Scrap))
    detail = both.get(f"/scraps/{scrap.id}").get_data(as_text=True)
    assert 'id="scrap-own-request"' in detail and 'id="scrap-approve"' not in detail
    response = both.post(f"/scraps/{scrap.id}/approve", data={}, follow_redirects=True)
    assert "another person must approve" in response.get_data(as_text=True)
    db.refresh(scrap)
    assert scrap.status == "requested"


def test_rejecting_needs_a_reason(keeper_stock, login_as, db):
    keeper, warehouse, location, expired, fresh = keeper_stock
    keeper.post("/scraps/new", data=_scrap_form(location, expired, 1))
    scrap = db.scalar(sa.select(Scrap))
    approver = login_as(Role.APPROVER)
    approver.get("/lang/en")
    response = approver.post(
        f"/scraps/{scrap.id}/reject", data={"reason": ""}, follow_redirects=True
    )
    assert "Give the reason for the rejection." in response.get_data(as_text=True)
    db.refresh(scrap)
    assert scrap.status == "requested"
    approver.post(f"/scraps/{scrap.id}/reject", data={"reason": "可修复，送修"})
    detail = keeper.get(f"/scraps/{scrap.id}").get_data(as_text=True)
    assert 'data-status="rejected"' in detail and "可修复，送修" in detail
    assert 'id="scrap-post"' not in detail


def test_serial_numbers_through_the_form(login_as, make_material, put_stock, db):
    keeper = login_as(Role.KEEPER)
    keeper.get("/lang/en")
    pump = make_material("排水泵", unit="台", tracking="serial")
    location, batch = put_stock(
        pump, keeper.user.warehouses[0], 3, serial_nos=("P-1", "P-2", "P-3")
    )
    form = keeper.get("/scraps/new").get_data(as_text=True)
    assert "data-serial=1" in form
    bad = keeper.post(
        "/scraps/new", data=_scrap_form(location, batch, 2, **{"lines-0-serial_nos": "P-1 P-9"})
    )
    assert "Not in stock at A-01-01 (batch " in bad.get_data(as_text=True)
    good = keeper.post(
        "/scraps/new", data=_scrap_form(location, batch, 2, **{"lines-0-serial_nos": "P-1，P-3"})
    )
    assert good.status_code == 302
    assert db.scalar(sa.select(Scrap)).lines[0].serial_nos == ["P-1", "P-3"]


def test_a_keeper_of_another_warehouse_gets_403(keeper_stock, login_as, db, balance):
    keeper, warehouse, location, expired, fresh = keeper_stock
    keeper.post("/rotations/new", data=_rotation_form(location, expired, 1))
    keeper.post("/scraps/new", data=_scrap_form(location, expired, 1))
    rotation, scrap = db.scalar(sa.select(Rotation)), db.scalar(sa.select(Scrap))
    approver = login_as(Role.APPROVER)
    approver.post(f"/scraps/{scrap.id}/approve")

    other = login_as(Role.KEEPER)
    for method, url in [
        ("get", f"/rotations/{rotation.id}"),
        ("post", f"/rotations/{rotation.id}/post"),
        ("post", f"/rotations/{rotation.id}/replacement"),
        ("get", f"/scraps/{scrap.id}"),
        ("post", f"/scraps/{scrap.id}/post"),
        ("get", f"/rotations/new?warehouse_id={warehouse.id}"),
        ("get", f"/scraps/new?location_id={location.id}&batch_id={expired.id}"),
    ]:
        response = getattr(other, method)(url)
        assert response.status_code == 403, (method, url, response.status_code)
    assert balance(location, expired) == 10
    for url in ("/rotations", "/scraps", "/rotations/candidates"):
        html = other.get(url).get_data(as_text=True)
        assert rotation.no not in html and scrap.no not in html and "OLD-1" not in html


def test_viewers_read_but_do_not_write(keeper_stock, login_as, db):
    keeper, warehouse, location, expired, fresh = keeper_stock
    keeper.post("/rotations/new", data=_rotation_form(location, expired, 1))
    rotation = db.scalar(sa.select(Rotation))
    viewer = login_as(Role.VIEWER)
    html = viewer.get(f"/rotations/{rotation.id}").get_data(as_text=True)
    assert rotation.no in html and 'id="rotation-post"' not in html and "link-form" not in html
    candidates = viewer.get("/rotations/candidates").get_data(as_text=True)
    assert "OLD-1" in candidates and "candidate-rotate" not in candidates
    assert viewer.post(f"/rotations/{rotation.id}/post").status_code == 403


def test_link_the_replacement_receipt_on_the_detail_page(keeper_stock, db):
    keeper, warehouse, location, expired, fresh = keeper_stock
    keeper.post("/rotations/new", data=_rotation_form(location, expired, 1))
    rotation = db.scalar(sa.select(Rotation))
    receipt = Receipt(
        no="RK20990101-0001",
        warehouse_id=warehouse.id,
        source="purchase",
        document_date=days(0),
        created_by_name="test",
    )
    db.add(receipt)
    db.flush()
    response = keeper.post(
        f"/rotations/{rotation.id}/replacement", data={"receipt_id": str(receipt.id)}
    )
    assert response.status_code == 302
    detail = keeper.get(f"/rotations/{rotation.id}").get_data(as_text=True)
    assert re.search(r'id="replacement-receipt".*RK20990101-0001', detail, re.S)


def test_the_candidates_page_runs_a_fixed_number_of_queries(
    login_as, make_material, put_stock, count_queries
):
    viewer = login_as(Role.VIEWER)
    keeper = login_as(Role.KEEPER)
    warehouse = keeper.user.warehouses[0]
    tent = make_material("单帐篷", near_expiry_days=90)
    put_stock(tent, warehouse, 5, expiry_date=days(10))
    with count_queries() as few:
        viewer.get("/rotations/candidates")
    for n in range(20):
        put_stock(make_material(f"物资{n}"), warehouse, 5, expiry_date=days(n - 10))
    with count_queries() as many:
        html = viewer.get("/rotations/candidates").get_data(as_text=True)
    assert html.count('class="btn btn-outline-primary btn-sm candidate-rotate"') == 0
    assert html.count("data-days-left") == 21
    assert len(many) == len(few)


def test_the_document_lists_run_a_fixed_number_of_queries(keeper_stock, count_queries):
    keeper, warehouse, location, expired, fresh = keeper_stock
    keeper.post("/scraps/new", data=_scrap_form(location, expired, 1))
    keeper.post("/rotations/new", data=_rotation_form(location, expired, 1))
    with count_queries() as few:
        keeper.get("/scraps")
        keeper.get("/rotations")
    for _ in range(5):
        keeper.post("/scraps/new", data=_scrap_form(location, expired, 1))
        keeper.post("/rotations/new", data=_rotation_form(location, expired, 1))
    with count_queries() as many:
        keeper.get("/scraps")
        keeper.get("/rotations")
    assert len(many) == len(few)
