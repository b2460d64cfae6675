"""The scan operations API (a PDA app): the same services as the page, once per operation id,
an Idempotency-Key honoured too, errors in the API's format, and the routes in OpenAPI."""

from __future__ import annotations

import sqlalchemy as sa

from reserve.audit.models import AuditEntry
from reserve.auth.models import Role
from tests.labels.scan.conftest import movements, on_hand

OP = "5a9e2d0c-7b1f-4c3a-8e6d-2f1a0b9c8d7e"


def _keeper(api_token, world):
    headers, _user = api_token(Role.KEEPER, warehouses=[world.warehouse])
    return headers


def test_a_pda_moves_by_scan_once_per_operation_id(client, db, api_token, scan_world):
    headers = _keeper(api_token, scan_world)
    body = {"operation_id": OP, "code": scan_world.stock_code, "to": scan_world.a2_code, "qty": 3}
    before = movements(db)
    first = client.post("/api/v1/scan/moves", json=body, headers=headers)
    assert first.status_code == 200, first.get_json()
    assert first.get_json()["replayed"] is False
    again = client.post("/api/v1/scan/moves", json=body, headers=headers)
    assert again.status_code == 200 and again.get_json()["replayed"] is True
    assert again.get_json()["move"] == first.get_json()["move"]
    assert movements(db) == before + 2
    assert on_hand(db, scan_world.a2, scan_world.batch) == 3


def test_an_idempotency_key_is_honoured_on_top(client, db, api_token, scan_world):
    headers = {**_keeper(api_token, scan_world), "Idempotency-Key": "k-1"}
    body = {"operation_id": OP, "code": scan_world.stock_code, "to": "A-01-02", "qty": 1}
    client.post("/api/v1/scan/moves", json=body, headers=headers)
    again = client.post("/api/v1/scan/moves", json=body, headers=headers)
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert on_hand(db, scan_world.a2, scan_world.batch) == 1


def test_refusals_in_the_api_format_change_nothing(client, db, api_token, scan_world):
    headers = _keeper(api_token, scan_world)
    code = scan_world.stock_code
    bad = code[:-1] + ("2" if code[-1] != "2" else "3")
    cases = [
        ({"code": bad, "to": "A-01-02", "qty": 1}, 422, "invalid_label"),
        ({"code": "", "to": "A-01-02", "qty": 1}, 422, "invalid"),
        ({"code": "Z" * 10_240, "to": "A-01-02", "qty": 1}, 422, "invalid"),
        ({"code": code, "to": "A-01-02", "qty": 11}, 409, "scan_conflict"),
        ({"code": code, "to": "A-01-02", "qty": 0}, 422, "invalid"),
        ({"code": scan_world.far_code, "to": "A-01-02", "qty": 1}, 403, "forbidden"),
        ({"code": code, "to": "Z-99-99", "qty": 1}, 422, "invalid"),
    ]
    before = movements(db)
    for n, (body, status, error) in enumerate(cases):
        response = client.post(
            "/api/v1/scan/moves",
            json={"operation_id": f"{OP[:-2]}{n:02d}", **body},
            headers=headers,
        )
        assert (response.status_code, response.get_json()["error"]) == (status, error), body
        assert response.get_json()["message"]
    assert movements(db) == before
    refused = db.scalar(
        sa.select(sa.func.count()).select_from(AuditEntry).where(AuditEntry.action == "refuse_code")
    )
    assert refused == 1  # the bad MAC, kept although the request was refused


def test_a_pda_counts_by_scan(client, db, api_token, scan_world):
    from reserve.stocktakes.service import open_stocktake

    stocktake = open_stocktake(db, warehouse_id=scan_world.warehouse.id, actor=scan_world.actor)
    headers = _keeper(api_token, scan_world)
    body = {
        "operation_id": OP,
        "code": scan_world.stock_code,
        "counted_qty": 10,
        "replaces": "none",
    }
    response = client.post("/api/v1/scan/counts", json=body, headers=headers)
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["count"]["stocktake_no"] == stocktake.no
    stale = {**body, "operation_id": OP[:-1] + "0", "counted_qty": 8}
    conflict = client.post("/api/v1/scan/counts", json=stale, headers=headers)
    assert conflict.status_code == 409 and conflict.get_json()["details"]["counted_qty"] == 10


