"""The landing page of work (待办), the health check and the language switch."""

from dataclasses import dataclass
from urllib.parse import urlsplit

from flask import Blueprint, current_app, jsonify, redirect, render_template, request, session
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import text

from reserve.agreements.callup_queries import call_up_work
from reserve.auth.permissions import PERMISSIONS, allows, current_actor
from reserve.auth.redirects import safe_next
from reserve.extensions import db
from reserve.main import queries
from reserve.main.queries import document_counts, expiry_attention, home_summary

bp = Blueprint("main", __name__)


@dataclass(frozen=True)
class WorkLine:
    """A line of the landing page: what, how many, and the filtered list it links to."""

    id: str
    label: str
    count: int
    endpoint: str
    args: dict
    qty_by_unit: dict | None = None


def _lines(roles, specs) -> list[WorkLine]:
    """The lines whose list the reader may open (the permission table decides)."""
    return [WorkLine(*spec) for spec in specs if allows(PERMISSIONS.get(spec[3]), roles)]


def _waiting(counts: queries.DocumentCounts, roles) -> list[WorkLine]:
    lines = _lines(
        roles,
        [
            ("receipt-drafts", _l("Receipt drafts to post"), counts.receipt_drafts,
             "receipts.receipt_list", {"status": "draft"}),
            ("rotation-drafts", _l("Rotation drafts to post"), counts.rotation_drafts,
             "disposals.rotation_list", {"status": "draft"}),
            ("scraps-to-post", _l("Approved scraps to post"), counts.scraps_to_post,
             "disposals.scrap_list", {"status": "approved"}),
            ("stocktakes-to-count", _l("Stocktakes to count"), counts.stocktakes_counting,
             "stocktakes.stocktake_list", {"status": "counting"}),
            ("scraps-to-approve", _l("Scrap requests to approve"), counts.scraps_to_approve,
             "disposals.scrap_list", {"status": "requested"}),
            ("stocktakes-to-approve", _l("Stocktakes to approve"), counts.stocktakes_to_approve,
             "stocktakes.stocktake_list", {"status": "submitted"}),
        ],
    )  # fmt: skip
    return [line for line in lines if line.count]


def _call_up_work(work, roles) -> list[WorkLine]:
    """调用单: awaiting the enterprise's confirmation, and replenishment overdue (an enterprise
    user counts its own, the office every enterprise's)."""
    lines = _lines(
        roles,
        [
            ("call-ups-awaiting", _l("Call-ups awaiting the enterprise"), work.awaiting,
             "callups.call_up_list", {"status": "requested"}),
            ("call-ups-overdue", _l("Replenishment overdue"), work.overdue,
             "callups.call_up_list", {"overdue": "1"}),
        ],
    )  # fmt: skip
    return [line for line in lines if line.count]


def _attention(counts, attention: queries.Attention, roles) -> list[WorkLine]:
    expired, near = attention.expired, attention.near
    return _lines(
        roles,
        [
            ("expired", _l("Expired stock"), expired.batches,
             "disposals.rotation_candidates", {"state": "expired"}, expired.qty_by_unit),
            ("near-expiry", _l("Near-expiry stock"), near.batches,
             "disposals.rotation_candidates", {"state": "near"}, near.qty_by_unit),
            ("stocktakes-counting", _l("Stocktakes being counted"),
             counts.stocktakes_open_counting, "stocktakes.stocktake_list", {"status": "counting"}),
            ("stocktakes-submitted", _l("Stocktakes awaiting approval"),
             counts.stocktakes_open_submitted, "stocktakes.stocktake_list",
             {"status": "submitted"}),
        ],
    )  # fmt: skip


def _counters(summary: queries.HomeSummary, roles) -> list[WorkLine]:
    return _lines(
        roles,
        [
            ("warehouses", _l("Warehouses"), summary.warehouses, "warehouses.warehouse_list", {}),
            ("locations", _l("Locations"), summary.locations, "warehouses.warehouse_list", {}),
            ("materials", _l("Materials in the catalogue"), summary.materials,
             "catalog.material_list", {}),
            ("enterprises", _l("Custodian enterprises"), summary.enterprises,
             "agreements.enterprise_list", {}),
        ],
    )  # fmt: skip


@bp.get("/")
def index():
    actor = current_actor()
    roles = actor.roles
    counts = document_counts(db.session, actor)
    summary = home_summary(db.session, actor)
    sees_stock = allows(PERMISSIONS["disposals.rotation_candidates"], roles)
    attention = expiry_attention(db.session, actor) if sees_stock else None
    waiting = _waiting(counts, roles)
    if allows(PERMISSIONS["callups.call_up_list"], roles):
        waiting += _call_up_work(call_up_work(db.session, actor), roles)
    return render_template(
        "main/index.html",
        user=current_user,
        enterprise=current_user.enterprise if actor.enterprise_id else None,
        waiting=waiting,
        attention=_attention(counts, attention, roles) if attention else [],
        counters=_counters(summary, roles),
        summary=summary,
        can_order=allows(PERMISSIONS["orders.order_create"], roles),
        can_approve_orders=allows(PERMISSIONS["orders.order_approve"], roles),
    )


@bp.get("/healthz")
def healthz():
    try:
        db.session.execute(text("SELECT 1"))
    except Exception:  # the load balancer needs an answer, not a traceback
        current_app.logger.exception("health check: database unreachable")
        return jsonify(status="error", database="unreachable"), 503
    return jsonify(status="ok", database="ok")


@bp.get("/lang/<code>")
def set_language(code: str):
    if code in current_app.config["LANGUAGES"]:
        session["lang"] = code
    return redirect(
        safe_next(request.args.get("next") or request.referrer and urlsplit(request.referrer).path)
    )
