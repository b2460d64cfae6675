"""The orders' API: events, orders and their lifecycle, suggestions — every endpoint as every
role (403 for the wrong one), bad input refused in the caller's language with nothing changed,
an idempotent replay answered from the first response and written once, and the OpenAPI
document listing them."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from reserve.agreements.callup_models import CallUp
from reserve.auth.models import Role
from reserve.db import utcnow
from reserve.orders import floor as floor_service
from reserve.orders import service
from reserve.orders.models import AllocationOrder, Event, OrderLog, OrderSource
from reserve.orders.service import EventData, LineData, SourceData
from reserve.stock.models import StockBalance, StockReservation
from tests.orders.factories import ROLES, agreement_source, draft

ALLOWED = {
    "event_list": {Role.ADMIN, Role.DISPATCHER, Role.APPROVER, Role.VIEWER},
    "event_detail": {Role.ADMIN, Role.DISPATCHER, Role.APPROVER, Role.VIEWER},
    "event_end": {Role.ADMIN, Role.DISPATCHER},
    "order_list": set(ROLES) - {Role.ENTERPRISE},
    "order_detail": set(ROLES) - {Role.ENTERPRISE},
    "order_suggestions": set(ROLES) - {Role.ENTERPRISE},
    "event_create": {Role.ADMIN, Role.DISPATCHER},
    "event_update": {Role.ADMIN, Role.DISPATCHER},
    "order_create": {Role.ADMIN, Role.DISPATCHER},
    "order_update": {Role.ADMIN, Role.DISPATCHER},
    "order_accept_suggestions": {Role.ADMIN, Role.DISPATCHER},
    "order_submit": {Role.ADMIN, Role.DISPATCHER},
    "order_approve": {Role.ADMIN, Role.APPROVER},
    "order_reject": {Role.ADMIN, Role.APPROVER},
    "order_approve_emergency": {Role.ADMIN, Role.DISPATCHER},
    "order_sign_off": {Role.ADMIN, Role.APPROVER},
    "order_cancel": {Role.ADMIN, Role.DISPATCHER, Role.APPROVER},
}
ENDPOINTS = {
    "event_list": ("GET", "/api/v1/events"),
    "event_detail": ("GET", "/api/v1/events/{event}"),
    "event_end": ("POST", "/api/v1/events/{event}/end"),
    "order_list": ("GET", "/api/v1/orders"),
    "order_detail": ("GET", "/api/v1/orders/{order}"),
    "order_suggestions": ("GET", "/api/v1/orders/{order}/suggestions"),
    "event_create": ("POST", "/api/v1/events"),
    "event_update": ("POST", "/api/v1/events/{event}"),
    "order_create": ("POST", "/api/v1/orders"),
    "order_update": ("POST", "/api/v1/orders/{order}"),
    "order_accept_suggestions": ("POST", "/api/v1/orders/{order}/suggestions/accept"),
    "order_submit": ("POST", "/api/v1/orders/{order}/submit"),
    "order_approve": ("POST", "/api/v1/orders/{order}/approve"),
    "order_reject": ("POST", "/api/v1/orders/{order}/reject"),
    "order_approve_emergency": ("POST", "/api/v1/orders/{order}/approve-emergency"),
    "order_sign_off": ("POST", "/api/v1/orders/{order}/sign-off"),
    "order_cancel": ("POST", "/api/v1/orders/{order}/cancel"),
}


def _counts(db):
    db.expire_all()
    return tuple(
        db.scalar(sa.select(sa.func.count()).select_from(m))
        for m in (AllocationOrder, OrderSource, OrderLog, StockReservation, CallUp, Event)
    ) + (
        db.scalar(sa.select(sa.func.sum(StockBalance.reserved))),
        tuple(db.scalars(sa.select(AllocationOrder.status).order_by(AllocationOrder.id))),
    )


@pytest.fixture
def event(db, floor, make_region):
    return service.create_event(
        db,
        data=EventData(
            name="平阴县夏季洪涝",
            kind="flood",
            level="3",
            region_id=make_region(code="370124", name="平阴县", level="county").id,
            started_at=utcnow() - timedelta(days=1),
        ),
        actor=floor.actor,
    )


@pytest.fixture
def headers(api_token, floor):
    """A token per role (the keeper keeps the near warehouse), and a second approver."""
    out = {}
    for role in ROLES:
        fields = {"warehouses": [floor.near]} if role is Role.KEEPER else {}
        out[role] = api_token(role, **fields)[0]
    out["approver2"] = api_token(Role.APPROVER)[0]
    return out


@pytest.mark.parametrize("endpoint", sorted(ENDPOINTS))
def test_every_endpoint_refuses_the_wrong_roles_and_changes_nothing(
    db, client, floor, event, headers, endpoint
):
    order = draft(db, floor, event_id=event.id)
    method, rule = ENDPOINTS[endpoint]
    path = rule.format(order=order.id, event=event.id)
    for role in ROLES:
        before = _counts(db)
        body = {"reason": "测试"} if method == "POST" else None
        response = client.open(path, method=method, json=body, headers=headers[role])
        if role in ALLOWED[endpoint]:
            assert response.status_code != 403, (role, response.get_json())
            continue
        assert response.status_code == 403, (role, response.status_code)
        assert response.get_json()["error"] == "forbidden"
        assert _counts(db) == before


def test_the_lifecycle_through_the_api(db, client, floor, headers):
    lines = (
        LineData(
            material_id=floor.tent.id,
            qty=80,
            sources=(
                SourceData(
                    kind="stock", qty=50, location_id=floor.near_loc.id, batch_id=floor.early.id
                ),
                agreement_source(floor, 30),
            ),
        ),
    )
    order = draft(db, floor, lines=lines)
    submitted = client.post(
        f"/api/v1/orders/{order.id}/submit", json={}, headers=headers[Role.DISPATCHER]
    )
    assert submitted.status_code == 200, submitted.get_json()
    assert submitted.get_json()["status"] == "submitted"
    key = {**headers[Role.APPROVER], "Idempotency-Key": "approve-0001"}
    first = client.post(f"/api/v1/orders/{order.id}/approve", json={}, headers=key)
    again = client.post(f"/api/v1/orders/{order.id}/approve", json={}, headers=key)
    assert first.status_code == 200, first.get_json()
    assert again.get_json() == first.get_json()
    assert again.headers.get("Idempotent-Replayed") == "true"
    body = first.get_json()
    assert body["status"] == "approved" and body["no"] == order.no
    assert [(s["kind"], s["qty"]) for s in body["lines"][0]["sources"]] == [
        ("stock", 50),
        ("agreement", 30),
    ]
    assert body["lines"][0]["allocated"] == 80
    assert [step["action"] for step in body["timeline"]] == ["create", "submit", "approve"]
    # written once: one reservation of 50, one call-up of 30, one approval in the timeline
    assert db.scalar(sa.select(sa.func.sum(StockReservation.qty))) == 50
    assert db.scalar(sa.select(sa.func.sum(CallUp.qty))) == 30
    assert (
        db.scalar(
            sa.select(sa.func.count()).select_from(OrderLog).where(OrderLog.action == "approve")
        )
        == 1
    )
    cancelled = client.post(
        f"/api/v1/orders/{order.id}/cancel",
        json={"reason": "险情解除"},
        headers=headers[Role.DISPATCHER],
    )
    assert cancelled.get_json()["status"] == "cancelled"
    assert cancelled.get_json()["cancel_reason"] == "险情解除"
    assert db.scalar(sa.select(sa.func.sum(StockBalance.reserved))) == 0


def test_reject_with_reason_and_the_dispatcher_submits_again(db, client, floor, headers):
    order = draft(db, floor)
    service.submit_order(db, order_id=order.id, actor=floor.actor)
    url = f"/api/v1/orders/{order.id}/reject"
    before = _counts(db)
    for language, text in (("zh-CN", "驳回"), ("en", "Say why the order is rejected.")):
        asked = {**headers[Role.APPROVER], "Accept-Language": language}
        refused = client.post(url, json={"reason": "  "}, headers=asked)
        assert refused.status_code == 422
        assert text in refused.get_json()["message"], refused.get_json()
        assert _counts(db) == before
    rejected = client.post(url, json={"reason": "数量过大"}, headers=headers[Role.APPROVER])
    assert rejected.get_json()["status"] == "rejected"
    assert rejected.get_json()["reject_reason"] == "数量过大"
    again = client.post(
        f"/api/v1/orders/{order.id}/submit", json={}, headers=headers[Role.DISPATCHER]
    )
    assert again.get_json()["status"] == "submitted"


def test_an_emergency_order_then_its_sign_off(db, client, floor, headers):
    order = draft(db, floor)
    other = draft(db, floor)  # an ordinary draft: not in the sign-off list
    approved = client.post(
        f"/api/v1/orders/{order.id}/approve-emergency", json={}, headers=headers[Role.DISPATCHER]
    )
    assert approved.status_code == 200, approved.get_json()
    assert approved.get_json()["awaits_sign_off"] is True
    awaiting = client.get("/api/v1/orders?sign_off=1", headers=headers[Role.APPROVER]).get_json()
    assert [row["no"] for row in awaiting["items"]] == [order.no]
    assert other.no not in [row["no"] for row in awaiting["items"]]
    signed = client.post(
        f"/api/v1/orders/{order.id}/sign-off", json={}, headers=headers[Role.APPROVER]
    )
    assert signed.get_json()["awaits_sign_off"] is False
    assert signed.get_json()["signed_off_by_name"] is not None
    twice = client.post(
        f"/api/v1/orders/{order.id}/sign-off",
        json={},
        headers={**headers["approver2"], "Accept-Language": "en"},
    )
    assert twice.status_code == 422
    assert "already been signed off" in twice.get_json()["message"]


def _ship(db, floor, order):
    keeper = floor.actor
    source = order.lines[0].sources[0]
    floor_service.record_pick(
        db,
        source_id=source.id,
        location_id=source.location_id,
        batch_id=source.batch_id,
        qty=source.qty,
        actor=keeper,
        order_id=order.id,
    )
    floor_service.ship_warehouse(
        db,
        order_id=order.id,
        warehouse_id=floor.near.id,
        vehicle_plate="鲁A12345",
        driver_name="李师傅",
        driver_phone="13912345678",
        actor=keeper,
    )


@pytest.mark.parametrize(
    ("case", "status", "match"),
    [
        ("shipped", 422, "no longer be cancelled"),
        ("unknown", 404, "No such order"),
        ("no reason", 422, "Say why the order is cancelled"),
        ("reason not text", 422, "Give the reason as text"),
    ],
)
def test_cancel_refusals_change_nothing(db, client, floor, headers, case, status, match):
    order = draft(db, floor)
    service.approve_emergency(db, order_id=order.id, actor=floor.actor)
    if case == "shipped":
        _ship(db, floor, order)
    order_id = 999_999 if case == "unknown" else order.id
    reason = {"no reason": "", "reason not text": ["x"]}.get(case, "不再需要")
    before = _counts(db)
    response = client.post(
        f"/api/v1/orders/{order_id}/cancel",
        json={"reason": reason},
        headers={**headers[Role.DISPATCHER], "Accept-Language": "en"},
    )
    assert response.status_code == status, response.get_json()
    assert match in response.get_json()["message"]
    assert _counts(db) == before


def test_a_shortfall_is_refused_naming_the_line_in_the_callers_language(db, client, floor, headers):
    lines = (
        LineData(
            material_id=floor.tent.id,
            qty=50,
            sources=(
                SourceData(
                    kind="stock", qty=50, location_id=floor.near_loc.id, batch_id=floor.early.id
                ),
            ),
        ),
    )
    order = draft(db, floor, lines=lines)
    rival = draft(db, floor, lines=lines)
    service.submit_order(db, order_id=order.id, actor=floor.actor)
    service.approve_emergency(db, order_id=rival.id, actor=floor.actor)
    before = _counts(db)
    for language, prefix in (("zh-CN", "第 1 行："), ("en", "Line 1: ")):
        refused = client.post(
            f"/api/v1/orders/{order.id}/approve",
            json={},
            headers={**headers[Role.APPROVER], "Accept-Language": language},
        )
        assert refused.status_code == 409, refused.get_json()
        assert refused.get_json()["message"].startswith(prefix), refused.get_json()
        assert _counts(db) == before


def test_unknown_ids_and_out_of_scope_are_404(db, client, floor, headers, event):
    order = draft(db, floor)
    for path in (
        "/api/v1/orders/999999",
        "/api/v1/orders/999999/suggestions",
        "/api/v1/events/999999",
    ):
        assert client.get(path, headers=headers[Role.DISPATCHER]).status_code == 404
    assert (
        client.post("/api/v1/orders/999999/submit", json={}, headers=headers[Role.DISPATCHER])
    ).status_code == 404
    # a keeper of another warehouse does not see an order that does not touch theirs
    far_keeper = {"Authorization": headers[Role.KEEPER]["Authorization"]}
    assert client.get(f"/api/v1/orders/{order.id}", headers=far_keeper).status_code == 200
    assert client.get(f"/api/v1/events/{event.id}", headers=far_keeper).status_code == 403


def test_the_order_list_filters_and_pages_by_key(db, client, floor, headers, event):
    first = draft(db, floor, event_id=event.id)
    second = draft(db, floor)
    third = draft(db, floor, event_id=event.id)
    service.submit_order(db, order_id=third.id, actor=floor.actor)
    h = headers[Role.VIEWER]
    page = client.get("/api/v1/orders?per_page=2", headers=h).get_json()
    assert [r["no"] for r in page["items"]] == [third.no, second.no]
    rest = client.get(
        "/api/v1/orders", query_string={"per_page": 2, "after": page["next"]}, headers=h
    ).get_json()
    assert [r["no"] for r in rest["items"]] == [first.no] and rest["next"] is None
    by_event = client.get(f"/api/v1/orders?event_id={event.id}", headers=h).get_json()
    assert [r["no"] for r in by_event["items"]] == [third.no, first.no]
    assert by_event["items"][0]["event_name"] == "平阴县夏季洪涝"
    submitted = client.get("/api/v1/orders?status=submitted", headers=h).get_json()
    assert [r["no"] for r in submitted["items"]] == [third.no]
    near = client.get(f"/api/v1/orders?warehouse_id={floor.far.id}", headers=h).get_json()
    assert near["items"] == []  # every source is in the near warehouse
    today = utcnow().date().isoformat()
    dated = client.get(f"/api/v1/orders?date_from={today}", headers=h).get_json()
    assert len(dated["items"]) == 3
    bad = client.get("/api/v1/orders?status=lost", headers={**h, "Accept-Language": "en"})
    assert bad.status_code == 422


def test_suggestions_for_an_order_are_fefo_nearest_then_agreements(db, client, floor, headers):
    order = draft(db, floor, lines=(LineData(material_id=floor.tent.id, qty=1500),))
    body = client.get(
        f"/api/v1/orders/{order.id}/suggestions", headers=headers[Role.DISPATCHER]
    ).get_json()
    (line,) = body["items"]
    got = [(p["kind"], p.get("batch_no") or p["agreement_no"], p["qty"]) for p in line["proposals"]]
    # near warehouse first, first expiry first (E1 then L1), then the far one (the expired X1
    # never), then the agreement's 1000
    assert got == [
        ("stock", "E1", 50),
        ("stock", "L1", 100),
        ("stock", "F1", 200),
        ("agreement", "XY-2026-001", 1000),
    ]
    assert (line["requested"], line["covered"], line["short"]) == (1500, 1350, 150)
    assert line["proposals"][0]["distance_km"] < line["proposals"][2]["distance_km"]


def test_events_list_detail_and_end(db, client, floor, headers, event):
    h = headers[Role.DISPATCHER]
    listed = client.get("/api/v1/events", headers=h).get_json()
    assert [(e["name"], e["order_count"]) for e in listed["items"]] == [("平阴县夏季洪涝", 0)]
    draft(db, floor, event_id=event.id)
    detail = client.get(f"/api/v1/events/{event.id}", headers=h).get_json()
    assert [(m["material_name"], m["requested"]) for m in detail["materials"]] == [("帐篷", 60)]
    key = {**h, "Idempotency-Key": "end-0001"}
    ended = client.post(f"/api/v1/events/{event.id}/end", json={}, headers=key)
    replay = client.post(f"/api/v1/events/{event.id}/end", json={}, headers=key)
    assert ended.status_code == 200 and ended.get_json()["ended_at"] is not None
    assert replay.get_json() == ended.get_json()
    twice = client.post(
        f"/api/v1/events/{event.id}/end", json={}, headers={**h, "Accept-Language": "en"}
    )
    assert twice.status_code == 422 and "already ended" in twice.get_json()["message"]
    assert client.get("/api/v1/events?open=1", headers=h).get_json()["items"] == []


def test_the_openapi_document_lists_the_orders_api(client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    for path, method in (
        ("/api/v1/events", "get"),
        ("/api/v1/events/{event_id}", "get"),
        ("/api/v1/events/{event_id}/end", "post"),
        ("/api/v1/orders", "get"),
        ("/api/v1/orders/{order_id}", "get"),
        ("/api/v1/orders/{order_id}/submit", "post"),
        ("/api/v1/orders/{order_id}/approve", "post"),
        ("/api/v1/orders/{order_id}/reject", "post"),
        ("/api/v1/orders/{order_id}/approve-emergency", "post"),
        ("/api/v1/orders/{order_id}/sign-off", "post"),
        ("/api/v1/orders/{order_id}/cancel", "post"),
        ("/api/v1/orders/{order_id}/suggestions", "get"),
        ("/api/v1/orders/{order_id}/suggestions/accept", "post"),
        ("/api/v1/orders", "post"),
        ("/api/v1/orders/{order_id}", "post"),
        ("/api/v1/events", "post"),
        ("/api/v1/events/{event_id}", "post"),
    ):
        assert method in paths[path], path
        if method == "post":
            names = [p["name"] for p in paths[path][method]["parameters"]]
            assert "Idempotency-Key" in names, path


def _local(moment) -> str:
    from reserve.db import SHANGHAI

    return moment.astimezone(SHANGHAI).strftime("%Y-%m-%dT%H:%M")


def _order_body(floor, **changes) -> dict:
    body = {
        "kind": "dispatch",
        "requesting_unit": "平阴县应急管理局",
        "site_address": "平阴县玫瑰镇",
        "site_lat": float(floor.site[0]),
        "site_lng": float(floor.site[1]),
        "needed_quick": "h4",
        "priority": "urgent",
        "reason": "汛期转移安置",
        "lines": [{"material_id": floor.tent.id, "qty": 120}],
    }
    return body | changes


def test_a_dispatcher_drafts_accepts_the_suggestions_and_submits(db, client, floor, headers):
    h = headers[Role.DISPATCHER]
    key = {**h, "Idempotency-Key": "create-0001"}
    created = client.post("/api/v1/orders", json=_order_body(floor), headers=key)
    replay = client.post("/api/v1/orders", json=_order_body(floor), headers=key)
    assert created.status_code == 201, created.get_json()
    assert replay.get_json() == created.get_json()
    assert db.scalar(sa.select(sa.func.count()).select_from(AllocationOrder)) == 1
    body = created.get_json()
    assert body["status"] == "draft" and body["no"].startswith("DB-")
    assert [(line["requested"], line["allocated"]) for line in body["lines"]] == [(120, 0)]
    order_id = body["id"]
    accepted = client.post(f"/api/v1/orders/{order_id}/suggestions/accept", json={}, headers=h)
    assert accepted.status_code == 200, accepted.get_json()
    sources = accepted.get_json()["lines"][0]["sources"]
    # the near warehouse's two batches (first expiry first), then the far one's
    assert [s["qty"] for s in sources] == [50, 70] and accepted.get_json()["lines"][0][
        "allocated"
    ] == 120
    # an edit keeps the line's sources while its material stays
    edited = client.post(
        f"/api/v1/orders/{order_id}",
        json=_order_body(
            floor,
            priority="critical",
            lines=[
                {"material_id": floor.tent.id, "qty": 120},
                {"material_id": floor.quilt.id, "qty": 5},
            ],
        ),
        headers=h,
    )
    assert edited.status_code == 200, edited.get_json()
    assert edited.get_json()["priority"] == "critical"
    assert [line["allocated"] for line in edited.get_json()["lines"]] == [120, 0]
    submitted = client.post(f"/api/v1/orders/{order_id}/submit", json={}, headers=h)
    assert submitted.get_json()["status"] == "submitted"
    late = client.post(f"/api/v1/orders/{order_id}", json=_order_body(floor), headers=h)
    assert late.status_code == 422  # a submitted order is no longer edited


@pytest.mark.parametrize(
    ("changes", "match"),
    [
        ({"lines": [{"material_id": "tent", "qty": 5}]}, "Material"),
        ({"lines": [{"material_id": "TENT", "qty": 0}]}, "whole number above 0"),
        ({"lines": [{"material_id": "TENT", "qty": -3}]}, "whole number above 0"),
        ({"lines": []}, "Add at least one material"),
        ({"lines": "帐篷"}, "Add at least one material"),
        ({"needed_quick": "at", "needed_at": "2020-01-01T08:00"}, "already passed"),
        ({"requesting_unit": ""}, "which unit"),
        ({"kind": "transfer", "destination_warehouse_id": None}, "warehouse"),
    ],
)
def test_bad_drafts_are_refused_in_the_callers_language_and_nothing_changes(
    db, client, floor, headers, changes, match
):
    body = _order_body(floor, **changes)
    if isinstance(changes.get("lines"), list):
        body["lines"] = [
            line | ({"material_id": floor.tent.id} if line.get("material_id") == "TENT" else {})
            for line in changes["lines"]
        ]
    before = _counts(db)
    response = client.post(
        "/api/v1/orders", json=body, headers={**headers[Role.DISPATCHER], "Accept-Language": "en"}
    )
    assert 400 <= response.status_code < 500, response.get_json()
    assert match in response.get_json()["message"], response.get_json()
    assert _counts(db) == before
    zh = client.post(
        "/api/v1/orders",
        json=body,
        headers={**headers[Role.DISPATCHER], "Accept-Language": "zh-CN"},
    )
    assert zh.status_code == response.status_code
    assert any("\u4e00" <= c <= "\u9fff" for c in zh.get_json()["message"]), zh.get_json()


def test_a_source_above_what_exists_or_at_the_destination_is_refused(db, client, floor, headers):
    h = {**headers[Role.DISPATCHER], "Accept-Language": "en"}
    created = client.post("/api/v1/orders", json=_order_body(floor), headers=h).get_json()
    transfer = client.post(
        "/api/v1/orders",
        json=_order_body(floor, kind="transfer", destination_warehouse_id=floor.near.id),
        headers=h,
    ).get_json()
    far = SourceData(
        kind="stock", qty=200, location_id=floor.far_loc.id, batch_id=floor.far_batch.id
    )
    rival = draft(db, floor, lines=(LineData(material_id=floor.tent.id, qty=200, sources=(far,)),))
    service.approve_emergency(db, order_id=rival.id, actor=floor.actor)
    # every suggested source now exists; a suggestion never takes from the destination itself
    accepted = client.post(
        f"/api/v1/orders/{transfer['id']}/suggestions/accept", json={}, headers=h
    ).get_json()
    places = {s["warehouse_id"] for s in accepted["lines"][0]["sources"]}
    assert floor.near.id not in places
    # the far warehouse is all reserved now: the draft takes the near stock only
    accepted = client.post(
        f"/api/v1/orders/{created['id']}/suggestions/accept", json={}, headers=h
    ).get_json()
    assert [s["warehouse_id"] for s in accepted["lines"][0]["sources"]] == [floor.near.id] * 2
    assert accepted["lines"][0]["allocated"] == 120
    assert accepted["lines"][0]["requested"] == 120


def test_events_are_created_and_updated_with_the_pages_form(
    db, client, floor, headers, make_region
):
    region = make_region(code="370112", name="历城区", level="county")
    h = {**headers[Role.DISPATCHER], "Accept-Language": "en"}
    body = {
        "name": "南部山区森林火灾",
        "kind": "forest_fire",
        "level": "2",
        "region_id": region.id,
        "started_at": _local(utcnow() - timedelta(hours=3)),
    }
    created = client.post("/api/v1/events", json=body, headers=h)
    assert created.status_code == 201, created.get_json()
    event_id = created.get_json()["id"]
    updated = client.post(f"/api/v1/events/{event_id}", json=body | {"level": "1"}, headers=h)
    assert updated.get_json()["level"] == "1"
    before = _counts(db)
    for bad, match in (
        ({"kind": "meteor"}, "Kind of event"),
        ({"started_at": _local(utcnow() + timedelta(days=2))}, "cannot start in the future"),
        ({"name": ""}, "Give the event a name"),
    ):
        refused = client.post("/api/v1/events", json=body | bad, headers=h)
        assert refused.status_code == 422 and match in refused.get_json()["message"], (
            refused.get_json()
        )
    assert _counts(db) == before
