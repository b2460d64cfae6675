"""The scan page and its JSON twins, as every role: keepers and admins move and count, the
office roles look things up, an enterprise user is refused."""

from __future__ import annotations

import pytest

from reserve.auth.models import Role
from tests.labels.scan.conftest import movements, on_hand

JSON = {"Accept": "application/json"}  # as the page's script asks
OP = "9c1d2e3f-4a5b-4c6d-8e7f-0a1b2c3d4e5f"


@pytest.mark.parametrize(
    "role, status",
    [
        (Role.ADMIN, 200),
        (Role.KEEPER, 200),
        (Role.DISPATCHER, 200),
        (Role.APPROVER, 200),
        (Role.VIEWER, 200),
        (Role.ENTERPRISE, 403),
    ],
)
def test_the_scan_page_as_every_role(login_as, role, status):
    response = login_as(role).get("/scan")
    assert response.status_code == status
    if status == 200:
        page = response.get_data(as_text=True)
        assert 'id="scan-input"' in page and "scan.js" in page
        # the QR decoder's WebAssembly may compile here, and only here
        assert "'wasm-unsafe-eval'" in response.headers["Content-Security-Policy"]


def test_other_pages_keep_the_strict_policy(login_as):
    response = login_as(Role.KEEPER).get("/stock")
    assert "wasm" not in response.headers["Content-Security-Policy"]


def test_a_lookup_shows_the_thing_and_what_this_user_may_do(login_as, scan_world):
    keeper = login_as(Role.KEEPER, warehouses=[scan_world.warehouse])
    body = keeper.get("/scan/resolve.json", query_string={"code": scan_world.stock_code}).get_json()
    assert body["material"]["name"] == "单帐篷" and body["qty"] == 10
    assert body["actions"] == ["view", "move"]
    viewer = login_as(Role.VIEWER)
    assert viewer.get(
        "/scan/resolve.json", query_string={"code": scan_world.stock_code}
    ).get_json()["actions"] == ["view"]


def test_a_lookup_refuses_what_is_not_ours_with_a_message(login_as, scan_world):
    keeper = login_as(Role.KEEPER, warehouses=[scan_world.warehouse])
    for code, status in (
        ("", 422),
        ("x" * 10_240, 422),
        (scan_world.stock_code[:-1] + "#", 422),
        (scan_world.far_code, 403),
    ):
        response = keeper.get("/scan/resolve.json", query_string={"code": code}, headers=JSON)
        assert response.status_code == status, code[:20]
        assert response.get_json()["message"]
    far = keeper.get(
        "/scan/resolve.json", query_string={"code": scan_world.far_code}, headers=JSON
    ).get_json()
    assert "您不保管" in far["message"]  # the pages speak Chinese first


def test_the_page_moves_and_counts_through_its_json_twins(db, login_as, scan_world):
    from reserve.stocktakes.service import open_stocktake

    keeper = login_as(Role.KEEPER, warehouses=[scan_world.warehouse])
    form = {"operation_id": OP, "code": scan_world.stock_code, "to": scan_world.b1_code, "qty": "2"}
    before = movements(db)
    assert keeper.post("/scan/moves.json", data=form).get_json()["replayed"] is False
    assert keeper.post("/scan/moves.json", data=form).get_json()["replayed"] is True
    assert movements(db) == before + 2 and on_hand(db, scan_world.b1, scan_world.batch) == 2
    open_stocktake(db, warehouse_id=scan_world.warehouse.id, actor=scan_world.actor)
    count = {"operation_id": OP[:-1] + "0", "code": scan_world.stock_code, "counted_qty": "8"}
    response = keeper.post("/scan/counts.json", data=count)
    assert response.status_code == 200, response.get_json()
    looked = keeper.get("/scan/resolve.json", query_string={"code": scan_world.stock_code})
    assert looked.get_json()["stocktake"]["counted_qty"] == 8
    assert "count" in looked.get_json()["actions"]


def test_office_roles_cannot_send_operations(login_as, scan_world):
    form = {"operation_id": OP, "code": scan_world.stock_code, "to": "A-01-02", "qty": "1"}
    for role in (Role.VIEWER, Role.DISPATCHER, Role.APPROVER, Role.ENTERPRISE):
        assert login_as(role).post("/scan/moves.json", data=form).status_code == 403
