"""Call-ups API (调用单): the bureau calls up and cancels; the enterprise's own system confirms
the shipment and reports the replenishment with its token (scoped: another enterprise's
call-up answers 404, like one that does not exist). The same forms, services and queries as
the pages; every write honours an ``Idempotency-Key``."""

from __future__ import annotations

from datetime import date, datetime

from flask import current_app, jsonify, request
from flask_babel import lazy_gettext as _l
from werkzeug.datastructures import MultiDict

from reserve.agreements import callup_queries as queries
from reserve.agreements import callups
from reserve.agreements.callup_forms import CallUpForm, CancelForm, ReplenishForm, ShipForm
from reserve.agreements.callup_models import CallUp
from reserve.agreements.models import AgreementLine
from reserve.api import key_page_args, key_page_json, route, schema
from reserve.auth.permissions import current_actor
from reserve.catalog.models import Material
from reserve.db import transaction
from reserve.errors import ValidationError
from reserve.extensions import db

_STATUS = {"type": "string", "enum": ["requested", "shipped", "replenished", "cancelled"]}
_CALL_UP_INPUT = {
    "line_id": {"type": "integer", "description": "the agreement line (stock or capacity)"},
    "qty": {"type": "integer", "minimum": 1},
    "needed_by": {
        "type": "string",
        "format": "date-time",
        "description": "ISO 8601; without an offset read as Beijing time",
    },
    "warehouse_id": {"type": "integer", "nullable": True, "description": "a bureau warehouse"},
    "destination": {"type": "string", "nullable": True, "description": "or a free destination"},
    "purpose": {"type": "string", "nullable": True},
    "note": {"type": "string", "nullable": True},
    "source": {
        "type": "string",
        "nullable": True,
        "description": "what it was made for, e.g. an allocation order's number",
    },
}
CALL_UP = schema(
    "CallUp",
    {
        "id": {"type": "integer"},
        "no": {"type": "string", "example": "DY2026-0001"},
        **_CALL_UP_INPUT,
        "agreement_id": {"type": "integer"},
        "agreement_no": {"type": "string"},
        "line_no": {"type": "integer"},
        "kind": {"type": "string", "enum": ["stock", "capacity"]},
        "enterprise_id": {"type": "integer"},
        "enterprise": {"type": "string"},
        "material_id": {"type": "integer"},
        "material_name": {"type": "string"},
        "unit": {"type": "string"},
        "status": _STATUS,
        "overdue": {"type": "boolean", "description": "shipped and past its replenishment date"},
        "respond_by": {"type": "string", "format": "date-time"},
        "requested_at": {"type": "string", "format": "date-time"},
        "requested_by_name": {"type": "string"},
        "shipped_qty": {"type": "integer", "nullable": True},
        "vehicle_plate": {"type": "string", "nullable": True},
        "driver_name": {"type": "string", "nullable": True},
        "driver_phone": {"type": "string", "nullable": True},
        "shipped_at": {"type": "string", "format": "date-time", "nullable": True},
        "replenish_due_on": {"type": "string", "format": "date", "nullable": True},
        "replenished_qty": {"type": "integer", "nullable": True},
        "replenished_on": {"type": "string", "format": "date", "nullable": True},
        "cancel_reason": {"type": "string", "nullable": True},
        "receipts": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "id": {"type": "integer"},
                    "no": {"type": "string"},
                    "status": {"type": "string"},
                    "qty": {"type": "integer"},
                },
            },
        },
    },
)
CALL_UP_INPUT = schema("CallUpInput", _CALL_UP_INPUT, required=("line_id", "qty", "needed_by"))
SHIP_INPUT = schema(
    "CallUpShipInput",
    {
        "shipped_qty": {"type": "integer", "minimum": 1, "description": "at most the call's"},
        "vehicle_plate": {"type": "string", "example": "鲁A12345"},
        "driver_name": {"type": "string"},
        "driver_phone": {"type": "string"},
        "shipped_at": {"type": "string", "format": "date-time"},
    },
    required=("shipped_qty", "vehicle_plate", "driver_name", "driver_phone", "shipped_at"),
)
REPLENISH_INPUT = schema(
    "CallUpReplenishInput",
    {
        "replenished_qty": {"type": "integer", "description": "the whole shipped quantity"},
        "replenished_on": {"type": "string", "format": "date"},
        "note": {"type": "string", "nullable": True},
    },
    required=("replenished_qty", "replenished_on"),
)
CANCEL_INPUT = schema("CallUpCancelInput", {"reason": {"type": "string"}}, required=("reason",))


def _iso(value: datetime | date | None) -> str | None:
    return value.isoformat() if value is not None else None


def call_up_json(call: CallUp, row=None, with_receipts: bool = False) -> dict:
    """One call-up; ``row`` (from the list's query) saves the lookups of its names."""
    if row is None:
        line = db.session.get(AgreementLine, call.line_id)
        material = db.session.get(Material, line.material_id)
        names = {
            "agreement_no": call.agreement.no,
            "line_no": line.line_no,
            "kind": line.kind,
            "enterprise": call.enterprise.name,
            "material_id": material.id,
            "material_name": material.name,
            "unit": material.unit,
        }
    else:
        names = {
            "agreement_no": row.agreement_no,
            "line_no": row.line_no,
            "kind": row.kind,
            "enterprise": row.enterprise_name,
            "material_id": row.material_id,
            "material_name": row.material_name,
            "unit": row.unit,
        }
    body = {
        "id": call.id,
        "no": call.no,
        "line_id": call.line_id,
        "agreement_id": call.agreement_id,
        "enterprise_id": call.enterprise_id,
        **names,
        "qty": call.qty,
        "needed_by": _iso(call.needed_by),
        "respond_by": _iso(call.respond_by),
        "warehouse_id": call.warehouse_id,
        "destination": call.destination,
        "purpose": call.purpose,
        "note": call.note,
        "source": call.source,
        "status": call.status,
        "overdue": call.is_overdue,
        "requested_at": _iso(call.requested_at),
        "requested_by_name": call.requested_by_name,
        "shipped_qty": call.shipped_qty,
        "vehicle_plate": call.vehicle_plate,
        "driver_name": call.driver_name,
        "driver_phone": call.driver_phone,
        "shipped_at": _iso(call.shipped_at),
        "replenish_due_on": _iso(call.replenish_due_on),
        "replenished_qty": call.replenished_qty,
        "replenished_on": _iso(call.replenished_on),
        "cancel_reason": call.cancel_reason,
    }
    if with_receipts:
        body["receipts"] = [
            {"id": r.id, "no": r.no, "status": r.status, "qty": int(r.qty)}
            for r in queries.call_up_receipts(db.session, call.id)
        ]
    return body


