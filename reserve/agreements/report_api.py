"""Stock reports and verifications API (库存申报, 核查): lists paged by key, detail, filing a
report (an enterprise's own system, with its token: created and submitted at once, or a
request filled), requesting one, planning and recording verifications, their photos — the
same forms, services and queries as the pages. An enterprise's token sees its own enterprise
only (another's id answers 404, like one that does not exist). Every write honours an
``Idempotency-Key`` (``reserve.api.route``)."""

from __future__ import annotations

from datetime import date

from flask import jsonify, request
from flask_babel import lazy_gettext as _l
from werkzeug.datastructures import MultiDict

from reserve.agreements import report_queries, reports
from reserve.agreements.api import _payload, _rows, _text, _validated
from reserve.agreements.queries import enterprise_choices
from reserve.agreements.report_forms import PlanForm, RecordForm, ReportForm, RequestForm
from reserve.agreements.report_models import StockReport, Verification
from reserve.api import key_page_args, key_page_json, route, schema
from reserve.auth.permissions import current_actor
from reserve.db import transaction
from reserve.documents import MAX_LINES
from reserve.errors import ValidationError
from reserve.extensions import db
from reserve.files import attachment_json, send_attachment, store, uploaded_file

_REPORT_LINE = {
    "type": "object",
    "properties": {
        "line_no": {"type": "integer"},
        "agreement_line_id": {"type": "integer"},
        "agreement_id": {"type": "integer"},
        "agreement_no": {"type": "string"},
        "material_code": {"type": "string"},
        "material_name": {"type": "string"},
        "unit": {"type": "string"},
        "committed_qty": {"type": "integer", "description": "协议储备数量 when filed"},
        "held_qty": {"type": "integer", "description": "the quantity actually held"},
        "below_commitment": {"type": "boolean"},
        "batch_no": {"type": "string", "nullable": True},
        "expiry_on": {"type": "string", "format": "date", "nullable": True},
        "note": {"type": "string", "nullable": True},
    },
}
_REPORT_FIELDS = {
    "id": {"type": "integer"},
    "no": {"type": "string", "description": "SB + year + sequence"},
    "enterprise_id": {"type": "integer"},
    "enterprise": {"type": "string"},
    "kind": {"type": "string", "enum": ["monthly", "requested"]},
    "status": {"type": "string", "enum": ["requested", "draft", "submitted"]},
    "period_month": {"type": "string", "nullable": True, "description": "YYYY-MM"},
    "due_on": {"type": "string", "format": "date", "nullable": True},
    "corrects_id": {"type": "integer", "nullable": True},
    "submitted_at": {"type": "string", "format": "date-time", "nullable": True},
}
STOCK_REPORT = schema(
    "StockReport",
    {
        **_REPORT_FIELDS,
        "request_message": {"type": "string", "nullable": True},
        "note": {"type": "string", "nullable": True},
        "submitted_by": {"type": "string", "nullable": True},
        "lines": {"type": "array", "items": _REPORT_LINE},
    },
)
STOCK_REPORT_ROW = schema(
    "StockReportRow",
    {
        **_REPORT_FIELDS,
        "line_count": {"type": "integer"},
        "below_commitment": {"type": "integer", "description": "lines held below commitment"},
    },
)
STOCK_REPORT_PAGE = schema(
    "StockReportPage",
    {
        "items": {"type": "array", "items": {"$ref": "#/components/schemas/StockReportRow"}},
        "next": {"type": "string", "nullable": True, "description": "`after` of the next page"},
    },
)
STOCK_REPORT_INPUT = schema(
    "StockReportInput",
    {
        "enterprise_id": {
            "type": "integer",
            "description": "an enterprise's token: its own (may be left out)",
        },
        "period_month": {"type": "string", "description": "YYYY-MM, for a monthly report"},
        "request_id": {"type": "integer", "description": "the requested report this fills"},
        "corrects_id": {"type": "integer", "description": "the submitted report this corrects"},
        "note": {"type": "string"},
        "lines": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "agreement_line_id": {"type": "integer"},
                    "held_qty": {"type": "integer", "minimum": 0},
                    "batch_no": {"type": "string"},
                    "expiry_on": {"type": "string", "format": "date"},
                    "note": {"type": "string"},
                },
                "required": ["agreement_line_id", "held_qty"],
            },
        },
    },
    required=("lines",),
)
REPORT_REQUEST_INPUT = schema(
    "StockReportRequestInput",
    {
        "enterprise_id": {"type": "integer"},
        "due_on": {"type": "string", "format": "date"},
        "message": {"type": "string"},
    },
    required=("enterprise_id", "due_on"),
)
_VERIFICATION_LINE = {
    "type": "object",
    "properties": {
        "line_no": {"type": "integer"},
        "agreement_line_id": {"type": "integer"},
        "agreement_no": {"type": "string"},
        "material_code": {"type": "string"},
        "material_name": {"type": "string"},
        "unit": {"type": "string"},
        "committed_qty": {"type": "integer"},
        "shipped_qty": {"type": "integer", "description": "shipped on call-ups when recorded"},
        "counted_qty": {"type": "integer"},
        "passed": {"type": "boolean", "description": "合格 (true) or 不合格 (false)"},
        "note": {"type": "string", "nullable": True},
    },
}
_VERIFICATION_FIELDS = {
    "id": {"type": "integer"},
    "no": {"type": "string", "description": "HC + year + sequence"},
    "enterprise_id": {"type": "integer"},
    "enterprise": {"type": "string"},
    "status": {"type": "string", "enum": ["planned", "recorded", "cancelled"]},
    "planned_on": {"type": "string", "format": "date"},
    "inspectors": {"type": "string"},
    "checked_on": {"type": "string", "format": "date", "nullable": True},
    "passed": {"type": "boolean", "nullable": True, "description": "the overall result"},
    "corrects_id": {"type": "integer", "nullable": True},
}
VERIFICATION = schema(
    "Verification",
    {
        **_VERIFICATION_FIELDS,
        "findings": {"type": "string", "nullable": True},
        "cancel_reason": {"type": "string", "nullable": True},
        "recorded_by": {"type": "string", "nullable": True},
        "lines": {"type": "array", "items": _VERIFICATION_LINE},
    },
)
VERIFICATION_ROW = schema(
    "VerificationRow",
    {
        **_VERIFICATION_FIELDS,
        "line_count": {"type": "integer"},
        "failed_count": {"type": "integer"},
    },
)
VERIFICATION_PAGE = schema(
    "VerificationPage",
    {
        "items": {"type": "array", "items": {"$ref": "#/components/schemas/VerificationRow"}},
        "next": {"type": "string", "nullable": True, "description": "`after` of the next page"},
    },
)
PLAN_INPUT = schema(
    "VerificationPlanInput",
    {
        "enterprise_id": {"type": "integer"},
        "planned_on": {"type": "string", "format": "date"},
        "inspectors": {"type": "string", "description": "names, e.g. 张伟、李娜"},
        "corrects_id": {"type": "integer", "description": "the recorded verification corrected"},
    },
    required=("enterprise_id", "planned_on", "inspectors"),
)
RECORD_INPUT = schema(
    "VerificationRecordInput",
    {
        "checked_on": {"type": "string", "format": "date"},
        "findings": {"type": "string"},
        "lines": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "agreement_line_id": {"type": "integer"},
                    "counted_qty": {"type": "integer", "minimum": 0},
                    "passed": {
                        "type": "boolean",
                        "nullable": True,
                        "description": "left out: failed when counted < committed − shipped",
                    },
                    "note": {"type": "string"},
                },
                "required": ["agreement_line_id", "counted_qty"],
            },
        },
    },
    required=("checked_on", "lines"),
)
PHOTO = schema(
    "VerificationPhoto",
    {
        "id": {"type": "integer"},
        "verification_id": {"type": "integer"},
        "filename": {"type": "string"},
        "content_type": {"type": "string", "enum": ["application/pdf", "image/jpeg", "image/png"]},
        "size_bytes": {"type": "integer"},
        "sha256": {"type": "string"},
        "uploaded_by": {"type": "string"},
        "uploaded_by_name": {"type": "string"},
        "uploaded_at": {"type": "string", "format": "date-time"},
    },
)
PHOTOS = schema(
    "VerificationPhotos",
    {"items": {"type": "array", "items": {"$ref": "#/components/schemas/VerificationPhoto"}}},
)

