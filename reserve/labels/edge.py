"""The labels' edge for pages and the API: the app's label key, and a scan resolved for this
request, whose refusal keeps its audit entry (the refused scan changes nothing else)."""

from __future__ import annotations

from flask import current_app

from reserve.auth.permissions import current_actor
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
