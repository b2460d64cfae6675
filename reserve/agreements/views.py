"""Enterprise and agreement pages (代储企业, 代储协议): lists, detail, the forms, the lifecycle
actions and the attachments. An enterprise user reaches its own enterprise and agreements only
(the services and queries scope every read)."""

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from reserve.agreements import (
    attachments,
    callup_queries,
    callups,
    queries,
    report_queries,
    reports,
    service,
    signing,
)
from reserve.agreements.flags import FlagRule
from reserve.agreements.forms import AgreementForm, EnterpriseForm, RenewForm, TerminateForm
from reserve.agreements.models import AgreementStatus, EnterpriseStatus, EnterpriseType
from reserve.auth.permissions import current_actor
from reserve.errors import run_and_redirect, run_form
from reserve.extensions import db
from reserve.files import send_attachment, store, uploaded_file
from reserve.forms import BLANK_LABEL, checked_query_int, select_choices
from reserve.receipts.queries import material_choices
from reserve.warehouses.queries import region_choices

bp = Blueprint("agreements", __name__)

STATUS_FILTERS = {"": EnterpriseStatus.ACTIVE.value, "suspended": "suspended", "all": None}


def _horizon() -> int:
    hours = request.args.get("hours", queries.DEFAULT_HORIZON_HOURS, type=int)
    return checked_query_int("hours", hours, low=1, high=24 * 365)


# Enterprises ----------------------------------------------------------------------------------


@bp.get("/enterprises")
def enterprise_list():
    args = request.args
    sort = args.get("sort", "name")
    page = queries.enterprise_page(
        db.session,
        actor=current_actor(),
        q=args.get("q"),
        region_id=args.get("region", type=int),
        status=STATUS_FILTERS.get(args.get("status", ""), EnterpriseStatus.ACTIVE.value),
        enterprise_type=args.get("type") or None,
        sort=sort,
        after=args.get("after"),
    )
    return render_template(
        "agreements/enterprise_list.html",
        page=page,
        args=args,
        sort=sort,
        regions=queries.area_choices(db.session),
        types=EnterpriseType,
    )


def _enterprise_form(enterprise=None) -> EnterpriseForm:
    form = EnterpriseForm(obj=enterprise)
    form.region_id.choices = select_choices(region_choices(db.session), blank=BLANK_LABEL)
    return form


@bp.route("/enterprises/new", methods=["GET", "POST"])
def enterprise_create():
    form = _enterprise_form()
    if form.validate_on_submit() and (
        done := run_form(
            form.drop_blank_contacts(),
            lambda session: service.create_enterprise(
                session, data=form.to_data(), actor=current_actor()
            ),
            success=lambda enterprise: _("Enterprise %(name)s registered.", name=enterprise.name),
            to=lambda enterprise: url_for(
                "agreements.enterprise_detail", enterprise_id=enterprise.id
            ),
        )
    ):
        return done
    return render_template("agreements/enterprise_form.html", form=form, enterprise=None)


@bp.get("/enterprises/<int:enterprise_id>")
def enterprise_detail(enterprise_id: int):
    actor = current_actor()
    enterprise = service.get_enterprise(db.session, enterprise_id, actor=actor)
    hours = _horizon()
    return render_template(
        "agreements/enterprise_detail.html",
        enterprise=enterprise,
        contacts=queries.contacts(db.session, enterprise.id),
        agreements=queries.agreement_page(
            db.session, actor=actor, enterprise_id=enterprise.id, per_page=500
        ).items,
        commitments=queries.commitments(db.session, enterprise.id, hours=hours),
        call_ups=callup_queries.call_up_page(
            db.session, actor=actor, enterprise_id=enterprise.id, per_page=20
        ),
        summary=queries.line_summary(
            db.session, enterprise.id, rule=FlagRule.from_config(current_app.config)
        ),
        hours=hours,
        can_edit=actor.is_admin,
        can_draft=actor.has_role(*signing.WRITERS),
        stock_reports=report_queries.report_page(
            db.session, actor=actor, enterprise_id=enterprise.id, per_page=5
        ).items,
        verifications=report_queries.verification_page(
            db.session, actor=actor, enterprise_id=enterprise.id, per_page=5
        ).items,
        can_request=actor.has_role(*reports.BUREAU),
        can_file=actor.has_role(*reports.FILERS),
    )


