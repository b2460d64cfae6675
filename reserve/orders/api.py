"""调拨单 API: events, orders and their lifecycle (submit, approve, reject, 先调后补 and its 补批,
cancel), and the sources suggested per line, under ``/api/v1``. The same services
(``reserve.orders.service``, ``suggest``) and read queries (``reserve.orders.queries``) as the
pages; every write idempotent under an ``Idempotency-Key`` (``reserve.api.route``), updates as
POST like the rest of the API. The floor's part (pick, ship, receive, return, close) is
``floor_api``."""

from __future__ import annotations

from datetime import date, datetime

from flask import jsonify, request
from flask_babel import lazy_gettext as _l
from werkzeug.datastructures import MultiDict

from reserve.api import form_from_json, key_page_args, key_page_json, route, schema
from reserve.auth.permissions import current_actor
from reserve.db import transaction
from reserve.errors import ValidationError
from reserve.extensions import db
from reserve.orders import queries, service, suggest
from reserve.orders.forms import EventForm, OrderForm, kept_sources, order_data, suggested_sources
from reserve.orders.models import AllocationOrder, EventKind, OrderStatus

_INT = {"type": "integer"}
_TEXT = {"type": "string"}
_NTEXT = {"type": "string", "nullable": True}
_MOMENT = {"type": "string", "format": "date-time"}
_NMOMENT = {"type": "string", "format": "date-time", "nullable": True}
_STATUS = {"type": "string", "enum": [s.value for s in OrderStatus]}

