"""Stocktake API: read a count sheet, and record counts through the same
``record_count_by_codes`` as the page (and, later, the label scanner)."""

from flask import jsonify

from reserve.api import form_from_json, route, schema
from reserve.auth.permissions import current_actor
from reserve.db import transaction
from reserve.extensions import db
from reserve.stocktakes import queries, service
from reserve.stocktakes.counting import record_count_by_codes
from reserve.stocktakes.forms import CountForm
from reserve.stocktakes.models import StocktakeStatus

_HIDDEN = "null while a blind count is being counted, unless the caller is an approver"

STOCKTAKE_LINE = schema(
    "StocktakeLine",
    {
        "id": {"type": "integer"},
        "location_id": {"type": "integer"},
        "location_code": {"type": "string"},
        "material_id": {"type": "integer"},
        "material_code": {"type": "string"},
        "material_name": {"type": "string"},
        "unit": {"type": "string"},
        "batch_id": {"type": "integer"},
        "batch_no": {"type": "string"},
        "expiry_date": {"type": "string", "format": "date", "nullable": True},
        "is_found": {"type": "boolean", "description": "counted, but not in the opening snapshot"},
        "system_qty": {
            "type": "integer",
            "nullable": True,
            "description": "the book quantity when counted; " + _HIDDEN,
        },
        "counted_qty": {"type": "integer", "nullable": True, "description": "null until counted"},
        "variance": {
            "type": "integer",
            "nullable": True,
            "description": "counted - system (盘盈 > 0, 盘亏 < 0); " + _HIDDEN,
        },
        "reason": {"type": "string", "nullable": True},
        "counted_by": {"type": "string", "nullable": True},
        "counted_at": {"type": "string", "format": "date-time", "nullable": True},
    },
)
STOCKTAKE = schema(
    "Stocktake",
    {
        "id": {"type": "integer"},
        "no": {"type": "string", "description": "盘点单号, PD…"},
        "warehouse_id": {"type": "integer"},
        "warehouse_code": {"type": "string"},
        "status": {"type": "string", "enum": [s.value for s in StocktakeStatus]},
        "is_blind": {"type": "boolean"},
        "location_codes": {
            "type": "array",
            "items": {"type": "string"},
            "description": "the locations counted; empty: all",
        },
        "categories": {
            "type": "array",
            "items": {"type": "string"},
            "description": "the categories counted; empty: all",
        },
        "note": {"type": "string", "nullable": True},
        "created_at": {"type": "string", "format": "date-time"},
        "submitted_at": {"type": "string", "format": "date-time", "nullable": True},
        "approved_at": {"type": "string", "format": "date-time", "nullable": True},
        "reject_reason": {"type": "string", "nullable": True},
        "lines": {"type": "array", "items": {"$ref": "#/components/schemas/StocktakeLine"}},
    },
)
COUNT = schema(
    "StocktakeCount",
    {
        "location_id": {"type": "integer"},
        "location_code": {"type": "string", "description": "instead of location_id"},
        "batch_id": {"type": "integer"},
        "batch_no": {"type": "string", "description": "with material_code, instead of batch_id"},
        "material_code": {"type": "string"},
        "serial_no": {"type": "string", "description": "a serial item: counted_qty 1 (here) or 0"},
        "counted_qty": {"type": "integer", "minimum": 0},
        "reason": {
            "type": "string",
            "nullable": True,
            "description": "why it differs; absent keeps the one given, empty or null clears it",
        },
    },
    required=("counted_qty",),
)


def _iso(value):
    return None if value is None else value.isoformat()


def line_json(row, *, shows_system: bool) -> dict:
    return {
        "id": row.id,
        "location_id": row.location_id,
        "location_code": row.location_code,
        "material_id": row.material_id,
        "material_code": row.material_code,
        "material_name": row.material_name,
        "unit": row.unit,
        "batch_id": row.batch_id,
        "batch_no": row.batch_no,
        "expiry_date": _iso(row.expiry_date),
        "is_found": row.is_found,
        "system_qty": row.system_qty if shows_system else None,
        "counted_qty": row.counted_qty,
        "variance": row.variance if shows_system else None,
        "reason": row.reason,
        "counted_by": row.counted_by,
        "counted_at": _iso(row.counted_at),
    }


@route(
    "/stocktakes/<int:stocktake_id>",
    summary="A stocktake (盘点单) and its count lines",
    tag="stocktakes",
    response=STOCKTAKE,
)
def stocktake_detail(stocktake_id: int):
    actor = current_actor()
    stocktake = service.get_stocktake(db.session, stocktake_id, actor=actor)
    header = queries.stocktake_header(db.session, stocktake_id)
    locations, categories = queries.scope_labels(db.session, stocktake_id)
    shows_system = service.shows_system_qty(stocktake, actor)
    return jsonify(
        {
            "id": stocktake.id,
            "no": stocktake.no,
            "warehouse_id": stocktake.warehouse_id,
            "warehouse_code": header.warehouse_code,
            "status": stocktake.status,
            "is_blind": stocktake.is_blind,
            "location_codes": locations,
            "categories": categories,
            "note": stocktake.note,
            "created_at": _iso(stocktake.created_at),
            "submitted_at": _iso(stocktake.submitted_at),
            "approved_at": _iso(stocktake.approved_at),
            "reject_reason": stocktake.reject_reason,
            "lines": [
                line_json(row, shows_system=shows_system)
                for row in queries.all_lines(db.session, stocktake_id)
            ],
        }
    )


@route(
    "/stocktakes/<int:stocktake_id>/counts",
    method="POST",
    tag="stocktakes",
    summary="Record a count (盘点录入): replaces the earlier count of that batch there",
    body=COUNT,
    response=STOCKTAKE_LINE,
)
def stocktake_count(stocktake_id: int):
    actor = current_actor()
    service.get_stocktake(db.session, stocktake_id, actor=actor)
    form = form_from_json(CountForm)
    with transaction() as session:
        line = record_count_by_codes(
            session, stocktake_id=stocktake_id, actor=actor, **form.count_data()
        )
    stocktake = service.get_stocktake(db.session, stocktake_id)
    return jsonify(
        line_json(
            queries.line_row(db.session, line.id),
            shows_system=service.shows_system_qty(stocktake, actor),
        )
    )
