"""Call-ups through the API: the dispatcher calls up, the enterprise's own system confirms and
reports back with its token (scoped), bad input is refused and changes nothing, every write is
idempotent, and all of it is in the OpenAPI document."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from reserve.agreements.callup_models import CallUp
from reserve.agreements.models import AgreementLine
from reserve.auth.models import Role
from reserve.db import local_today, utcnow


@pytest.fixture
def line(db, make_agreement):
    return make_agreement(activate=True).lines[0]


def _body(line, **changes):
    body = {
        "line_id": line.id,
        "qty": 120,
        "needed_by": (utcnow() + timedelta(hours=6)).isoformat(),
        "destination": "历城区安置点",
        "purpose": "防汛",
        "source": "DB20260720-0001",
    }
    body.update(changes)
    return body


def _count(db) -> int:
    return db.scalar(select(func.count()).select_from(CallUp))


def _called(db, line) -> tuple[int, int]:
    db.expire_all()
    row = db.get(AgreementLine, line.id)
    return row.called_qty, row.shipped_qty


def test_call_confirm_and_replenish_through_the_api(client, api_token, site, db, line):
    office, _user = api_token(Role.DISPATCHER)
    made = client.post("/api/v1/call-ups", json=_body(line), headers=office)
    assert made.status_code == 201, made.get_json()
    call = made.get_json()
    assert call["no"].startswith(f"DY{local_today().year}-")
    assert (call["status"], call["qty"], call["source"]) == ("requested", 120, "DB20260720-0001")
    assert _called(db, line) == (120, 0)

    own, _user = api_token(Role.ENTERPRISE, enterprise=site.own)
    shipped = client.post(
        f"/api/v1/call-ups/{call['id']}/ship",
        json={
            "shipped_qty": 100,
            "vehicle_plate": "鲁A D1234 5",
            "driver_name": "李师傅",
            "driver_phone": "0531-88886666",
            "shipped_at": (utcnow() - timedelta(minutes=2)).isoformat(),
        },
        headers=own,
    )
    assert shipped.status_code == 200, shipped.get_json()
    assert shipped.get_json()["vehicle_plate"] == "鲁AD12345"
    assert shipped.get_json()["replenish_due_on"] is not None
    assert _called(db, line) == (100, 100)

    listed = client.get("/api/v1/call-ups?status=shipped", headers=own).get_json()
    assert [item["id"] for item in listed["items"]] == [call["id"]]

    back = client.post(
        f"/api/v1/call-ups/{call['id']}/replenish",
        json={"replenished_qty": 100, "replenished_on": local_today().isoformat()},
        headers=own,
    )
    assert back.status_code == 200, back.get_json()
    assert back.get_json()["status"] == "replenished"
    assert _called(db, line) == (0, 0)
    detail = client.get(f"/api/v1/call-ups/{call['id']}", headers=own).get_json()
    assert detail["receipts"] == []


def test_bad_input_is_refused_and_changes_nothing(client, api_token, db, line):
    office, _user = api_token(Role.DISPATCHER)
    cases = [
        (dict(qty=0), "qty"),
        (dict(qty=-3), "qty"),
        (dict(qty="many"), "qty"),
        (dict(qty=1001), "qty"),
        (dict(needed_by="tomorrow"), "needed_by"),
        (dict(destination=None), "destination"),
        (dict(line_id=987654), "line_id"),
    ]
    for changes, field in cases:
        response = client.post("/api/v1/call-ups", json=_body(line, **changes), headers=office)
        assert response.status_code in (409, 422), (changes, response.get_json())
        assert response.get_json()["field"] == field, (changes, response.get_json())
    assert _count(db) == 0 and _called(db, line) == (0, 0)


def test_another_enterprise_gets_404_and_a_wrong_plate_changes_nothing(
    client, api_token, site, db, line
):
    office, _user = api_token(Role.DISPATCHER)
    call = client.post("/api/v1/call-ups", json=_body(line), headers=office).get_json()
    theirs, _user = api_token(Role.ENTERPRISE, enterprise=site.other)
    assert client.get(f"/api/v1/call-ups/{call['id']}", headers=theirs).status_code == 404
    assert client.get("/api/v1/call-ups", headers=theirs).get_json()["items"] == []
    ship = {
        "shipped_qty": 120,
        "vehicle_plate": "鲁A12345",
        "driver_name": "李师傅",
        "driver_phone": "13812345678",
        "shipped_at": utcnow().isoformat(),
    }
    response = client.post(f"/api/v1/call-ups/{call['id']}/ship", json=ship, headers=theirs)
    assert response.status_code == 404
    own, _user = api_token(Role.ENTERPRISE, enterprise=site.own)
    response = client.post(
        f"/api/v1/call-ups/{call['id']}/ship", json={**ship, "vehicle_plate": "A12345"}, headers=own
    )
    assert response.status_code == 422 and response.get_json()["field"] == "vehicle_plate"
    response = client.post(
        f"/api/v1/call-ups/{call['id']}/ship", json={**ship, "shipped_qty": 121}, headers=own
    )
    assert response.status_code == 422 and response.get_json()["field"] == "shipped_qty"
    db.expire_all()
    assert db.get(CallUp, call["id"]).status == "requested" and _called(db, line) == (120, 0)


def test_writes_are_idempotent(client, api_token, db, line):
    office, _user = api_token(Role.DISPATCHER)
    headers = {**office, "Idempotency-Key": "call-up-1"}
    body = _body(line)
    first = client.post("/api/v1/call-ups", json=body, headers=headers)
    again = client.post("/api/v1/call-ups", json=body, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert again.get_json()["id"] == first.get_json()["id"]
    assert _count(db) == 1 and _called(db, line) == (120, 0)
    cancel = {**office, "Idempotency-Key": "call-up-1-cancel"}
    url = f"/api/v1/call-ups/{first.get_json()['id']}/cancel"
    one = client.post(url, json={"reason": "险情解除"}, headers=cancel)
    two = client.post(url, json={"reason": "险情解除"}, headers=cancel)
    assert one.status_code == two.status_code == 200 and two.headers.get("Idempotent-Replayed")
    assert _called(db, line) == (0, 0)


def test_every_call_up_route_is_in_the_openapi_document(client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    assert set(paths["/api/v1/call-ups"]) == {"get", "post"}
    for action in ("ship", "replenish", "cancel"):
        operation = paths[f"/api/v1/call-ups/{{call_up_id}}/{action}"]["post"]
        assert any(p["name"] == "Idempotency-Key" for p in operation["parameters"])
    assert "get" in paths["/api/v1/call-ups/{call_up_id}"]
