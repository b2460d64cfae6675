"""The scan page (扫码), for a phone held in one hand and for warehouse PDAs: a scanned code
(camera, keyboard-wedge scanner, or typed) is resolved to what it names and what this user may
do with it now; moves and counts go to the same services as the API
(``reserve.labels.operations``), sent at once or queued offline by ``static/js/scan*.js``.

The JSON twins here are the page's own (session and CSRF token, like the count sheet's Save):
the API's routes (``scan_api.py``) take bearer tokens."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, render_template, request
from flask_babel import gettext as _

from reserve.auth.permissions import current_actor
from reserve.db import transaction
from reserve.errors import ValidationError
from reserve.extensions import db
from reserve.labels.api import target_json
from reserve.labels.edge import app_label_key
from reserve.labels.operations import (
    check_scan_text,
    counted_line,
    refused_code,
    scan_count,
    scan_move,
    scan_target,
)
from reserve.labels.scan_forms import ScanCountForm, ScanMoveForm
from reserve.orders.floor_queries import has_open_picks

bp = Blueprint("scan", __name__)

# The camera's QR decoder, where the browser has no BarcodeDetector, is ZXing compiled to
# WebAssembly (static/vendor/zxing-wasm-*): compiling it needs 'wasm-unsafe-eval' — on this page
# only, and no 'unsafe-eval' anywhere.
SCAN_CSP = (
    "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; "
    "img-src 'self' data:; font-src 'self'; connect-src 'self'; media-src 'self' blob:; "
    "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)


def refuse_bad_codes(code: object, to: object = None) -> None:
    """Refuse a scanned text that is not our label before the operation runs, in a transaction
    of its own, so that a bad MAC's audit entry is kept (nothing else is written)."""
    if not isinstance(code, str):
        return
    with transaction() as session:
        refused = refused_code(
            session,
            current_actor(),
            code=code,
            to=to if isinstance(to, str) else None,
            key=app_label_key(),
        )
    if refused is not None:
        raise refused


@bp.get("/scan")
def scan_page():
    actor = current_actor()
    response = current_app.make_response(
        render_template("labels/scan.html", may_write=actor.may_write_somewhere())
    )
    response.headers["Content-Security-Policy"] = SCAN_CSP
    return response


@bp.get("/scan/resolve.json")
def scan_resolve():
    """What a scanned code names and what this user may do with it now, with what is counted
    of it so far in the open stocktake (a refusal is answered in JSON by the error handler)."""
    text = check_scan_text(request.args.get("code", ""))
    refuse_bad_codes(text)
    target = scan_target(db.session, current_actor(), text, key=app_label_key())
    body = target_json(target)
    if "move" in target.actions and has_open_picks(
        db.session,
        actor=current_actor(),
        material_id=target.material_id,
        warehouse_id=target.warehouse_id,
    ):  # stock an open allocation order plans to take from here: "pick for order"
        body["actions"].append("pick")
    if target.stocktake_id is not None:
        line = counted_line(db.session, target.stocktake_id, target)
        body["stocktake"]["counted_qty"] = line.counted_qty if line is not None else None
    return jsonify(body)


@bp.post("/scan/moves.json")
def scan_move_json():
    form = ScanMoveForm()
    _validate(form)
    refuse_bad_codes(form.code.data, form.to.data)
    with transaction() as session:
        applied = scan_move(session, actor=current_actor(), key=app_label_key(), **form.move_data())
    return jsonify(applied.to_dict())


@bp.post("/scan/counts.json")
def scan_count_json():
    form = ScanCountForm()
    _validate(form)
    refuse_bad_codes(form.code.data)
    with transaction() as session:
        applied = scan_count(
            session, actor=current_actor(), key=app_label_key(), **form.count_data()
        )
    return jsonify(applied.to_dict())


def _validate(form) -> None:
    if not form.validate_on_submit():
        name, messages = next(iter(form.errors.items()))
        if name == "csrf_token":
            raise ValidationError(_("The page has expired. Reload it; the queue is kept."))
        raise ValidationError(f"{getattr(form, name).label.text}: {messages[0]}", field=name)