EVENT = schema(
    "Event",
    {
        "id": _INT,
        "name": _TEXT,
        "kind": {"type": "string", "enum": [k.value for k in EventKind]},
        "level": {"type": "string", "enum": ["1", "2", "3", "4"]},
        "region_id": _INT,
        "started_at": _MOMENT,
        "ended_at": _NMOMENT,
        "order_count": _INT,
        "open_count": {"type": "integer", "description": "orders neither closed nor cancelled"},
        "note": _NTEXT,
        "materials": {
            "type": "array",
            "description": "per material: asked, allocated, sent, received, short, returned",
            "items": {"type": "object"},
        },
    },
)
ORDER_ROW = schema(
    "AllocationOrderRow",
    {
        "id": _INT,
        "no": {"type": "string", "example": "DB-202612-0001"},
        "kind": {"type": "string", "enum": ["dispatch", "transfer"]},
        "status": _STATUS,
        "priority": _TEXT,
        "is_emergency": {"type": "boolean"},
        "signed_off": {"type": "boolean"},
        "awaits_sign_off": {"type": "boolean", "description": "先调后补, not yet 补批"},
        "event_id": {"type": "integer", "nullable": True},
        "event_name": _NTEXT,
        "destination": _TEXT,
        "requesting_unit": _TEXT,
        "needed_by": _MOMENT,
        "created_at": _MOMENT,
        "line_count": _INT,
        "requested_total": _INT,
    },
)
_FIGURES = ("qty", "picked", "shipped", "received", "short", "returned")
ORDER = schema(
    "AllocationOrder",
    {
        "id": _INT,
        "no": _TEXT,
        "kind": _TEXT,
        "status": _STATUS,
        "priority": _TEXT,
        "is_emergency": {"type": "boolean"},
        "awaits_sign_off": {"type": "boolean"},
        "event_id": {"type": "integer", "nullable": True},
        "event_name": _NTEXT,
        "requesting_unit": _TEXT,
        "destination": _TEXT,
        "destination_warehouse_id": {"type": "integer", "nullable": True},
        "site_address": _NTEXT,
        "site_region_id": {"type": "integer", "nullable": True},
        "site_lat": {"type": "string", "nullable": True, "description": "degrees, a decimal"},
        "site_lng": {"type": "string", "nullable": True},
        "contact_name": _NTEXT,
        "contact_phone": _NTEXT,
        "needed_by": _MOMENT,
        "reason": _NTEXT,
        "note": _NTEXT,
        "reject_reason": _NTEXT,
        "cancel_reason": _NTEXT,
        "created_by_name": _TEXT,
        "submitted_by_name": _NTEXT,
        "approved_by_name": _NTEXT,
        "signed_off_by_name": _NTEXT,
        "actions": {
            "type": "array",
            "items": {"type": "string"},
            "description": "what the caller's roles may do to it now (the lifecycle table)",
        },
        "lines": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "id": _INT,
                    "line_no": _INT,
                    "material_id": _INT,
                    "material_code": _TEXT,
                    "material_name": _TEXT,
                    "unit": _TEXT,
                    "requested": _INT,
                    "allocated": _INT,
                    "picked": _INT,
                    "shipped": _INT,
                    "received": _INT,
                    "short": _INT,
                    "returned": _INT,
                    "sources": {"type": "array", "items": {"type": "object"}},
                },
            },
        },
        "timeline": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "at": _MOMENT,
                    "action": _TEXT,
                    "from_status": _NTEXT,
                    "to_status": _TEXT,
                    "who": _TEXT,
                    "note": _NTEXT,
                },
            },
        },
    },
)
_LOCAL_MOMENT = {
    "type": "string",
    "example": "2026-07-20T08:00",
    "description": "Beijing time, YYYY-MM-DDTHH:MM (as the form's field)",
}
EVENT_INPUT = schema(
    "EventInput",
    {
        "name": {"type": "string", "maxLength": 100},
        "kind": {"type": "string", "enum": [k.value for k in EventKind]},
        "level": {"type": "string", "enum": ["1", "2", "3", "4"]},
        "region_id": _INT,
        "started_at": _LOCAL_MOMENT,
        "note": _NTEXT,
    },
    required=("name", "kind", "level", "region_id", "started_at"),
)
ORDER_INPUT = schema(
    "AllocationOrderInput",
    {
        "kind": {"type": "string", "enum": ["dispatch", "transfer"]},
        "event_id": {"type": "integer", "nullable": True},
        "requesting_unit": _TEXT,
        "destination_warehouse_id": {
            "type": "integer",
            "nullable": True,
            "description": "a transfer's destination",
        },
        "site_address": {"type": "string", "nullable": True, "description": "a dispatch's site"},
        "site_region_id": {"type": "integer", "nullable": True},
        "site_lat": {"type": "number", "nullable": True},
        "site_lng": {"type": "number", "nullable": True},
        "contact_name": _NTEXT,
        "contact_phone": _NTEXT,
        "needed_quick": {
            "type": "string",
            "enum": ["tonight", "h2", "h4", "h8", "h24", "at"],
            "description": "a quick choice, or 'at' for needed_at (the default when given)",
        },
        "needed_at": _LOCAL_MOMENT,
        "priority": {"type": "string", "enum": ["normal", "urgent", "critical"]},
        "reason": _NTEXT,
        "note": _NTEXT,
        "lines": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"material_id": _INT, "qty": {"type": "integer", "minimum": 1}},
                "required": ["material_id", "qty"],
            },
            "description": "an update keeps the sources of a line whose material stays",
        },
    },
    required=("kind", "requesting_unit", "lines"),
)
REASON_INPUT = schema(
    "OrderReasonInput", {"reason": {"type": "string", "maxLength": 200}}, required=("reason",)
)
NO_INPUT = schema("OrderActionInput", {})
PROPOSAL = {
    "type": "object",
    "properties": {
        "kind": {"type": "string", "enum": ["stock", "agreement"]},
        "qty": _INT,
        "available": _INT,
        "distance_km": {"type": "number", "nullable": True},
        "expected_at": _NMOMENT,
        "warehouse_id": {"type": "integer", "nullable": True},
        "warehouse_name": _NTEXT,
        "location_id": {"type": "integer", "nullable": True},
        "location_code": _NTEXT,
        "batch_id": {"type": "integer", "nullable": True},
        "batch_no": _NTEXT,
        "expiry_date": {"type": "string", "format": "date", "nullable": True},
        "agreement_line_id": {"type": "integer", "nullable": True},
        "agreement_no": _NTEXT,
        "enterprise_name": _NTEXT,
        "response_hours": {"type": "integer", "nullable": True},
    },
}
SUGGESTION = schema(
    "OrderLineSuggestion",
    {
        "line_no": _INT,
        "material_id": _INT,
        "requested": _INT,
        "covered": _INT,
        "short": {"type": "integer", "description": "what no source can give"},
        "proposals": {"type": "array", "items": PROPOSAL},
        "warnings": {
            "type": "array",
            "items": {"type": "object"},
            "description": "takes that would fall below a reserve standard",
        },
    },
)


