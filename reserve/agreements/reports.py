"""库存申报 and 核查: the enterprise's word and the bureau's count of the stock held for it.

Stock reports (``StockReport``): the bureau may *request* one (status requested, due date,
message); the enterprise fills a draft (from the request, or on its own for a month) and
submits it. A submitted report is never edited: a correction is a new report naming the one
it corrects. One monthly report per enterprise and month (a partial unique index; corrections
are outside it).

Verifications (``Verification``): the bureau plans a check (date, inspectors), adds photos,
then records it: checked date, counted quantity and 合格/不合格 per line (by default failed when
counted < committed − shipped), the overall result (failed if any line failed) and findings.
Recorded is final; a correction is a new verification naming the one it corrects.

Evidence (the contract in ``AgreementLine``'s docstring): submitting a report or recording a
verification writes the line's ``reported_*`` / ``verified_*`` columns and its cap in the same
transaction, with ONE UPDATE per line that reads ``shipped_qty`` in SQL (``capped_qty = :held
+ shipped_qty``), so a call-up shipping meanwhile is never lost:

- a report below commitment (held + shipped < committed) caps the line at held + shipped; one
  that meets it clears the cap, unless the newest verification failed (that cap stays);
- a failed verification, or one that counted less than committed − shipped, caps the line at
  counted + shipped; a passed one that counted enough clears the cap.

Only stock lines (kind ``stock``) of agreements in force take reports and verifications.

Who may: reports are filed by the enterprise (its own only), or by the bureau's agreement
writers (admin, dispatcher) typing in a paper report; requests, plans, records and photos are
the agreement writers'. Everyone who sees the enterprise reads them (an enterprise user: its
own; a keeper-only user: none)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from reserve.agreements.models import (
    Agreement,
    AgreementLine,
    AgreementStatus,
    Enterprise,
    EnterpriseStatus,
    LineKind,
)
from reserve.agreements.report_models import (
    ReportKind,
    ReportStatus,
    StockReport,
    StockReportLine,
    Verification,
    VerificationAttachment,
    VerificationLine,
    VerificationStatus,
)
from reserve.audit.service import record
from reserve.auth.actor import Actor
from reserve.auth.models import Role
from reserve.catalog.models import Material
from reserve.db import local_today, utcnow
from reserve.documents import check_line_count, line_error, stamp, transition
from reserve.errors import Conflict, Forbidden, NotFound, ReserveError, ValidationError
from reserve.files import AttachmentStore, keep_attachment
from reserve.forms import MAX_INT
from reserve.stock.numbering import next_yearly_document_no
from reserve.texts import check_length, clean_text

BUREAU = (Role.ADMIN, Role.DISPATCHER)  # request reports; plan and record verifications
FILERS = (Role.ADMIN, Role.DISPATCHER, Role.ENTERPRISE)  # fill and submit stock reports
MAX_PHOTOS = 20


@dataclass(frozen=True)
class ReportLineData:
    """One row of a stock report: the stock agreement line and the quantity held on it."""

    agreement_line_id: int | None
    held_qty: int | None
    batch_no: str | None = None
    expiry_on: date | None = None
    note: str | None = None


@dataclass(frozen=True)
class ReportData:
    """A stock report as the form and the API deliver it. ``period_month`` (any day of the
    month) for a monthly report; a requested one or a correction keeps what it answers."""

    enterprise_id: int | None
    period_month: date | None = None
    note: str | None = None
    lines: tuple[ReportLineData, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class PlanData:
    enterprise_id: int | None
    planned_on: date | None
    inspectors: str | None
    corrects_id: int | None = None


@dataclass(frozen=True)
class CountData:
    """What was counted on one line; ``passed`` None means the default rule (failed when
    counted < committed − shipped)."""

    agreement_line_id: int | None
    counted_qty: int | None
    passed: bool | None = None
    note: str | None = None


@dataclass(frozen=True)
class RecordData:
    checked_on: date | None
    findings: str | None = None
    lines: tuple[CountData, ...] = field(default_factory=tuple)


# Shared checks --------------------------------------------------------------------------------


def _in_force(today: date):
    return and_(
        Agreement.status == AgreementStatus.ACTIVE.value,
        Agreement.valid_from <= today,
        Agreement.valid_to >= today,
    )


def month_start(day: date) -> date:
    return day.replace(day=1)


def _enterprise(session: Session, enterprise_id: int | None, actor: Actor) -> Enterprise:
    """The enterprise a report or verification is of: one the actor sees."""
    enterprise = session.get(Enterprise, enterprise_id) if enterprise_id else None
    if enterprise is None or not actor.may_see_enterprise(enterprise.id):
        raise ValidationError(_l("Choose the enterprise."), field="enterprise_id")
    return enterprise


def stock_lines(session: Session, enterprise_id: int, *, today: date | None = None, lock=False):
    """The stock lines (实物代储) of the enterprise's agreements in force, in agreement and line
    order, with the agreement's number, the material and the evidence columns."""
    stmt = (
        select(
            AgreementLine.id,
            AgreementLine.agreement_id,
            Agreement.no.label("agreement_no"),
            AgreementLine.line_no,
            Material.code.label("material_code"),
            Material.name.label("material_name"),
            Material.unit,
            AgreementLine.committed_qty,
            AgreementLine.shipped_qty,
            AgreementLine.reported_qty,
            AgreementLine.reported_at,
            AgreementLine.verified_qty,
            AgreementLine.verified_on,
            AgreementLine.verification_passed,
        )
        .join(Agreement, Agreement.id == AgreementLine.agreement_id)
        .join(Material, Material.id == AgreementLine.material_id)
        .where(
            Agreement.enterprise_id == enterprise_id,
            AgreementLine.kind == LineKind.STOCK.value,
            _in_force(today or local_today()),
        )
        .order_by(Agreement.no, AgreementLine.line_no)
    )
    if lock:
        stmt = stmt.with_for_update(of=AgreementLine)
    return list(session.execute(stmt))


