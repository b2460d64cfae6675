"""The landing page of work (待办), as every role: what waits for me, what needs attention in
my scope, the counters; each line a link to a list that shows what the line counted."""

import re

import pytest

from reserve.auth.models import Role
from reserve.stock import ledger
from tests.main.conftest import days


def _line(html: str, line_id: str):
    """(count, href) of a line of the landing page, or None when it is not there."""
    match = re.search(
        rf'<a [^>]*id="work-{line_id}" href="([^"]+)">.*?data-count="(\d+)"', html, re.S
    )
    return None if match is None else (int(match.group(2)), match.group(1).replace("&amp;", "&"))


@pytest.fixture
def site(make_warehouse, make_document):
    """Two warehouses; in the first, one document in each waiting state (and some that wait
    for nobody); in the second, a draft receipt its own keeper sees."""
    mine, other = make_warehouse(code="WH-A", name="甲库"), make_warehouse(code="WH-B", name="乙库")
    docs = dict(
        receipt=make_document("receipt", mine, "draft"),
        posted_receipt=make_document("receipt", mine, "posted"),
        rotation=make_document("rotation", mine, "draft"),
        requested=make_document("scrap", mine, "requested"),
        approved=make_document("scrap", mine, "approved"),
        rejected=make_document("scrap", mine, "rejected"),
        counting=make_document("stocktake", mine, "counting"),
        submitted=make_document("stocktake", mine, "submitted"),
        elsewhere=make_document("receipt", other, "draft"),
    )
    return mine, other, docs


def test_the_keeper_sees_what_waits_in_the_warehouses_they_keep(login_as, site):
    mine, _other, docs = site
    html = login_as(Role.KEEPER, warehouses=[mine]).get("/").get_data(as_text=True)
    assert _line(html, "receipt-drafts") == (1, "/receipts?status=draft")
    assert _line(html, "rotation-drafts") == (1, "/rotations?status=draft")
    assert _line(html, "scraps-to-post") == (1, "/scraps?status=approved")
    assert _line(html, "stocktakes-to-count") == (1, "/stocktakes?status=counting")
    assert _line(html, "scraps-to-approve") is None  # not the keeper's to decide
    assert _line(html, "stocktakes-to-approve") is None
    assert _line(html, "stocktakes-submitted") == (1, "/stocktakes?status=submitted")


def test_each_line_links_to_a_list_showing_what_it_counted(login_as, site):
    mine, _other, docs = site
    keeper = login_as(Role.KEEPER, warehouses=[mine])
    html = keeper.get("/").get_data(as_text=True)
    expected = {
        "receipt-drafts": (docs["receipt"], docs["posted_receipt"]),
        "rotation-drafts": (docs["rotation"], None),
        "scraps-to-post": (docs["approved"], docs["requested"]),
        "stocktakes-to-count": (docs["counting"], docs["submitted"]),
    }
    for line_id, (shown, not_shown) in expected.items():
        _count, href = _line(html, line_id)
        listing = keeper.get(href).get_data(as_text=True)
        assert shown.no in listing, line_id
        if not_shown is not None:
            assert not_shown.no not in listing, line_id
    approver = login_as(Role.APPROVER)
    _count, href = _line(approver.get("/").get_data(as_text=True), "scraps-to-approve")
    listing = approver.get(href).get_data(as_text=True)
    assert docs["requested"].no in listing and docs["approved"].no not in listing


def test_the_approver_sees_what_waits_for_a_decision(login_as, site):
    html = login_as(Role.APPROVER).get("/").get_data(as_text=True)
    assert _line(html, "scraps-to-approve") == (1, "/scraps?status=requested")
    assert _line(html, "stocktakes-to-approve") == (1, "/stocktakes?status=submitted")
    assert _line(html, "receipt-drafts") is None  # the approver posts nothing


def test_the_admin_posts_anywhere_and_decides(login_as, site):
    html = login_as(Role.ADMIN).get("/").get_data(as_text=True)
    assert _line(html, "receipt-drafts") == (2, "/receipts?status=draft")  # both warehouses
    assert _line(html, "scraps-to-approve")[0] == 1


