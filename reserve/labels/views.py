"""Label pages: ``/s/<code>`` (the link in every label's QR) opening the labelled thing's page;
printing labels for a posted receipt and for what a keeper ticks on a warehouse's label page;
the warehouse's labels, reprinted and revoked."""

from __future__ import annotations

from io import BytesIO

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import gettext as _

from reserve.auth.permissions import current_actor
from reserve.db import SHANGHAI
from reserve.errors import run_and_redirect, run_form
from reserve.extensions import db
from reserve.labels import printing, queries
from reserve.labels.edge import app_label_key, keep_refusal, resolve_here
from reserve.labels.forms import ChosenLabelsForm, ReceiptLabelsForm, ReprintForm, RevokeForm
from reserve.labels.models import Label, LabelKind
from reserve.labels.pdf import label_sheet_pdf
from reserve.labels.service import ScanTarget, UnreadableCode
from reserve.receipts import queries as receipt_queries
from reserve.receipts import service as receipts
from reserve.warehouses.service import get_warehouse

bp = Blueprint("labels", __name__)
bp.app_errorhandler(UnreadableCode)(keep_refusal)  # a bad MAC stays audited (see keep_refusal)


def target_page(target: ScanTarget) -> str:
    """The page of what a label points at: the batch at its location, the item among its
    material's items, or the location in its warehouse."""
    if target.kind is LabelKind.LOCATION:
        return url_for(
            "warehouses.warehouse_detail",
            warehouse_id=target.warehouse_id,
            _anchor=f"location-{target.location_id}",
        )
    anchor = f"item-{target.serial_item_id}" if target.kind is LabelKind.ITEM else None
    return url_for(
        "stock.material_stock",
        material_id=target.material_id,
        batch=target.batch_id,
        warehouse=target.warehouse_id,
        _anchor=anchor,
    )


@bp.get("/s/<code>")
@bp.get("/S/<code>", endpoint="label_open_upper")  # the capitals a compact QR holds
def label_open(code: str):
    return redirect(target_page(resolve_here(code)))


def kept_print(session, labels: list[Label], form, *, receipt_id: int | None = None):
    """What a print form's POST did, kept as one sheet (``printing.keep_print``), in the
    transaction that made or reprinted the labels."""
    return printing.keep_print(
        session,
        labels=labels,
        layout=form.layout.data,
        start=form.start.data,
        actor=current_actor(),
        receipt_id=receipt_id,
    )


def to_sheet(kept) -> object:
    """Post, redirect, get: the POST that printed answers with a redirect to its sheet, so a
    refresh, back or a second download fetches the same PDF instead of printing again."""
    return redirect(url_for("labels.print_sheet", print_id=kept.id), code=303)


@bp.get("/labels/prints/<int:print_id>.pdf")
def print_sheet(print_id: int):
    """A kept print's sheet (fetching it again prints nothing, counts no reprint)."""
    kept = printing.get_print(db.session, print_id, actor=current_actor())
    cards = queries.label_cards(
        db.session,
        kept.label_ids,
        key=app_label_key(),
        base_url=str(current_app.config["PUBLIC_BASE_URL"]),
    )
    content = label_sheet_pdf(cards, layout=kept.layout, start=kept.start)
    return send_file(
        BytesIO(content),
        mimetype="application/pdf",
        as_attachment=True,
        download_name=f"labels-{kept.printed_at.astimezone(SHANGHAI).date().isoformat()}-{kept.id}.pdf",
    )


