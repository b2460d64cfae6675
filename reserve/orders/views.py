"""Events and allocation orders (事件, 调拨单) on screen: the list, the order page, the draft form.

The floor's pages (pick, ship, receive, return) are ``floor_views``; this blueprint holds the
office's side of an order; the event pages are ``event_views`` on the same blueprint. Thin: parse
(``forms``), call the service in a transaction, flash, redirect; scope is the services'."""

from __future__ import annotations

from datetime import date

from flask import render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from reserve.auth.permissions import current_actor
from reserve.errors import run_and_redirect, run_form
from reserve.extensions import db
from reserve.forms import checked_query_date
from reserve.orders import (
    event_views,  # noqa: F401  (the event pages, same blueprint)
    queries,
    service,
    suggest,
)
from reserve.orders.blueprint import bp, labels
from reserve.orders.forms import (
    OrderForm,
    edited_sources,
    kept_sources,
    order_data,
    suggested_sources,
)
from reserve.orders.lifecycle import actions_for
from reserve.orders.models import Event, OrderStatus
from reserve.receipts.forms import all_errors
from reserve.receipts.queries import material_choices
from reserve.warehouses.models import Warehouse
from reserve.warehouses.queries import region_choices, warehouse_choices

__all__ = ["bp"]


def _date_arg(name: str) -> date | None:
    value = request.args.get(name, type=date.fromisoformat)
    return checked_query_date(name, value) if value else None


@bp.get("/orders")
def order_list():
    args = request.args
    actor = current_actor()
    sign_off = args.get("sign_off") == "1"
    page = queries.order_list(
        db.session,
        actor=actor,
        event_id=args.get("event", type=int),
        status=args.get("status") or None,
        warehouse_id=args.get("warehouse", type=int),
        date_from=_date_arg("date_from"),
        date_to=_date_arg("date_to"),
        awaiting_sign_off=sign_off,
        after=args.get("after"),
    )
    events = db.session.execute(
        select(Event.id, Event.name).order_by(Event.started_at.desc(), Event.id.desc()).limit(200)
    ).all()
    return render_template(
        "orders/order_list.html",
        page=page,
        args=args,
        sign_off=sign_off,
        labels=labels(),
        statuses=OrderStatus,
        events=events if actor.has_role(*service.OFFICE) else [],
        warehouses=warehouse_choices(db.session, actor),
        can_create="edit" in actions_for(OrderStatus.DRAFT.value, actor.roles),
    )


def _render_form(form: OrderForm, order=None):
    actor = current_actor()
    events = db.session.execute(
        select(Event.id, Event.name)
        .where(Event.ended_at.is_(None))
        .order_by(Event.started_at.desc(), Event.id.desc())
    ).all()
    warehouses = [
        (w.id, f"{w.code} {w.name}")
        for w in db.session.scalars(
            select(Warehouse).where(Warehouse.is_active.is_(True)).order_by(Warehouse.code)
        )
    ]
    form.set_choices(
        events=[(e.id, e.name) for e in events],
        warehouses=warehouses,
        regions=region_choices(db.session),
        materials=material_choices(db.session),
    )
    return render_template(
        "orders/order_form.html",
        form=form,
        order=order,
        actor=actor,
        form_errors=all_errors(form) if form.errors else [],
    )


@bp.route("/orders/new", methods=["GET", "POST"])
def order_create():
    form = OrderForm(event_id=request.args.get("event", type=int))
    if form.validate_on_submit() and (
        done := run_form(
            form.drop_blank_lines(),
            lambda session: service.create_order(
                session, data=form.to_data(), actor=current_actor()
            ),
            success=lambda o: _("Order %(no)s saved as a draft: choose its sources.", no=o.no),
            to=lambda o: url_for("orders.order_detail", order_id=o.id),
        )
    ):
        return done
    return _render_form(form)


