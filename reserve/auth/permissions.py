"""The permission table: which role may reach which endpoint, for pages and the API alike.

Checked before every request. An endpoint missing from the table is refused (and a test walks
every registered endpoint as every role against this table, so a new route cannot slip by).
Scope (which warehouses a keeper keeps, which enterprise a user belongs to) is checked by the
services and queries, on top of this."""

from __future__ import annotations

from flask import current_app, g, redirect, request, url_for
from flask_login import current_user

from reserve.auth.actor import Actor
from reserve.auth.models import Role
from reserve.auth.service import user_for_api_token
from reserve.db import transaction
from reserve.errors import Forbidden, Unauthorized
from reserve.extensions import db, limiter

PUBLIC = "public"  # no sign-in needed
SIGNED_IN = "signed_in"  # any signed-in user, whatever the role

ADMIN = frozenset({Role.ADMIN})
STAFF = frozenset({Role.ADMIN, Role.DISPATCHER, Role.APPROVER, Role.KEEPER, Role.VIEWER})
EVERY_ROLE = frozenset(Role)
OFFICE = frozenset({Role.ADMIN, Role.DISPATCHER, Role.APPROVER, Role.VIEWER})
KEEPERS = frozenset({Role.ADMIN, Role.KEEPER})  # write stock documents (scope checked too)
APPROVERS = frozenset({Role.ADMIN, Role.APPROVER})
PORTAL = OFFICE | {Role.ENTERPRISE}  # the office, and an enterprise user for its own
AGREEMENT_WRITERS = frozenset({Role.ADMIN, Role.DISPATCHER})  # draft and manage agreements
# 库存申报: filed by the enterprise for itself, or typed in from paper by the bureau's writers
REPORT_FILERS = AGREEMENT_WRITERS | {Role.ENTERPRISE}

# confirm a call-up's shipment and report its replenishment: the enterprise (its own, scope
# checked by the service), or the bureau on its word
CALL_UP_CONFIRMERS = frozenset({Role.ENTERPRISE, Role.ADMIN, Role.DISPATCHER})
# 调拨单 (reserve.orders.lifecycle): the dispatcher drafts, submits, closes; the approver
# approves or rejects; keepers pick, ship and (for a transfer) receive, in their warehouses;
# a site's signed paper is recorded by the dispatcher
ORDER_WRITERS = frozenset({Role.ADMIN, Role.DISPATCHER})
ORDER_RECEIVERS = KEEPERS | {Role.DISPATCHER}
ORDER_CANCELLERS = ORDER_WRITERS | {Role.APPROVER}