def _form(form_class, fields):
    """The JSON body through the page's form (the same rules as the page)."""
    payload = request.get_json(silent=True)
    if not isinstance(payload, dict):
        raise ValidationError(_l("The request body must be a JSON object."))
    data = MultiDict()
    for name in fields:
        value = payload.get(name)
        if isinstance(value, bool | dict | list):
            value = "invalid"
        data[name] = "" if value is None else str(value)
    form = form_class(formdata=data, meta={"csrf": False})
    if hasattr(form, "warehouse_id"):
        form.warehouse_id.validate_choice = False  # the service checks the warehouse
    if not form.validate():
        field_name, messages = next(iter(form.errors.items()))
        raise ValidationError(
            f"{getattr(form, field_name).label.text}: {messages[0]}",
            field=field_name,
            errors=form.errors,
        )
    return form


@route(
    "/call-ups",
    summary="Call-ups (调用单), newest first, paged by key; an enterprise's token sees its own",
    tag="call-ups",
    response=CALL_UP,
    query=(
        ("status", _STATUS, "one status"),
        ("enterprise_id", "integer", "one enterprise"),
        ("agreement_id", "integer", "one agreement"),
        ("overdue", {"type": "integer", "enum": [0, 1]}, "1: replenishment overdue only"),
        ("q", "string", "call-up no., agreement no. or enterprise"),
    ),
    key_paged=True,
)
def call_up_list():
    args = request.args
    after, per_page = key_page_args()
    page = queries.call_up_page(
        db.session,
        actor=current_actor(),
        status=args.get("status") or None,
        enterprise_id=args.get("enterprise_id", type=int),
        agreement_id=args.get("agreement_id", type=int),
        overdue=args.get("overdue") == "1",
        q=args.get("q"),
        after=after,
        per_page=per_page,
    )
    return key_page_json(page, lambda row: call_up_json(row.CallUp, row))


@route(
    "/call-ups/<int:call_up_id>",
    summary="One call-up with its receipts",
    tag="call-ups",
    response=CALL_UP,
)
def call_up_detail(call_up_id: int):
    call = callups.get_call_up(db.session, call_up_id, actor=current_actor())
    return jsonify(call_up_json(call, with_receipts=True))


@route(
    "/call-ups",
    method="POST",
    summary="Call up (调用) a quantity of an agreement line in force; refused beyond 可调用数量",
    tag="call-ups",
    body=CALL_UP_INPUT,
    response=CALL_UP,
    status=201,
)
def call_up_create():
    form = _form(CallUpForm, _CALL_UP_INPUT)
    with transaction() as session:
        call = callups.call_up(session, data=form.to_data(), actor=current_actor())
    return jsonify(call_up_json(call)), 201


@route(
    "/call-ups/<int:call_up_id>/ship",
    method="POST",
    summary="Confirm the shipment (发运确认): quantity, vehicle, driver, time; rest released",
    tag="call-ups",
    body=SHIP_INPUT,
    response=CALL_UP,
)
def call_up_ship(call_up_id: int):
    callups.get_call_up(db.session, call_up_id, actor=current_actor())  # 404 before any check
    form = _form(
        ShipForm, ("shipped_qty", "vehicle_plate", "driver_name", "driver_phone", "shipped_at")
    )
    with transaction() as session:
        call = callups.confirm_shipped(
            session,
            call_up_id=call_up_id,
            actor=current_actor(),
            replenish_days=int(current_app.config["CALL_UP_REPLENISH_DAYS"]),
            **form.to_kwargs(),
        )
    return jsonify(call_up_json(call))


@route(
    "/call-ups/<int:call_up_id>/replenish",
    method="POST",
    summary="Report the replenishment (补储): the shipped quantity is back in stock",
    tag="call-ups",
    body=REPLENISH_INPUT,
    response=CALL_UP,
)
def call_up_replenish(call_up_id: int):
    callups.get_call_up(db.session, call_up_id, actor=current_actor())
    form = _form(ReplenishForm, ("replenished_qty", "replenished_on", "note"))
    with transaction() as session:
        call = callups.report_replenished(
            session, call_up_id=call_up_id, actor=current_actor(), **form.to_kwargs()
        )
    return jsonify(call_up_json(call))


@route(
    "/call-ups/<int:call_up_id>/cancel",
    method="POST",
    summary="Cancel a call-up not yet shipped (撤销调用), with the reason; releases the quantity",
    tag="call-ups",
    body=CANCEL_INPUT,
    response=CALL_UP,
)
def call_up_cancel(call_up_id: int):
    form = _form(CancelForm, ("reason",))
    with transaction() as session:
        call = callups.cancel_call_up(
            session, call_up_id=call_up_id, reason=form.reason.data, actor=current_actor()
        )
    return jsonify(call_up_json(call))
