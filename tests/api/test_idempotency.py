"""Idempotent API writes: one key, one receipt; the stored response replays; another body is a
422; a key held by a running request is a 409; no key works as before; old keys are purged."""

from datetime import timedelta

import pytest
import sqlalchemy as sa

from reserve.api.models import IdempotencyKey
from reserve.auth.models import Role
from reserve.db import utcnow
from reserve.receipts.models import Receipt
from reserve.stock.models import StockBalance
from tests.conftest import PG_URL
from tests.receipts.conftest import TODAY


@pytest.fixture
def keeper_api(api_token, make_warehouse, make_material):
    warehouse = make_warehouse(code="WH-IDEM")
    make_material("棉被", code="QUILT-1", unit="床")
    headers, user = api_token(Role.KEEPER, warehouses=[warehouse])
    headers["Accept-Language"] = "en"
    return headers, warehouse, user


def receipt_body(warehouse, qty=10):
    return {
        "warehouse_id": warehouse.id,
        "source": "donation",
        "document_date": TODAY.isoformat(),
        "lines": [{"material_code": "QUILT-1", "batch_no": "Q-1", "qty": qty}],
        "post": True,
    }


def stock(db, warehouse):
    return db.scalar(
        sa.select(sa.func.coalesce(sa.func.sum(StockBalance.qty), 0)).where(
            StockBalance.warehouse_id == warehouse.id
        )
    )


def receipts(db, warehouse):
    return db.scalar(
        sa.select(sa.func.count()).select_from(Receipt).where(Receipt.warehouse_id == warehouse.id)
    )


def test_same_body_twice_with_one_key_makes_one_receipt(client, db, keeper_api):
    headers, warehouse, _user = keeper_api
    keyed = {**headers, "Idempotency-Key": "scan-queue-0001"}
    first = client.post("/api/v1/receipts", headers=keyed, json=receipt_body(warehouse))
    second = client.post("/api/v1/receipts", headers=keyed, json=receipt_body(warehouse))
    assert first.status_code == 201, first.get_json()
    assert second.status_code == 201
    assert second.get_data() == first.get_data()
    assert second.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert receipts(db, warehouse) == 1 and stock(db, warehouse) == 10


def test_same_key_with_another_body_is_422_and_changes_nothing(client, db, keeper_api):
    headers, warehouse, _user = keeper_api
    keyed = {**headers, "Idempotency-Key": "k-2"}
    assert (
        client.post("/api/v1/receipts", headers=keyed, json=receipt_body(warehouse)).status_code
        == 201
    )
    other = client.post("/api/v1/receipts", headers=keyed, json=receipt_body(warehouse, qty=11))
    assert other.status_code == 422
    assert other.get_json()["error"] == "idempotency_key_reused"
    assert "different request" in other.get_json()["message"]
    assert receipts(db, warehouse) == 1 and stock(db, warehouse) == 10


def test_without_a_key_each_post_is_a_new_receipt(client, db, keeper_api):
    headers, warehouse, _user = keeper_api
    for _ in range(2):
        response = client.post("/api/v1/receipts", headers=headers, json=receipt_body(warehouse))
        assert response.status_code == 201
    assert receipts(db, warehouse) == 2 and stock(db, warehouse) == 20
    assert db.scalar(sa.select(sa.func.count()).select_from(IdempotencyKey)) == 0


def test_keys_are_per_user(client, db, keeper_api, api_token):
    headers, warehouse, _user = keeper_api
    other_headers, _other = api_token(Role.KEEPER, warehouses=[warehouse])
    for h in (headers, other_headers):
        response = client.post(
            "/api/v1/receipts",
            headers={**h, "Idempotency-Key": "same"},
            json=receipt_body(warehouse),
        )
        assert response.status_code == 201 and "Idempotent-Replayed" not in response.headers
    assert receipts(db, warehouse) == 2


