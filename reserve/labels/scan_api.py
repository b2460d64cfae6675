"""Scan operations API (扫码操作): a PDA app moves and counts scanned stock through the same
services as the scan page (``reserve.labels.operations``), each operation under its client
operation id (applied at most once; a replay gets the first answer, ``replayed`` true), and,
like every API write, honouring an ``Idempotency-Key`` header too."""

from flask import jsonify

from reserve.api import form_from_json, route, schema
from reserve.auth.permissions import current_actor
from reserve.db import transaction
from reserve.labels.edge import app_label_key
from reserve.labels.operations import scan_count, scan_move
from reserve.labels.scan import refuse_bad_codes
from reserve.labels.scan_forms import ScanCountForm, ScanMoveForm

_OPERATION_ID = {
    "type": "string",
    "pattern": "^[A-Za-z0-9_-]{8,64}$",
    "description": "the client's own id of this operation (a UUID made when it was queued): "
    "the server applies each id at most once, and a resend gets the first answer",
}
_CODE = {
    "type": "string",
    "maxLength": 300,
    "description": "what was scanned: the label's URL, or its code as printed (any case, "
    "hyphens and spaces allowed)",
}

SCAN_MOVE = schema(
    "ScanMove",
    {
        "operation_id": _OPERATION_ID,
        "code": {**_CODE, "description": "the stock (batch at a location) or serial item label"},
        "to": {
            "type": "string",
            "maxLength": 300,
            "description": "the target location: its label, or its code (A-01-02)",
        },
        "qty": {"type": "integer", "minimum": 1, "description": "1 for a serial item"},
        "seen_at": {
            "type": "string",
            "maxLength": 40,
            "description": "the location code the stock was at when scanned: if it is elsewhere "
            "when the move arrives (it moved meanwhile), the move is a 409; absent: no check",
        },
    },
    required=("operation_id", "code", "to", "qty"),
)
SCAN_COUNT = schema(
    "ScanCount",
    {
        "operation_id": _OPERATION_ID,
        "code": {**_CODE, "description": "the stock or serial item label"},
        "counted_qty": {"type": "integer", "minimum": 0, "description": "1 or 0 for an item"},
        "stocktake_id": {
            "type": "integer",
            "description": "the stocktake the keeper counted in (default: the open one covering "
            "the stock); a stocktake no longer counting is a 409",
        },
        "replaces": {
            "type": "string",
            "description": "the counted quantity the keeper saw, or `none` (not counted): a "
            "count recorded since is a 409 instead of being overwritten; absent: the last "
            "count wins",
        },
    },
    required=("operation_id", "code", "counted_qty"),
)
SCAN_RESULT = schema(
    "ScanOperationResult",
    {
        "operation_id": {"type": "string"},
        "kind": {"type": "string", "enum": ["move", "count"]},
        "replayed": {
            "type": "boolean",
            "description": "true: this id was applied before; this is its first answer",
        },
        "message": {
            "type": "string",
            "description": "what was done, in the first caller's language",
        },
        "move": {"type": "object", "description": "kind move: no, qty, from/to location codes …"},
        "count": {"type": "object", "description": "kind count: stocktake, line, counted_qty …"},
    },
)


@route(
    "/scan/moves",
    method="POST",
    tag="scan",
    summary="Move scanned stock to a location (移库, 扫码): once per operation id",
    body=SCAN_MOVE,
    response=SCAN_RESULT,
)
def scan_move_api():
    form = form_from_json(ScanMoveForm)
    refuse_bad_codes(form.code.data, form.to.data)
    with transaction() as session:
        applied = scan_move(session, actor=current_actor(), key=app_label_key(), **form.move_data())
    return jsonify(applied.to_dict())


@route(
    "/scan/counts",
    method="POST",
    tag="scan",
    summary="Count scanned stock in the open stocktake (盘点录入, 扫码): once per operation id",
    body=SCAN_COUNT,
    response=SCAN_RESULT,
)
def scan_count_api():
    form = form_from_json(ScanCountForm)
    refuse_bad_codes(form.code.data)
    with transaction() as session:
        applied = scan_count(
            session, actor=current_actor(), key=app_label_key(), **form.count_data()
        )
    return jsonify(applied.to_dict())
