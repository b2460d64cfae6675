"""Events and allocation orders (事件, 调拨单) on screen: the list, the order page, the draft form.

The floor's pages (pick, ship, receive, return) are ``floor_views``; this blueprint holds the
office's side of an order."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("orders", __name__)