def test_a_failed_request_stores_nothing_and_can_be_retried(client, db, keeper_api):
    headers, warehouse, _user = keeper_api
    keyed = {**headers, "Idempotency-Key": "retry-me"}
    bad = receipt_body(warehouse)
    bad["lines"][0]["material_code"] = "NOPE"
    assert client.post("/api/v1/receipts", headers=keyed, json=bad).status_code == 422
    assert db.scalar(sa.select(sa.func.count()).select_from(IdempotencyKey)) == 0
    # a service error (409: posting a posted receipt) rolls back the claim too
    created = client.post("/api/v1/receipts", headers=headers, json=receipt_body(warehouse))
    rid = created.get_json()["id"]
    again = client.post(f"/api/v1/receipts/{rid}/post", headers=keyed)
    assert again.status_code == 409
    assert db.scalar(sa.select(sa.func.count()).select_from(IdempotencyKey)) == 0


def test_a_bad_key_is_422(client, keeper_api):
    headers, warehouse, _user = keeper_api
    for key in ("", "x" * 256, "naïve", "two words"):
        response = client.post(
            "/api/v1/receipts",
            headers={**headers, "Idempotency-Key": key},
            json=receipt_body(warehouse),
        )
        assert response.status_code == 422, key
        assert response.get_json()["field"] == "Idempotency-Key"


def test_expired_keys_are_purged_and_free_again(client, db, keeper_api):
    headers, warehouse, user = keeper_api
    old = utcnow() - timedelta(hours=25)
    db.add(
        IdempotencyKey(
            user_id=user.id, key="old", fingerprint="0" * 64, status=201, body=b"{}", created_at=old
        )
    )
    db.add(
        IdempotencyKey(
            user_id=user.id,
            key="older",
            fingerprint="0" * 64,
            status=201,
            body=b"{}",
            created_at=old,
        )
    )
    db.flush()
    response = client.post(
        "/api/v1/receipts",
        headers={**headers, "Idempotency-Key": "old"},
        json=receipt_body(warehouse),
    )
    assert response.status_code == 201 and "Idempotent-Replayed" not in response.headers
    keys = db.scalars(sa.select(IdempotencyKey.key).where(IdempotencyKey.user_id == user.id)).all()
    assert keys == ["old"]  # "older" purged; "old" now holds the new response
    assert receipts(db, warehouse) == 1


def test_one_row_per_user_and_key_in_the_database(db, keeper_api):
    _headers, _warehouse, user = keeper_api
    db.add(IdempotencyKey(user_id=user.id, key="k", fingerprint="a" * 64, status=201, body=b"{}"))
    db.flush()
    with pytest.raises(sa.exc.IntegrityError), db.begin_nested():
        db.add(
            IdempotencyKey(user_id=user.id, key="k", fingerprint="b" * 64, status=201, body=b"{}")
        )
        db.flush()


def test_openapi_declares_the_header_on_every_write(client):
    document = client.get("/api/v1/openapi.json").get_json()
    writes = [
        op for ops in document["paths"].values() for method, op in ops.items() if method != "get"
    ]
    assert writes
    for op in writes:
        assert any(p["name"] == "Idempotency-Key" and p["in"] == "header" for p in op["parameters"])
        assert "409" in op["responses"]


@pytest.mark.skipif(not PG_URL, reason="SQLite serialises writers: the second waits, then replays")
def test_a_key_held_by_a_running_request_is_409(app, client, db, keeper_api):
    """A running first request holds the key's advisory lock; the second gets 409 at once."""
    import hashlib

    from reserve.extensions import db as flask_db

    headers, warehouse, user = keeper_api
    lock_id = int.from_bytes(
        hashlib.sha256(f"idempotency:{user.id}:busy".encode()).digest()[:8], "big", signed=True
    )
    with app.app_context():
        engine = flask_db.engine
    with engine.connect() as other:  # another connection: the first request, still running
        other.execute(sa.text("SELECT pg_advisory_lock(:id)"), {"id": lock_id})
        response = client.post(
            "/api/v1/receipts",
            headers={**headers, "Idempotency-Key": "busy"},
            json=receipt_body(warehouse),
        )
        other.execute(sa.text("SELECT pg_advisory_unlock(:id)"), {"id": lock_id})
    assert response.status_code == 409
    assert response.get_json()["error"] == "idempotency_in_progress"
    assert receipts(db, warehouse) == 0
