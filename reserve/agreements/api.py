"""Enterprises and agreements API (代储企业, 代储协议): lists paged by key, detail, writes and
attachments — the same forms, services and queries as the pages. An enterprise's token sees
its own enterprise and agreements only (another's id answers 404, like one that does not
exist)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from flask import jsonify, request
from flask_babel import lazy_gettext as _l
from werkzeug.datastructures import MultiDict

from reserve.agreements import attachments, queries, service, signing
from reserve.agreements.forms import AgreementForm, EnterpriseForm
from reserve.agreements.models import Agreement, Enterprise, EnterpriseStatus
from reserve.api import key_page_args, key_page_json, route, schema
from reserve.auth.permissions import current_actor
from reserve.db import transaction
from reserve.documents import MAX_LINES
from reserve.errors import ValidationError
from reserve.extensions import db
from reserve.files import attachment_json as file_json
from reserve.files import send_attachment, store, uploaded_file
from reserve.forms import select_choices
from reserve.receipts.queries import material_choices, material_ids_by_code
from reserve.warehouses.queries import region_choices

_CONTACT = {
    "type": "object",
    "properties": {
        "name": {"type": "string"},
        "title": {"type": "string", "nullable": True},
        "phone": {"type": "string"},
        "is_duty": {"type": "boolean", "description": "the 24-hour duty contact (one at most)"},
    },
}
_ENTERPRISE_FIELDS = {
    "name": {"type": "string"},
    "uscc": {"type": "string", "description": "统一社会信用代码 (GB 32100-2015)"},
    "region_id": {"type": "integer", "nullable": True},
    "enterprise_type": {"type": "string", "enum": ["production", "trade", "logistics", "other"]},
    "kind": {"type": "string", "nullable": True, "description": "kind of business"},
    "address": {"type": "string", "nullable": True},
    "legal_rep": {"type": "string", "nullable": True},
    "lat": {"type": "string", "nullable": True, "description": "decimal degrees"},
    "lng": {"type": "string", "nullable": True, "description": "decimal degrees"},
    "status": {"type": "string", "enum": ["active", "suspended"]},
    "contacts": {"type": "array", "items": _CONTACT},
}
ENTERPRISE = schema(
    "Enterprise",
    {
        "id": {"type": "integer"},
        **_ENTERPRISE_FIELDS,
        "region": {"type": "string", "nullable": True},
    },
)
ENTERPRISE_INPUT = schema("EnterpriseInput", _ENTERPRISE_FIELDS, required=("name", "uscc"))
ENTERPRISE_PAGE = schema(
    "EnterprisePage",
    {
        "items": {"type": "array", "items": {"$ref": "#/components/schemas/Enterprise"}},
        "next": {"type": "string", "nullable": True, "description": "`after` of the next page"},
    },
)
_LINE_INPUT = {
    "material_id": {"type": "integer"},
    "material_code": {"type": "string", "description": "instead of material_id"},
    "kind": {"type": "string", "enum": ["stock", "capacity"]},
    "committed_qty": {
        "type": "integer",
        "minimum": 1,
        "description": "stock: 协议储备数量; capacity: the maximum total",
    },
    "unit_price": {"type": "string", "nullable": True, "description": "agreed, decimal yuan"},
    "daily_qty": {"type": "integer", "nullable": True, "description": "capacity lines only"},
    "lead_hours": {"type": "integer", "nullable": True, "description": "capacity lines only"},
}
_AGREEMENT_FIELDS = {
    "no": {"type": "string"},
    "enterprise_id": {"type": "integer"},
    "signed_on": {"type": "string", "format": "date"},
    "valid_from": {"type": "string", "format": "date"},
    "valid_to": {"type": "string", "format": "date"},
    "response_hours": {"type": "integer", "minimum": 1},
    "region_ids": {"type": "array", "items": {"type": "integer"}, "description": "delivery area"},
    "rotation_duty": {"type": "string", "nullable": True},
    "storage_fee": {
        "type": "string",
        "nullable": True,
        "description": "decimal yuan per unit per year",
    },
    "compensation_note": {"type": "string", "nullable": True},
    "note": {"type": "string", "nullable": True},
}
AGREEMENT_LINE = schema(
    "AgreementLine",
    {
        "id": {"type": "integer"},
        "line_no": {"type": "integer"},
        **_LINE_INPUT,
        "material_name": {"type": "string"},
        "unit": {"type": "string"},
        "called_qty": {"type": "integer", "description": "held by outstanding call-ups"},
        "producible_within_hours": {
            "type": "integer",
            "nullable": True,
            "description": "capacity lines: producible within `hours` (default 72)",
        },
    },
)
AGREEMENT = schema(
    "Agreement",
    {
        "id": {"type": "integer"},
        **_AGREEMENT_FIELDS,
        "enterprise": {"type": "string"},
        "status": {"type": "string", "enum": ["draft", "active", "expired", "terminated"]},
        "termination_reason": {"type": "string", "nullable": True},
        "renewed_from_id": {"type": "integer", "nullable": True},
        "lines": {"type": "array", "items": {"$ref": "#/components/schemas/AgreementLine"}},
    },
)
AGREEMENT_INPUT = schema(
    "AgreementInput",
    {
        **_AGREEMENT_FIELDS,
        "lines": {"type": "array", "items": {"type": "object", "properties": _LINE_INPUT}},
    },
    required=("no", "enterprise_id", "valid_from", "valid_to", "response_hours", "lines"),
)
AGREEMENT_ROW = schema(
    "AgreementRow",
    {
        "id": {"type": "integer"},
        "no": {"type": "string"},
        "enterprise_id": {"type": "integer"},
        "enterprise": {"type": "string"},
        "signed_on": {"type": "string", "format": "date"},
        "valid_from": {"type": "string", "format": "date"},
        "valid_to": {"type": "string", "format": "date"},
        "response_hours": {"type": "integer"},
        "status": {"type": "string", "enum": ["draft", "active", "expired", "terminated"]},
        "stock_lines": {"type": "integer"},
        "capacity_lines": {"type": "integer"},
    },
)
AGREEMENT_PAGE = schema(
    "AgreementPage",
    {
        "items": {"type": "array", "items": {"$ref": "#/components/schemas/AgreementRow"}},
        "next": {"type": "string", "nullable": True, "description": "`after` of the next page"},
    },
)
TERMINATE_INPUT = schema("AgreementTermination", {"reason": {"type": "string"}}, ("reason",))
RENEW_INPUT = schema(
    "AgreementRenewal", {"no": {"type": "string", "description": "default <no>-R<n>"}}
)
AGREEMENT_ATTACHMENT = schema(
    "AgreementAttachment",
    {
        "id": {"type": "integer"},
        "agreement_id": {"type": "integer"},
        "filename": {"type": "string"},
        "content_type": {"type": "string", "enum": ["application/pdf", "image/jpeg", "image/png"]},
        "size_bytes": {"type": "integer"},
        "sha256": {"type": "string"},
        "uploaded_by": {"type": "string"},
        "uploaded_by_name": {"type": "string"},
        "uploaded_at": {"type": "string", "format": "date-time"},
    },
)
AGREEMENT_ATTACHMENTS = schema(
    "AgreementAttachmentList",
    {"items": {"type": "array", "items": {"$ref": "#/components/schemas/AgreementAttachment"}}},
)


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "y" if value else ""
    return str(value)


def _payload() -> dict:
    payload = request.get_json(silent=True)
    if not isinstance(payload, dict):
        raise ValidationError(_l("The request body must be a JSON object."))
    return payload


def _rows(payload: dict, name: str, most: int) -> list[dict]:
    rows = payload.get(name) or []
    if not isinstance(rows, list) or not all(isinstance(row, dict) for row in rows):
        raise ValidationError(_l("%(name)s is a list of JSON objects.", name=name), field=name)
    if len(rows) > most:  # the form would drop the rest without a word
        raise ValidationError(_l("%(name)s has at most %(n)s rows.", name=name, n=most), field=name)
    return rows


def _validated(form):
    if not form.validate():
        field_name, messages = next(iter(form.errors.items()))
        message = messages[0]
        if isinstance(message, dict):  # a list of lines: the first line's first error
            field_name, inner = next(iter(message.items()))
            message = inner[0]
        raise ValidationError(str(message), field=field_name, errors=form.errors)
    return form


def _enterprise_data(payload: dict, enterprise: Enterprise | None = None):
    """The JSON body through the enterprise form; on a change, fields left out (the contacts
    too) keep their value."""
    data = MultiDict()
    for name in _ENTERPRISE_FIELDS:
        if name != "contacts" and name in payload:
            data[name] = _text(payload[name])
    if "contacts" in payload:
        contacts = _rows(payload, "contacts", service.MAX_CONTACTS)
    elif enterprise is not None:
        contacts = [
            {"name": c.name, "title": c.title, "phone": c.phone, "is_duty": c.is_duty}
            for c in enterprise.contacts
        ]
    else:
        contacts = []
    for n, contact in enumerate(contacts):
        for key in ("name", "title", "phone", "is_duty"):
            if contact.get(key) not in (None, False):
                data[f"contacts-{n}-{key}"] = _text(contact.get(key))
    form = EnterpriseForm(formdata=data, obj=enterprise, meta={"csrf": False})
    form.region_id.choices = select_choices(region_choices(db.session), blank="")
    return _validated(form).to_data()


def enterprise_json(enterprise: Enterprise) -> dict:
    return {
        "id": enterprise.id,
        "name": enterprise.name,
        "uscc": enterprise.uscc,
        "region_id": enterprise.region_id,
        "region": enterprise.region.name if enterprise.region else None,
        "enterprise_type": enterprise.enterprise_type,
        "kind": enterprise.kind,
        "address": enterprise.address,
        "legal_rep": enterprise.legal_rep,
        "lat": _decimal(enterprise.lat),
        "lng": _decimal(enterprise.lng),
        "status": enterprise.status,
        "contacts": [
            {"name": c.name, "title": c.title, "phone": c.phone, "is_duty": c.is_duty}
            for c in enterprise.contacts
        ],
    }


def _decimal(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _day(value: date | None) -> str | None:
    return value.isoformat() if value else None


@route(
    "/enterprises",
    summary="Custodian enterprises (代储企业), paged by key; an enterprise's token sees its own",
    tag="agreements",
    response=ENTERPRISE_PAGE,
    query=(
        ("q", "string", "name, pinyin initials, credit code, or a contact's name or phone"),
        ("region_id", "integer", "a region, with the divisions under it"),
        ("type", "string", "production, trade, logistics or other"),
        ("status", "string", "active (default), suspended or all"),
        ("sort", "string", "name or uscc; '-' for descending"),
    ),
    key_paged=True,
)
def enterprise_list():
    args = request.args
    after, per_page = key_page_args()
    status = args.get("status") or EnterpriseStatus.ACTIVE.value
    page = queries.enterprise_page(
        db.session,
        actor=current_actor(),
        q=args.get("q"),
        region_id=args.get("region_id", type=int),
        enterprise_type=args.get("type") or None,
        status=None if status == "all" else status,
        sort=args.get("sort", "name"),
        after=after,
        per_page=per_page,
        with_contacts=True,
    )
    return key_page_json(page, lambda row: enterprise_json(row.Enterprise))


@route(
    "/enterprises/<int:enterprise_id>",
    summary="One enterprise with its contacts",
    tag="agreements",
    response=ENTERPRISE,
)
def enterprise_detail(enterprise_id: int):
    return jsonify(
        enterprise_json(service.get_enterprise(db.session, enterprise_id, actor=current_actor()))
    )


@route(
    "/enterprises",
    method="POST",
    summary="Register an enterprise (新增代储企业)",
    tag="agreements",
    body=ENTERPRISE_INPUT,
    response=ENTERPRISE,
    status=201,
)
def enterprise_create():
    data = _enterprise_data(_payload())
    with transaction() as session:
        enterprise = service.create_enterprise(session, data=data, actor=current_actor())
    return jsonify(enterprise_json(enterprise)), 201


@route(
    "/enterprises/<int:enterprise_id>",
    method="POST",
    summary="Change an enterprise; fields left out keep their value (contacts too)",
    tag="agreements",
    body=ENTERPRISE_INPUT,
    response=ENTERPRISE,
)
def enterprise_update(enterprise_id: int):
    enterprise = service.get_enterprise(db.session, enterprise_id, actor=current_actor())
    data = _enterprise_data(_payload(), enterprise)
    with transaction() as session:
        enterprise = service.update_enterprise(
            session, enterprise_id=enterprise_id, data=data, actor=current_actor()
        )
    return jsonify(enterprise_json(enterprise))


# Agreements -----------------------------------------------------------------------------------


_LINE_KEYS = ("kind", "committed_qty", "unit_price", "daily_qty", "lead_hours")


def _agreement_data(payload: dict, agreement: Agreement | None = None):
    """The JSON body through the agreement form; on a change, fields left out (the delivery
    area and the lines too) keep their value."""
    data = MultiDict()
    for name in _AGREEMENT_FIELDS:
        if name == "region_ids" or name not in payload:
            continue
        data[name] = _text(payload[name])
    ids = payload.get("region_ids", agreement.region_ids if agreement is not None else [])
    if not isinstance(ids, list):
        raise ValidationError(_l("region_ids is a list of ids."), field="region_ids")
    for region_id in ids:
        data.add("region_ids", _text(region_id))
    if agreement is not None:
        for name in ("no", "signed_on", "valid_from", "valid_to", "response_hours"):
            data.setdefault(name, _text(getattr(agreement, name)))
        data.setdefault("enterprise_id", _text(agreement.enterprise_id))
    if "lines" in payload or agreement is None:
        lines = _rows(payload, "lines", MAX_LINES)
    else:
        lines = [
            {key: getattr(line, key) for key in ("material_id", *_LINE_KEYS)}
            for line in agreement.lines
        ]
    codes = material_ids_by_code(
        db.session, {str(line["material_code"]) for line in lines if line.get("material_code")}
    )
    for n, line in enumerate(lines):
        material_id = line.get("material_id")
        if material_id is None and line.get("material_code"):
            material_id = codes.get(str(line["material_code"]))
            if material_id is None:
                raise ValidationError(
                    _l("no material has the code %(code)s.", code=line["material_code"]),
                    field=f"lines-{n}-material_id",
                    line=n + 1,
                )
        data[f"lines-{n}-material_id"] = _text(material_id)
        for key in _LINE_KEYS:
            data[f"lines-{n}-{key}"] = _text(line.get(key))
    form = AgreementForm(formdata=data, obj=agreement, meta={"csrf": False})
    while len(form.lines.entries) > 1 and form.lines.entries[-1].form.is_blank():
        form.lines.entries.pop()  # the form's blank rows are for the page
    form.set_choices(
        queries.enterprise_choices(db.session),
        queries.area_choices(db.session),
        material_choices(db.session),
    )
    return _validated(form).to_data()


def agreement_json(agreement: Agreement, hours: int = queries.DEFAULT_HORIZON_HOURS) -> dict:
    return {
        "id": agreement.id,
        "no": agreement.no,
        "enterprise_id": agreement.enterprise_id,
        "enterprise": agreement.enterprise.name,
        "signed_on": _day(agreement.signed_on),
        "valid_from": _day(agreement.valid_from),
        "valid_to": _day(agreement.valid_to),
        "response_hours": agreement.response_hours,
        "region_ids": agreement.region_ids,
        "rotation_duty": agreement.rotation_duty,
        "storage_fee": _decimal(agreement.storage_fee),
        "compensation_note": agreement.compensation_note,
        "note": agreement.note,
        "status": agreement.shown_status,
        "termination_reason": agreement.termination_reason,
        "renewed_from_id": agreement.renewed_from_id,
        "lines": [
            {
                "id": line.id,
                "line_no": line.line_no,
                "material_id": line.material_id,
                "material_code": line.material_code,
                "material_name": line.material_name,
                "unit": line.unit,
                "kind": line.kind,
                "committed_qty": line.committed_qty,
                "unit_price": _decimal(line.unit_price),
                "daily_qty": line.daily_qty,
                "lead_hours": line.lead_hours,
                "called_qty": line.called_qty,
                "producible_within_hours": line.producible_within(hours)
                if line.is_capacity
                else None,
            }
            for line in queries.agreement_lines(db.session, agreement.id)
        ],
    }


def row_json(row) -> dict:
    return {
        "id": row.id,
        "no": row.no,
        "enterprise_id": row.enterprise_id,
        "enterprise": row.enterprise_name,
        "signed_on": _day(row.signed_on),
        "valid_from": _day(row.valid_from),
        "valid_to": _day(row.valid_to),
        "response_hours": row.response_hours,
        "status": row.status,
        "stock_lines": row.stock_lines,
        "capacity_lines": row.capacity_lines,
    }


@route(
    "/agreements",
    summary="Custodian agreements (代储协议), soonest to end first, paged by key",
    tag="agreements",
    response=AGREEMENT_PAGE,
    query=(
        ("q", "string", "agreement number or enterprise"),
        ("enterprise_id", "integer", "one enterprise"),
        ("status", "string", "draft, active, expired or terminated (as read today)"),
        ("expiring", {"type": "integer", "minimum": 0, "maximum": 3650}, "ending within N days"),
        ("material_id", "integer", "with a line for this material"),
    ),
    key_paged=True,
)
def agreement_list():
    args = request.args
    after, per_page = key_page_args()
    page = queries.agreement_page(
        db.session,
        actor=current_actor(),
        q=args.get("q"),
        enterprise_id=args.get("enterprise_id", type=int),
        status=args.get("status") or None,
        expiring_days=args.get("expiring", type=int),
        material_id=args.get("material_id", type=int),
        after=after,
        per_page=per_page,
    )
    return key_page_json(page, row_json)


@route(
    "/agreements/<int:agreement_id>",
    summary="One agreement with its lines (stock and capacity apart)",
    tag="agreements",
    response=AGREEMENT,
    query=(("hours", {"type": "integer", "minimum": 1, "maximum": 8760}, "capacity horizon"),),
)
def agreement_detail(agreement_id: int):
    agreement = signing.get_agreement(db.session, agreement_id, actor=current_actor())
    hours = request.args.get("hours", queries.DEFAULT_HORIZON_HOURS, type=int)
    return jsonify(agreement_json(agreement, hours))


@route(
    "/agreements",
    method="POST",
    summary="Draft an agreement (起草代储协议) with its lines",
    tag="agreements",
    body=AGREEMENT_INPUT,
    response=AGREEMENT,
    status=201,
)
def agreement_create():
    data = _agreement_data(_payload())
    with transaction() as session:
        agreement = signing.create_agreement(session, data=data, actor=current_actor())
    return jsonify(agreement_json(agreement)), 201


@route(
    "/agreements/<int:agreement_id>",
    method="POST",
    summary="Change a draft agreement; fields left out keep their value (lines too)",
    tag="agreements",
    body=AGREEMENT_INPUT,
    response=AGREEMENT,
)
def agreement_update(agreement_id: int):
    agreement = signing.get_agreement(db.session, agreement_id, actor=current_actor())
    data = _agreement_data(_payload(), agreement)
    with transaction() as session:
        agreement = signing.update_agreement(
            session, agreement_id=agreement_id, data=data, actor=current_actor()
        )
    return jsonify(agreement_json(agreement))


@route(
    "/agreements/<int:agreement_id>/activate",
    method="POST",
    summary="Put a draft agreement in force (协议生效); refused if another in force overlaps",
    tag="agreements",
    response=AGREEMENT,
)
def agreement_activate(agreement_id: int):
    with transaction() as session:
        agreement = signing.activate_agreement(
            session, agreement_id=agreement_id, actor=current_actor()
        )
    return jsonify(agreement_json(agreement))


@route(
    "/agreements/<int:agreement_id>/terminate",
    method="POST",
    summary="Terminate an agreement in force (协议终止), with the reason",
    tag="agreements",
    body=TERMINATE_INPUT,
    response=AGREEMENT,
)
def agreement_terminate(agreement_id: int):
    reason = _payload().get("reason")
    with transaction() as session:
        agreement = signing.terminate_agreement(
            session,
            agreement_id=agreement_id,
            reason=reason if isinstance(reason, str) else None,
            actor=current_actor(),
        )
    return jsonify(agreement_json(agreement))


@route(
    "/agreements/<int:agreement_id>/renew",
    method="POST",
    summary="Renew (续签): copy the agreement into a new draft starting after it ends",
    tag="agreements",
    body=RENEW_INPUT,
    response=AGREEMENT,
    status=201,
)
def agreement_renew(agreement_id: int):
    payload = request.get_json(silent=True) or {}
    no = payload.get("no") if isinstance(payload, dict) else None
    with transaction() as session:
        renewed = signing.renew_agreement(
            session,
            agreement_id=agreement_id,
            no=no if isinstance(no, str) else None,
            actor=current_actor(),
        )
    return jsonify(agreement_json(renewed)), 201


def attachment_json(row) -> dict:
    return file_json(row, "agreement_id")


@route(
    "/agreements/<int:agreement_id>/attachments",
    summary="An agreement's attachments (the signed scan)",
    tag="agreements",
    response=AGREEMENT_ATTACHMENTS,
)
def agreement_attachment_list(agreement_id: int):
    agreement = signing.get_agreement(db.session, agreement_id, actor=current_actor())
    return jsonify(
        items=[attachment_json(r) for r in queries.attachment_rows(db.session, agreement.id)]
    )


@route(
    "/agreements/<int:agreement_id>/attachments",
    method="POST",
    summary="Attach the signed scan: multipart field `file`, a PDF, JPEG or PNG (checked by "
    "its content), at most RECEIPT_ATTACHMENT_MAX_BYTES",
    tag="agreements",
    response=AGREEMENT_ATTACHMENT,
    status=201,
    upload=True,
)
def agreement_attachment_upload(agreement_id: int):
    filename, content = uploaded_file()
    with transaction() as session:
        attachment = attachments.add_attachment(
            session,
            agreement_id=agreement_id,
            filename=filename,
            content=content,
            actor=current_actor(),
            store=store(),
        )
        row = next(
            r for r in queries.attachment_rows(session, agreement_id) if r.id == attachment.id
        )
    return jsonify(attachment_json(row)), 201


@route(
    "/agreements/<int:agreement_id>/attachments/<int:attachment_id>",
    summary="Download one attachment (as stored, with its checked content type)",
    tag="agreements",
    binary="application/octet-stream",
)
def agreement_attachment_download(agreement_id: int, attachment_id: int):
    attachment = attachments.get_attachment(
        db.session, agreement_id=agreement_id, attachment_id=attachment_id, actor=current_actor()
    )
    return send_attachment(attachment, store().path_for(attachment))