def _check_lines(
    session: Session, enterprise: Enterprise, rows, *, lock: bool = False
) -> dict[int, object]:
    """Each row names a different stock line of the enterprise's agreements in force; returns
    those lines by id (``stock_lines`` rows)."""
    check_line_count(rows, empty=_l("Give the quantity of at least one line."))
    open_lines = {row.id: row for row in stock_lines(session, enterprise.id, lock=lock)}
    seen: set[int] = set()
    for n, row in enumerate(rows, start=1):
        line_id = row.agreement_line_id
        try:
            if line_id not in open_lines:
                raise ValidationError(
                    _why_not(session, enterprise, line_id), field="agreement_line_id"
                )
            if line_id in seen:
                raise ValidationError(
                    _l("this agreement line is already on another row."), field="agreement_line_id"
                )
        except ReserveError as error:
            raise line_error(n, error, field=f"lines-{n - 1}-{error.field}") from None
        seen.add(line_id)
    return open_lines


def _why_not(session: Session, enterprise: Enterprise, line_id: int | None):
    """Why a line takes no report or count: another enterprise's (said as "not one of its",
    naming nothing of the other), a capacity line, or an agreement not in force."""
    line = session.get(AgreementLine, line_id) if line_id else None
    if line is None or line.agreement.enterprise_id != enterprise.id:
        return _l("this is not a line of %(name)s's agreements.", name=enterprise.name)
    if line.kind != LineKind.STOCK.value:
        return _l(
            "line %(n)s of agreement %(no)s is production capacity; only stock held is "
            "reported and counted.",
            n=line.line_no,
            no=line.agreement.no,
        )
    return _l(
        "agreement %(no)s is %(status)s, not in force; its lines take no report or count.",
        no=line.agreement.no,
        status=line.agreement.status_label,
    )


def _quantity(value: int | None, name: str, message) -> None:
    if value is None or isinstance(value, bool) or value < 0 or value > MAX_INT:
        raise ValidationError(message, field=name)


# Stock reports (库存申报) -----------------------------------------------------------------------


