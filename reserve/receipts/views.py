"""Receipt pages (入库单): list, the form (header and lines), detail, post, cancel and the PDF."""

from datetime import date
from io import BytesIO

from flask import (
    Blueprint,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import gettext as _

from reserve.agreements.callup_models import CallUp
from reserve.agreements.callup_queries import receivable_call_ups
from reserve.auth.permissions import current_actor
from reserve.errors import run_and_redirect, run_form
from reserve.extensions import db
from reserve.files import send_attachment, store, uploaded_file
from reserve.receipts import attachments, pdf, queries, service
from reserve.receipts.forms import ReceiptForm, all_errors
from reserve.receipts.models import ReceiptStatus
from reserve.stock.models import BatchSource

bp = Blueprint("receipts", __name__)


def _labels() -> dict:
    return {
        "source": {s.value: s.label for s in BatchSource},
        "status": {s.value: s.label for s in ReceiptStatus},
    }


@bp.get("/receipts")
def receipt_list():
    args = request.args
    actor = current_actor()
    page = queries.receipt_page(
        db.session,
        actor=actor,
        warehouse_id=args.get("warehouse", type=int),
        status=args.get("status") or None,
        date_from=args.get("date_from", type=date.fromisoformat),
        date_to=args.get("date_to", type=date.fromisoformat),
        no=args.get("no"),
        after=args.get("after"),
    )
    return render_template(
        "receipts/receipt_list.html",
        page=page,
        args=args,
        labels=_labels(),
        statuses=ReceiptStatus,
        warehouses=queries.visible_warehouses(db.session, actor),
        can_create=actor.may_write_somewhere(),
    )


def _chosen_warehouse(warehouses: list, default: int | None = None) -> int | None:
    """The warehouse picked in the form's first step (``?warehouse_id=``), else the posted one,
    else the only one the keeper keeps."""
    warehouse_id = (
        request.args.get("warehouse_id", type=int)
        or request.form.get("warehouse_id", type=int)
        or default
    )
    if warehouse_id is None and len(warehouses) == 1:
        warehouse_id = warehouses[0][0]
    if warehouse_id is not None:
        current_actor().require_write(warehouse_id)
    return warehouse_id


def _render_form(form: ReceiptForm, warehouses: list, warehouse_id: int | None, receipt=None):
    form.warehouse_id.data = warehouse_id
    locations = queries.location_choices(db.session, warehouse_id) if warehouse_id else []
    form.set_choices(
        queries.material_choices(db.session), locations, receivable_call_ups(db.session)
    )
    return render_template(
        "receipts/receipt_form.html",
        form=form,
        warehouses=warehouses,
        warehouse_id=warehouse_id,
        receipt=receipt,
        form_errors=all_errors(form) if form.errors else [],
    )


@bp.route("/receipts/new", methods=["GET", "POST"])
def receipt_create():
    warehouses = queries.receivable_warehouses(db.session, current_actor())
    warehouse_id = _chosen_warehouse(warehouses)
    form = ReceiptForm(warehouse_id=warehouse_id)
    if form.validate_on_submit() and (
        done := run_form(
            form.drop_blank_lines(),
            lambda session: service.create_receipt(
                session, data=form.to_data(), actor=current_actor()
            ),
            success=lambda receipt: _(
                "Receipt %(no)s saved as a draft. Check it, then post it.", no=receipt.no
            ),
            to=lambda receipt: url_for("receipts.receipt_detail", receipt_id=receipt.id),
        )
    ):
        return done
    return _render_form(form, warehouses, warehouse_id)


@bp.route("/receipts/<int:receipt_id>/edit", methods=["GET", "POST"])
def receipt_edit(receipt_id: int):
    receipt = service.get_receipt(db.session, receipt_id, actor=current_actor())
    if not receipt.is_draft:
        flash(
            _(
                "Receipt %(no)s is %(status)s; it can no longer be changed.",
                no=receipt.no,
                status=receipt.status_label,
            ),
            "warning",
        )
        return redirect(url_for("receipts.receipt_detail", receipt_id=receipt.id))
    warehouses = queries.receivable_warehouses(db.session, current_actor())
    warehouse_id = _chosen_warehouse(warehouses, receipt.warehouse_id)
    form = ReceiptForm(obj=receipt)
    if form.validate_on_submit() and (
        done := run_form(
            form.drop_blank_lines(),
            lambda session: service.update_receipt(
                session, receipt_id=receipt_id, data=form.to_data(), actor=current_actor()
            ),
            success=_("Receipt %(no)s saved.", no=receipt.no),
            to=url_for("receipts.receipt_detail", receipt_id=receipt.id),
        )
    ):
        return done
    return _render_form(form, warehouses, warehouse_id, receipt)


@bp.get("/receipts/<int:receipt_id>")
def receipt_detail(receipt_id: int):
    actor = current_actor()
    receipt = service.get_receipt(db.session, receipt_id, actor=actor)
    lines = queries.receipt_lines(db.session, receipt.id)
    total_qty, total_value = queries.totals(lines)
    can_act = receipt.is_draft and actor.may_write(receipt.warehouse_id)
    return render_template(
        "receipts/receipt_detail.html",
        receipt=receipt,
        lines=lines,
        total_qty=total_qty,
        total_value=total_value,
        labels=_labels(),
        can_act=can_act,
        can_label=receipt.status == "posted" and actor.may_write(receipt.warehouse_id),
        warehouse=queries.warehouse_name(db.session, receipt.warehouse_id),
        people=queries.receipt_people(db.session, receipt),
        attachments=queries.attachment_rows(db.session, receipt.id),
        can_attach=receipt.status != ReceiptStatus.CANCELLED.value
        and actor.may_write(receipt.warehouse_id),
        max_attachment_mb=store().max_bytes // (1024 * 1024),
        call_up=db.session.get(CallUp, receipt.call_up_id) if receipt.call_up_id else None,
    )


@bp.post("/receipts/<int:receipt_id>/post")
def receipt_post(receipt_id: int):
    return run_and_redirect(
        lambda session: service.post_receipt(session, receipt_id=receipt_id, actor=current_actor()),
        success=lambda receipt: _("Receipt %(no)s posted: the goods are in stock.", no=receipt.no),
        to=url_for("receipts.receipt_detail", receipt_id=receipt_id),
    )


@bp.post("/receipts/<int:receipt_id>/cancel")
def receipt_cancel(receipt_id: int):
    return run_and_redirect(
        lambda session: service.cancel_receipt(
            session, receipt_id=receipt_id, actor=current_actor()
        ),
        success=lambda receipt: _("Receipt %(no)s cancelled.", no=receipt.no),
        to=url_for("receipts.receipt_detail", receipt_id=receipt_id),
    )


@bp.get("/receipts/<int:receipt_id>.pdf")
def receipt_pdf(receipt_id: int):
    receipt = service.get_receipt(db.session, receipt_id, actor=current_actor())
    content = pdf.receipt_pdf(queries.printable(db.session, receipt))
    return send_file(
        BytesIO(content), mimetype="application/pdf", download_name=f"{receipt.no}.pdf"
    )


@bp.post("/receipts/<int:receipt_id>/attachments")
def attachment_upload(receipt_id: int):
    filename, content = uploaded_file()
    return run_and_redirect(
        lambda session: attachments.add_attachment(
            session,
            receipt_id=receipt_id,
            filename=filename,
            content=content,
            actor=current_actor(),
            store=store(),
        ),
        success=lambda attachment: _("Attached %(name)s.", name=attachment.filename),
        to=url_for("receipts.receipt_detail", receipt_id=receipt_id, _anchor="attachments"),
    )


@bp.get("/receipts/<int:receipt_id>/attachments/<int:attachment_id>")
def attachment_download(receipt_id: int, attachment_id: int):
    attachment = attachments.get_attachment(
        db.session, receipt_id=receipt_id, attachment_id=attachment_id, actor=current_actor()
    )
    return send_attachment(attachment, store().path_for(attachment))


@bp.post("/receipts/<int:receipt_id>/attachments/<int:attachment_id>/delete")
def attachment_delete(receipt_id: int, attachment_id: int):
    files = store()
    return run_and_redirect(
        lambda session: attachments.delete_attachment(
            session,
            receipt_id=receipt_id,
            attachment_id=attachment_id,
            actor=current_actor(),
            store=files,
        ),
        # after the commit: the file goes once its row is gone for good
        success=lambda path: files.discard(path) or _("Attachment removed."),
        to=url_for("receipts.receipt_detail", receipt_id=receipt_id, _anchor="attachments"),
    )
