"""Availability API (可调用资源一览): the same filters, queries and figures as the page. For the
bureau's roles (an enterprise's token is refused: the table of permissions)."""

from __future__ import annotations

from flask import current_app, jsonify, request

from reserve.agreements.flags import FlagRule
from reserve.api import key_page_args, route, schema
from reserve.auth.permissions import current_actor
from reserve.availability import queries
from reserve.availability.forms import parse_filter
from reserve.catalog.service import get_material
from reserve.errors import ValidationError
from reserve.extensions import db

_FIGURES = {
    "material_id": {"type": "integer"},
    "code": {"type": "string"},
    "name": {"type": "string"},
    "spec": {"type": "string", "nullable": True},
    "unit": {"type": "string"},
    "category": {"type": "string"},
    "physical": {
        "type": "object",
        "description": "实物储备 in the region's warehouses",
        "properties": {
            "on_hand": {"type": "integer"},
            "available": {"type": "integer"},
            "warehouses": {"type": "integer"},
        },
    },
    "agreement_stock": {
        "type": "object",
        "description": "协议储备: stock lines of agreements in force",
        "properties": {
            "committed": {"type": "integer"},
            "called": {"type": "integer"},
            "shipped": {"type": "integer"},
            "callable": {"type": "integer", "description": "可调用数量"},
            "lines": {"type": "integer"},
            "flagged_lines": {"type": "integer"},
            "failed_lines": {"type": "integer"},
        },
    },
    "capacity": {
        "type": "object",
        "description": "产能储备: a promise to produce, never added to stock",
        "properties": {
            "hours": {"type": "integer"},
            "producible_within": {"type": "integer"},
            "left": {"type": "integer"},
            "daily": {"type": "integer"},
            "shortest_lead_hours": {"type": "integer", "nullable": True},
            "lines": {"type": "integer"},
        },
    },
}
AVAILABILITY = schema("Availability", _FIGURES)
AVAILABILITY_PAGE = schema(
    "AvailabilityPage",
    {
        "items": {"type": "array", "items": {"$ref": "#/components/schemas/Availability"}},
        "next": {"type": "string", "nullable": True, "description": "`after` of the next page"},
    },
)
_LINE = {
    "line_id": {"type": "integer"},
    "agreement_id": {"type": "integer"},
    "agreement_no": {"type": "string"},
    "enterprise_id": {"type": "integer"},
    "enterprise_name": {"type": "string"},
    "kind": {"type": "string", "enum": ["stock", "capacity"]},
    "committed_qty": {"type": "integer"},
    "called_qty": {"type": "integer"},
    "shipped_qty": {"type": "integer"},
    "callable_qty": {"type": "integer"},
    "producible_within": {"type": "integer", "nullable": True},
    "daily_qty": {"type": "integer", "nullable": True},
    "lead_hours": {"type": "integer", "nullable": True},
    "flags": {"type": "array", "items": {"type": "string"}},
    "response_hours": {"type": "integer"},
    "duty_name": {"type": "string", "nullable": True},
    "duty_phone": {"type": "string", "nullable": True},
    "reported_qty": {"type": "integer", "nullable": True},
    "reported_at": {"type": "string", "format": "date-time", "nullable": True},
    "verified_qty": {"type": "integer", "nullable": True},
    "verified_on": {"type": "string", "format": "date", "nullable": True},
    "verification_passed": {"type": "boolean", "nullable": True},
}
schema("AvailabilityLine", _LINE)
_WAREHOUSE = {
    "warehouse_id": {"type": "integer"},
    "code": {"type": "string"},
    "name": {"type": "string"},
    "region": {"type": "string", "nullable": True},
    "on_hand": {"type": "integer"},
    "available": {"type": "integer"},
}
schema("AvailabilityWarehouse", _WAREHOUSE)
MATERIAL_AVAILABILITY = schema(
    "MaterialAvailability",
    {
        "material": {"$ref": "#/components/schemas/Availability"},
        "warehouses": {
            "type": "array",
            "items": {"$ref": "#/components/schemas/AvailabilityWarehouse"},
        },
        "warehouses_next": {"type": "string", "nullable": True, "description": "after_warehouse"},
        "lines": {"type": "array", "items": {"$ref": "#/components/schemas/AvailabilityLine"}},
        "lines_next": {"type": "string", "nullable": True, "description": "after_line"},
    },
)
_FILTERS = (
    ("region", "integer", "a region, with the divisions under it"),
    ("category", "string", "a category code, with the categories under it"),
    ("q", "string", "material: name, code or pinyin initials"),
    ("hours", "integer", "horizon for capacity, 1 to 8760 hours (default 72)"),
)