def get_report(session: Session, report_id: int, *, actor: Actor) -> StockReport:
    """查看库存申报：whoever sees its enterprise; another enterprise's is "no such report"."""
    if not actor.may_see_some_enterprise:
        raise Forbidden()
    report = session.get(StockReport, report_id)
    if report is None or not actor.may_see_enterprise(report.enterprise_id):
        raise NotFound(_l("No such stock report."))
    return report


def _report_json(report: StockReport) -> dict:
    return {
        "no": report.no,
        "enterprise_id": report.enterprise_id,
        "kind": report.kind,
        "status": report.status,
        "period_month": report.period_month.isoformat() if report.period_month else None,
        "due_on": report.due_on.isoformat() if report.due_on else None,
        "corrects_id": report.corrects_id,
        "note": report.note,
        "lines": [
            {
                "agreement_line_id": line.agreement_line_id,
                "committed_qty": line.committed_qty,
                "held_qty": line.held_qty,
                "batch_no": line.batch_no,
                "expiry_on": line.expiry_on.isoformat() if line.expiry_on else None,
                "note": line.note,
            }
            for line in report.lines
        ],
    }


def request_report(
    session: Session,
    *,
    enterprise_id: int | None,
    due_on: date | None,
    message: str | None,
    actor: Actor,
) -> StockReport:
    """要求企业申报：the bureau asks an enterprise to report its stock by a date."""
    actor.require_role(*BUREAU)
    enterprise = _enterprise(session, enterprise_id, actor)
    if enterprise.status != EnterpriseStatus.ACTIVE.value:
        raise Conflict(
            _l("%(name)s is suspended; it is asked for nothing.", name=enterprise.name),
            field="enterprise_id",
        )
    if due_on is None:
        raise ValidationError(_l("Give the date the report is due."), field="due_on")
    if due_on < local_today():
        raise ValidationError(_l("The due date cannot be in the past."), field="due_on")
    message = clean_text(message)
    check_length(message, StockReport.request_message, "message")
    if not stock_lines(session, enterprise.id):
        raise Conflict(
            _l("%(name)s holds no stock under an agreement in force.", name=enterprise.name),
            field="enterprise_id",
        )
    now = utcnow()
    report = StockReport(
        no=next_yearly_document_no(session, "stock_report", local_today().year),
        enterprise_id=enterprise.id,
        kind=ReportKind.REQUESTED.value,
        status=ReportStatus.REQUESTED.value,
        due_on=due_on,
        request_message=message,
        **stamp("requested", actor, now),
        **stamp("created", actor, now),
    )
    session.add(report)
    session.flush()
    record(
        session,
        actor=actor,
        action="request",
        obj=report,
        label=report.no,
        after={"enterprise_id": enterprise.id, "due_on": due_on.isoformat(), "message": message},
    )
    return report


def _check_report(session: Session, report_enterprise: Enterprise, data: ReportData) -> None:
    note = clean_text(data.note)
    check_length(note, StockReport.note, "note")
    for n, row in enumerate(data.lines, start=1):
        try:
            _quantity(
                row.held_qty,
                "held_qty",
                _l("The quantity held must be a whole number, 0 or more."),
            )
            check_length(clean_text(row.batch_no), StockReportLine.batch_no, "batch_no")
            check_length(clean_text(row.note), StockReportLine.note, "note")
        except ReserveError as error:
            raise line_error(n, error, field=f"lines-{n - 1}-{error.field}") from None
    _check_lines(session, report_enterprise, data.lines)


def _put_lines(session: Session, report: StockReport, data: ReportData) -> None:
    committed = {row.id: row.committed_qty for row in stock_lines(session, report.enterprise_id)}
    report.note = clean_text(data.note)
    report.lines.clear()
    session.flush()  # the old lines go first: (report, line_no) stays unique
    report.lines.extend(
        StockReportLine(
            line_no=n,
            agreement_line_id=row.agreement_line_id,
            committed_qty=committed[row.agreement_line_id],
            held_qty=row.held_qty,
            batch_no=clean_text(row.batch_no),
            expiry_on=row.expiry_on,
            note=clean_text(row.note),
        )
        for n, row in enumerate(data.lines, start=1)
    )
    session.flush()