def _iso(value: datetime | date | None) -> str | None:
    return value.isoformat() if value is not None else None


def _reason() -> str | None:
    payload = request.get_json(silent=True)
    if not isinstance(payload, dict):
        raise ValidationError(_l("The request body must be a JSON object."))
    reason = payload.get("reason")
    if reason is not None and not isinstance(reason, str):
        raise ValidationError(_l("Give the reason as text."), field="reason")
    return reason


# Events (事件) -------------------------------------------------------------------------------


def event_json(event, row=None, materials=None) -> dict:
    body = {
        "id": event.id,
        "name": event.name,
        "kind": event.kind,
        "level": event.level,
        "region_id": event.region_id,
        "started_at": _iso(event.started_at),
        "ended_at": _iso(event.ended_at),
    }
    if row is not None:
        body |= {"order_count": int(row.order_count), "open_count": int(row.open_count)}
    else:
        body["note"] = event.note
    if materials is not None:
        body["materials"] = [
            {
                "material_id": m.material_id,
                "material_code": m.material_code,
                "material_name": m.material_name,
                "unit": m.unit,
                "requested": m.requested,
                "allocated": m.allocated,
                "shipped": m.shipped,
                "received": m.received,
                "short": m.short,
                "returned": m.returned,
            }
            for m in materials
        ]
    return body


@route(
    "/events",
    summary="事件: the events of the responses, newest start first, paged by key",
    tag="orders",
    response=EVENT,
    query=(
        ("open", {"type": "integer", "enum": [0, 1]}, "1: events not yet ended only"),
        ("kind", {"type": "string", "enum": [k.value for k in EventKind]}, "one kind of event"),
    ),
    key_paged=True,
)
def event_list():
    after, per_page = key_page_args()
    if request.args.get("kind") and request.args["kind"] not in {k.value for k in EventKind}:
        raise ValidationError(_l("Choose the kind of event."), field="kind")
    page = queries.event_list(
        db.session,
        actor=current_actor(),
        open_only=request.args.get("open") == "1",
        kind=request.args.get("kind") or None,
        after=after,
        limit=per_page,
    )
    return key_page_json(page, lambda row: event_json(row, row))


@route(
    "/events/<int:event_id>",
    summary="One event, and per material what its orders asked for, sent, received, returned",
    tag="orders",
    response=EVENT,
)
def event_detail(event_id: int):
    page = queries.event_page(db.session, event_id=event_id, actor=current_actor(), limit=1)
    return jsonify(event_json(page.event, materials=page.materials))


@route(
    "/events",
    method="POST",
    summary="新建事件: an event groups the orders of one response",
    tag="orders",
    body=EVENT_INPUT,
    response=EVENT,
    status=201,
)
def event_create():
    form = form_from_json(EventForm)
    with transaction() as session:
        event = service.create_event(session, data=form.to_data(), actor=current_actor())
        answer = event_json(event)
    return jsonify(answer), 201


@route(
    "/events/<int:event_id>",
    method="POST",
    summary="修改事件: the whole event as given",
    tag="orders",
    body=EVENT_INPUT,
    response=EVENT,
)
def event_update(event_id: int):
    form = form_from_json(EventForm)
    with transaction() as session:
        event = service.update_event(
            session, event_id=event_id, data=form.to_data(), actor=current_actor()
        )
        answer = event_json(event)
    return jsonify(answer)


@route(
    "/events/<int:event_id>/end",
    method="POST",
    summary="结束事件: the response is over (its orders go on to their end)",
    tag="orders",
    body=NO_INPUT,
    response=EVENT,
)
def event_end(event_id: int):
    with transaction() as session:
        event = service.end_event(session, event_id=event_id, actor=current_actor())
        answer = event_json(event)
    return jsonify(answer)


