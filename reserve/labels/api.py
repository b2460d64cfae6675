"""Labels API: resolve a scanned code (a PDA app's first call), with the same service as the
``/s/<code>`` link and the scan page."""

from __future__ import annotations

from typing import Any

from flask import jsonify

from reserve.api import route, schema
from reserve.labels.codes import grouped
from reserve.labels.edge import resolve_here
from reserve.labels.service import ScanTarget

_ID = {"type": "integer"}
_TEXT = {"type": "string"}
_MAYBE_TEXT = {"type": "string", "nullable": True}


def _object(properties: dict[str, Any]) -> dict[str, Any]:
    return {"type": "object", "nullable": True, "properties": properties}


SCAN_TARGET = schema(
    "ScanTarget",
    {
        "label_id": _ID,
        "code": {"type": "string", "description": "the canonical code (no separators)"},
        "grouped": {"type": "string", "description": "the code as printed, e.g. 7KQ2-M9XD-4T"},
        "kind": {"type": "string", "enum": ["stock", "item", "location"]},
        "url": {"type": "string", "description": "the label's page, /s/<code>"},
        "warehouse": {
            "type": "object",
            "properties": {"id": _ID, "code": _TEXT, "name": _TEXT},
        },
        "location": _object({"id": _ID, "code": _TEXT, "name": _MAYBE_TEXT}),
        "material": _object(
            {
                "id": _ID,
                "code": _TEXT,
                "name": _TEXT,
                "spec": _MAYBE_TEXT,
                "unit": _TEXT,
                "tracking": {"type": "string", "enum": ["batch", "serial"]},
            }
        ),
        "batch": _object(
            {
                "id": _ID,
                "batch_no": _TEXT,
                "expiry_date": {"type": "string", "format": "date", "nullable": True},
                "expiry_state": {"type": "string", "enum": ["expired", "near"], "nullable": True},
            }
        ),
        "item": _object({"id": _ID, "serial_no": _TEXT, "status": _TEXT}),
        "stocktake": _object({"id": _ID, "no": _TEXT}),
        "qty": {
            "type": "integer",
            "nullable": True,
            "description": "on hand of the batch at the location; 1 or 0 for an item",
        },
        "qty_at_label": {"type": "integer", "nullable": True, "description": "printed on it"},
        "labelled_location_code": {
            "type": "string",
            "nullable": True,
            "description": "a stock label whose own location holds none of its batch is "
            "resolved to the one location holding it now (`location`); this is its own",
        },
        "available": {"type": "integer", "nullable": True, "description": "可用, 0 if expired"},
        "actions": {
            "type": "array",
            "items": {"type": "string", "enum": ["view", "move", "count", "pick"]},
            "description": "what the caller may do with it now",
        },
    },
    required=("label_id", "code", "kind", "url", "warehouse", "actions"),
)


def target_json(target: ScanTarget) -> dict[str, Any]:
    """A scan target as the API (and the scan page's script) reads it."""
    return {
        "label_id": target.label_id,
        "code": target.code,
        "grouped": grouped(target.code),
        "kind": target.kind.value,
        "url": target.url,
        "warehouse": {
            "id": target.warehouse_id,
            "code": target.warehouse_code,
            "name": target.warehouse_name,
        },
        "location": {
            "id": target.location_id,
            "code": target.location_code,
            "name": target.location_name,
        }
        if target.location_id is not None
        else None,
        "material": {
            "id": target.material_id,
            "code": target.material_code,
            "name": target.material_name,
            "spec": target.spec,
            "unit": target.unit,
            "tracking": target.tracking,
        }
        if target.material_id is not None
        else None,
        "batch": {
            "id": target.batch_id,
            "batch_no": target.batch_no,
            "expiry_date": target.expiry_date.isoformat() if target.expiry_date else None,
            "expiry_state": target.expiry_state.value if target.expiry_state else None,
        }
        if target.batch_id is not None
        else None,
        "item": {
            "id": target.serial_item_id,
            "serial_no": target.serial_no,
            "status": target.item_status,
        }
        if target.serial_item_id is not None
        else None,
        "stocktake": {"id": target.stocktake_id, "no": target.stocktake_no}
        if target.stocktake_id is not None
        else None,
        "qty": target.qty,
        "qty_at_label": target.qty_at_label,
        "labelled_location_code": target.labelled_location_code,
        "available": target.available,
        "actions": list(target.actions),
    }


@route(
    "/labels/<code>",
    summary="Resolve a scanned label code: what it is and what the caller may do with it",
    tag="labels",
    response=SCAN_TARGET,
    errors=((410, "the label was revoked (lost, damaged) and no longer scans"),),
)
def label_resolve(code: str):
    return jsonify(target_json(resolve_here(code)))
