"""Stock API: the same queries as the stock pages."""

from datetime import date

from flask import jsonify, request
from flask_babel import lazy_gettext as _l

from reserve.api import route, schema
from reserve.auth.permissions import current_actor
from reserve.catalog.service import get_material
from reserve.errors import ValidationError
from reserve.extensions import db
from reserve.forms import CONTROL_CHARACTERS, CONTROL_MESSAGE, MAX_DAYS
from reserve.stock import queries

KEY_PAGE = {
    "next": {
        "type": "string",
        "nullable": True,
        "description": "pass as `after` (stock lists) or `before` (card) for the next page",
    }
}
STOCK_ROW = schema(
    "StockRow",
    {
        "material_id": {"type": "integer"},
        "code": {"type": "string"},
        "name": {"type": "string"},
        "spec": {"type": "string", "nullable": True},
        "unit": {"type": "string"},
        "category": {"type": "string"},
        "qty": {"type": "integer"},
        "reserved": {"type": "integer"},
        "available": {
            "type": "integer",
            "description": "on hand - reserved, of batches that are not expired",
        },
        "expired_qty": {"type": "integer", "description": "on hand in expired batches (过期)"},
        "near_expiry_qty": {
            "type": "integer",
            "description": "on hand in batches inside the material's warning days (临期)",
        },
        "warehouses": {"type": "integer"},
        "held_in": {
            "type": "array",
            "items": {"type": "string"},
            "description": "the first warehouses holding it, most available first",
        },
        "nearest_expiry": {"type": "string", "format": "date", "nullable": True},
    },
)
STOCK_PAGE = schema(
    "StockPage",
    {"items": {"type": "array", "items": {"$ref": "#/components/schemas/StockRow"}}, **KEY_PAGE},
)
BALANCE = schema(
    "Balance",
    {
        "warehouse_id": {"type": "integer"},
        "warehouse_code": {"type": "string"},
        "location_id": {"type": "integer"},
        "location_code": {"type": "string"},
        "batch_id": {"type": "integer"},
        "batch_no": {"type": "string"},
        "production_date": {"type": "string", "format": "date", "nullable": True},
        "expiry_date": {"type": "string", "format": "date", "nullable": True},
        "qty": {"type": "integer"},
        "reserved": {"type": "integer"},
        "available": {"type": "integer", "description": "0 for an expired batch"},
        "expiry_state": {"type": "string", "enum": ["expired", "near"], "nullable": True},
    },
)
MATERIAL_STOCK = schema(
    "MaterialStock",
    {
        "material_id": {"type": "integer"},
        "code": {"type": "string"},
        "unit": {"type": "string"},
        "qty": {"type": "integer"},
        "reserved": {"type": "integer"},
        "available": {"type": "integer"},
        "expired_qty": {"type": "integer"},
        "near_expiry_qty": {"type": "integer"},
        "balances": {"type": "array", "items": {"$ref": "#/components/schemas/Balance"}},
        **KEY_PAGE,
    },
)
MOVEMENT = schema(
    "Movement",
    {
        "id": {"type": "integer"},
        "posted_at": {"type": "string", "format": "date-time"},
        "document_date": {"type": "string", "format": "date"},
        "kind": {"type": "string"},
        "qty": {"type": "integer"},
        "balance": {"type": "integer"},
        "warehouse": {"type": "string"},
        "location": {"type": "string"},
        "batch_no": {"type": "string"},
        "document_type": {"type": "string"},
        "document_no": {"type": "string", "nullable": True},
        "user": {"type": "string"},
        "note": {"type": "string", "nullable": True},
    },
)
CARD_PAGE = schema(
    "StockCardPage",
    {"items": {"type": "array", "items": {"$ref": "#/components/schemas/Movement"}}, **KEY_PAGE},
)


def _int(name: str) -> int | None:
    value = request.args.get(name)
    if value in (None, ""):
        return None
    try:
        return int(value)
    except ValueError as exc:
        raise ValidationError(
            _l("%(name)s must be a whole number.", name=name), field=name
        ) from exc


def _text(name: str) -> str | None:
    value = (request.args.get(name) or "").strip()
    if CONTROL_CHARACTERS.search(value):
        raise ValidationError(CONTROL_MESSAGE, field=name)
    return value[:100] or None


def _date(name: str) -> date | None:
    value = request.args.get(name)
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise ValidationError(_l("Dates are written like 2026-01-31."), field=name) from exc


