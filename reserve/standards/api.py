"""储备缺口 API: the shortfall page's figures, filters and roll-ups (every standard the reader
sees, most severe first; the same query as the page and its Excel export)."""

from __future__ import annotations

from flask import jsonify, request

from reserve.api import route, schema
from reserve.auth.permissions import current_actor
from reserve.extensions import db
from reserve.standards import shortfall
from reserve.standards.views import shortfall_filter

_ROW = {
    "standard_id": {"type": "integer"},
    "material_id": {"type": "integer"},
    "material_code": {"type": "string"},
    "material_name": {"type": "string"},
    "unit": {"type": "string"},
    "category": {"type": "string"},
    "scope": {"type": "string", "enum": ["warehouse", "region"]},
    "warehouse_id": {"type": "integer", "nullable": True},
    "region_id": {"type": "integer", "nullable": True},
    "scope_name": {"type": "string"},
    "required": {"type": "integer"},
    "min_physical_pct": {"type": "integer", "description": "实物储备比例"},
    "counts_agreements": {"type": "boolean"},
    "physical": {"type": "integer", "description": "实物可用 in the scope's warehouses"},
    "agreement": {"type": "integer", "description": "协议可调用 (counted only if allowed)"},
    "total": {"type": "integer"},
    "shortfall": {"type": "integer"},
    "physical_required": {"type": "integer"},
    "physical_shortfall": {"type": "integer"},
    "severity": {"type": "string", "enum": [s.value for s in shortfall.Severity]},
}
schema("ShortfallRow", _ROW)
_GROUP = {
    "key": {"type": "string"},
    "unit": {"type": "string"},
    "standards": {"type": "integer"},
    "short": {"type": "integer"},
    "critical": {"type": "integer"},
    "required": {"type": "integer"},
    "total": {"type": "integer"},
    "shortfall": {"type": "integer"},
    "physical_shortfall": {"type": "integer"},
}
schema("ShortfallGroup", _GROUP)
SHORTFALL = schema(
    "Shortfall",
    {
        "standards": {"type": "array", "items": {"$ref": "#/components/schemas/ShortfallRow"}},
        "by_category": {
            "type": "array",
            "items": {"$ref": "#/components/schemas/ShortfallGroup"},
        },
        "by_region": {"type": "array", "items": {"$ref": "#/components/schemas/ShortfallGroup"}},
        "counts": {"type": "object", "additionalProperties": {"type": "integer"}},
    },
)


def row_json(r: shortfall.ShortfallRow) -> dict:
    return {
        "standard_id": r.standard_id,
        "material_id": r.material_id,
        "material_code": r.material_code,
        "material_name": r.material_name,
        "unit": r.unit,
        "category": r.category_name,
        "scope": "region" if r.is_region_scope else "warehouse",
        "warehouse_id": r.warehouse_id,
        "region_id": r.region_id if r.is_region_scope else None,
        "scope_name": r.scope_label,
        "required": r.required,
        "min_physical_pct": r.min_physical_pct,
        "counts_agreements": r.counts_agreements,
        "physical": r.physical,
        "agreement": r.agreement,
        "total": r.total,
        "shortfall": r.shortfall,
        "physical_required": r.physical_required,
        "physical_shortfall": r.physical_shortfall,
        "severity": r.severity.value,
    }


def _group(g: shortfall.RollUp) -> dict:
    return {key: getattr(g, key) for key in _GROUP}


@route(
    "/shortfall",
    summary="Reserve shortfall (储备缺口): every standard the reader sees with physical "
    "available, agreement callable, total, shortfall and physical shortfall, most severe first; "
    "rolled up by category and by region",
    tag="standards",
    response=SHORTFALL,
    query=(
        ("category", "string", "a category code, with the categories under it"),
        ("region_id", "integer", "a region, with the divisions and warehouses under it"),
        ("severity", "string", "critical, short or met"),
    ),
)
def reserve_shortfall():
    rows = shortfall.shortfall_rows(
        db.session, actor=current_actor(), f=shortfall_filter(request.args)
    )
    return jsonify(
        standards=[row_json(r) for r in rows],
        by_category=[_group(g) for g in shortfall.by_category(rows)],
        by_region=[_group(g) for g in shortfall.by_region(rows)],
        counts=shortfall.counts(rows),
    )