PERMISSIONS: dict[str, str | frozenset[Role]] = {
    "static": PUBLIC,
    "main.healthz": PUBLIC,
    "main.set_language": PUBLIC,
    "main.index": SIGNED_IN,
    "auth.login": PUBLIC,
    "auth.logout": SIGNED_IN,
    "auth.password_change": SIGNED_IN,
    "auth.sign_out_everywhere": SIGNED_IN,
    "auth.token_list": SIGNED_IN,
    "auth.token_create": SIGNED_IN,
    "auth.token_revoke": SIGNED_IN,
    "auth.user_list": ADMIN,
    "auth.user_create": ADMIN,
    "auth.user_edit": ADMIN,
    "auth.user_password_reset": ADMIN,
    "auth.user_toggle": ADMIN,
    "auth.user_unlock": ADMIN,
    "audit.entry_list": ADMIN,
    "warehouses.region_list": STAFF,
    "warehouses.region_create": ADMIN,
    "warehouses.region_edit": ADMIN,
    "warehouses.warehouse_list": STAFF,
    "warehouses.warehouse_detail": STAFF,
    "warehouses.warehouse_create": ADMIN,
    "warehouses.warehouse_edit": ADMIN,
    "warehouses.location_create": ADMIN,
    "warehouses.location_edit": ADMIN,
    "catalog.category_list": EVERY_ROLE,
    "catalog.category_create": ADMIN,
    "catalog.category_edit": ADMIN,
    "catalog.material_list": EVERY_ROLE,
    "catalog.material_detail": EVERY_ROLE,
    "catalog.material_create": ADMIN,
    "catalog.material_edit": ADMIN,
    # --- agreements: enterprises (代储企业) and agreements (代储协议); an enterprise user reads
    # its own (scope checked by the services and queries) ---
    "agreements.enterprise_list": OFFICE,
    "agreements.enterprise_create": ADMIN,
    "agreements.enterprise_detail": PORTAL,
    "agreements.enterprise_edit": ADMIN,
    "agreements.agreement_list": PORTAL,
    "agreements.agreement_create": AGREEMENT_WRITERS,
    "agreements.agreement_detail": PORTAL,
    "agreements.agreement_edit": AGREEMENT_WRITERS,
    "agreements.agreement_activate": AGREEMENT_WRITERS,
    "agreements.agreement_terminate": AGREEMENT_WRITERS,
    "agreements.agreement_renew": AGREEMENT_WRITERS,
    "agreements.attachment_upload": AGREEMENT_WRITERS,
    "agreements.attachment_download": PORTAL,
    "agreements.attachment_delete": AGREEMENT_WRITERS,
    # --- availability (可调用资源一览): the bureau's, never an enterprise's ---
    "availability.availability_list": OFFICE,
    "availability.material_detail": OFFICE,
    "api.availability_list": OFFICE,
    "api.availability_material": OFFICE,
    # --- stock reports (库存申报) and verifications (核查): the office reads all, an
    # enterprise user its own; the bureau requests, plans and records; the enterprise files
    "reports.report_list": PORTAL,
    "reports.report_detail": PORTAL,
    "reports.report_create": REPORT_FILERS,
    "reports.report_edit": REPORT_FILERS,
    "reports.report_submit": REPORT_FILERS,
    "reports.report_request": AGREEMENT_WRITERS,
    "reports.verification_list": PORTAL,
    "reports.verification_detail": PORTAL,
    "reports.verification_create": AGREEMENT_WRITERS,
    "reports.verification_record": AGREEMENT_WRITERS,
    "reports.verification_cancel": AGREEMENT_WRITERS,
    "reports.photo_upload": AGREEMENT_WRITERS,
    "reports.photo_download": PORTAL,
    "api.stock_report_list": PORTAL,
    "api.stock_report_detail": PORTAL,
    "api.stock_report_file": REPORT_FILERS,
    "api.stock_report_request": AGREEMENT_WRITERS,
    "api.verification_list": PORTAL,
    "api.verification_detail": PORTAL,
    "api.verification_plan": AGREEMENT_WRITERS,
    "api.verification_record": AGREEMENT_WRITERS,
    "api.verification_attachment_list": PORTAL,
    "api.verification_attachment_upload": AGREEMENT_WRITERS,
    "api.verification_attachment_download": PORTAL,
    "api.enterprise_list": PORTAL,
    "api.enterprise_detail": PORTAL,
    "api.enterprise_create": ADMIN,
    "api.enterprise_update": ADMIN,
    "api.agreement_list": PORTAL,
    "api.agreement_detail": PORTAL,
    "api.agreement_create": AGREEMENT_WRITERS,
    "api.agreement_update": AGREEMENT_WRITERS,
    "api.agreement_activate": AGREEMENT_WRITERS,
    "api.agreement_terminate": AGREEMENT_WRITERS,
    "api.agreement_renew": AGREEMENT_WRITERS,
    "api.agreement_attachment_list": PORTAL,
    "api.agreement_attachment_upload": AGREEMENT_WRITERS,
    "api.agreement_attachment_download": PORTAL,
    # --- call-ups (调用单) and replenishment (补储) ---
    "callups.call_up_create": AGREEMENT_WRITERS,
    "callups.call_up_list": PORTAL,
    "callups.call_up_detail": PORTAL,
    "callups.call_up_pdf": PORTAL,
    "callups.call_up_ship": CALL_UP_CONFIRMERS,
    "callups.call_up_replenish": CALL_UP_CONFIRMERS,
    "callups.call_up_cancel": AGREEMENT_WRITERS,
    "api.call_up_list": PORTAL,
    "api.call_up_detail": PORTAL,
    "api.call_up_create": AGREEMENT_WRITERS,
    "api.call_up_ship": CALL_UP_CONFIRMERS,
    "api.call_up_replenish": CALL_UP_CONFIRMERS,
    "api.call_up_cancel": AGREEMENT_WRITERS,
    # --- stock (the lead): stock views, stock card, moves ---
    "stock.stock_list": STAFF,
    "stock.material_stock": STAFF,
    "stock.stock_pivot": STAFF,
    "stock.stock_list_export": STAFF,
    "stock.stock_card": STAFF,
    "stock.stock_card_export": STAFF,
    "stock.move_create": KEEPERS,
    "stock.move_list": STAFF,
    "stock.move_detail": STAFF,
    "api.stock_list": STAFF,
    "api.material_stock": STAFF,
    "api.stock_card": STAFF,
    # --- receipts (入库单) ---
    "receipts.receipt_list": STAFF,
    "receipts.receipt_create": KEEPERS,
    "receipts.receipt_detail": STAFF,
    "receipts.receipt_edit": KEEPERS,
    "receipts.receipt_post": KEEPERS,
    "receipts.receipt_cancel": KEEPERS,
    "receipts.receipt_pdf": STAFF,
    "receipts.attachment_upload": KEEPERS,
    "receipts.attachment_download": STAFF,
    "receipts.attachment_delete": KEEPERS,
    "api.receipt_list": STAFF,
    "api.receipt_detail": STAFF,
    "api.receipt_create": KEEPERS,
    "api.receipt_post": KEEPERS,
    "api.receipt_attachment_list": STAFF,
    "api.receipt_attachment_upload": KEEPERS,
    "api.receipt_attachment_download": STAFF,
    # --- stocktakes (盘点) ---
    "stocktakes.stocktake_list": STAFF,
    "stocktakes.stocktake_create": KEEPERS,
    "stocktakes.stocktake_detail": STAFF,
    "stocktakes.stocktake_count": KEEPERS,
    "stocktakes.stocktake_count_json": KEEPERS,
    "stocktakes.stocktake_sheet": STAFF,
    "stocktakes.stocktake_submit": KEEPERS,
    "stocktakes.stocktake_approve": APPROVERS,
    "stocktakes.stocktake_reject": APPROVERS,
    "stocktakes.stocktake_cancel": KEEPERS,
    "api.stocktake_detail": STAFF,
    "api.stocktake_count": KEEPERS,
    # --- disposals: rotation (轮换) and scrap (报废) ---
    "disposals.rotation_candidates": STAFF,
    "disposals.rotation_list": STAFF,
    "disposals.rotation_create": KEEPERS,
    "disposals.rotation_detail": STAFF,
    "disposals.rotation_post": KEEPERS,
    "disposals.rotation_link": KEEPERS,
    "disposals.scrap_list": STAFF,
    "disposals.scrap_create": KEEPERS,
    "disposals.scrap_detail": STAFF,
    "disposals.scrap_approve": APPROVERS,
    "disposals.scrap_reject": APPROVERS,
    "disposals.scrap_post": KEEPERS,
    # --- the scan page (扫码) and its operations ---
    "scan.scan_page": STAFF,
    "scan.scan_resolve": STAFF,
    "scan.scan_move_json": KEEPERS,
    "scan.scan_count_json": KEEPERS,
    "api.scan_move_api": KEEPERS,
    "api.scan_count_api": KEEPERS,
    # --- labels (标签) ---
    "labels.label_open": STAFF,
    "labels.label_open_upper": STAFF,
    "api.label_resolve": STAFF,
    "labels.receipt_labels": KEEPERS,
    "labels.label_list": STAFF,
    "labels.label_print": KEEPERS,
    "labels.label_reprint": KEEPERS,
    "labels.label_revoke": KEEPERS,
    "labels.print_sheet": KEEPERS,
    # --- the API's own ---
    "api.openapi": PUBLIC,
    "api.me": EVERY_ROLE,
    "api.region_list": STAFF,
    "api.warehouse_list": STAFF,
    "api.warehouse_detail": STAFF,
    "api.location_list": STAFF,
    "api.category_list": EVERY_ROLE,
    "api.material_list": EVERY_ROLE,
    "api.material_detail": EVERY_ROLE,
    "api.material_create": ADMIN,
    "api.material_update": ADMIN,
    # the material picker's search (every role that chooses materials on a form)
    "catalog.material_pick": STAFF,
    # --- allocation orders, the floor (ordfloor): pick, ship, receive, return, close ---
    "orders.order_list": STAFF,
    "orders.order_detail": STAFF,
    "orders.order_create": ORDER_WRITERS,
    "orders.order_edit": ORDER_WRITERS,
    "orders.order_accept_suggestions": ORDER_WRITERS,
    "orders.order_sources": ORDER_WRITERS,
    "orders.order_submit": ORDER_WRITERS,
    "orders.order_approve": APPROVERS,
    "orders.order_approve_emergency": ORDER_WRITERS,
    "orders.order_sign_off": APPROVERS,
    "orders.order_reject": APPROVERS,
    "orders.order_cancel": ORDER_CANCELLERS,
    "orders.event_list": OFFICE,
    "orders.event_detail": OFFICE,
    "orders.event_create": ORDER_WRITERS,
    "orders.event_edit": ORDER_WRITERS,
    "orders.event_end": ORDER_WRITERS,
    "orders_floor.floor_page": STAFF,
    "orders_floor.pick_sheet": STAFF,
    "orders_floor.pick_sheet_pdf": STAFF,
    "orders_floor.pick_create": KEEPERS,
    "orders_floor.ship": KEEPERS,
    "orders_floor.delivery_note": STAFF,
    "orders_floor.delivery_note_pdf_view": STAFF,
    "orders_floor.receive": STAFF,
    "orders_floor.return_form": KEEPERS,
    "orders_floor.close": AGREEMENT_WRITERS,
    "orders_floor.pick_list": KEEPERS,
    "orders_floor.scan_picks": KEEPERS,
    "orders_floor.scan_pick_json": KEEPERS,
    "api.order_floor": STAFF,
    "api.order_pick_list": STAFF,
    "api.order_pick": KEEPERS,
    "api.order_ship": KEEPERS,
    "api.order_receive": KEEPERS | {Role.DISPATCHER},
    "api.order_return": KEEPERS,
    "api.order_close": AGREEMENT_WRITERS,
    "api.my_pick_lists": KEEPERS,
    # --- reserve standards (储备标准) and the shortfall (储备缺口): the admin edits, staff read
    # (a keeper the standards of the warehouses they keep, scope checked by the queries)
    "standards.standard_list": STAFF,
    "standards.standard_create": ADMIN,
    "standards.standard_edit": ADMIN,
    "standards.standard_delete": ADMIN,
    "standards.standard_export": STAFF,
    "standards.standard_import": ADMIN,
    "standards.shortfall_report": STAFF,
    "standards.shortfall_export": STAFF,
    # --- allocation orders, the API (ordapi): events, orders, their lifecycle, suggestions ---
    "api.event_list": OFFICE,
    "api.event_detail": OFFICE,
    "api.event_create": ORDER_WRITERS,
    "api.event_update": ORDER_WRITERS,
    "api.event_end": ORDER_WRITERS,
    "api.order_list": STAFF,
    "api.order_detail": STAFF,
    "api.order_create": ORDER_WRITERS,
    "api.order_update": ORDER_WRITERS,
    "api.order_accept_suggestions": ORDER_WRITERS,
    "api.order_submit": ORDER_WRITERS,
    "api.order_approve": APPROVERS,
    "api.order_reject": APPROVERS,
    "api.order_approve_emergency": ORDER_WRITERS,
    "api.order_sign_off": APPROVERS,
    "api.order_cancel": ORDER_CANCELLERS,
    "api.order_suggestions": STAFF,
    "api.reserve_shortfall": STAFF,
}

