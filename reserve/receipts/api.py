"""Receipts API (入库单): list, read, create (and post at once), post — the same form, services
and queries as the pages."""

from datetime import date

from flask import jsonify, request
from flask_babel import lazy_gettext as _l
from werkzeug.datastructures import MultiDict

from reserve.api import key_page_args, key_page_json, route, schema
from reserve.auth.permissions import current_actor
from reserve.db import transaction
from reserve.documents import check_line_count, line_error
from reserve.errors import ValidationError, ValidationErrors
from reserve.extensions import db
from reserve.files import attachment_json as file_json
from reserve.files import send_attachment, store, uploaded_file
from reserve.receipts import attachments, queries, service
from reserve.receipts.forms import ReceiptForm, all_errors, first_error
from reserve.receipts.models import Receipt

_LINE_PROPERTIES = {
    "line_no": {"type": "integer"},
    "material_id": {"type": "integer"},
    "material_code": {"type": "string"},
    "material_name": {"type": "string"},
    "unit": {"type": "string"},
    "batch_no": {"type": "string"},
    "batch_id": {"type": "integer", "nullable": True, "description": "set once posted"},
    "production_date": {"type": "string", "format": "date", "nullable": True},
    "expiry_date": {"type": "string", "format": "date", "nullable": True},
    "qty": {"type": "integer"},
    "location_id": {"type": "integer"},
    "location_code": {"type": "string"},
    "unit_cost": {"type": "string", "nullable": True, "description": "decimal yuan"},
    "serials": {"type": "array", "items": {"type": "string"}},
    "expiry_reason": {
        "type": "string",
        "nullable": True,
        "description": "why an expired or near-expiry batch was received anyway",
    },
}
RECEIPT_LINE = schema("ReceiptLine", _LINE_PROPERTIES)
_HEADER = {
    "id": {"type": "integer"},
    "no": {"type": "string", "example": "RK20261124-0001"},
    "warehouse_id": {"type": "integer"},
    "warehouse": {"type": "string"},
    "source": {
        "type": "string",
        "enum": [
            "purchase",
            "donation",
            "transfer_in",
            "higher_allocation",
            "return",
            "agreement_call_up",
        ],
    },
    "call_up_id": {
        "type": "integer",
        "nullable": True,
        "description": "协议调用: the shipped call-up (with source agreement_call_up only)",
    },
    "supplier": {"type": "string", "nullable": True},
    "funding_source": {"type": "string", "nullable": True},
    "paper_no": {"type": "string", "nullable": True, "description": "文号/合同号"},
    "document_date": {"type": "string", "format": "date"},
    "status": {"type": "string", "enum": ["draft", "posted", "cancelled"]},
    "created_by": {"type": "string", "description": "the creator's login"},
    "created_by_name": {"type": "string", "description": "制单人: the creator's name"},
    "posted_at": {"type": "string", "format": "date-time", "nullable": True},
}
RECEIPT_ROW = schema(
    "ReceiptRow",
    {
        **_HEADER,
        "line_count": {"type": "integer"},
        "total_qty": {"type": "integer"},
        "total_value": {"type": "string", "nullable": True},
    },
)
RECEIPT = schema(
    "Receipt",
    {
        **_HEADER,
        "note": {"type": "string", "nullable": True},
        "posted_by": {"type": "string", "nullable": True, "description": "the poster's login"},
        "posted_by_name": {"type": "string", "nullable": True, "description": "过账人, by name"},
        "lines": {"type": "array", "items": {"$ref": "#/components/schemas/ReceiptLine"}},
        "total_qty": {"type": "integer"},
        "total_value": {"type": "string", "nullable": True},
    },
)
RECEIPT_INPUT = schema(
    "ReceiptInput",
    {
        "warehouse_id": {"type": "integer"},
        "source": _HEADER["source"],
        "call_up_id": _HEADER["call_up_id"],
        "document_date": {"type": "string", "format": "date"},
        "supplier": {"type": "string"},
        "funding_source": {"type": "string"},
        "paper_no": {"type": "string"},
        "note": {"type": "string"},
        "post": {"type": "boolean", "description": "post it in the same transaction"},
        "lines": {
            "type": "array",
            "maxItems": service.MAX_LINES,
            "items": {
                "type": "object",
                "required": ["qty"],
                "properties": {
                    "material_id": {"type": "integer"},
                    "material_code": {"type": "string", "description": "instead of material_id"},
                    "batch_no": {
                        "type": "string",
                        "description": "required where the material has a shelf life; else "
                        "<receipt no>-<line no> when omitted",
                    },
                    "qty": {"type": "integer", "minimum": 1},
                    "location_id": {"type": "integer"},
                    "location_code": {
                        "type": "string",
                        "description": "instead of location_id; default RECV",
                    },
                    "production_date": {"type": "string", "format": "date"},
                    "expiry_date": {
                        "type": "string",
                        "format": "date",
                        "description": "computed from the shelf life when omitted",
                    },
                    "unit_cost": {"type": "string", "description": "decimal yuan"},
                    "serials": {
                        "type": "array",
                        "items": {"type": "string"},
                        "description": "serial-tracked materials: one per unit",
                    },
                    "expiry_reason": {
                        "type": "string",
                        "maxLength": 200,
                        "description": "required when the batch is expired or within the "
                        "material's near-expiry days: why it is received anyway",
                    },
                },
            },
        },
    },
    required=("warehouse_id", "source", "document_date", "lines"),
)

