"""Rotation (轮换) and scrap (报废) pages."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from reserve.auth.models import Role
from reserve.auth.permissions import current_actor
from reserve.catalog.queries import category_code_choices
from reserve.disposals import queries, rotations, scraps
from reserve.disposals.forms import (
    ApproveForm,
    LinkReplacementForm,
    RejectForm,
    RotationForm,
    ScrapForm,
)
from reserve.disposals.models import Disposition, RotationStatus, ScrapReason, ScrapStatus
from reserve.errors import run_and_redirect, run_form
from reserve.extensions import db
from reserve.forms import BLANK_LABEL, select_choices
from reserve.stock.expiry import ExpiryState
from reserve.warehouses.queries import warehouse_choices

bp = Blueprint("disposals", __name__)


# Rotation (轮换) ------------------------------------------------------------------------------


@bp.get("/rotations/candidates")
def rotation_candidates():
    args = request.args
    actor = current_actor()
    horizon = args.get("horizon", type=int)
    page = queries.rotation_candidates(
        db.session,
        actor,
        warehouse_id=args.get("warehouse_id", type=int),
        category_code=args.get("category") or None,
        horizon_days=horizon if horizon in queries.HORIZONS else None,
        state=args.get("state") if args.get("state") in set(ExpiryState) else None,
        after=args.get("after"),
    )
    return render_template(
        "disposals/rotation_candidates.html",
        states=ExpiryState,
        page=page,
        args=args,
        warehouses=warehouse_choices(db.session, actor),
        categories=category_code_choices(db.session),
        horizons=queries.HORIZONS,
        kept=actor.writable_warehouse_ids(),
    )


@bp.get("/rotations")
def rotation_list():
    args = request.args
    actor = current_actor()
    page = queries.rotation_page(
        db.session,
        actor,
        warehouse_id=args.get("warehouse_id", type=int),
        status=args.get("status") or None,
        after=args.get("after"),
    )
    return render_template(
        "disposals/rotation_list.html",
        page=page,
        args=args,
        statuses=RotationStatus,
        dispositions=Disposition,
        warehouses=warehouse_choices(db.session, actor),
    )


def _document_warehouse(actor) -> tuple[int | None, list[tuple[int, str]]]:
    """The warehouse a new document is for: that of the prefilled stock, the one chosen, or
    the only one the keeper keeps. Refused unless the user keeps it."""
    options = warehouse_choices(db.session, actor, kept_only=True)
    warehouse_id = request.args.get("warehouse_id", type=int)
    location_id = request.args.get("location_id", type=int)
    batch_id = request.args.get("batch_id", type=int)
    if location_id and batch_id:
        balance = queries.balance_warehouse(db.session, location_id, batch_id)
        warehouse_id = balance.warehouse_id if balance is not None else warehouse_id
    if warehouse_id is None and len(options) == 1:
        warehouse_id = options[0][0]
    if warehouse_id is not None:
        actor.require_write(warehouse_id)
    return warehouse_id, options


def _prefill(form) -> None:
    """A line prefilled from ?location_id=&batch_id= (the candidates page links here)."""
    location_id = request.args.get("location_id", type=int)
    batch_id = request.args.get("batch_id", type=int)
    if request.method == "GET" and location_id and batch_id:
        balance = queries.balance_warehouse(db.session, location_id, batch_id)
        first = form.lines.entries[0].form
        first.stock.data = f"{location_id}:{batch_id}"
        first.qty.data = str(balance.available) if balance and balance.available > 0 else ""


def _stock_choices(form, warehouse_id: int | None, *, soonest_expiry_first: bool):
    if warehouse_id is None:
        return []
    return queries.stock_choices(
        db.session,
        warehouse_id,
        q=request.args.get("q"),
        soonest_expiry_first=soonest_expiry_first,
        include=form.chosen(),
    )


@bp.route("/rotations/new", methods=["GET", "POST"])
def rotation_create():
    actor = current_actor()
    warehouse_id, options = _document_warehouse(actor)
    form = RotationForm()
    _prefill(form)
    if warehouse_id is not None:
        form.replacement_receipt_id.choices = select_choices(
            queries.receipt_options(db.session, warehouse_id), blank=BLANK_LABEL
        )
    if (
        warehouse_id is not None
        and form.validate_on_submit()
        and (
            done := run_form(
                form,
                lambda session: rotations.create_rotation(
                    session,
                    warehouse_id=warehouse_id,
                    disposition=form.disposition.data,
                    document_date=form.document_date.data,
                    lines=form.line_data(),
                    actor=actor,
                    counterparty=form.counterparty.data,
                    note=form.note.data,
                    replacement_receipt_id=form.replacement_receipt_id.data,
                ),
                success=lambda rotation: _("Rotation %(no)s saved as a draft.", no=rotation.no),
                to=lambda rotation: url_for("disposals.rotation_detail", rotation_id=rotation.id),
            )
        )
    ):
        return done
    return render_template(
        "disposals/rotation_form.html",
        form=form,
        warehouse_id=warehouse_id,
        warehouses=options,
        choices=_stock_choices(form, warehouse_id, soonest_expiry_first=True),
        limit=queries.STOCK_CHOICES_LIMIT,
        q=request.args.get("q", ""),
    )


def _rotation_detail(rotation_id: int, link_form=None):
    actor = current_actor()
    rotation = rotations.get_rotation(db.session, rotation_id, actor=actor)
    can_write = actor.may_write(rotation.warehouse_id)
    if link_form is None:
        link_form = LinkReplacementForm(formdata=None, receipt_id=rotation.replacement_receipt_id)
    link_form.receipt_id.choices = select_choices(
        queries.receipt_options(db.session, rotation.warehouse_id) if can_write else [],
        blank=BLANK_LABEL,
    )
    lines = queries.rotation_lines(db.session, rotation.id)
    return render_template(
        "disposals/rotation_detail.html",
        rotation=rotation,
        can_write=can_write,
        lines=lines,
        value=queries.lines_value(lines),
        receipt_no=queries.receipt_no(db.session, rotation.replacement_receipt_id),
        link_form=link_form,
    )


@bp.get("/rotations/<int:rotation_id>")
def rotation_detail(rotation_id: int):
    return _rotation_detail(rotation_id)


@bp.route("/rotations/<int:rotation_id>/post", methods=["GET", "POST"])
def rotation_post(rotation_id: int):
    if request.method == "GET":
        rotation = rotations.get_rotation(db.session, rotation_id, actor=current_actor())
        if rotation.status != RotationStatus.DRAFT.value:
            return redirect(url_for("disposals.rotation_detail", rotation_id=rotation_id))
        return _confirm(
            "post",
            document=rotation,
            lines=queries.rotation_lines(db.session, rotation.id),
            question=_("Post rotation %(no)s? The stock below leaves the books.", no=rotation.no),
            action=url_for("disposals.rotation_post", rotation_id=rotation.id),
            back=url_for("disposals.rotation_detail", rotation_id=rotation.id),
        )
    return run_and_redirect(
        lambda session: rotations.post_rotation(
            session, rotation_id=rotation_id, actor=current_actor()
        ),
        success=lambda rotation: _("Rotation %(no)s posted: the stock is out.", no=rotation.no),
        to=url_for("disposals.rotation_detail", rotation_id=rotation_id),
    )


@bp.post("/rotations/<int:rotation_id>/replacement")
def rotation_link(rotation_id: int):
    form = LinkReplacementForm()
    if not form.validate_on_submit():
        return _rotation_detail(rotation_id, link_form=form)
    return run_and_redirect(
        lambda session: rotations.link_replacement(
            session,
            rotation_id=rotation_id,
            receipt_id=form.receipt_id.data,
            actor=current_actor(),
        ),
        success=_("Replacement receipt linked."),
        to=url_for("disposals.rotation_detail", rotation_id=rotation_id),
    )


# Scrap (报废) ---------------------------------------------------------------------------------


@bp.get("/scraps")
def scrap_list():
    args = request.args
    actor = current_actor()
    page = queries.scrap_page(
        db.session,
        actor,
        warehouse_id=args.get("warehouse_id", type=int),
        status=args.get("status") or None,
        after=args.get("after"),
    )
    return render_template(
        "disposals/scrap_list.html",
        page=page,
        args=args,
        statuses=ScrapStatus,
        reasons=ScrapReason,
        warehouses=warehouse_choices(db.session, actor),
    )


@bp.route("/scraps/new", methods=["GET", "POST"])
def scrap_create():
    actor = current_actor()
    warehouse_id, options = _document_warehouse(actor)
    form = ScrapForm()
    _prefill(form)
    if (
        warehouse_id is not None
        and form.validate_on_submit()
        and (
            done := run_form(
                form,
                lambda session: scraps.request_scrap(
                    session,
                    warehouse_id=warehouse_id,
                    reason=form.reason.data,
                    document_date=form.document_date.data,
                    lines=form.line_data(),
                    actor=actor,
                    note=form.note.data,
                    reason_text=form.reason_text.data,
                ),
                success=lambda scrap: _("Scrap request %(no)s sent for approval.", no=scrap.no),
                to=lambda scrap: url_for("disposals.scrap_detail", scrap_id=scrap.id),
            )
        )
    ):
        return done
    return render_template(
        "disposals/scrap_form.html",
        form=form,
        warehouse_id=warehouse_id,
        warehouses=options,
        choices=_stock_choices(form, warehouse_id, soonest_expiry_first=False),
        limit=queries.STOCK_CHOICES_LIMIT,
        q=request.args.get("q", ""),
    )


@bp.get("/scraps/<int:scrap_id>")
def scrap_detail(scrap_id: int):
    actor = current_actor()
    scrap = scraps.get_scrap(db.session, scrap_id, actor=actor)
    lines = queries.scrap_lines(db.session, scrap.id)
    return render_template(
        "disposals/scrap_detail.html",
        scrap=scrap,
        lines=lines,
        value=queries.lines_value(lines),
        can_post=actor.may_write(scrap.warehouse_id),
        can_decide=actor.has_role(Role.APPROVER, Role.ADMIN),
        is_requester=scraps.is_requester(actor, scrap),
        reject_form=RejectForm(formdata=None),
    )


def _flash_form_errors(form) -> None:
    for errors in form.errors.values():
        for error in errors:
            flash(str(error), "danger")


def _confirm(verb: str, *, document, lines, question: str, action: str, back: str, form=None):
    """The one confirm step of approving and posting: what is at stake (the lines, their unit
    cost and value, the total), then a button that does it. A page, so it needs no script."""
    return render_template(
        "disposals/confirm.html",
        verb=verb,
        document=document,
        lines=lines,
        value=queries.lines_value(lines),
        question=question,
        action=action,
        back=back,
        form=form,
    )


def _scrap_confirm(scrap_id: int, verb: str, state: ScrapStatus, question, form=None):
    actor = current_actor()
    scrap = scraps.get_scrap(db.session, scrap_id, actor=actor)
    if scrap.status != state.value or (verb == "approve" and scraps.is_requester(actor, scrap)):
        return redirect(url_for("disposals.scrap_detail", scrap_id=scrap_id))
    return _confirm(
        verb,
        document=scrap,
        lines=queries.scrap_lines(db.session, scrap.id),
        question=question(scrap.no),
        action=url_for(f"disposals.scrap_{verb}", scrap_id=scrap.id),
        back=url_for("disposals.scrap_detail", scrap_id=scrap.id),
        form=form,
    )


@bp.route("/scraps/<int:scrap_id>/approve", methods=["GET", "POST"])
def scrap_approve(scrap_id: int):
    if request.method == "GET":
        return _scrap_confirm(
            scrap_id,
            "approve",
            ScrapStatus.REQUESTED,
            lambda no: _(
                "Approve scrap %(no)s? Once posted, the stock below is written off.", no=no
            ),
            form=ApproveForm(formdata=None),
        )
    form = ApproveForm()
    if not form.validate_on_submit():
        _flash_form_errors(form)
        return redirect(url_for("disposals.scrap_detail", scrap_id=scrap_id))
    return run_and_redirect(
        lambda session: scraps.approve_scrap(
            session, scrap_id=scrap_id, note=form.note.data, actor=current_actor()
        ),
        success=lambda scrap: _("Scrap %(no)s approved.", no=scrap.no),
        to=url_for("disposals.scrap_detail", scrap_id=scrap_id),
    )


@bp.post("/scraps/<int:scrap_id>/reject")
def scrap_reject(scrap_id: int):
    form = RejectForm()
    if not form.validate_on_submit():
        _flash_form_errors(form)
        return redirect(url_for("disposals.scrap_detail", scrap_id=scrap_id))
    return run_and_redirect(
        lambda session: scraps.reject_scrap(
            session, scrap_id=scrap_id, reason=form.reason.data, actor=current_actor()
        ),
        success=lambda scrap: _("Scrap %(no)s rejected.", no=scrap.no),
        to=url_for("disposals.scrap_detail", scrap_id=scrap_id),
    )


@bp.route("/scraps/<int:scrap_id>/post", methods=["GET", "POST"])
def scrap_post(scrap_id: int):
    if request.method == "GET":
        return _scrap_confirm(
            scrap_id,
            "post",
            ScrapStatus.APPROVED,
            lambda no: _("Post scrap %(no)s? The stock below is written off the books.", no=no),
        )
    return run_and_redirect(
        lambda session: scraps.post_scrap(session, scrap_id=scrap_id, actor=current_actor()),
        success=lambda scrap: _("Scrap %(no)s posted: the stock is written off.", no=scrap.no),
        to=url_for("disposals.scrap_detail", scrap_id=scrap_id),
    )