def test_who_may_send_scan_operations(client, api_token, scan_world):
    body = {"operation_id": OP, "code": scan_world.stock_code, "to": "A-01-02", "qty": 1}
    for role in (Role.VIEWER, Role.DISPATCHER, Role.APPROVER):
        headers, _ = api_token(role)
        assert client.post("/api/v1/scan/moves", json=body, headers=headers).status_code == 403
    assert client.post("/api/v1/scan/moves", json=body).status_code == 401
    other, _ = api_token(Role.KEEPER, warehouses=[scan_world.other])
    assert client.post("/api/v1/scan/moves", json=body, headers=other).status_code == 403


def test_the_openapi_document_describes_the_scan_routes(client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    for path in ("/api/v1/scan/moves", "/api/v1/scan/counts"):
        operation = paths[path]["post"]
        assert "Idempotency-Key" in {p["name"] for p in operation["parameters"]}
        assert "409" in operation["responses"]


def _refusals(db) -> list[AuditEntry]:
    return db.scalars(
        sa.select(AuditEntry).where(AuditEntry.action == "refuse_code").order_by(AuditEntry.id)
    ).all()


def test_a_forged_code_is_audited_with_or_without_an_idempotency_key(
    client, db, api_token, scan_world
):
    """The idempotency wrapper runs the request in one transaction and rolls all of it back on
    a refusal: the bad MAC's audit entry is written again after that rollback, once, and
    nothing else is kept (no move, no stored response, no claimed operation id)."""
    from reserve.api.models import IdempotencyKey
    from reserve.labels.scan_models import ScanOperation

    headers = _keeper(api_token, scan_world)
    code = scan_world.stock_code
    forged = code[:-1] + ("2" if code[-1] != "2" else "3")
    before = (movements(db), len(_refusals(db)))
    counts = [
        db.scalar(sa.select(sa.func.count()).select_from(model))
        for model in (IdempotencyKey, ScanOperation)
    ]
    for n, extra in enumerate(({}, {"Idempotency-Key": "forged-1"})):
        for path, body in (
            ("/api/v1/scan/moves", {"code": forged, "to": "A-01-02", "qty": 1}),
            ("/api/v1/scan/counts", {"code": forged, "counted_qty": 1}),
            ("/api/v1/scan/moves", {"code": code, "to": forged, "qty": 1}),
        ):
            response = client.post(
                path,
                json={"operation_id": f"{OP[:-3]}{n}{len(path):02d}", **body},
                headers={**headers, **extra},
            )
            assert response.status_code == 422, response.get_json()
            assert response.get_json()["error"] == "invalid_label"
    refusals = _refusals(db)
    assert len(refusals) == before[1] + 6  # three without the key, three with it: none lost
    assert {entry.object_label for entry in refusals[-6:]} == {forged}
    assert movements(db) == before[0]
    assert [
        db.scalar(sa.select(sa.func.count()).select_from(model))
        for model in (IdempotencyKey, ScanOperation)
    ] == counts


def test_a_forged_code_resolved_through_the_api_is_audited_once(client, db, api_token, scan_world):
    headers = _keeper(api_token, scan_world)
    code = scan_world.stock_code
    forged = code[:-1] + ("2" if code[-1] != "2" else "3")
    before = len(_refusals(db))
    response = client.get(f"/api/v1/labels/{forged}", headers=headers)
    assert response.status_code == 422 and response.get_json()["error"] == "invalid_label"
    assert len(_refusals(db)) == before + 1
