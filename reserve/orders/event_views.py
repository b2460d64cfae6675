"""The event pages (事件) on the orders blueprint: the list, new, edit, end, and the event page
with its orders and what was sent, received and returned per material."""

from __future__ import annotations

from flask import render_template, request, url_for
from flask_babel import gettext as _

from reserve.auth.permissions import current_actor
from reserve.db import SHANGHAI, utcnow
from reserve.errors import run_and_redirect, run_form
from reserve.extensions import db
from reserve.orders import queries, service
from reserve.orders.blueprint import bp, labels
from reserve.orders.forms import EventForm
from reserve.orders.models import EventKind
from reserve.warehouses.queries import region_choices


def _may_write() -> bool:
    return current_actor().has_role(*service.EVENT_WRITERS)


@bp.get("/events")
def event_list():
    args = request.args
    page = queries.event_list(
        db.session,
        actor=current_actor(),
        open_only=args.get("open") == "1",
        kind=args.get("kind") or None,
        after=args.get("after"),
    )
    return render_template(
        "orders/event_list.html",
        page=page,
        args=args,
        kinds=EventKind,
        kind_labels={k.value: k.label for k in EventKind},
        can_create=_may_write(),
    )


def _render_form(form: EventForm, event=None):
    form.set_choices(region_choices(db.session))
    return render_template("orders/event_form.html", form=form, event=event)


@bp.route("/events/new", methods=["GET", "POST"])
def event_create():
    form = EventForm()
    if request.method == "GET":
        form.started_at.data = utcnow().astimezone(SHANGHAI).replace(tzinfo=None, second=0)
    if form.validate_on_submit() and (
        done := run_form(
            form,
            lambda session: service.create_event(
                session, data=form.to_data(), actor=current_actor()
            ),
            success=lambda e: _("Event %(name)s opened.", name=e.name),
            to=lambda e: url_for("orders.event_detail", event_id=e.id),
        )
    ):
        return done
    return _render_form(form)


@bp.route("/events/<int:event_id>/edit", methods=["GET", "POST"])
def event_edit(event_id: int):
    event = service.get_event(db.session, event_id, actor=current_actor())
    form = EventForm(obj=event)
    if request.method == "GET":
        form.started_at.data = event.started_at.astimezone(SHANGHAI).replace(tzinfo=None)
    if form.validate_on_submit() and (
        done := run_form(
            form,
            lambda session: service.update_event(
                session, event_id=event.id, data=form.to_data(), actor=current_actor()
            ),
            success=lambda e: _("Event %(name)s saved.", name=e.name),
            to=url_for("orders.event_detail", event_id=event.id),
        )
    ):
        return done
    return _render_form(form, event)


@bp.post("/events/<int:event_id>/end")
def event_end(event_id: int):
    return run_and_redirect(
        lambda session: service.end_event(session, event_id=event_id, actor=current_actor()),
        success=lambda e: _("Event %(name)s ended.", name=e.name),
        to=url_for("orders.event_detail", event_id=event_id),
    )


@bp.get("/events/<int:event_id>")
def event_detail(event_id: int):
    page = queries.event_page(
        db.session, event_id=event_id, actor=current_actor(), after=request.args.get("after")
    )
    return render_template(
        "orders/event_detail.html",
        page=page,
        event=page.event,
        labels=labels(),
        can_write=_may_write(),
    )
