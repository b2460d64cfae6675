"""Stock report and verification pages (库存申报, 核查): lists, detail, the forms and the
lifecycle actions. The enterprise portal files its own reports here and reads its own
verifications; the services and queries scope every read."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, redirect, render_template, request, url_for
from flask_babel import gettext as _

from reserve.agreements import queries, report_queries, reports
from reserve.agreements.report_forms import (
    CancelForm,
    PlanForm,
    RecordForm,
    ReportForm,
    RequestForm,
)
from reserve.agreements.report_models import ReportKind, ReportStatus, VerificationStatus
from reserve.agreements.service import get_enterprise
from reserve.auth.permissions import current_actor
from reserve.db import local_today
from reserve.errors import ValidationError, run_and_redirect, run_form
from reserve.extensions import db
from reserve.files import send_attachment, store, uploaded_file

bp = Blueprint("reports", __name__)


def _month_arg() -> date | None:
    value = request.args.get("month") or None
    if value is None:
        return None
    try:
        return date.fromisoformat(f"{value}-01")
    except ValueError:
        raise ValidationError(_("month must be a month like 2026-01."), field="month") from None


def _filters() -> dict:
    return dict(
        enterprise_id=request.args.get("enterprise", type=int),
        status=request.args.get("status") or None,
        month=_month_arg(),
    )


def _enterprise_choices():
    return queries.enterprise_choices(db.session, current_actor())


# Stock reports ---------------------------------------------------------------------------------


@bp.get("/stock-reports")
def report_list():
    actor = current_actor()
    page = report_queries.report_page(
        db.session, actor=actor, after=request.args.get("after"), **_filters()
    )
    awaited = (
        report_queries.awaited_count(db.session, actor=actor)
        if actor.visible_enterprise_ids() is not None
        else 0
    )
    return render_template(
        "agreements/report_list.html",
        page=page,
        awaited=awaited,
        args=request.args,
        statuses=list(ReportStatus),
        enterprises=_enterprise_choices() if actor.visible_enterprise_ids() is None else [],
        can_request=actor.has_role(*reports.BUREAU),
        can_file=actor.has_role(*reports.FILERS),
    )


def _own_enterprise_id() -> int | None:
    """The enterprise a new report is for: an enterprise user's own; the office chooses."""
    actor = current_actor()
    if actor.visible_enterprise_ids() is not None:
        return actor.enterprise_id
    return request.values.get("enterprise", type=int)


@bp.route("/stock-reports/new", methods=["GET", "POST"])
def report_create():
    actor = current_actor()
    corrects_id = request.values.get("corrects", type=int)
    corrected = reports.get_report(db.session, corrects_id, actor=actor) if corrects_id else None
    enterprise_id = corrected.enterprise_id if corrected else _own_enterprise_id()
    if enterprise_id is None:  # the office first chooses whose report it types in
        return render_template("agreements/report_choose.html", enterprises=_enterprise_choices())
    enterprise = get_enterprise(db.session, enterprise_id, actor=actor)
    lines = reports.stock_lines(db.session, enterprise.id)
    form = ReportForm(period_month=local_today().replace(day=1) if not corrected else None)
    if request.method == "GET":
        held = {line.agreement_line_id: line for line in corrected.lines} if corrected else None
        form.prefill(lines, held)
    if form.validate_on_submit() and (
        done := run_form(
            form,
            lambda session: reports.create_report(
                session, data=form.to_data(enterprise.id), actor=actor, corrects_id=corrects_id
            ),
            success=lambda report: _(
                "Stock report %(no)s saved as a draft. Check it, then submit it.", no=report.no
            ),
            to=lambda report: url_for("reports.report_detail", report_id=report.id),
        )
    ):
        return done
    return _render_report_form(form, enterprise, lines, corrected=corrected)