_LIST_QUERY = (
    ("enterprise_id", "integer", "one enterprise"),
    ("status", "string", "a status"),
    ("month", "string", "YYYY-MM"),
)


def _day(value: date | None) -> str | None:
    return value.isoformat() if value else None


def _month(value: date | None) -> str | None:
    return f"{value:%Y-%m}" if value else None


def _filters() -> dict:
    month = request.args.get("month") or None
    try:
        month = date.fromisoformat(f"{month}-01") if month else None
    except ValueError:
        raise ValidationError(_l("month must be a month like 2026-01."), field="month") from None
    return dict(
        enterprise_id=request.args.get("enterprise_id", type=int),
        status=request.args.get("status") or None,
        month=month,
    )


def _id(payload: dict, name: str) -> int | None:
    value = payload.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationError(_l("%(name)s is an id.", name=name), field=name)
    return value


# Stock reports ---------------------------------------------------------------------------------


def report_json(report: StockReport) -> dict:
    return {
        "id": report.id,
        "no": report.no,
        "enterprise_id": report.enterprise_id,
        "enterprise": report.enterprise.name,
        "kind": report.kind,
        "status": report.status,
        "period_month": _month(report.period_month),
        "due_on": _day(report.due_on),
        "corrects_id": report.corrects_id,
        "request_message": report.request_message,
        "note": report.note,
        "submitted_at": report.submitted_at.isoformat() if report.submitted_at else None,
        "submitted_by": report.submitted_by_name,
        "lines": [
            {
                "line_no": line.line_no,
                "agreement_line_id": line.agreement_line_id,
                "agreement_id": line.agreement_id,
                "agreement_no": line.agreement_no,
                "material_code": line.material_code,
                "material_name": line.material_name,
                "unit": line.unit,
                "committed_qty": line.committed_qty,
                "held_qty": line.held_qty,
                "below_commitment": bool(line.is_short),
                "batch_no": line.batch_no,
                "expiry_on": _day(line.expiry_on),
                "note": line.note,
            }
            for line in report_queries.report_lines(db.session, report.id)
        ],
    }


