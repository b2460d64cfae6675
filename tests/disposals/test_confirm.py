"""What is at stake on an approval: unit cost, line value and total on the scrap and rotation
pages; approve and post go through the same confirm page; 过期/临期 badges; people by name."""

from decimal import Decimal

import pytest
import sqlalchemy as sa

from reserve.auth.models import Role
from reserve.disposals.models import Rotation, Scrap
from tests.disposals.conftest import days


@pytest.fixture
def stock(db, login_user, make_user, make_material, put_stock, make_warehouse):
    """A keeper 赵保管 (pages in English) with 10 expired tents at ¥12.50, 5 near-expiry and
    8 fresh tents without a cost."""
    warehouse = make_warehouse()
    client = login_user(
        make_user(Role.KEEPER, username="zhao", full_name="赵保管", warehouses=[warehouse])
    )
    client.get("/lang/en")
    tent = make_material("单帐篷", near_expiry_days=90)
    location, expired = put_stock(tent, warehouse, 10, expiry_date=days(-3), batch_no="OLD-1")
    _l, near = put_stock(tent, warehouse, 5, expiry_date=days(30), batch_no="NEAR-1")
    _l, fresh = put_stock(tent, warehouse, 8, expiry_date=days(400), batch_no="NEW-1")
    expired.unit_cost = Decimal("12.50")
    db.flush()
    return client, location, expired, near, fresh


def _scrap_form(location, *lines):
    data = {"reason": "expired", "reason_text": "", "document_date": days(0).isoformat()}
    for i, (batch, qty) in enumerate(lines):
        data |= {f"lines-{i}-stock": f"{location.id}:{batch.id}", f"lines-{i}-qty": str(qty)}
    return data


def test_the_scrap_form_offers_stock_with_its_expiry_state(stock):
    keeper, location, expired, near, fresh = stock
    html = keeper.get("/scraps/new").get_data(as_text=True)
    option = lambda batch: html.split(f'value="{location.id}:{batch.id}"')[1].split("</option>")[0]  # noqa: E731
    assert 'data-expiry="expired"' in option(expired) and "Expired" in option(expired)
    assert 'data-expiry="near"' in option(near) and "Near expiry" in option(near)
    assert "data-expiry" not in option(fresh)
    html = keeper.get("/rotations/new").get_data(as_text=True)
    assert 'data-expiry="expired"' in html and 'data-expiry="near"' in html


def test_a_scrap_shows_unit_cost_line_value_and_total_then_confirms(stock, login_as, db):
    keeper, location, expired, near, fresh = stock
    response = keeper.post("/scraps/new", data=_scrap_form(location, (expired, 4), (near, 1)))
    assert response.status_code == 302, response.get_data(as_text=True)[-2000:]
    scrap = db.scalar(sa.select(Scrap))
    detail = keeper.get(f"/scraps/{scrap.id}").get_data(as_text=True)
    assert "¥12.50" in detail and "¥50.00" in detail
    assert 'id="scrap-lines-total">¥50.00' in detail
    assert "Lines without a unit cost: 1" in detail
    assert 'data-expiry="expired"' in detail and 'data-expiry="near"' in detail
    assert '<span class="person" title="zhao">赵保管</span>' in detail

    approver = login_as(Role.APPROVER)
    approver.get("/lang/en")
    confirm = approver.get(f"/scraps/{scrap.id}/approve").get_data(as_text=True)
    assert f"Approve scrap {scrap.no}?" in confirm
    assert 'id="confirm-total">¥50.00' in confirm and 'id="confirm-note"' in confirm
    assert f'action="/scraps/{scrap.id}/approve"' in confirm
    db.refresh(scrap)
    assert scrap.status == "requested"  # looking at the confirm page changes nothing
    response = approver.post(f"/scraps/{scrap.id}/approve", data={"note": "同意"})
    assert response.status_code == 302
    db.refresh(scrap)
    assert scrap.status == "approved"
    # once decided, the confirm page is gone: back to the document
    again = approver.get(f"/scraps/{scrap.id}/approve")
    assert again.status_code == 302 and again.headers["Location"].endswith(f"/scraps/{scrap.id}")

    confirm = keeper.get(f"/scraps/{scrap.id}/post").get_data(as_text=True)
    assert f"Post scrap {scrap.no}?" in confirm and 'id="confirm-total">¥50.00' in confirm
    assert 'id="confirm-note"' not in confirm
    assert keeper.post(f"/scraps/{scrap.id}/post").status_code == 302
    db.refresh(scrap)
    assert scrap.status == "posted"


