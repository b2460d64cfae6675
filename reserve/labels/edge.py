"""The labels' edge for pages and the API: the app's label key, and a scan resolved for this
request, whose refusal keeps its audit entry (the refused scan changes nothing else)."""

from __future__ import annotations

from flask import current_app
from sqlalchemy import inspect

from reserve.audit.service import record
from reserve.auth.permissions import current_actor
from reserve.db import transaction
from reserve.errors import error_response
from reserve.extensions import db
from reserve.labels.codes import label_key
from reserve.labels.service import ScanTarget, UnreadableCode, resolve


def app_label_key() -> bytes:
    """The MAC key of this app's labels (derived once per app from its SECRET_KEY)."""
    cache = current_app.extensions.setdefault("reserve.labels", {})
    secret = str(current_app.config["SECRET_KEY"])
    if cache.get("secret") != secret:
        cache.update(secret=secret, key=label_key(secret))
    return cache["key"]


def resolve_here(text: str) -> ScanTarget:
    """``resolve`` for this request's actor; a refused code's audit entry is committed before
    the refusal goes on to the error handler (nothing else was written)."""
    try:
        return resolve(db.session, current_actor(), text, key=app_label_key())
    except UnreadableCode:
        db.session.commit()
        raise


def keep_refusal(error: UnreadableCode):
    """The app's handler of a refused code (every page and API route): a bad MAC is on the
    audit log whatever happened to the transaction it was added in.

    The edges commit it in a transaction of its own before refusing, but a wrapper may roll
    that back: an API write sent with an ``Idempotency-Key`` runs the whole request in one
    transaction (``reserve.api.idempotency``), and a refusal rolls all of it back, the entry
    with it. Here, after every wrapper is done, whatever the failed request left uncommitted
    is rolled back (it changes nothing), and the entry, if it did not survive — the rollback
    made it transient —, is written again in a transaction of its own. Not a second session:
    on SQLite it would wait on the write lock the request's transaction held."""
    entry = error.audit_entry
    if entry is not None:
        db.session.rollback()
        if not inspect(entry).persistent:
            with transaction() as session:
                error.audit_entry = record(session, **error.audit_fields)
    return error_response(error)