# Orders (调拨单) ------------------------------------------------------------------------------


def _row_json(row) -> dict:
    return {
        "id": row.id,
        "no": row.number,
        "kind": row.kind,
        "status": row.status,
        "priority": row.priority,
        "is_emergency": bool(row.is_emergency),
        "signed_off": bool(row.signed_off),
        "awaits_sign_off": bool(row.is_emergency)
        and not row.signed_off
        and row.status != OrderStatus.CANCELLED.value,
        "event_id": row.event_id,
        "event_name": row.event_name,
        "destination": row.destination,
        "requesting_unit": row.requesting_unit,
        "needed_by": _iso(row.needed_by),
        "created_at": _iso(row.created_at),
        "line_count": int(row.line_count),
        "requested_total": int(row.requested_total),
    }


def order_json(order_id: int) -> dict:
    """One order as the order page shows it (``queries.order_page``), and the caller's actions."""
    actor = current_actor()
    page = queries.order_page(db.session, order_id=order_id, actor=actor)
    order: AllocationOrder = page.order
    return {
        "id": order.id,
        "no": order.no,
        "kind": order.kind,
        "status": order.status,
        "priority": order.priority,
        "is_emergency": order.is_emergency,
        "awaits_sign_off": order.awaits_sign_off,
        "event_id": order.event_id,
        "event_name": page.event.name if page.event else None,
        "requesting_unit": order.requesting_unit,
        "destination": page.destination,
        "destination_warehouse_id": order.destination_warehouse_id,
        "site_address": order.site_address,
        "site_region_id": order.site_region_id,
        "site_lat": None if order.site_lat is None else str(order.site_lat),
        "site_lng": None if order.site_lng is None else str(order.site_lng),
        "contact_name": order.contact_name,
        "contact_phone": order.contact_phone,
        "needed_by": _iso(order.needed_by),
        "reason": order.reason,
        "note": order.note,
        "reject_reason": order.reject_reason,
        "cancel_reason": order.cancel_reason,
        "created_by_name": order.created_by_name,
        "submitted_by_name": order.submitted_by_name,
        "approved_by_name": order.approved_by_name,
        "signed_off_by_name": order.signed_off_by_name,
        "actions": service.lifecycle.actions_for(order.status, actor.roles),
        "lines": [
            {
                "id": line.id,
                "line_no": line.line_no,
                "material_id": line.material_id,
                "material_code": line.material_code,
                "material_name": line.material_name,
                "unit": line.unit,
                "requested": line.requested,
                "allocated": line.allocated,
                "picked": line.picked,
                "shipped": line.shipped,
                "received": line.received,
                "short": line.short,
                "returned": line.returned,
                "sources": [
                    {
                        "id": s.id,
                        "kind": s.kind,
                        "place": s.place,
                        "warehouse_id": s.warehouse_id,
                        **{name: getattr(s, name) for name in _FIGURES},
                        "expected_at": _iso(s.expected_at),
                        "late": s.is_late,
                    }
                    for s in line.sources
                ],
            }
            for line in page.lines
        ],
        "timeline": [
            {
                "at": _iso(step.at),
                "action": step.action,
                "from_status": step.from_status,
                "to_status": step.to_status,
                "who": step.who,
                "note": step.note,
            }
            for step in page.timeline
        ],
    }