@bp.route("/enterprises/<int:enterprise_id>/edit", methods=["GET", "POST"])
def enterprise_edit(enterprise_id: int):
    enterprise = service.get_enterprise(db.session, enterprise_id, actor=current_actor())
    form = _enterprise_form(enterprise)
    if form.validate_on_submit() and (
        done := run_form(
            form.drop_blank_contacts(),
            lambda session: service.update_enterprise(
                session, enterprise_id=enterprise_id, data=form.to_data(), actor=current_actor()
            ),
            success=lambda _none: _("Enterprise %(name)s saved.", name=enterprise.name),
            to=url_for("agreements.enterprise_detail", enterprise_id=enterprise_id),
        )
    ):
        return done
    return render_template("agreements/enterprise_form.html", form=form, enterprise=enterprise)


# Agreements -----------------------------------------------------------------------------------


@bp.get("/agreements")
def agreement_list():
    args = request.args
    actor = current_actor()
    expiring = args.get("expiring", type=int)
    page = queries.agreement_page(
        db.session,
        actor=actor,
        q=args.get("q"),
        enterprise_id=args.get("enterprise", type=int),
        status=args.get("status") or None,
        expiring_days=checked_query_int("expiring", expiring, low=0, high=3650)
        if expiring is not None
        else None,
        after=args.get("after"),
    )
    return render_template(
        "agreements/agreement_list.html",
        page=page,
        args=args,
        statuses=[AgreementStatus(s) for s in queries.AGREEMENT_FILTERS],
        can_draft=actor.has_role(*signing.WRITERS),
    )


def _choices() -> tuple[list, list, list]:
    return (
        queries.enterprise_choices(db.session),
        queries.area_choices(db.session),
        material_choices(db.session),
    )


def _render_agreement_form(form: AgreementForm, choices: tuple, agreement=None):
    form.set_choices(*choices)  # rows added back after the blank ones were dropped need them
    return render_template("agreements/agreement_form.html", form=form, agreement=agreement)


@bp.route("/agreements/new", methods=["GET", "POST"])
def agreement_create():
    choices = _choices()
    form = AgreementForm(enterprise_id=request.args.get("enterprise", type=int))
    form.set_choices(*choices)
    if form.validate_on_submit() and (
        done := run_form(
            form.drop_blank_lines(),
            lambda session: signing.create_agreement(
                session, data=form.to_data(), actor=current_actor()
            ),
            success=lambda agreement: _(
                "Agreement %(no)s saved as a draft. Check it, then put it in force.",
                no=agreement.no,
            ),
            to=lambda agreement: url_for("agreements.agreement_detail", agreement_id=agreement.id),
        )
    ):
        return done
    return _render_agreement_form(form, choices)


@bp.route("/agreements/<int:agreement_id>/edit", methods=["GET", "POST"])
def agreement_edit(agreement_id: int):
    agreement = signing.get_agreement(db.session, agreement_id, actor=current_actor())
    if not agreement.is_draft:
        flash(
            _(
                "Agreement %(no)s is %(status)s; only a draft can be changed.",
                no=agreement.no,
                status=agreement.status_label,
            ),
            "warning",
        )
        return redirect(url_for("agreements.agreement_detail", agreement_id=agreement.id))
    choices = _choices()
    form = AgreementForm(obj=agreement)
    form.set_choices(*choices)
    if form.validate_on_submit() and (
        done := run_form(
            form.drop_blank_lines(),
            lambda session: signing.update_agreement(
                session, agreement_id=agreement_id, data=form.to_data(), actor=current_actor()
            ),
            success=_("Agreement %(no)s saved.", no=agreement.no),
            to=url_for("agreements.agreement_detail", agreement_id=agreement_id),
        )
    ):
        return done
    return _render_agreement_form(form, choices, agreement)