def create_report(
    session: Session, *, data: ReportData, actor: Actor, corrects_id: int | None = None
) -> StockReport:
    """填写库存申报：a draft — monthly (for ``period_month``) or, with ``corrects_id``, the
    correction of a submitted report (same enterprise, same month or request)."""
    actor.require_role(*FILERS)
    corrected, month = None, None
    if corrects_id is not None:
        corrected = get_report(session, corrects_id, actor=actor)
        if not corrected.is_submitted:
            raise Conflict(
                _l(
                    "Stock report %(no)s is not submitted yet; change it instead of correcting it.",
                    no=corrected.no,
                ),
                field="corrects_id",
            )
        enterprise = corrected.enterprise
        if data.enterprise_id not in (None, enterprise.id):
            raise ValidationError(
                _l("A correction is of the same enterprise as the report it corrects."),
                field="enterprise_id",
            )
    else:
        enterprise = _enterprise(session, data.enterprise_id, actor)
    if corrected is None:
        if data.period_month is None:
            raise ValidationError(_l("Give the month reported."), field="period_month")
        month = month_start(data.period_month)
        if month > month_start(local_today()):
            raise ValidationError(
                _l("A month that has not begun cannot be reported."), field="period_month"
            )
        _refuse_second_monthly(session, enterprise, month)
    _check_report(session, enterprise, data)
    report = StockReport(
        no=next_yearly_document_no(session, "stock_report", local_today().year),
        enterprise_id=enterprise.id,
        kind=corrected.kind if corrected else ReportKind.MONTHLY.value,
        status=ReportStatus.DRAFT.value,
        period_month=corrected.period_month if corrected else month,
        due_on=corrected.due_on if corrected else None,
        corrects_id=corrected.id if corrected else None,
        **stamp("created", actor),
    )
    try:
        with session.begin_nested():
            session.add(report)
            session.flush()
    except IntegrityError:  # the same month filed at the same moment
        if month is not None:
            _refuse_second_monthly(session, enterprise, month)
        raise
    _put_lines(session, report, data)
    record(
        session,
        actor=actor,
        action="create",
        obj=report,
        label=report.no,
        after=_report_json(report),
    )
    return report


def _refuse_second_monthly(session: Session, enterprise: Enterprise, month: date) -> None:
    existing = session.scalar(
        select(StockReport.no).where(
            StockReport.enterprise_id == enterprise.id,
            StockReport.kind == ReportKind.MONTHLY.value,
            StockReport.period_month == month,
            StockReport.corrects_id.is_(None),
        )
    )
    if existing is not None:
        raise Conflict(
            _l(
                "The report of %(name)s for %(month)s is %(no)s already; open it, or file a "
                "correction of it once submitted.",
                name=enterprise.name,
                month=f"{month:%Y-%m}",
                no=existing,
            ),
            field="period_month",
        )


def fill_report(session: Session, *, report_id: int, data: ReportData, actor: Actor) -> StockReport:
    """修改申报草稿 / 填报：the lines of a requested report or a draft (claimed: a submission
    at the same moment wins or waits). A submitted report is never changed."""
    actor.require_role(*FILERS)
    report = get_report(session, report_id, actor=actor)
    if data.enterprise_id not in (None, report.enterprise_id):
        raise ValidationError(
            _l("A report stays with the enterprise it was opened for."), field="enterprise_id"
        )
    if report.is_submitted:
        raise Conflict(
            _l(
                "Stock report %(no)s is submitted and is never changed; file a correction.",
                no=report.no,
            )
        )
    _check_report(session, report.enterprise, data)
    before = _report_json(report)
    report = transition(
        session,
        StockReport,
        report.id,
        from_states=(ReportStatus.REQUESTED.value, ReportStatus.DRAFT.value),
        to_state=ReportStatus.DRAFT.value,
    )
    _put_lines(session, report, data)
    after = _report_json(report)
    keys = [k for k in after if before.get(k) != after.get(k)]
    record(
        session,
        actor=actor,
        action="update",
        obj=report,
        label=report.no,
        before={k: before[k] for k in keys},
        after={k: after[k] for k in keys},
    )
    return report