@bp.route("/receipts/<int:receipt_id>/labels", methods=["GET", "POST"])
def receipt_labels(receipt_id: int):
    actor = current_actor()
    receipt = receipts.get_receipt(db.session, receipt_id, actor=actor)
    lines = receipt_queries.receipt_lines(db.session, receipt.id)
    form = ReceiptLabelsForm()
    if request.method == "GET":
        for line in lines:
            form.lines.append_entry({"line_id": line.id, "cartons": 1})
    if form.validate_on_submit() and (
        done := run_form(
            form,
            lambda session: kept_print(
                session,
                printing.label_receipt(
                    session,
                    receipt_id=receipt.id,
                    cartons={entry.line_id.data: entry.cartons.data for entry in form.lines},
                    actor=actor,
                ),
                form,
                receipt_id=receipt.id,
            ),
            success=None,
            to=to_sheet,
        )
    ):
        return done
    return render_template(
        "labels/receipt_labels.html",
        receipt=receipt,
        form=form,
        lines={line.id: line for line in lines},
    )


@bp.get("/warehouses/<int:warehouse_id>/labels")
def label_list(warehouse_id: int):
    actor = current_actor()
    warehouse = get_warehouse(db.session, warehouse_id, actor=actor)
    kind = request.args.get("kind") if request.args.get("kind") in set(LabelKind) else None
    page = queries.warehouse_labels(
        db.session,
        actor,
        warehouse_id=warehouse.id,
        key=app_label_key(),
        kind=kind,
        after=request.args.get("after"),
    )
    return render_template(
        "labels/label_list.html",
        warehouse=warehouse,
        page=page,
        kind=kind,
        kinds=LabelKind,
        form=ReprintForm(formdata=None),
        can_print=actor.may_write(warehouse.id),
    )


@bp.route("/warehouses/<int:warehouse_id>/labels/new", methods=["GET", "POST"])
def label_print(warehouse_id: int):
    actor = current_actor()
    warehouse = get_warehouse(db.session, warehouse_id, actor=actor)
    actor.require_write(warehouse.id)
    kind = request.values.get("kind") if request.values.get("kind") in set(LabelKind) else "stock"
    form = ChosenLabelsForm(kind=kind)
    if form.validate_on_submit() and (
        done := run_form(
            form,
            lambda session: kept_print(
                session,
                printing.label_chosen(
                    session,
                    warehouse_id=warehouse.id,
                    kind=form.kind.data,
                    chosen=form.chosen.data,
                    copies=form.copies.data or 1,
                    actor=actor,
                ),
                form,
            ),
            success=None,
            to=to_sheet,
        )
    ):
        return done
    page = queries.print_choices(
        db.session, actor, warehouse_id=warehouse.id, kind=kind, after=request.args.get("after")
    )
    return render_template(
        "labels/label_print.html", warehouse=warehouse, form=form, page=page, kind=kind
    )


def _first_error(form) -> str:
    name, messages = next(iter(form.errors.items()))
    return f"{getattr(form, name).label.text}: {messages[0]}"


@bp.post("/warehouses/<int:warehouse_id>/labels/reprint")
def label_reprint(warehouse_id: int):
    form = ReprintForm()
    back = url_for("labels.label_list", warehouse_id=warehouse_id)
    if not form.validate_on_submit():
        flash(_first_error(form), "danger")
        return redirect(back)
    return run_and_redirect(
        lambda session: kept_print(
            session,
            printing.reprint_labels(
                session,
                label_ids=printing.label_ids(form.chosen.data),
                actor=current_actor(),
                warehouse_id=warehouse_id,
            ),
            form,
        ),
        success=None,
        to=to_sheet,
        back=back,
    )


@bp.route("/labels/<int:label_id>/revoke", methods=["GET", "POST"])
def label_revoke(label_id: int):
    label = printing.get_label(db.session, label_id, actor=current_actor())
    form = RevokeForm()
    if form.validate_on_submit() and (
        done := run_form(
            form,
            lambda session: printing.revoke_label(
                session, label_id=label.id, reason=form.reason.data, actor=current_actor()
            ),
            success=_("The label was revoked: it no longer scans."),
            to=url_for("labels.label_list", warehouse_id=label.warehouse_id),
        )
    ):
        return done
    return render_template(
        "labels/label_revoke.html",
        label=label,
        form=form,
        row=queries.label_row(db.session, label.id, key=app_label_key()),
    )