def report_row_json(row) -> dict:
    return {
        "id": row.id,
        "no": row.no,
        "enterprise_id": row.enterprise_id,
        "enterprise": row.enterprise_name,
        "kind": row.kind,
        "status": row.status,
        "period_month": _month(row.period_month),
        "due_on": _day(row.due_on),
        "corrects_id": row.corrects_id,
        "submitted_at": row.submitted_at.isoformat() if row.submitted_at else None,
        "line_count": row.line_count,
        "below_commitment": row.short_count,
    }


@route(
    "/stock-reports",
    summary="Stock reports (库存申报), newest first, paged by key; an enterprise's token sees "
    "its own",
    tag="stock reports",
    response=STOCK_REPORT_PAGE,
    query=_LIST_QUERY,
    key_paged=True,
)
def stock_report_list():
    after, per_page = key_page_args()
    page = report_queries.report_page(
        db.session, actor=current_actor(), after=after, per_page=per_page, **_filters()
    )
    return key_page_json(page, report_row_json)


@route(
    "/stock-reports/<int:report_id>",
    summary="One stock report with its lines (committed beside held)",
    tag="stock reports",
    response=STOCK_REPORT,
)
def stock_report_detail(report_id: int):
    return jsonify(report_json(reports.get_report(db.session, report_id, actor=current_actor())))


def _report_data(payload: dict, enterprise_id: int | None):
    data = MultiDict()
    if "period_month" in payload:
        data["period_month"] = _text(payload["period_month"])
    if "note" in payload:
        data["note"] = _text(payload["note"])
    for n, row in enumerate(_rows(payload, "lines", MAX_LINES)):
        for key in ("agreement_line_id", "held_qty", "batch_no", "expiry_on", "note"):
            data[f"lines-{n}-{key}"] = _text(row.get(key))
    form = ReportForm(formdata=data, meta={"csrf": False})
    return _validated(form).to_data(enterprise_id)