def submit_report(session: Session, *, report_id: int, actor: Actor) -> StockReport:
    """提交库存申报：the draft becomes final, and each line's evidence columns are written in
    the same transaction (see the module's docstring)."""
    actor.require_role(*FILERS)
    report = get_report(session, report_id, actor=actor)
    if report.status == ReportStatus.REQUESTED.value:
        raise Conflict(_l("Fill in the quantities held before submitting."), field="lines")
    # The agreements may have ended or been terminated since the draft was saved.
    _check_lines(session, report.enterprise, report.lines)
    at = utcnow()
    report = transition(
        session,
        StockReport,
        report.id,
        from_states=(ReportStatus.DRAFT.value,),
        to_state=ReportStatus.SUBMITTED.value,
        values=stamp("submitted", actor, at),
    )
    for line in report.lines:
        write_report_evidence(
            session, agreement_line_id=line.agreement_line_id, held=line.held_qty, at=at
        )
    record(session, actor=actor, action="submit", obj=report, label=report.no)
    return report


def file_report(
    session: Session,
    *,
    data: ReportData,
    actor: Actor,
    report_id: int | None = None,
    corrects_id: int | None = None,
) -> StockReport:
    """申报并提交：fill (a request, given ``report_id``) or create a report and submit it at
    once (an enterprise's own system, through the API)."""
    if report_id is not None:
        report = fill_report(session, report_id=report_id, data=data, actor=actor)
    else:
        report = create_report(session, data=data, actor=actor, corrects_id=corrects_id)
    return submit_report(session, report_id=report.id, actor=actor)


def write_report_evidence(
    session: Session, *, agreement_line_id: int, held: int, at: datetime
) -> None:
    """The newest report on the line: reported qty and time, and the cap (below commitment:
    held + shipped; meeting it: none, unless the newest verification failed). One UPDATE
    reading ``shipped_qty`` in SQL; a report older than the one the line carries changes
    nothing."""
    line = AgreementLine
    held_now = sa.literal(held, sa.BigInteger) + line.shipped_qty
    session.execute(
        update(line)
        .where(
            line.id == agreement_line_id,
            line.kind == LineKind.STOCK.value,
            or_(line.reported_at.is_(None), line.reported_at <= at),
        )
        .values(
            reported_qty=held,
            reported_at=at,
            capped_qty=sa.case(
                (held_now < line.committed_qty, held_now),
                (line.verification_passed == sa.false(), line.capped_qty),
                else_=sa.null(),
            ),
        )
        .execution_options(synchronize_session=False)
    )


# Verifications (核查) ---------------------------------------------------------------------------


def get_verification(session: Session, verification_id: int, *, actor: Actor) -> Verification:
    """查看核查：whoever sees its enterprise; another enterprise's is "no such verification"."""
    if not actor.may_see_some_enterprise:
        raise Forbidden()
    verification = session.get(Verification, verification_id)
    if verification is None or not actor.may_see_enterprise(verification.enterprise_id):
        raise NotFound(_l("No such verification."))
    return verification