@bp.route("/orders/<int:order_id>/edit", methods=["GET", "POST"])
def order_edit(order_id: int):
    actor = current_actor()
    order = service.get_order(db.session, order_id, actor=actor)
    form = OrderForm()
    if request.method == "GET":
        form.fill_from(order)
    keep = kept_sources(order)
    if form.validate_on_submit() and (
        done := run_form(
            form.drop_blank_lines(),
            lambda session: service.update_order(
                session, order_id=order.id, data=form.to_data(keep), actor=actor
            ),
            success=lambda o: _("Order %(no)s saved.", no=o.no),
            to=url_for("orders.order_detail", order_id=order.id),
        )
    ):
        return done
    return _render_form(form, order)


@bp.get("/orders/<int:order_id>")
def order_detail(order_id: int):
    actor = current_actor()
    page = queries.order_page(db.session, order_id=order_id, actor=actor)
    order = page.order
    actions = actions_for(order.status, actor.roles)
    suggestions = []
    if "edit" in actions:
        suggestions = list(
            zip(page.lines, suggest.for_order(db.session, order), strict=True)
        )  # fmt: skip
    return render_template(
        "orders/order_detail.html",
        page=page,
        order=order,
        actions=actions,
        suggestions=suggestions,
        labels=labels(),
    )


def _back(order_id: int) -> str:
    return url_for("orders.order_detail", order_id=order_id)


@bp.post("/orders/<int:order_id>/accept-suggestions")
def order_accept_suggestions(order_id: int):
    """采纳全部建议: every line's sources become its suggested ones, in one write."""
    actor = current_actor()

    def accept(session):
        order = service.get_order(session, order_id, actor=actor)
        sources = suggested_sources(order, suggest.for_order(session, order))
        return service.update_order(
            session, order_id=order.id, data=order_data(order, sources), actor=actor
        )

    return run_and_redirect(
        accept,
        success=lambda o: _("The suggested sources are the order's sources now."),
        to=_back(order_id),
    )


@bp.post("/orders/<int:order_id>/sources")
def order_sources(order_id: int):
    """The sources editor: each source's quantity changed, or 0 to remove it."""
    actor = current_actor()

    def save(session):
        order = service.get_order(session, order_id, actor=actor)
        sources = edited_sources(order, request.form)
        return service.update_order(
            session, order_id=order.id, data=order_data(order, sources), actor=actor
        )

    return run_and_redirect(save, success=_("Sources saved."), to=_back(order_id))


def _act(order_id: int, call, message: str):
    return run_and_redirect(
        lambda session: call(session, order_id=order_id, actor=current_actor()),
        success=lambda o: message % {"no": o.no},
        to=_back(order_id),
    )


@bp.post("/orders/<int:order_id>/submit")
def order_submit(order_id: int):
    return _act(order_id, service.submit_order, _("%(no)s sent for approval."))


@bp.post("/orders/<int:order_id>/approve")
def order_approve(order_id: int):
    return _act(order_id, service.approve_order, _("%(no)s approved: the stock is held for it."))


@bp.post("/orders/<int:order_id>/approve-emergency")
def order_approve_emergency(order_id: int):
    return _act(
        order_id,
        service.approve_emergency,
        _("%(no)s approved as an emergency: ship it now; an approver signs it off afterwards."),
    )


@bp.post("/orders/<int:order_id>/sign-off")
def order_sign_off(order_id: int):
    return _act(order_id, service.sign_off_order, _("%(no)s signed off."))


@bp.post("/orders/<int:order_id>/reject")
def order_reject(order_id: int):
    reason = request.form.get("reason")
    return run_and_redirect(
        lambda session: service.reject_order(
            session, order_id=order_id, reason=reason, actor=current_actor()
        ),
        success=lambda o: _("%(no)s sent back to the dispatcher.", no=o.no),
        to=_back(order_id),
    )


@bp.post("/orders/<int:order_id>/cancel")
def order_cancel(order_id: int):
    reason = request.form.get("reason")
    return run_and_redirect(
        lambda session: service.cancel_order(
            session, order_id=order_id, reason=reason, actor=current_actor()
        ),
        success=lambda o: _("%(no)s cancelled: what it held is released.", no=o.no),
        to=_back(order_id),
    )