RECEIPT_ATTACHMENT = schema(
    "ReceiptAttachment",
    {
        "id": {"type": "integer"},
        "receipt_id": {"type": "integer"},
        "filename": {"type": "string"},
        "content_type": {"type": "string", "enum": ["application/pdf", "image/jpeg", "image/png"]},
        "size_bytes": {"type": "integer"},
        "sha256": {"type": "string"},
        "uploaded_by": {"type": "string", "description": "the uploader's login"},
        "uploaded_by_name": {"type": "string"},
        "uploaded_at": {"type": "string", "format": "date-time"},
    },
)
RECEIPT_ATTACHMENTS = schema(
    "ReceiptAttachmentList",
    {"items": {"type": "array", "items": {"$ref": "#/components/schemas/ReceiptAttachment"}}},
)

_HEADER_FIELDS = (
    "warehouse_id",
    "source",
    "call_up_id",
    "document_date",
    "supplier",
    "funding_source",
    "paper_no",
    "note",
)
_LINE_FIELDS = ("batch_no", "qty", "production_date", "expiry_date", "unit_cost", "expiry_reason")


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "invalid"  # no field of a receipt is a JSON boolean
    return str(value)


def _line_error(index: int, field: str, message) -> ValidationError:
    return line_error(index + 1, message, field=f"lines-{index}-{field}")


def _formdata(payload: dict) -> MultiDict:
    """The JSON body as the receipt form's fields (``lines-0-qty`` …), codes made ids."""
    data = MultiDict({name: _text(payload.get(name)) for name in _HEADER_FIELDS})
    lines = payload.get("lines")
    check_line_count(
        lines if isinstance(lines, list) else (), empty=_l("A receipt needs at least one line.")
    )
    if not all(isinstance(line, dict) for line in lines):
        raise ValidationError(_l("Each line is a JSON object."), field="lines")
    materials = queries.material_ids_by_code(
        db.session, {str(line["material_code"]) for line in lines if line.get("material_code")}
    )
    warehouse_id = payload.get("warehouse_id")
    locations = queries.location_ids_by_code(
        db.session,
        warehouse_id if isinstance(warehouse_id, int) else -1,
        {str(line["location_code"]) for line in lines if line.get("location_code")},
    )
    for index, line in enumerate(lines):
        prefix = f"lines-{index}-"
        material_id = line.get("material_id")
        if material_id is None and line.get("material_code"):
            material_id = materials.get(str(line["material_code"]))
            if material_id is None:
                raise _line_error(
                    index,
                    "material_code",
                    _l("no material has the code %(code)s.", code=line["material_code"]),
                )
        location_id = line.get("location_id")
        if location_id is None and line.get("location_code"):
            location_id = locations.get(str(line["location_code"]))
            if location_id is None:
                raise _line_error(
                    index,
                    "location_code",
                    _l("the warehouse has no location %(code)s.", code=line["location_code"]),
                )
        data[prefix + "material_id"] = _text(material_id)
        data[prefix + "location_id"] = _text(location_id)
        for name in _LINE_FIELDS:
            data[prefix + name] = _text(line.get(name))
        serials = line.get("serials") or []
        if isinstance(serials, str):
            serials = serials.splitlines()
        if not isinstance(serials, list):
            raise _line_error(index, "serials", _l("serials is a list of serial numbers."))
        data[prefix + "serials"] = "\n".join(_text(s) for s in serials)
        if (
            not data[prefix + "batch_no"]
            and not data[prefix + "material_id"]
            and not data[prefix + "qty"]
        ):
            raise _line_error(index, "batch_no", _l("the line is empty."))
    return data