def plan_verification(session: Session, *, data: PlanData, actor: Actor) -> Verification:
    """计划核查：a check of an enterprise on a date, by named inspectors (or, with
    ``corrects_id``, the correction of a recorded one)."""
    actor.require_role(*BUREAU)
    corrected = None
    if data.corrects_id is not None:
        corrected = get_verification(session, data.corrects_id, actor=actor)
        if corrected.status != VerificationStatus.RECORDED.value:
            raise Conflict(_l("Only a recorded verification is corrected."), field="corrects_id")
        if data.enterprise_id not in (None, corrected.enterprise_id):
            raise ValidationError(
                _l("A correction is of the same enterprise as the verification it corrects."),
                field="enterprise_id",
            )
        enterprise = corrected.enterprise
    else:
        enterprise = _enterprise(session, data.enterprise_id, actor)
    if data.planned_on is None:
        raise ValidationError(_l("Give the date of the check."), field="planned_on")
    inspectors = clean_text(data.inspectors)
    if not inspectors:
        raise ValidationError(_l("Name the inspectors."), field="inspectors")
    check_length(inspectors, Verification.inspectors, "inspectors")
    if not stock_lines(session, enterprise.id):
        raise Conflict(
            _l("%(name)s holds no stock under an agreement in force.", name=enterprise.name),
            field="enterprise_id",
        )
    verification = Verification(
        no=next_yearly_document_no(session, "verification", local_today().year),
        enterprise_id=enterprise.id,
        status=VerificationStatus.PLANNED.value,
        planned_on=data.planned_on,
        inspectors=inspectors,
        corrects_id=corrected.id if corrected else None,
        **stamp("created", actor),
    )
    session.add(verification)
    session.flush()
    record(
        session,
        actor=actor,
        action="plan",
        obj=verification,
        label=verification.no,
        after={
            "enterprise_id": enterprise.id,
            "planned_on": data.planned_on.isoformat(),
            "inspectors": inspectors,
            "corrects_id": verification.corrects_id,
        },
    )
    return verification


def default_passed(counted: int, committed: int, shipped: int) -> bool:
    """合格 unless fewer were counted than committed − shipped."""
    return counted >= committed - shipped


def record_verification(
    session: Session, *, verification_id: int, data: RecordData, actor: Actor
) -> Verification:
    """记录核查结果：counted quantities and results per line, the overall result, findings.
    Final once recorded; writes each line's evidence columns in the same transaction."""
    actor.require_role(*BUREAU)
    verification = get_verification(session, verification_id, actor=actor)
    if verification.status == VerificationStatus.RECORDED.value:
        raise Conflict(
            _l(
                "Verification %(no)s is recorded and is never changed; plan a correction.",
                no=verification.no,
            )
        )
    if verification.status != VerificationStatus.PLANNED.value:
        raise Conflict(
            _l(
                "Verification %(no)s was cancelled; plan a new one.",
                no=verification.no,
            )
        )
    if data.checked_on is None:
        raise ValidationError(_l("Give the date of the check."), field="checked_on")
    if data.checked_on > local_today():
        raise ValidationError(
            _l("A check cannot be recorded before it happens."), field="checked_on"
        )
    findings = clean_text(data.findings)
    check_length(findings, Verification.findings, "findings")
    for n, row in enumerate(data.lines, start=1):
        try:
            _quantity(
                row.counted_qty,
                "counted_qty",
                _l("The quantity counted must be a whole number, 0 or more."),
            )
            check_length(clean_text(row.note), VerificationLine.note, "note")
        except ReserveError as error:
            raise line_error(n, error, field=f"lines-{n - 1}-{error.field}") from None
    lines = _check_lines(session, verification.enterprise, data.lines, lock=True)
    results = []
    for row in data.lines:
        line = lines[row.agreement_line_id]
        passed = (
            row.passed
            if row.passed is not None
            else default_passed(row.counted_qty, line.committed_qty, line.shipped_qty)
        )
        results.append((row, line, passed))
    overall = all(passed for _row, _line, passed in results)
    verification = transition(
        session,
        Verification,
        verification.id,
        from_states=(VerificationStatus.PLANNED.value,),
        to_state=VerificationStatus.RECORDED.value,
        values={
            **stamp("recorded", actor),
            "checked_on": data.checked_on,
            "passed": overall,
            "findings": findings,
        },
    )
    verification.lines.extend(
        VerificationLine(
            line_no=n,
            agreement_line_id=row.agreement_line_id,
            committed_qty=line.committed_qty,
            shipped_qty=line.shipped_qty,
            counted_qty=row.counted_qty,
            passed=passed,
            note=clean_text(row.note),
        )
        for n, (row, line, passed) in enumerate(results, start=1)
    )
    session.flush()
    for row, _line, passed in results:
        write_verification_evidence(
            session,
            agreement_line_id=row.agreement_line_id,
            counted=row.counted_qty,
            checked_on=data.checked_on,
            passed=passed,
        )
    record(
        session,
        actor=actor,
        action="record",
        obj=verification,
        label=verification.no,
        after={
            "checked_on": data.checked_on.isoformat(),
            "passed": overall,
            "findings": findings,
            "lines": [
                {
                    "agreement_line_id": row.agreement_line_id,
                    "counted_qty": row.counted_qty,
                    "passed": passed,
                }
                for row, _line, passed in results
            ],
        },
    )
    return verification