@pytest.mark.parametrize("role", [Role.DISPATCHER, Role.VIEWER])
def test_readers_have_nothing_waiting_but_see_the_scope(login_as, site, role):
    html = login_as(role).get("/").get_data(as_text=True)
    assert 'id="work-nothing"' in html
    assert _line(html, "stocktakes-counting") == (1, "/stocktakes?status=counting")
    assert 'id="stat-warehouses"' in html and 'id="leader-charts"' in html


def test_the_enterprise_user_sees_their_enterprise_by_name(login_as, make_enterprise, site):
    firm = make_enterprise(name="济南某某食品有限公司")
    client = login_as(Role.ENTERPRISE, enterprise=firm)
    response = client.get("/")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'id="home-enterprise">济南某某食品有限公司' in html
    assert 'id="work-attention"' not in html  # no stock in an enterprise user's scope
    assert 'id="stat-materials"' in html and 'id="stat-warehouses"' not in html
    assert 'id="stat-enterprises"' not in html  # the enterprise list is the office's


def test_expired_and_near_expiry_stock_by_unit_available_only(
    db, login_as, make_warehouse, make_material, put_stock, system_actor
):
    warehouse, other = make_warehouse(code="WH-E"), make_warehouse(code="WH-F")
    tent = make_material("单帐篷", unit="顶", near_expiry_days=30)
    water = make_material("饮用水", code="WATER", unit="箱", near_expiry_days=10)
    put_stock(tent, warehouse, 4, expiry_date=days(-1))  # expired yesterday
    location, batch = put_stock(tent, warehouse, 6, expiry_date=days(0))  # still good today
    put_stock(water, warehouse, 50, expiry_date=days(-30))
    put_stock(water, warehouse, 9, expiry_date=days(20))  # outside the water's 10 days
    put_stock(tent, warehouse, 100, expiry_date=None)
    put_stock(tent, other, 7, expiry_date=days(-3))  # not the keeper's warehouse
    ledger.reserve(
        db,
        location_id=location.id,
        batch_id=batch.id,
        qty=2,
        document=ledger.DocumentRef("test", None, None, days(0)),
        line_id=None,
        actor=system_actor,
    )
    html = login_as(Role.KEEPER, warehouses=[warehouse]).get("/").get_data(as_text=True)
    expired = re.search(r'id="work-expired".*?</a>', html, re.S).group(0)
    near = re.search(r'id="work-near-expiry".*?</a>', html, re.S).group(0)
    assert _line(html, "expired") == (2, "/rotations/candidates?state=expired")
    assert "4 顶" in expired and "50 箱" in expired
    assert _line(html, "near-expiry") == (1, "/rotations/candidates?state=near")
    assert "4 顶" in near and "箱" not in near  # 6 on hand, 2 reserved
    # the candidates list the links open shows the same rows
    keeper = login_as(Role.KEEPER, warehouses=[warehouse])
    listing = keeper.get("/rotations/candidates?state=near").get_data(as_text=True)
    assert listing.count('<tr id="candidate-') == 1 and "2 顶 已预留" in listing
    listing = keeper.get("/rotations/candidates?state=expired").get_data(as_text=True)
    assert listing.count('<tr id="candidate-') == 2 and 'data-expiry="expired"' in listing


def test_the_page_runs_a_fixed_number_of_statements(
    login_as, make_warehouse, make_document, count_queries
):
    warehouse = make_warehouse()
    admin = login_as(Role.ADMIN)
    admin.get("/")  # warm the session caches
    with count_queries() as few:
        assert admin.get("/").status_code == 200
    for status in ("draft", "posted", "draft"):
        make_document("receipt", warehouse, status)
        make_document("scrap", warehouse, "requested")
        make_document("stocktake", warehouse, "counting")
    with count_queries() as many:
        admin.get("/")
    assert len(many) == len(few)
    page_statements = [s for s in many if "FROM users" not in s and "sessions" not in s]
    assert len(page_statements) <= 6, page_statements