def _filter(material_id: int | None = None) -> queries.AvailabilityFilter:
    f, problems = parse_filter(db.session, request.args, material_id=material_id)
    if problems:
        raise ValidationError(problems[0])
    return f


def row_json(row: queries.AvailabilityRow, hours: int) -> dict:
    return {
        "material_id": row.material_id,
        "code": row.code,
        "name": row.name,
        "spec": row.spec,
        "unit": row.unit,
        "category": row.category,
        "physical": {
            "on_hand": row.on_hand,
            "available": row.available,
            "warehouses": row.warehouses,
        },
        "agreement_stock": {
            "committed": row.committed,
            "called": row.called,
            "shipped": row.shipped,
            "callable": row.callable,
            "lines": row.stock_lines,
            "flagged_lines": row.flagged_lines,
            "failed_lines": row.failed_lines,
        },
        "capacity": {
            "hours": hours,
            "producible_within": row.capacity_within,
            "left": row.capacity_left,
            "daily": row.capacity_daily,
            "shortest_lead_hours": row.capacity_lead_hours,
            "lines": row.capacity_lines,
        },
    }


def line_json(line: queries.LineAvailability) -> dict:
    return {
        "line_id": line.line_id,
        "agreement_id": line.agreement_id,
        "agreement_no": line.agreement_no,
        "enterprise_id": line.enterprise_id,
        "enterprise_name": line.enterprise_name,
        "kind": line.kind,
        "committed_qty": line.committed_qty,
        "called_qty": line.called_qty,
        "shipped_qty": line.shipped_qty,
        "callable_qty": line.callable_qty,
        "producible_within": line.producible if line.is_capacity else None,
        "daily_qty": line.daily_qty,
        "lead_hours": line.lead_hours,
        "flags": [flag.value for flag in line.flags],
        "response_hours": line.response_hours,
        "duty_name": line.duty_name,
        "duty_phone": line.duty_phone,
        "reported_qty": line.reported_qty,
        "reported_at": line.reported_at.isoformat() if line.reported_at else None,
        "verified_qty": line.verified_qty,
        "verified_on": line.verified_on.isoformat() if line.verified_on else None,
        "verification_passed": line.verification_passed,
    }


@route(
    "/availability",
    summary="Availability (可调用资源一览): per material, physical stock beside agreement stock, "
    "capacity apart; paged by key",
    tag="availability",
    response=AVAILABILITY_PAGE,
    query=(*_FILTERS, ("material", "integer", "one material")),
    key_paged=True,
)
def availability_list():
    after, per_page = key_page_args()
    f = _filter()
    page = queries.availability_page(
        db.session,
        current_actor(),
        f,
        rule=FlagRule.from_config(current_app.config),
        after=after,
        per_page=per_page,
    )
    return jsonify(items=[row_json(row, f.hours) for row in page.items], next=page.next_key)


@route(
    "/availability/<int:material_id>",
    summary="One material's availability: its figures, each warehouse's stock and each "
    "agreement line (enterprise, callable, flags, response time, duty phone), both paged by key",
    tag="availability",
    response=MATERIAL_AVAILABILITY,
    query=(
        *(q for q in _FILTERS if q[0] != "q" and q[0] != "category"),
        ("after_warehouse", "string", "the warehouses' page key"),
        ("after_line", "string", "the lines' page key"),
        ("per_page", "integer", "rows per page of each (at most 500)"),
    ),
)
def availability_material(material_id: int):
    actor = current_actor()
    material = get_material(db.session, material_id)
    f = _filter(material_id=material.id)
    _after, per_page = key_page_args()
    rule = FlagRule.from_config(current_app.config)
    row = queries.material_availability(db.session, actor, material.id, f, rule=rule)
    warehouses = queries.material_warehouse_page(
        db.session,
        actor,
        material.id,
        f,
        after=request.args.get("after_warehouse") or None,
        per_page=per_page,
    )
    lines = queries.material_line_page(
        db.session,
        actor,
        material.id,
        f,
        rule=rule,
        after=request.args.get("after_line") or None,
        per_page=per_page,
    )
    return jsonify(
        material=row_json(row, f.hours),
        warehouses=[
            {
                "warehouse_id": w.warehouse_id,
                "code": w.code,
                "name": w.name,
                "region": w.region_name,
                "on_hand": w.qty,
                "available": w.available,
            }
            for w in warehouses.items
        ],
        warehouses_next=warehouses.next_key,
        lines=[line_json(line) for line in lines.items],
        lines_next=lines.next_key,
    )