def _render_report_form(form, enterprise, lines, *, report=None, corrected=None):
    return render_template(
        "agreements/report_form.html",
        form=form,
        enterprise=enterprise,
        lines={line.id: line for line in lines},
        report=report,
        corrected=corrected,
    )


@bp.route("/stock-reports/<int:report_id>/edit", methods=["GET", "POST"])
def report_edit(report_id: int):
    actor = current_actor()
    report = reports.get_report(db.session, report_id, actor=actor)
    if report.is_submitted:
        return redirect(url_for("reports.report_detail", report_id=report.id))
    lines = reports.stock_lines(db.session, report.enterprise_id)
    form = ReportForm(obj=None)
    if request.method == "GET":
        form.note.data = report.note
        form.prefill(lines, {line.agreement_line_id: line for line in report.lines})
    if form.validate_on_submit() and (
        done := run_form(
            form,
            lambda session: reports.fill_report(
                session, report_id=report_id, data=form.to_data(None), actor=actor
            ),
            success=_("Stock report %(no)s saved. Check it, then submit it.", no=report.no),
            to=url_for("reports.report_detail", report_id=report_id),
        )
    ):
        return done
    return _render_report_form(form, report.enterprise, lines, report=report)


@bp.route("/stock-reports/request", methods=["GET", "POST"])
def report_request():
    form = RequestForm(enterprise_id=request.args.get("enterprise", type=int))
    form.set_choices(_enterprise_choices())
    if form.validate_on_submit() and (
        done := run_form(
            form,
            lambda session: reports.request_report(
                session,
                enterprise_id=form.enterprise_id.data,
                due_on=form.due_on.data,
                message=form.message.data,
                actor=current_actor(),
            ),
            success=lambda report: _(
                "Stock report %(no)s requested from %(name)s.",
                no=report.no,
                name=report.enterprise.name,
            ),
            to=lambda report: url_for("reports.report_detail", report_id=report.id),
        )
    ):
        return done
    return render_template("agreements/report_request.html", form=form)


@bp.get("/stock-reports/<int:report_id>")
def report_detail(report_id: int):
    actor = current_actor()
    report = reports.get_report(db.session, report_id, actor=actor)
    filer = actor.has_role(*reports.FILERS)
    return render_template(
        "agreements/report_detail.html",
        report=report,
        lines=report_queries.report_lines(db.session, report.id),
        can_fill=filer and not report.is_submitted,
        can_submit=filer and report.status == ReportStatus.DRAFT.value,
        can_correct=filer and report.is_submitted,
    )


@bp.post("/stock-reports/<int:report_id>/submit")
def report_submit(report_id: int):
    return run_and_redirect(
        lambda session: reports.submit_report(session, report_id=report_id, actor=current_actor()),
        success=lambda report: _("Stock report %(no)s submitted.", no=report.no),
        to=url_for("reports.report_detail", report_id=report_id),
    )


# Verifications ---------------------------------------------------------------------------------


@bp.get("/verifications")
def verification_list():
    actor = current_actor()
    page = report_queries.verification_page(
        db.session, actor=actor, after=request.args.get("after"), **_filters()
    )
    return render_template(
        "agreements/verification_list.html",
        page=page,
        args=request.args,
        statuses=list(VerificationStatus),
        enterprises=_enterprise_choices() if actor.visible_enterprise_ids() is None else [],
        can_plan=actor.has_role(*reports.BUREAU),
    )


@bp.route("/verifications/new", methods=["GET", "POST"])
def verification_create():
    actor = current_actor()
    corrects_id = request.values.get("corrects", type=int)
    corrected = (
        reports.get_verification(db.session, corrects_id, actor=actor) if corrects_id else None
    )
    form = PlanForm(
        enterprise_id=corrected.enterprise_id
        if corrected
        else request.args.get("enterprise", type=int),
        inspectors=corrected.inspectors if corrected else None,
        corrects_id=corrects_id,
    )
    form.set_choices(_enterprise_choices())
    if form.validate_on_submit() and (
        done := run_form(
            form,
            lambda session: reports.plan_verification(session, data=form.to_data(), actor=actor),
            success=lambda v: _(
                "Verification %(no)s planned. Add photos and record the count after the check.",
                no=v.no,
            ),
            to=lambda v: url_for("reports.verification_detail", verification_id=v.id),
        )
    ):
        return done
    return render_template("agreements/verification_form.html", form=form, corrected=corrected)