def _receipt_data():
    payload = request.get_json(silent=True)
    if not isinstance(payload, dict):
        raise ValidationError(_l("The request body must be a JSON object."))
    form = ReceiptForm(formdata=_formdata(payload), meta={"csrf": False})
    if not form.validate():
        found = all_errors(form) or [first_error(form)]
        if len(found) == 1:
            field, message = found[0]
            raise ValidationError(message, field=field)
        raise ValidationErrors([ValidationError(message, field=field) for field, message in found])
    post = payload.get("post", False)
    if not isinstance(post, bool):
        raise ValidationError(_l("post is true or false."), field="post")
    return form.to_data(), post


def _decimal(value):
    return None if value is None else str(value)


def _day(value: date | None):
    return value.isoformat() if value else None


def row_json(row) -> dict:
    return {
        "id": row.id,
        "no": row.no,
        "warehouse_id": row.warehouse_id,
        "warehouse": f"{row.warehouse_code} {row.warehouse_name}",
        "source": row.source,
        "supplier": row.supplier,
        "funding_source": row.funding_source,
        "paper_no": row.paper_no,
        "document_date": _day(row.document_date),
        "status": row.status,
        "created_by": row.created_by,
        "created_by_name": row.created_by_full_name,
        "posted_at": row.posted_at.isoformat() if row.posted_at else None,
        "line_count": row.line_count,
        "total_qty": int(row.total_qty),
        "total_value": _decimal(row.total_value),
    }


def receipt_json(receipt: Receipt) -> dict:
    lines = queries.receipt_lines(db.session, receipt.id)
    total_qty, total_value = queries.totals(lines)
    people = queries.receipt_people(db.session, receipt)
    return {
        "id": receipt.id,
        "no": receipt.no,
        "warehouse_id": receipt.warehouse_id,
        "warehouse": queries.warehouse_name(db.session, receipt.warehouse_id),
        "source": receipt.source,
        "call_up_id": receipt.call_up_id,
        "supplier": receipt.supplier,
        "funding_source": receipt.funding_source,
        "paper_no": receipt.paper_no,
        "document_date": _day(receipt.document_date),
        "status": receipt.status,
        "created_by": receipt.created_by_name,
        "created_by_name": people["created"].name,
        "posted_by": receipt.posted_by_name,
        "posted_by_name": people["posted"].name if people["posted"] else None,
        "posted_at": receipt.posted_at.isoformat() if receipt.posted_at else None,
        "note": receipt.note,
        "total_qty": total_qty,
        "total_value": _decimal(total_value),
        "lines": [
            {
                "line_no": line.line_no,
                "material_id": line.material_id,
                "material_code": line.material_code,
                "material_name": line.material_name,
                "unit": line.unit,
                "batch_no": line.batch_no,
                "batch_id": line.batch_id,
                "production_date": _day(line.production_date),
                "expiry_date": _day(line.expiry_date),
                "qty": line.qty,
                "location_id": line.location_id,
                "location_code": line.location_code,
                "unit_cost": _decimal(line.unit_cost),
                "serials": list(line.serial_nos or ()),
                "expiry_reason": line.expiry_reason,
            }
            for line in lines
        ],
    }