def test_the_post_confirm_waits_for_the_approval(stock, db):
    keeper, location, expired, near, fresh = stock
    keeper.post("/scraps/new", data=_scrap_form(location, (expired, 1)))
    scrap = db.scalar(sa.select(Scrap))
    response = keeper.get(f"/scraps/{scrap.id}/post")
    assert response.status_code == 302 and response.headers["Location"].endswith(
        f"/scraps/{scrap.id}"
    )


def test_the_requester_gets_no_approve_confirm(stock, keeper_and_approver, login_user, db):
    _keeper, location, expired, near, fresh = stock
    warehouse_id = db.get(type(location), location.id).warehouse_id
    from reserve.warehouses.models import Warehouse

    both = login_user(keeper_and_approver(db.get(Warehouse, warehouse_id)))
    assert both.post("/scraps/new", data=_scrap_form(location, (expired, 1))).status_code == 302
    scrap = db.scalar(sa.select(Scrap))
    response = both.get(f"/scraps/{scrap.id}/approve")
    assert response.status_code == 302  # back to the page that says why


def test_a_rotation_posts_through_the_same_confirm(stock, db, balance):
    keeper, location, expired, near, fresh = stock
    data = {
        "disposition": "donated",
        "counterparty": "某区救助站",
        "document_date": days(0).isoformat(),
        "lines-0-stock": f"{location.id}:{expired.id}",
        "lines-0-qty": "2",
    }
    assert keeper.post("/rotations/new", data=data).status_code == 302
    rotation = db.scalar(sa.select(Rotation))
    detail = keeper.get(f"/rotations/{rotation.id}").get_data(as_text=True)
    assert 'id="rotation-lines-total">¥25.00' in detail
    assert f'href="/rotations/{rotation.id}/post"' in detail
    confirm = keeper.get(f"/rotations/{rotation.id}/post").get_data(as_text=True)
    assert f"Post rotation {rotation.no}?" in confirm and 'id="confirm-total">¥25.00' in confirm
    assert balance(location, expired) == 10
    assert keeper.post(f"/rotations/{rotation.id}/post").status_code == 302
    assert balance(location, expired) == 8
    assert keeper.get(f"/rotations/{rotation.id}/post").status_code == 302  # posted: no confirm


def test_the_candidates_show_badges_and_what_is_available(stock, db, system_actor):
    from reserve.stock import ledger

    keeper, location, expired, near, fresh = stock
    ledger.reserve(
        db,
        location_id=location.id,
        batch_id=expired.id,
        qty=3,
        document=ledger.DocumentRef("test", None, None, days(0)),
        line_id=None,
        actor=system_actor,
    )
    html = keeper.get("/rotations/candidates").get_data(as_text=True)
    cell = html.split(f'id="candidate-available-{location.id}-{expired.id}">')[1].split("</td>")[0]
    assert cell.startswith("7 ") and "3" in cell and "reserved, not counted" in cell
    row = html.split(f'id="candidate-{location.id}-{near.id}"')[1].split("</tr>")[0]
    assert 'data-expiry="near"' in row
    only = keeper.get("/rotations/candidates?state=expired").get_data(as_text=True)
    assert f"candidate-{location.id}-{expired.id}" in only
    assert f"candidate-{location.id}-{near.id}" not in only
    expired_only = keeper.get("/rotations/candidates?horizon=0").get_data(as_text=True)
    assert f"candidate-{location.id}-{near.id}" not in expired_only