def _render_verification(verification, record_form=None, status=200):
    actor = current_actor()
    bureau = actor.has_role(*reports.BUREAU)
    planned = verification.status == VerificationStatus.PLANNED.value
    lines = reports.stock_lines(db.session, verification.enterprise_id) if planned else []
    if record_form is None and planned and bureau:
        record_form = RecordForm().prefill(lines)
    return (
        render_template(
            "agreements/verification_detail.html",
            verification=verification,
            lines=report_queries.verification_lines(db.session, verification.id),
            open_lines={line.id: line for line in lines},
            photos=report_queries.photo_rows(db.session, verification.id),
            record_form=record_form if planned and bureau else None,
            cancel_form=CancelForm() if planned and bureau else None,
            can_attach=planned and bureau,
            can_correct=bureau and verification.status == VerificationStatus.RECORDED.value,
            max_attachment_mb=store().max_bytes // (1024 * 1024),
        ),
        status,
    )


@bp.get("/verifications/<int:verification_id>")
def verification_detail(verification_id: int):
    verification = reports.get_verification(db.session, verification_id, actor=current_actor())
    return _render_verification(verification)


@bp.post("/verifications/<int:verification_id>/record")
def verification_record(verification_id: int):
    actor = current_actor()
    verification = reports.get_verification(db.session, verification_id, actor=actor)
    form = RecordForm()
    if form.validate_on_submit() and (
        done := run_form(
            form,
            lambda session: reports.record_verification(
                session, verification_id=verification_id, data=form.to_data(), actor=actor
            ),
            success=lambda v: _(
                "Verification %(no)s recorded: %(result)s.", no=v.no, result=v.result_label
            ),
            to=url_for("reports.verification_detail", verification_id=verification_id),
        )
    ):
        return done
    db.session.expire_all()
    return _render_verification(verification, form, status=422)


@bp.post("/verifications/<int:verification_id>/cancel")
def verification_cancel(verification_id: int):
    return run_and_redirect(
        lambda session: reports.cancel_verification(
            session,
            verification_id=verification_id,
            reason=request.form.get("reason"),
            actor=current_actor(),
        ),
        success=lambda v: _("Verification %(no)s cancelled.", no=v.no),
        to=url_for("reports.verification_detail", verification_id=verification_id),
    )


@bp.post("/verifications/<int:verification_id>/photos")
def photo_upload(verification_id: int):
    filename, content = uploaded_file()
    return run_and_redirect(
        lambda session: reports.add_photo(
            session,
            verification_id=verification_id,
            filename=filename,
            content=content,
            actor=current_actor(),
            store=store(),
        ),
        success=lambda photo: _("Attached %(name)s.", name=photo.filename),
        to=url_for(
            "reports.verification_detail", verification_id=verification_id, _anchor="photos"
        ),
    )


@bp.get("/verifications/<int:verification_id>/photos/<int:attachment_id>")
def photo_download(verification_id: int, attachment_id: int):
    photo = reports.get_photo(
        db.session,
        verification_id=verification_id,
        attachment_id=attachment_id,
        actor=current_actor(),
    )
    return send_attachment(photo, store().path_for(photo))


@bp.app_template_global()
def report_kind_label(kind: str):
    return ReportKind(kind).label


@bp.app_template_global()
def report_status_label(status: str):
    return ReportStatus(status).label


@bp.app_template_global()
def verification_status_label(status: str):
    return VerificationStatus(status).label