# Reachable by a signed-in user who must first change the password the admin gave them.
_BEFORE_PASSWORD_CHANGE = {
    "auth.password_change",
    "auth.logout",
    "auth.sign_out_everywhere",
    "main.set_language",
    "static",
}


def rule_for(endpoint: str) -> str | frozenset[Role] | None:
    return PERMISSIONS.get(endpoint)


def allows(rule: str | frozenset[Role] | None, roles: frozenset[Role] | set[Role]) -> bool:
    if rule is None:
        return False
    if rule in (PUBLIC, SIGNED_IN):
        return True
    return bool(rule & set(roles))


def enforce_permissions():
    """``before_request``: authenticate (session for pages, bearer token for the API), then
    check the role against the table."""
    endpoint = request.endpoint
    if endpoint is None:  # no route matched: let the 404 handler answer
        return None
    rule = rule_for(endpoint)
    if rule is None:
        current_app.logger.error("No permission rule for endpoint %s; refused", endpoint)
        raise Forbidden()
    if endpoint.startswith("api."):
        g.api_user = None
        header = request.headers.get("Authorization", "")
        if header.startswith("Bearer "):
            # a read (one statement); the write of "last used" only when it is due (every five
            # minutes a token), in a transaction of its own: a commit on every request would
            # take SQLite's write lock each time and make the user's scope load again
            secret = header[7:].strip()
            session = db.session
            g.api_user = user_for_api_token(session, secret)
            if session.dirty:
                session.rollback()
                with transaction() as session:
                    g.api_user = user_for_api_token(session, secret)
            if g.api_user is None:
                _count_bad_token()
        if rule == PUBLIC:
            return None
        if g.api_user is None:
            raise Unauthorized()
        if not allows(rule, g.api_user.roles):
            raise Forbidden()
        return None
    if rule == PUBLIC:
        return None
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
    if current_user.must_change_password and endpoint not in _BEFORE_PASSWORD_CHANGE:
        return redirect(url_for("auth.password_change"))
    if not allows(rule, current_user.roles):
        raise Forbidden()
    return None


def _count_bad_token() -> None:
    """Rate-limit wrong bearer tokens per client address (RATELIMIT_API_BAD_TOKEN): 429."""
    from limits import parse
    from werkzeug.exceptions import TooManyRequests

    limit = parse(current_app.config["RATELIMIT_API_BAD_TOKEN"])
    if not limiter.limiter.hit(limit, "api-bad-token", request.remote_addr or "-"):
        raise TooManyRequests()


def current_actor() -> Actor:
    """The actor for this request: the API token's user, or the signed-in user."""
    user = g.get("api_user") or current_user
    return Actor.for_user(user, ip=request.remote_addr)
