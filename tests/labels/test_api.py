"""GET /api/v1/labels/{code}: the scan target as JSON, and each refusal in the API's error
format (422 malformed or bad MAC, 410 revoked, 404 unknown, 403 out of scope)."""

from __future__ import annotations

from sqlalchemy import func, select

from reserve.audit.models import AuditEntry
from reserve.auth.models import Role
from reserve.labels import printing
from reserve.labels.codes import grouped, make_code
from reserve.labels.models import Label


def _refusals(db) -> int:
    return db.scalar(
        select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "refuse_code")
    )


def test_a_keeper_resolves_a_stock_label(client, api_token, world):
    headers, _ = api_token(Role.KEEPER, warehouses=[world.home])
    code = world.code(world.stock_label)
    response = client.get(f"/api/v1/labels/{grouped(code)}", headers=headers)
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["code"] == code and body["grouped"] == grouped(code)
    assert body["kind"] == "stock" and body["url"] == f"/s/{code}"
    assert body["warehouse"] == {"id": world.home.id, "code": "WH-L1", "name": "市级综合储备库"}
    assert body["location"]["code"] == "A-01-01"
    assert body["material"]["name"] == "单帐篷" and body["material"]["unit"] == "顶"
    assert body["batch"]["batch_no"] == "T-2026-01" and body["batch"]["expiry_state"] is None
    assert body["item"] is None and body["stocktake"] is None
    assert (body["qty"], body["available"], body["actions"]) == (40, 40, ["view", "move"])


def test_an_item_and_a_location(client, api_token, world):
    headers, _ = api_token(Role.VIEWER)
    item = client.get(f"/api/v1/labels/{world.code(world.item_label)}", headers=headers)
    assert item.get_json()["item"]["serial_no"] == "GEN-001"
    assert item.get_json()["actions"] == ["view"]
    place = client.get(f"/api/v1/labels/{world.code(world.location_label)}", headers=headers)
    body = place.get_json()
    assert body["kind"] == "location" and body["material"] is None and body["qty"] is None


def test_refusals_in_the_api_error_format(db, client, api_token, world):
    headers, _ = api_token(Role.KEEPER, warehouses=[world.home])
    code = world.code(world.stock_label)
    before = _refusals(db)
    changed = code[:-1] + ("Z" if code[-1] != "Z" else "Y")
    response = client.get(f"/api/v1/labels/{changed}", headers=headers)
    assert response.status_code == 422
    assert response.get_json()["error"] == "invalid_label"
    assert response.get_json()["details"] == {"reason": "mac"}
    assert response.get_json()["message"].startswith("标签码无效")  # zh_CN, the default
    assert _refusals(db) == before + 1  # committed although the request failed
    response = client.get("/api/v1/labels/" + "A" * 3000, headers=headers)
    assert response.status_code == 422 and response.get_json()["details"] == {"reason": "malformed"}
    assert _refusals(db) == before + 1
    response = client.get(f"/api/v1/labels/{world.code(world.other_label)}", headers=headers)
    assert response.status_code == 403 and response.get_json()["error"] == "forbidden"
    top = db.scalar(select(func.max(Label.id)))
    response = client.get(f"/api/v1/labels/{make_code(top + 7, key=world.key)}", headers=headers)
    assert response.status_code == 404 and response.get_json()["error"] == "not_found"
    printing.revoke_label(db, label_id=world.stock_label.id, reason="丢失", actor=world.system)
    response = client.get(f"/api/v1/labels/{code}", headers=headers)
    assert response.status_code == 410 and response.get_json()["error"] == "label_revoked"


def test_an_enterprise_user_may_not_resolve(client, api_token, world):
    headers, _ = api_token(Role.ENTERPRISE)
    response = client.get(f"/api/v1/labels/{world.code(world.stock_label)}", headers=headers)
    assert response.status_code == 403


def test_the_route_is_in_the_openapi_document(client):
    document = client.get("/api/v1/openapi.json").get_json()
    operation = document["paths"]["/api/v1/labels/{code}"]["get"]
    assert operation["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ScanTarget"
    }
    assert {"403", "404", "410", "422"} <= set(operation["responses"])