@route(
    "/orders",
    summary="调拨单: the orders the caller sees, newest first, paged by key",
    tag="orders",
    response=ORDER_ROW,
    query=(
        ("event_id", "integer", "one event's orders"),
        ("status", _STATUS, "one state"),
        ("warehouse_id", "integer", "a source in, or the destination at, this warehouse"),
        ("date_from", "date", "created on or after this local day"),
        ("date_to", "date", "created on or before this local day"),
        ("sign_off", {"type": "integer", "enum": [0, 1]}, "1: emergency orders awaiting 补批"),
    ),
    key_paged=True,
)
def order_list():
    args = request.args
    after, per_page = key_page_args()
    if args.get("status") and args["status"] not in {s.value for s in OrderStatus}:
        raise ValidationError(_l("Choose one of the order states."), field="status")
    page = queries.order_list(
        db.session,
        actor=current_actor(),
        event_id=args.get("event_id", type=int),
        status=args.get("status") or None,
        warehouse_id=args.get("warehouse_id", type=int),
        date_from=args.get("date_from", type=date.fromisoformat),
        date_to=args.get("date_to", type=date.fromisoformat),
        awaiting_sign_off=args.get("sign_off") == "1",
        after=after,
        limit=per_page,
    )
    return key_page_json(page, _row_json)


@route(
    "/orders/<int:order_id>",
    summary="One order: its lines from requested to returned, its sources, its timeline",
    tag="orders",
    response=ORDER,
)
def order_detail(order_id: int):
    return jsonify(order_json(order_id))


def _order_form() -> OrderForm:
    """The JSON body through the page's draft form: its lines (a list of objects) as the form's
    rows (``lines-N-…``), ``needed_at`` meaning the moment given unless a quick choice is."""
    payload = request.get_json(silent=True)
    if not isinstance(payload, dict):
        raise ValidationError(_l("The request body must be a JSON object."))
    lines = payload.get("lines")
    if not isinstance(lines, list) or not all(isinstance(line, dict) for line in lines):
        raise ValidationError(_l("Add at least one material."), field="lines")
    data = MultiDict()
    for key, value in payload.items():
        if key == "lines" or isinstance(value, dict | list):
            continue
        data.add(key, "" if value is None else str(value))
    if "needed_quick" not in payload and payload.get("needed_at"):
        data["needed_quick"] = "at"
    for n, line in enumerate(lines):
        for key in ("material_id", "qty"):
            value = line.get(key)
            data.add(f"lines-{n}-{key}", "" if value is None else str(value))
    form = OrderForm(formdata=data, meta={"csrf": False})
    if not form.validate():
        field_name, messages = next(iter(form.errors.items()))
        if isinstance(messages, list) and messages and isinstance(messages[0], dict):
            inner, texts = next(iter(messages[0].items()))  # a line's field
            label = getattr(form.lines.entries[0].form, inner).label.text
            message = texts[0]
        else:
            label, message = getattr(form, field_name).label.text, messages[0]
        raise ValidationError(f"{label}: {message}", field=field_name, errors=form.errors)
    return form.drop_blank_lines()


@route(
    "/orders",
    method="POST",
    summary="起草调拨单: a draft numbered DB-YYYYMM-NNNN; its sources are chosen afterwards",
    tag="orders",
    body=ORDER_INPUT,
    response=ORDER,
    status=201,
)
def order_create():
    form = _order_form()
    with transaction() as session:
        order_id = service.create_order(session, data=form.to_data(), actor=current_actor()).id
    return jsonify(order_json(order_id)), 201


@route(
    "/orders/<int:order_id>",
    method="POST",
    summary="修改 a draft or rejected order as given (a line's sources kept while it stays)",
    tag="orders",
    body=ORDER_INPUT,
    response=ORDER,
)
def order_update(order_id: int):
    actor = current_actor()
    form = _order_form()
    with transaction() as session:
        order = service.get_order(session, order_id, actor=actor)
        keep = kept_sources(order)
        service.update_order(session, order_id=order.id, data=form.to_data(keep), actor=actor)
    return jsonify(order_json(order_id))


def _act(order_id: int, step) -> tuple:
    with transaction() as session:
        step(session, actor=current_actor())
    return jsonify(order_json(order_id))


@route(
    "/orders/<int:order_id>/submit",
    method="POST",
    summary="提交审批: a draft (or a rejected order, amended) goes to the approver",
    tag="orders",
    body=NO_INPUT,
    response=ORDER,
)
def order_submit(order_id: int):
    return _act(order_id, lambda s, actor: service.submit_order(s, order_id=order_id, actor=actor))