@bp.get("/agreements/<int:agreement_id>")
def agreement_detail(agreement_id: int):
    actor = current_actor()
    agreement = signing.get_agreement(db.session, agreement_id, actor=actor)
    writer = actor.has_role(*signing.WRITERS)
    hours = _horizon()
    in_force = agreement.shown_status == AgreementStatus.ACTIVE.value
    lines = queries.agreement_lines(
        db.session,
        agreement.id,
        rule=FlagRule.from_config(current_app.config) if in_force else None,
    )
    stock_lines = [line for line in lines if not line.is_capacity]
    capacity_lines = [line for line in lines if line.is_capacity]
    return render_template(
        "agreements/agreement_detail.html",
        agreement=agreement,
        lines=lines,
        stock_lines=stock_lines,
        capacity_lines=capacity_lines,
        stock_totals=queries.unit_totals(stock_lines, hours),
        capacity_totals=queries.unit_totals(capacity_lines, hours),
        hours=hours,
        in_force=in_force,
        attachments=queries.attachment_rows(db.session, agreement.id),
        writer=writer,
        can_attach=writer and agreement.status != AgreementStatus.TERMINATED.value,
        terminate_form=TerminateForm(),
        renew_form=RenewForm(),
        max_attachment_mb=store().max_bytes // (1024 * 1024),
        is_office=actor.visible_enterprise_ids() is None,
        can_call_up=actor.has_role(*callups.CALLERS) and agreement.shown_status == "active",
    )


def _back(agreement_id: int) -> str:
    return url_for("agreements.agreement_detail", agreement_id=agreement_id)


@bp.post("/agreements/<int:agreement_id>/activate")
def agreement_activate(agreement_id: int):
    return run_and_redirect(
        lambda session: signing.activate_agreement(
            session, agreement_id=agreement_id, actor=current_actor()
        ),
        success=lambda agreement: _("Agreement %(no)s is in force.", no=agreement.no),
        to=_back(agreement_id),
    )


@bp.post("/agreements/<int:agreement_id>/terminate")
def agreement_terminate(agreement_id: int):
    return run_and_redirect(
        lambda session: signing.terminate_agreement(
            session,
            agreement_id=agreement_id,
            reason=request.form.get("reason"),
            actor=current_actor(),
        ),
        success=lambda agreement: _("Agreement %(no)s terminated.", no=agreement.no),
        to=_back(agreement_id),
    )


@bp.post("/agreements/<int:agreement_id>/renew")
def agreement_renew(agreement_id: int):
    return run_and_redirect(
        lambda session: signing.renew_agreement(
            session, agreement_id=agreement_id, no=request.form.get("no"), actor=current_actor()
        ),
        success=lambda renewed: _(
            "Renewal %(no)s drafted from the agreement; check its dates, then put it in force.",
            no=renewed.no,
        ),
        to=lambda renewed: url_for("agreements.agreement_detail", agreement_id=renewed.id),
        back=_back(agreement_id),
    )


@bp.post("/agreements/<int:agreement_id>/attachments")
def attachment_upload(agreement_id: int):
    filename, content = uploaded_file()
    return run_and_redirect(
        lambda session: attachments.add_attachment(
            session,
            agreement_id=agreement_id,
            filename=filename,
            content=content,
            actor=current_actor(),
            store=store(),
        ),
        success=lambda attachment: _("Attached %(name)s.", name=attachment.filename),
        to=url_for("agreements.agreement_detail", agreement_id=agreement_id, _anchor="attachments"),
    )


@bp.get("/agreements/<int:agreement_id>/attachments/<int:attachment_id>")
def attachment_download(agreement_id: int, attachment_id: int):
    attachment = attachments.get_attachment(
        db.session, agreement_id=agreement_id, attachment_id=attachment_id, actor=current_actor()
    )
    return send_attachment(attachment, store().path_for(attachment))


@bp.post("/agreements/<int:agreement_id>/attachments/<int:attachment_id>/delete")
def attachment_delete(agreement_id: int, attachment_id: int):
    files = store()
    return run_and_redirect(
        lambda session: attachments.delete_attachment(
            session,
            agreement_id=agreement_id,
            attachment_id=attachment_id,
            actor=current_actor(),
            store=files,
        ),
        success=lambda path: files.discard(path) or _("Attachment removed."),
        to=url_for("agreements.agreement_detail", agreement_id=agreement_id, _anchor="attachments"),
    )