@route(
    "/stock",
    summary="Stock by material across the warehouses the caller sees",
    tag="stock",
    response=STOCK_PAGE,
    query=(
        ("q", "string", "name, code, spec or pinyin initials"),
        ("category", "string", "7-digit category code, with sub-categories"),
        ("warehouse", "integer", "one warehouse"),
        (
            "expiring",
            {"type": "integer", "minimum": 0, "maximum": MAX_DAYS},
            "only batches expiring within this many days",
        ),
        ("batch", "string", "batch or serial number, or its beginning (as typed or scanned)"),
        ("after", "string", "material code to continue after (the `next` of a page)"),
    ),
)
def stock_list():
    filters = queries.StockFilter(
        q=_text("q"),
        category_code=request.args.get("category") or None,
        warehouse_id=_int("warehouse"),
        expiring_within_days=_int("expiring"),
        batch_no=_text("batch"),
    )
    page = queries.stock_by_material(
        db.session, current_actor(), filters, after=request.args.get("after") or None
    )
    return jsonify(
        items=[
            {
                "material_id": row.material_id,
                "code": row.code,
                "name": row.name,
                "spec": row.spec,
                "unit": row.unit,
                "category": row.category,
                "qty": row.qty,
                "reserved": row.reserved,
                "available": row.available,
                "expired_qty": row.expired_qty,
                "near_expiry_qty": row.near_expiry_qty,
                "warehouses": row.warehouses,
                "held_in": [h.name for h in row.holders],
                "nearest_expiry": row.nearest_expiry and row.nearest_expiry.isoformat(),
            }
            for row in page.items
        ],
        next=page.next_key,
    )


@route(
    "/stock/materials/<int:material_id>",
    summary="One material's batches and locations",
    tag="stock",
    response=MATERIAL_STOCK,
    query=(
        ("warehouse", "integer", "one warehouse"),
        ("batch", "integer", "one batch (its id)"),
        ("after", "integer", "balance id to continue after (the `next` of a page)"),
    ),
)
def material_stock(material_id: int):
    material = get_material(db.session, material_id)
    actor, warehouse_id, batch_id = current_actor(), _int("warehouse"), _int("batch")
    page = queries.material_balance_page(
        db.session,
        actor,
        material_id,
        near_expiry_days=material.near_expiry_days,
        warehouse_id=warehouse_id,
        batch_id=batch_id,
        after=_int("after"),
    )
    summary = queries.material_summary(
        db.session, actor, material_id, warehouse_id=warehouse_id, batch_id=batch_id
    )
    return jsonify(
        material_id=material.id,
        code=material.code,
        unit=material.unit,
        qty=summary.qty if summary else 0,
        reserved=summary.reserved if summary else 0,
        available=summary.available if summary else 0,
        expired_qty=summary.expired_qty if summary else 0,
        near_expiry_qty=summary.near_expiry_qty if summary else 0,
        balances=[
            {
                "warehouse_id": r.warehouse_id,
                "warehouse_code": r.warehouse_code,
                "location_id": r.location_id,
                "location_code": r.location_code,
                "batch_id": r.batch_id,
                "batch_no": r.batch_no,
                "production_date": r.production_date and r.production_date.isoformat(),
                "expiry_date": r.expiry_date and r.expiry_date.isoformat(),
                "qty": r.qty,
                "reserved": r.reserved,
                "available": r.available,
                "expiry_state": r.expiry_state and r.expiry_state.value,
            }
            for r in page.items
        ],
        next=page.next_key,
    )


@route(
    "/materials/<int:material_id>/movements",
    summary="The stock card: movements, newest first, with the running balance",
    tag="stock",
    response=CARD_PAGE,
    query=(
        ("warehouse", "integer", "one warehouse"),
        ("batch", "integer", "one batch"),
        ("from", "date", "first document (paper) date, YYYY-MM-DD"),
        ("to", "date", "last document (paper) date, YYYY-MM-DD"),
        ("before", "integer", "movement id to continue before (the `next` of a page)"),
    ),
)
def stock_card(material_id: int):
    get_material(db.session, material_id)
    card = queries.CardFilter(
        material_id=material_id,
        warehouse_id=_int("warehouse"),
        batch_id=_int("batch"),
        date_from=_date("from"),
        date_to=_date("to"),
    )
    page = queries.stock_card(db.session, current_actor(), card, before=_int("before"))
    return jsonify(
        items=[
            {
                "id": m.id,
                "posted_at": m.posted_at.isoformat(),
                "document_date": m.document_date.isoformat(),
                "kind": m.kind,
                "qty": m.qty,
                "balance": m.balance,
                "warehouse": m.warehouse_name,
                "location": m.location_code,
                "batch_no": m.batch_no,
                "document_type": m.document_type,
                "document_no": m.document_no,
                "user": m.username,
                "note": m.note,
            }
            for m in page.items
        ],
        next=page.next_key,
    )