@route(
    "/stock-reports",
    method="POST",
    summary="File a stock report (申报并提交): created (monthly, or the correction of "
    "`corrects_id`) or filling the request `request_id`, and submitted at once; each line's "
    "evidence and cap are written with it",
    tag="stock reports",
    body=STOCK_REPORT_INPUT,
    response=STOCK_REPORT,
    status=201,
)
def stock_report_file():
    payload = _payload()
    actor = current_actor()
    enterprise_id = _id(payload, "enterprise_id")
    if enterprise_id is None and actor.visible_enterprise_ids() is not None:
        enterprise_id = actor.enterprise_id
    data = _report_data(payload, enterprise_id)
    with transaction() as session:
        report = reports.file_report(
            session,
            data=data,
            actor=actor,
            report_id=_id(payload, "request_id"),
            corrects_id=_id(payload, "corrects_id"),
        )
    return jsonify(report_json(report)), 201


@route(
    "/stock-reports/requests",
    method="POST",
    summary="Request a stock report from an enterprise (要求企业申报), due by a date",
    tag="stock reports",
    body=REPORT_REQUEST_INPUT,
    response=STOCK_REPORT,
    status=201,
)
def stock_report_request():
    payload = _payload()
    data = MultiDict(
        {name: _text(payload.get(name)) for name in ("enterprise_id", "due_on", "message")}
    )
    form = RequestForm(formdata=data, meta={"csrf": False})
    form.set_choices(enterprise_choices(db.session, current_actor()))
    form.enterprise_id.validate_choice = False  # the service says "choose the enterprise"
    _validated(form)
    with transaction() as session:
        report = reports.request_report(
            session,
            enterprise_id=form.enterprise_id.data,
            due_on=form.due_on.data,
            message=form.message.data,
            actor=current_actor(),
        )
    return jsonify(report_json(report)), 201


# Verifications ---------------------------------------------------------------------------------


def verification_json(verification: Verification) -> dict:
    return {
        "id": verification.id,
        "no": verification.no,
        "enterprise_id": verification.enterprise_id,
        "enterprise": verification.enterprise.name,
        "status": verification.status,
        "planned_on": _day(verification.planned_on),
        "inspectors": verification.inspectors,
        "checked_on": _day(verification.checked_on),
        "passed": verification.passed,
        "corrects_id": verification.corrects_id,
        "findings": verification.findings,
        "cancel_reason": verification.cancel_reason,
        "recorded_by": verification.recorded_by_name,
        "lines": [
            {
                "line_no": line.line_no,
                "agreement_line_id": line.agreement_line_id,
                "agreement_no": line.agreement_no,
                "material_code": line.material_code,
                "material_name": line.material_name,
                "unit": line.unit,
                "committed_qty": line.committed_qty,
                "shipped_qty": line.shipped_qty,
                "counted_qty": line.counted_qty,
                "passed": line.passed,
                "note": line.note,
            }
            for line in report_queries.verification_lines(db.session, verification.id)
        ],
    }


def verification_row_json(row) -> dict:
    return {
        "id": row.id,
        "no": row.no,
        "enterprise_id": row.enterprise_id,
        "enterprise": row.enterprise_name,
        "status": row.status,
        "planned_on": _day(row.planned_on),
        "inspectors": row.inspectors,
        "checked_on": _day(row.checked_on),
        "passed": row.passed,
        "corrects_id": row.corrects_id,
        "line_count": row.line_count,
        "failed_count": row.failed_count,
    }


@route(
    "/verifications",
    summary="Verifications (核查), newest first, paged by key; an enterprise's token sees its own",
    tag="verifications",
    response=VERIFICATION_PAGE,
    query=_LIST_QUERY,
    key_paged=True,
)
def verification_list():
    after, per_page = key_page_args()
    page = report_queries.verification_page(
        db.session, actor=current_actor(), after=after, per_page=per_page, **_filters()
    )
    return key_page_json(page, verification_row_json)