def write_verification_evidence(
    session: Session, *, agreement_line_id: int, counted: int, checked_on: date, passed: bool
) -> None:
    """The newest verification on the line: counted qty, date and result, and the cap (failed,
    or counted short: counted + shipped; otherwise none). One UPDATE reading ``shipped_qty``
    in SQL."""
    line = AgreementLine
    counted_now = sa.literal(counted, sa.BigInteger) + line.shipped_qty
    cap = (
        counted_now
        if not passed
        else sa.case((counted_now < line.committed_qty, counted_now), else_=sa.null())
    )
    session.execute(
        update(line)
        .where(line.id == agreement_line_id, line.kind == LineKind.STOCK.value)
        .values(
            verified_qty=counted,
            verified_on=checked_on,
            verification_passed=passed,
            capped_qty=cap,
        )
        .execution_options(synchronize_session=False)
    )


def cancel_verification(
    session: Session, *, verification_id: int, reason: str | None, actor: Actor
) -> Verification:
    """取消核查：a planned check that will not happen, with the reason."""
    actor.require_role(*BUREAU)
    verification = get_verification(session, verification_id, actor=actor)
    reason = clean_text(reason)
    if not reason:
        raise ValidationError(_l("Say why the check is cancelled."), field="reason")
    check_length(reason, Verification.cancel_reason, "reason")
    verification = transition(
        session,
        Verification,
        verification.id,
        from_states=(VerificationStatus.PLANNED.value,),
        to_state=VerificationStatus.CANCELLED.value,
        values={**stamp("cancelled", actor), "cancel_reason": reason},
    )
    record(
        session,
        actor=actor,
        action="cancel",
        obj=verification,
        label=verification.no,
        after={"cancel_reason": reason},
    )
    return verification


def add_photo(
    session: Session,
    *,
    verification_id: int,
    filename: str | None,
    content: bytes,
    actor: Actor,
    store: AttachmentStore,
) -> VerificationAttachment:
    """上传核查照片：photos (or a scanned record) of a planned check, kept under the rules of
    ``reserve.files``; a recorded verification is final and takes none."""
    actor.require_role(*BUREAU)
    verification = get_verification(session, verification_id, actor=actor)
    if verification.status != VerificationStatus.PLANNED.value:
        raise Conflict(
            _l(
                "Verification %(no)s is %(status)s; it takes no more photos.",
                no=verification.no,
                status=verification.status_label,
            ),
            field="file",
        )
    # Claim it: a recording at the same moment wins or waits, never a photo after the record.
    transition(
        session,
        Verification,
        verification.id,
        from_states=(VerificationStatus.PLANNED.value,),
        to_state=VerificationStatus.PLANNED.value,
    )
    return keep_attachment(
        session,
        model=VerificationAttachment,
        owner_column=VerificationAttachment.verification_id,
        owner=verification,
        filename=filename,
        content=content,
        actor=actor,
        store=store,
        max_count=MAX_PHOTOS,
        too_many=_l("A verification has at most %(n)s photos.", n=MAX_PHOTOS),
    )


def get_photo(
    session: Session, *, verification_id: int, attachment_id: int, actor: Actor
) -> VerificationAttachment:
    """核查照片: only for whoever sees the verification."""
    verification = get_verification(session, verification_id, actor=actor)
    photo = session.get(VerificationAttachment, attachment_id)
    if photo is None or photo.verification_id != verification.id:
        raise NotFound(_l("No such attachment."))
    return photo
