"""The orders blueprint (``orders``), shared by the order pages (``views``) and the event pages
(``event_views``), and the labels both show."""

from __future__ import annotations

from flask import Blueprint

from reserve.orders.models import OrderKind, OrderPriority, OrderStatus

bp = Blueprint("orders", __name__)


def labels() -> dict:
    return {
        "status": {s.value: s.label for s in OrderStatus},
        "kind": {k.value: k.label for k in OrderKind},
        "priority": {p.value: p.label for p in OrderPriority},
    }