@route(
    "/verifications/<int:verification_id>",
    summary="One verification with its counted lines",
    tag="verifications",
    response=VERIFICATION,
)
def verification_detail(verification_id: int):
    verification = reports.get_verification(db.session, verification_id, actor=current_actor())
    return jsonify(verification_json(verification))


@route(
    "/verifications",
    method="POST",
    summary="Plan a verification (计划核查) of an enterprise: date and inspectors",
    tag="verifications",
    body=PLAN_INPUT,
    response=VERIFICATION,
    status=201,
)
def verification_plan():
    payload = _payload()
    data = MultiDict(
        {
            name: _text(payload.get(name))
            for name in ("enterprise_id", "planned_on", "inspectors", "corrects_id")
        }
    )
    form = PlanForm(formdata=data, meta={"csrf": False})
    form.set_choices(enterprise_choices(db.session, current_actor()))
    form.enterprise_id.validate_choice = False
    _validated(form)
    with transaction() as session:
        verification = reports.plan_verification(
            session, data=form.to_data(), actor=current_actor()
        )
    return jsonify(verification_json(verification)), 201


@route(
    "/verifications/<int:verification_id>/record",
    method="POST",
    summary="Record a planned verification (记录核查结果): counted quantity and result per "
    "line, findings; final, and each line's evidence and cap are written with it",
    tag="verifications",
    body=RECORD_INPUT,
    response=VERIFICATION,
)
def verification_record(verification_id: int):
    reports.get_verification(db.session, verification_id, actor=current_actor())
    payload = _payload()
    data = MultiDict()
    for name in ("checked_on", "findings"):
        if name in payload:
            data[name] = _text(payload[name])
    for n, row in enumerate(_rows(payload, "lines", MAX_LINES)):
        for key in ("agreement_line_id", "counted_qty", "note"):
            data[f"lines-{n}-{key}"] = _text(row.get(key))
        passed = row.get("passed")
        if passed is not None and not isinstance(passed, bool):
            raise ValidationError(
                _l("passed is true, false or left out."), field=f"lines-{n}-result"
            )
        data[f"lines-{n}-result"] = "" if passed is None else ("passed" if passed else "failed")
    form = RecordForm(formdata=data, meta={"csrf": False})
    _validated(form)
    with transaction() as session:
        verification = reports.record_verification(
            session, verification_id=verification_id, data=form.to_data(), actor=current_actor()
        )
    return jsonify(verification_json(verification))


def photo_json(row) -> dict:
    return attachment_json(row, "verification_id")


@route(
    "/verifications/<int:verification_id>/attachments",
    summary="A verification's photos",
    tag="verifications",
    response=PHOTOS,
)
def verification_attachment_list(verification_id: int):
    verification = reports.get_verification(db.session, verification_id, actor=current_actor())
    return jsonify(
        items=[photo_json(r) for r in report_queries.photo_rows(db.session, verification.id)]
    )


@route(
    "/verifications/<int:verification_id>/attachments",
    method="POST",
    summary="Add a photo to a planned verification: multipart field `file`, a PDF, JPEG or PNG "
    "(checked by its content), at most RECEIPT_ATTACHMENT_MAX_BYTES",
    tag="verifications",
    response=PHOTO,
    status=201,
    upload=True,
)
def verification_attachment_upload(verification_id: int):
    filename, content = uploaded_file()
    with transaction() as session:
        photo = reports.add_photo(
            session,
            verification_id=verification_id,
            filename=filename,
            content=content,
            actor=current_actor(),
            store=store(),
        )
        row = next(
            r for r in report_queries.photo_rows(session, verification_id) if r.id == photo.id
        )
    return jsonify(photo_json(row)), 201


@route(
    "/verifications/<int:verification_id>/attachments/<int:attachment_id>",
    summary="Download one photo (as stored, with its checked content type)",
    tag="verifications",
    binary="application/octet-stream",
)
def verification_attachment_download(verification_id: int, attachment_id: int):
    photo = reports.get_photo(
        db.session,
        verification_id=verification_id,
        attachment_id=attachment_id,
        actor=current_actor(),
    )
    return send_attachment(photo, store().path_for(photo))