@route(
    "/receipts",
    summary="Receipts (入库单), newest first; keepers see their warehouses",
    tag="receipts",
    response=RECEIPT_ROW,
    key_paged=True,
    query=(
        ("warehouse_id", "integer", "one warehouse"),
        ("status", "string", "draft, posted or cancelled"),
        ("date_from", "date", "document date from (YYYY-MM-DD)"),
        ("date_to", "date", "document date to (YYYY-MM-DD)"),
        ("no", "string", "part of the receipt number or the paper's number"),
    ),
)
def receipt_list():
    after, per_page = key_page_args()
    args = request.args
    result = queries.receipt_page(
        db.session,
        actor=current_actor(),
        warehouse_id=args.get("warehouse_id", type=int),
        status=args.get("status") or None,
        date_from=args.get("date_from", type=date.fromisoformat),
        date_to=args.get("date_to", type=date.fromisoformat),
        no=args.get("no"),
        after=after,
        per_page=per_page,
    )
    return key_page_json(result, row_json)


@route(
    "/receipts/<int:receipt_id>",
    summary="One receipt with its lines",
    tag="receipts",
    response=RECEIPT,
)
def receipt_detail(receipt_id: int):
    return jsonify(receipt_json(service.get_receipt(db.session, receipt_id, actor=current_actor())))


@route(
    "/receipts",
    method="POST",
    summary='Record a draft receipt; with "post": true, post it in the same transaction',
    tag="receipts",
    body=RECEIPT_INPUT,
    response=RECEIPT,
    status=201,
)
def receipt_create():
    data, post = _receipt_data()
    with transaction() as session:
        receipt = service.create_receipt(session, data=data, actor=current_actor())
        if post:
            service.post_receipt(session, receipt_id=receipt.id, actor=current_actor())
    return jsonify(receipt_json(receipt)), 201


@route(
    "/receipts/<int:receipt_id>/post",
    method="POST",
    summary="Post a draft receipt (入库过账): the goods go into stock",
    tag="receipts",
    response=RECEIPT,
)
def receipt_post(receipt_id: int):
    with transaction() as session:
        receipt = service.post_receipt(session, receipt_id=receipt_id, actor=current_actor())
    return jsonify(receipt_json(receipt))


def attachment_json(row) -> dict:
    return file_json(row, "receipt_id")


@route(
    "/receipts/<int:receipt_id>/attachments",
    summary="A receipt's attachments (the scanned delivery note)",
    tag="receipts",
    response=RECEIPT_ATTACHMENTS,
)
def receipt_attachment_list(receipt_id: int):
    receipt = service.get_receipt(db.session, receipt_id, actor=current_actor())
    rows = queries.attachment_rows(db.session, receipt.id)
    return jsonify(items=[attachment_json(row) for row in rows])


@route(
    "/receipts/<int:receipt_id>/attachments",
    method="POST",
    summary="Attach a file to a draft or posted receipt: multipart field `file`, a PDF, JPEG "
    "or PNG (checked by its content), at most RECEIPT_ATTACHMENT_MAX_BYTES",
    tag="receipts",
    response=RECEIPT_ATTACHMENT,
    status=201,
    upload=True,
)
def receipt_attachment_upload(receipt_id: int):
    filename, content = uploaded_file()
    with transaction() as session:
        attachment = attachments.add_attachment(
            session,
            receipt_id=receipt_id,
            filename=filename,
            content=content,
            actor=current_actor(),
            store=store(),
        )
        row = next(r for r in queries.attachment_rows(session, receipt_id) if r.id == attachment.id)
    return jsonify(attachment_json(row)), 201


@route(
    "/receipts/<int:receipt_id>/attachments/<int:attachment_id>",
    summary="Download one attachment (as stored, with its checked content type)",
    tag="receipts",
    binary="application/octet-stream",
)
def receipt_attachment_download(receipt_id: int, attachment_id: int):
    attachment = attachments.get_attachment(
        db.session, receipt_id=receipt_id, attachment_id=attachment_id, actor=current_actor()
    )
    return send_attachment(attachment, store().path_for(attachment))