@route(
    "/orders/<int:order_id>/approve",
    method="POST",
    summary="审批通过: every stock source reserved, every agreement source called up, or none",
    tag="orders",
    body=NO_INPUT,
    response=ORDER,
)
def order_approve(order_id: int):
    return _act(order_id, lambda s, actor: service.approve_order(s, order_id=order_id, actor=actor))


@route(
    "/orders/<int:order_id>/reject",
    method="POST",
    summary="驳回: back to the dispatcher, with the reason",
    tag="orders",
    body=REASON_INPUT,
    response=ORDER,
)
def order_reject(order_id: int):
    reason = _reason()
    return _act(
        order_id,
        lambda s, actor: service.reject_order(s, order_id=order_id, reason=reason, actor=actor),
    )


@route(
    "/orders/<int:order_id>/approve-emergency",
    method="POST",
    summary="紧急调拨 (先调后补): the dispatcher approves at once; it awaits an approver's 补批",
    tag="orders",
    body=NO_INPUT,
    response=ORDER,
)
def order_approve_emergency(order_id: int):
    return _act(
        order_id, lambda s, actor: service.approve_emergency(s, order_id=order_id, actor=actor)
    )


@route(
    "/orders/<int:order_id>/sign-off",
    method="POST",
    summary="补批: an approver signs an emergency order off afterwards",
    tag="orders",
    body=NO_INPUT,
    response=ORDER,
)
def order_sign_off(order_id: int):
    return _act(
        order_id, lambda s, actor: service.sign_off_order(s, order_id=order_id, actor=actor)
    )


@route(
    "/orders/<int:order_id>/cancel",
    method="POST",
    summary="作废: with the reason; everything reserved released, every call-up cancelled",
    tag="orders",
    body=REASON_INPUT,
    response=ORDER,
)
def order_cancel(order_id: int):
    reason = _reason()
    return _act(
        order_id,
        lambda s, actor: service.cancel_order(s, order_id=order_id, reason=reason, actor=actor),
    )


# Suggestions (货源建议) -----------------------------------------------------------------------


def _proposal_json(p: suggest.Proposal) -> dict:
    return {
        "kind": p.kind,
        "qty": p.qty,
        "available": p.available,
        "distance_km": None if p.distance_km is None else float(p.distance_km),
        "expected_at": _iso(p.expected_at),
        "warehouse_id": p.warehouse_id,
        "warehouse_name": p.warehouse_name,
        "location_id": p.location_id,
        "location_code": p.location_code,
        "batch_id": p.batch_id,
        "batch_no": p.batch_no,
        "expiry_date": _iso(p.expiry_date),
        "agreement_line_id": p.agreement_line_id,
        "agreement_no": p.agreement_no,
        "enterprise_name": p.enterprise_name,
        "response_hours": p.response_hours,
    }


@route(
    "/orders/<int:order_id>/suggestions",
    summary="货源建议: per line, stock nearest first and FEFO, then agreements; what is short",
    tag="orders",
    response=SUGGESTION,
)
def order_suggestions(order_id: int):
    order = service.get_order(db.session, order_id, actor=current_actor())
    lines = suggest.for_order(db.session, order)
    return jsonify(
        items=[
            {
                "line_no": line.line_no,
                "material_id": s.material_id,
                "requested": s.requested,
                "covered": s.covered,
                "short": s.short,
                "proposals": [_proposal_json(p) for p in s.proposals],
                "warnings": [w if isinstance(w, dict) else {"text": str(w)} for w in s.warnings],
            }
            for line, s in zip(order.lines, lines, strict=True)
        ]
    )


@route(
    "/orders/<int:order_id>/suggestions/accept",
    method="POST",
    summary="采纳全部建议: every line's sources become its suggested ones, in one write",
    tag="orders",
    body=NO_INPUT,
    response=ORDER,
)
def order_accept_suggestions(order_id: int):
    actor = current_actor()
    with transaction() as session:
        order = service.get_order(session, order_id, actor=actor)
        sources = suggested_sources(order, suggest.for_order(session, order))
        service.update_order(
            session, order_id=order.id, data=order_data(order, sources), actor=actor
        )
    return jsonify(order_json(order_id))
