"""The floor's pages (blueprint ``orders_floor``): an order's floor panel, a warehouse's pick
list (screen and PDF), the ship form, the delivery note PDF, the receive page (the note's QR
lands here), the return form, close, a keeper's open pick lists, and the scan page's "pick for
order" (JSON, session and CSRF like the scan page's own). Thin: parse, call the service in a
transaction, flash, redirect. Scope is the services' and the queries'."""

from __future__ import annotations

from io import BytesIO

from flask import Blueprint, jsonify, render_template, request, send_file, url_for
from flask_babel import gettext as _
from sqlalchemy import select
from werkzeug.routing import BuildError

from reserve.auth.permissions import current_actor
from reserve.db import transaction
from reserve.errors import NotFound, ValidationError, run_and_redirect, run_form
from reserve.extensions import db
from reserve.labels.edge import app_label_key
from reserve.labels.operations import check_scan_text, scan_target
from reserve.orders import floor
from reserve.orders import floor_queries as queries
from reserve.orders.floor_forms import (
    CloseForm,
    FloorForm,
    PickForm,
    ShipForm,
    receive_rows,
    return_rows,
)
from reserve.orders.floor_models import OrderShipment
from reserve.orders.floor_returns import receive_order, return_goods
from reserve.orders.lifecycle import actions_for
from reserve.orders.models import OrderStatus
from reserve.orders.pdf import delivery_note_pdf, pick_list_pdf
from reserve.warehouses.models import Warehouse

bp = Blueprint("orders_floor", __name__)


def order_url(order_id: int) -> str:
    """The order's page (ordcore's), or the floor page until it exists."""
    try:
        return url_for("orders.order_detail", order_id=order_id)
    except BuildError:
        return url_for("orders_floor.floor_page", order_id=order_id)


def floor_context(order) -> dict:
    """What ``orders/_floor_actions.html`` reads besides ``order`` and ``actions``."""
    actor = current_actor()
    return {
        "floor_sources": queries.source_figures(db.session, order.id),
        "floor_docs": queries.floor_documents(db.session, order.id),
        "floor_warehouses": queries.source_warehouses(db.session, order.id),
        "floor_shortfalls": queries.shortfalls(db.session, order.id),
        "floor_writable": {
            w for w, _c, _n in queries.source_warehouses(db.session, order.id) if actor.may_write(w)
        },  # fmt: skip
        "close_form": CloseForm(),
    }


@bp.app_context_processor
def _floor_helpers():
    """The order page (ordcore's) includes the panel: it calls this for the panel's data."""
    return {"floor_context": floor_context}


def _order(order_id: int):
    return floor.get_order(db.session, order_id, actor=current_actor())


@bp.get("/orders/<int:order_id>/floor")
def floor_page(order_id: int):
    order = _order(order_id)
    actions = actions_for(order.status, current_actor().roles)
    return render_template(
        "orders/floor/floor_page.html", order=order, actions=actions, **floor_context(order)
    )


def _warehouse(warehouse_id: int) -> Warehouse:
    warehouse = db.session.get(Warehouse, warehouse_id)
    if warehouse is None:
        raise NotFound(_("No such warehouse."))
    current_actor().require_see(warehouse_id)
    return warehouse


@bp.get("/orders/<int:order_id>/pick-list/<int:warehouse_id>")
def pick_sheet(order_id: int, warehouse_id: int):
    order, warehouse = _order(order_id), _warehouse(warehouse_id)
    rows = queries.pick_list(db.session, order_id=order.id, warehouse_id=warehouse.id)
    return render_template(
        "orders/floor/pick_list.html",
        order=order,
        warehouse=warehouse,
        rows=rows,
        may_pick=current_actor().may_write(warehouse.id) and order.status in queries.PICKABLE,
        form=PickForm(),
        back=order_url(order.id),
    )


@bp.get("/orders/<int:order_id>/pick-list/<int:warehouse_id>.pdf")
def pick_sheet_pdf(order_id: int, warehouse_id: int):
    order, warehouse = _order(order_id), _warehouse(warehouse_id)
    data = pick_list_pdf(queries.pick_list_paper(db.session, order, warehouse.id))
    return send_file(
        BytesIO(data), mimetype="application/pdf", download_name=f"{order.no}-{warehouse.code}.pdf"
    )


@bp.post("/orders/<int:order_id>/picks")
def pick_create(order_id: int):
    form = PickForm()
    back = request.form.get("back") or order_url(order_id)
    if not form.validate_on_submit():
        raise ValidationError(_("Give the quantity picked."), field="qty")
    return run_and_redirect(
        lambda session: floor.record_pick(
            session, order_id=order_id, actor=current_actor(), **form.pick_kwargs()
        ),
        success=lambda pick: _("Picked %(qty)s.", qty=pick.qty),
        to=back,
    )


@bp.route("/orders/<int:order_id>/ship/<int:warehouse_id>", methods=["GET", "POST"])
def ship(order_id: int, warehouse_id: int):
    order, warehouse = _order(order_id), _warehouse(warehouse_id)
    current_actor().require_write(warehouse.id)
    form = ShipForm()
    if form.validate_on_submit() and (
        done := run_form(
            form,
            lambda session: floor.ship_warehouse(
                session,
                order_id=order.id,
                warehouse_id=warehouse.id,
                actor=current_actor(),
                **form.ship_kwargs(),
            ),
            success=lambda s: _("Shipment %(no)s posted: print its delivery note.", no=s.no),
            to=lambda s: url_for("orders_floor.delivery_note", order_id=order.id, shipment_id=s.id),
        )
    ):
        return done
    rows = queries.pick_list(db.session, order_id=order.id, warehouse_id=warehouse.id)
    return render_template(
        "orders/floor/ship_form.html",
        order=order,
        warehouse=warehouse,
        rows=rows,
        form=form,
        ready=queries.unshipped_in(db.session, order.id, warehouse.id),
        back=order_url(order.id),
    )


@bp.get("/orders/<int:order_id>/shipments/<int:shipment_id>")
def delivery_note(order_id: int, shipment_id: int):
    order = _order(order_id)
    shipment = db.session.get(OrderShipment, shipment_id)
    if shipment is None or shipment.order_id != order.id:
        raise NotFound(_("No such shipment."))
    return render_template(
        "orders/floor/shipment.html", order=order, shipment=shipment, back=order_url(order.id)
    )


@bp.get("/orders/<int:order_id>/shipments/<int:shipment_id>.pdf")
def delivery_note_pdf_view(order_id: int, shipment_id: int):
    order = _order(order_id)
    shipment = db.session.get(OrderShipment, shipment_id)
    if shipment is None or shipment.order_id != order.id:
        raise NotFound(_("No such shipment."))
    url = url_for("orders_floor.receive", order_id=order.id, _external=True)
    data = delivery_note_pdf(queries.delivery_note(db.session, shipment, receive_url=url))
    return send_file(BytesIO(data), mimetype="application/pdf", download_name=f"{shipment.no}.pdf")


@bp.route("/orders/<int:order_id>/receive", methods=["GET", "POST"])
def receive(order_id: int):
    order = _order(order_id)
    sources = queries.source_figures(db.session, order.id)
    form = FloorForm()
    if form.validate_on_submit() and (
        done := run_form(
            form,
            lambda session: receive_order(
                session,
                order_id=order.id,
                lines=receive_rows(request.form, [s.id for s in sources]),
                signed_by=form.signed_by.data,
                note=form.note.data,
                actor=current_actor(),
            ),
            success=lambda r: _("%(no)s signed for.", no=r.no),
            to=order_url(order.id),
        )
    ):
        return done
    return render_template(
        "orders/floor/receive.html",
        order=order,
        sources=sources,
        form=form,
        may_receive="receive" in actions_for(order.status, current_actor().roles),
        back=order_url(order.id),
    )


@bp.route("/orders/<int:order_id>/return", methods=["GET", "POST"])
def return_form(order_id: int):
    order = _order(order_id)
    actor = current_actor()
    sources = [s for s in queries.source_figures(db.session, order.id) if s.is_returnable]
    form = FloorForm()
    if form.validate_on_submit() and (
        done := run_form(
            form,
            lambda session: return_goods(
                session,
                order_id=order.id,
                warehouse_id=form.warehouse_id.data,
                lines=return_rows(request.form, [s.id for s in sources]),
                note=form.note.data,
                actor=actor,
            ),
            success=lambda r: _("Return %(no)s recorded.", no=r.no),
            to=order_url(order.id),
        )
    ):
        return done
    warehouses = db.session.execute(
        select(Warehouse.id, Warehouse.code, Warehouse.name)
        .where(actor.writable(Warehouse.id), Warehouse.is_active)
        .order_by(Warehouse.code)
    ).all()
    return render_template(
        "orders/floor/return_form.html",
        order=order,
        sources=sources,
        form=form,
        warehouses=warehouses,
        back=order_url(order.id),
    )


@bp.post("/orders/<int:order_id>/close")
def close(order_id: int):
    form = CloseForm()
    form.validate_on_submit()
    return run_and_redirect(
        lambda session: floor.close_order(
            session, order_id=order_id, reason=form.reason.data, actor=current_actor()
        ),
        success=lambda o: _("Order %(no)s closed.", no=o.no),
        to=order_url(order_id),
    )


@bp.get("/pick-lists")
def pick_list():
    page = queries.my_pick_lists(db.session, actor=current_actor(), after=request.args.get("after"))
    labels = {s.value: s.label for s in OrderStatus}
    return render_template("orders/floor/my_pick_lists.html", page=page, labels=labels)


# The scan page's "pick for order" ------------------------------------------------------------


@bp.get("/scan/picks.json")
def scan_picks():
    """What the scanned stock may be picked for (the scan page's pick form fills from it)."""
    actor = current_actor()
    text = check_scan_text(request.args.get("code", ""))
    target = scan_target(db.session, actor, text, key=app_label_key())
    if target.batch_id is None or target.location_id is None:
        raise ValidationError(_("Scan the label of stock (a batch at a location) to pick it."))
    return jsonify(
        location_id=target.location_id,
        batch_id=target.batch_id,
        serial_no=target.serial_no,
        sources=queries.open_picks_for(
            db.session,
            actor=actor,
            material_id=target.material_id,
            warehouse_id=target.warehouse_id,
        ),
    )


@bp.post("/scan/picks.json")
def scan_pick_json():
    form = PickForm()
    if not form.validate_on_submit():
        name, messages = next(iter(form.errors.items()))
        if name == "csrf_token":
            raise ValidationError(_("The page has expired. Reload it."))
        raise ValidationError(f"{getattr(form, name).label.text}: {messages[0]}", field=name)
    with transaction() as session:
        pick = floor.record_pick(session, actor=current_actor(), **form.pick_kwargs())
        body = {"pick_id": pick.id, "source_id": pick.source_id, "qty": pick.qty}
    return jsonify(body)
