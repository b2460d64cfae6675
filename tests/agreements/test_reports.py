"""库存申报 and 核查, the services: lifecycle, immutability, corrections, the evidence columns
and the cap they put on a line (with goods shipped by hand), and bad input that changes
nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from reserve.agreements import reports, signing
from reserve.agreements.models import AgreementLine
from reserve.agreements.report_models import (
    StockReport,
    StockReportLine,
    Verification,
    VerificationAttachment,
    VerificationLine,
)
from reserve.agreements.reports import CountData, PlanData, RecordData, ReportData, ReportLineData
from reserve.audit.models import AuditEntry
from reserve.auth.actor import Actor
from reserve.auth.models import Role
from reserve.errors import Conflict, Forbidden, NotFound, ValidationError
from reserve.files import AttachmentStore
from tests.agreements.conftest import TODAY, capacity, days

from .test_attachments import HTML, PDF, PNG


@pytest.fixture
def lines(db, make_agreement, site):
    """An agreement in force for the own enterprise (water 1000 in stock, quilts as capacity)
    and one of the other enterprise (water 500)."""
    own = make_agreement(
        activate=True,
        lines=(
            signing.LineData(material_id=site.water.id, kind="stock", committed_qty=1000),
            capacity(site.quilt.id),
        ),
    )
    other = make_agreement(
        activate=True,
        no="XY-2026-002",
        enterprise_id=site.other.id,
        lines=(signing.LineData(material_id=site.water.id, kind="stock", committed_qty=500),),
    )

    class Lines:
        agreement = own
        stock = own.lines[0]
        capacity_line = own.lines[1]
        others = other.lines[0]
        other_agreement = other

    return Lines


@pytest.fixture
def company(site):
    """The own enterprise's portal user."""
    return Actor(
        user_id=None,
        username="tongyi",
        roles=frozenset({Role.ENTERPRISE}),
        enterprise_id=site.own.id,
    )


def _line(db, line_id) -> AgreementLine:
    return db.execute(
        select(AgreementLine)
        .where(AgreementLine.id == line_id)
        .execution_options(populate_existing=True)
    ).scalar_one()


def _ship(db, line_id, called, shipped):
    db.execute(
        update(AgreementLine)
        .where(AgreementLine.id == line_id)
        .values(called_qty=called, shipped_qty=shipped)
    )


def _counts(db):
    return tuple(
        db.scalar(select(func.count()).select_from(model))
        for model in (
            StockReport,
            StockReportLine,
            Verification,
            VerificationLine,
            VerificationAttachment,
            AuditEntry,
        )
    )


def _monthly(site, line, held, **kw) -> ReportData:
    return ReportData(
        enterprise_id=site.own.id,
        period_month=kw.pop("month", TODAY),
        lines=(ReportLineData(agreement_line_id=line.id, held_qty=held, **kw),),
    )


def _file(db, site, line, held, actor, **kw):
    return reports.file_report(db, data=_monthly(site, line, held, **kw), actor=actor)


# Stock reports ---------------------------------------------------------------------------------


def test_a_request_is_filled_and_submitted_by_the_enterprise(
    db, site, lines, system_actor, company
):
    request = reports.request_report(
        db, enterprise_id=site.own.id, due_on=days(7), message="汛前核实库存", actor=system_actor
    )
    assert request.no == f"SB{TODAY.year}-0001"
    assert (request.status, request.kind, request.due_on) == ("requested", "requested", days(7))
    data = ReportData(
        enterprise_id=None,
        lines=(
            ReportLineData(
                agreement_line_id=lines.stock.id,
                held_qty=980,
                batch_no="B2026-07",
                expiry_on=days(300),
                note="库房一",
            ),
        ),
    )
    draft = reports.fill_report(db, report_id=request.id, data=data, actor=company)
    assert draft.status == "draft" and draft.lines[0].committed_qty == 1000
    assert _line(db, lines.stock.id).reported_qty is None  # a draft is no evidence yet
    submitted = reports.submit_report(db, report_id=request.id, actor=company)
    line = _line(db, lines.stock.id)
    assert submitted.status == "submitted" and submitted.submitted_by_name == "tongyi"
    assert (line.reported_qty, line.reported_at) == (980, submitted.submitted_at)
    assert line.capped_qty == 980 and line.callable_qty == 980
    actions = db.scalars(
        select(AuditEntry.action)
        .where(AuditEntry.object_type == "stock_reports")
        .order_by(AuditEntry.id)
    ).all()
    assert actions == ["request", "update", "submit"]


def test_a_submitted_report_is_never_changed_and_a_correction_is_newer(db, site, lines, company):
    first = _file(db, site, lines.stock, 700, company)
    again = ReportData(
        enterprise_id=site.own.id,
        lines=(ReportLineData(agreement_line_id=lines.stock.id, held_qty=1000),),
    )
    before = _counts(db)
    with pytest.raises(Conflict, match="correction"):
        reports.fill_report(db, report_id=first.id, data=again, actor=company)
    with pytest.raises(Conflict, match="already submitted"):
        reports.submit_report(db, report_id=first.id, actor=company)
    assert _counts(db) == before
    assert db.get(StockReport, first.id).lines[0].held_qty == 700

    correction = reports.file_report(db, data=again, actor=company, corrects_id=first.id)
    assert correction.corrects_id == first.id
    assert correction.period_month == first.period_month and correction.kind == "monthly"
    line = _line(db, lines.stock.id)
    assert (line.reported_qty, line.capped_qty) == (1000, None)
    assert line.reported_at == correction.submitted_at > first.submitted_at


def test_one_monthly_report_per_month_unless_a_correction(db, site, lines, company):
    first = reports.create_report(db, data=_monthly(site, lines.stock, 900), actor=company)
    before = _counts(db)
    with pytest.raises(Conflict, match=first.no):
        reports.create_report(db, data=_monthly(site, lines.stock, 950), actor=company)
    assert _counts(db) == before
    with pytest.raises(Conflict, match="not submitted"):
        reports.create_report(
            db, data=_monthly(site, lines.stock, 950), actor=company, corrects_id=first.id
        )
    last_month = (TODAY.replace(day=1) - timedelta(days=1)).replace(day=15)
    earlier = reports.create_report(
        db, data=_monthly(site, lines.stock, 950, month=last_month), actor=company
    )
    assert earlier.period_month == last_month.replace(day=1)
    with pytest.raises(ValidationError, match="not begun"):
        reports.create_report(
            db, data=_monthly(site, lines.stock, 950, month=days(40)), actor=company
        )


def test_the_cap_counts_what_was_shipped_in_sql(db, site, lines, company):
    _ship(db, lines.stock.id, called=300, shipped=200)  # a call-up shipped 200 of 300
    _file(db, site, lines.stock, 700, company)  # 700 on the shelf + 200 gone = 900 < 1000
    line = _line(db, lines.stock.id)
    assert (line.reported_qty, line.capped_qty) == (700, 900)
    assert line.callable_qty == 900 - 300
    # 800 on the shelf + 200 shipped meets the 1000 committed: no cap
    reports.file_report(
        db,
        data=ReportData(
            enterprise_id=site.own.id,
            lines=(ReportLineData(agreement_line_id=lines.stock.id, held_qty=800),),
        ),
        actor=company,
        corrects_id=db.scalar(select(StockReport.id)),
    )
    line = _line(db, lines.stock.id)
    assert (line.reported_qty, line.capped_qty, line.callable_qty) == (800, None, 700)


def test_the_update_reads_shipped_qty_at_the_moment_it_runs(db, site, lines):
    """A call-up shipping after the report was read is not lost: the cap is written from the
    row's shipped_qty, not from a value read before."""
    at = reports.utcnow()
    _ship(db, lines.stock.id, called=100, shipped=100)
    reports.write_report_evidence(db, agreement_line_id=lines.stock.id, held=500, at=at)
    assert _line(db, lines.stock.id).capped_qty == 600
    # an older report than the one the line carries changes nothing
    reports.write_report_evidence(
        db, agreement_line_id=lines.stock.id, held=10, at=at - timedelta(hours=1)
    )
    assert (_line(db, lines.stock.id).reported_qty, _line(db, lines.stock.id).capped_qty) == (
        500,
        600,
    )


def _plan(db, site, actor, **kw):
    return reports.plan_verification(
        db,
        data=PlanData(
            enterprise_id=kw.pop("enterprise_id", site.own.id),
            planned_on=kw.pop("planned_on", TODAY),
            inspectors=kw.pop("inspectors", "张伟、李娜"),
            **kw,
        ),
        actor=actor,
    )


def _record(db, verification, line, counted, actor, passed=None, findings="账实相符"):
    return reports.record_verification(
        db,
        verification_id=verification.id,
        data=RecordData(
            checked_on=TODAY,
            findings=findings,
            lines=(CountData(agreement_line_id=line.id, counted_qty=counted, passed=passed),),
        ),
        actor=actor,
    )


def test_a_failed_verification_caps_until_a_passed_one_lifts_it(
    db, site, lines, system_actor, company
):
    _ship(db, lines.stock.id, called=100, shipped=50)
    planned = _plan(db, site, system_actor)
    assert planned.no == f"HC{TODAY.year}-0001" and planned.status == "planned"
    failed = _record(db, planned, lines.stock, 900, system_actor)  # 900 < 1000 − 50
    assert failed.passed is False and failed.lines[0].passed is False
    assert (failed.lines[0].committed_qty, failed.lines[0].shipped_qty) == (1000, 50)
    line = _line(db, lines.stock.id)
    assert (line.verified_qty, line.verified_on, line.verification_passed) == (900, TODAY, False)
    assert line.capped_qty == 950 and line.callable_qty == 850

    # a report meeting the commitment does not lift a failed verification's cap
    _file(db, site, lines.stock, 950, company)
    line = _line(db, lines.stock.id)
    assert (line.reported_qty, line.capped_qty) == (950, 950)

    with pytest.raises(Conflict, match="never changed"):
        _record(db, planned, lines.stock, 1000, system_actor)
    recheck = _plan(db, site, system_actor, corrects_id=failed.id)
    passed = _record(db, recheck, lines.stock, 950, system_actor)  # exactly committed − shipped
    assert passed.passed is True and passed.corrects_id == failed.id
    line = _line(db, lines.stock.id)
    assert (line.verification_passed, line.capped_qty, line.callable_qty) == (True, None, 900)


def test_one_failed_line_fails_the_check_and_the_inspector_may_judge(
    db, site, make_agreement, system_actor
):
    agreement = make_agreement(
        activate=True,
        no="XY-2026-009",
        lines=(
            signing.LineData(material_id=site.water.id, kind="stock", committed_qty=100),
            signing.LineData(material_id=site.quilt.id, kind="stock", committed_qty=50),
        ),
    )
    water, quilt = agreement.lines
    verification = reports.record_verification(
        db,
        verification_id=_plan(db, site, system_actor).id,
        data=RecordData(
            checked_on=TODAY,
            lines=(
                CountData(agreement_line_id=water.id, counted_qty=100),
                CountData(agreement_line_id=quilt.id, counted_qty=50, passed=False, note="霉变"),
            ),
        ),
        actor=system_actor,
    )
    assert [line.passed for line in verification.lines] == [True, False]
    assert verification.passed is False
    assert _line(db, quilt.id).capped_qty == 50  # failed by judgement: capped at what was counted


@pytest.mark.parametrize(
    "row, message",
    [
        (dict(held_qty=-1), "0 or more"),
        (dict(held_qty=None), "0 or more"),
        (dict(line="others"), "not a line of"),
        (dict(line="capacity_line"), "production capacity"),
        (dict(batch_no="B" * 61), "at most 60"),
    ],
)
def test_a_bad_report_row_changes_nothing(db, site, lines, company, row, message):
    line = getattr(lines, row.pop("line", "stock"))
    held = row.pop("held_qty", 10)
    before = _counts(db)
    with pytest.raises(ValidationError, match=message) as error:
        _file(db, site, line, held, company, **row)
    assert str(error.value).startswith("Line 1") or "第 1 行" in str(error.value)
    assert _counts(db) == before
    assert _line(db, lines.stock.id).reported_qty is None


def test_duplicate_lines_and_no_lines_are_refused(db, site, lines, company):
    before = _counts(db)
    row = ReportLineData(agreement_line_id=lines.stock.id, held_qty=5)
    with pytest.raises(ValidationError, match="Line 2.*another row"):
        reports.file_report(
            db,
            data=ReportData(enterprise_id=site.own.id, period_month=TODAY, lines=(row, row)),
            actor=company,
        )
    with pytest.raises(ValidationError, match="at least one"):
        reports.file_report(
            db, data=ReportData(enterprise_id=site.own.id, period_month=TODAY), actor=company
        )
    assert _counts(db) == before


def test_closed_and_expired_agreements_take_no_report(db, site, lines, system_actor, company):
    draft = reports.create_report(db, data=_monthly(site, lines.stock, 10), actor=company)
    signing.terminate_agreement(
        db, agreement_id=lines.agreement.id, reason="企业停产", actor=system_actor
    )
    before = _counts(db)
    with pytest.raises(ValidationError, match="not in force"):
        reports.submit_report(db, report_id=draft.id, actor=company)
    assert _counts(db) == before and db.get(StockReport, draft.id).status == "draft"
    # expired by date: the other enterprise's agreement ended yesterday
    db.execute(
        update(signing.Agreement)
        .where(signing.Agreement.id == lines.other_agreement.id)
        .values(valid_from=days(-100), valid_to=days(-1))
    )
    other = Actor(
        user_id=None,
        username="pulisi",
        roles=frozenset({Role.ENTERPRISE}),
        enterprise_id=site.other.id,
    )
    with pytest.raises(ValidationError, match="Expired"):
        reports.file_report(
            db,
            data=ReportData(
                enterprise_id=site.other.id,
                period_month=TODAY,
                lines=(ReportLineData(agreement_line_id=lines.others.id, held_qty=1),),
            ),
            actor=other,
        )


def test_an_enterprise_reaches_only_its_own(db, site, lines, system_actor, company):
    theirs = reports.request_report(
        db, enterprise_id=site.other.id, due_on=days(3), message=None, actor=system_actor
    )
    with pytest.raises(NotFound):
        reports.get_report(db, theirs.id, actor=company)
    with pytest.raises(NotFound):
        reports.fill_report(db, report_id=theirs.id, data=ReportData(None), actor=company)
    with pytest.raises(ValidationError, match="Choose the enterprise"):
        reports.create_report(
            db,
            data=ReportData(
                enterprise_id=site.other.id,
                period_month=TODAY,
                lines=(ReportLineData(agreement_line_id=lines.others.id, held_qty=1),),
            ),
            actor=company,
        )
    with pytest.raises(Forbidden):
        reports.request_report(
            db, enterprise_id=site.own.id, due_on=days(3), message=None, actor=company
        )
    verification = _plan(db, site, system_actor, enterprise_id=site.other.id)
    with pytest.raises(NotFound):
        reports.get_verification(db, verification.id, actor=company)
    with pytest.raises(Forbidden):
        _plan(db, site, company)
    keeper = Actor(user_id=None, username="k", roles=frozenset({Role.KEEPER}))
    with pytest.raises(Forbidden):
        reports.get_report(db, theirs.id, actor=keeper)


def test_bad_requests_and_plans_change_nothing(db, site, lines, system_actor):
    before = _counts(db)
    with pytest.raises(ValidationError, match="past"):
        reports.request_report(
            db, enterprise_id=site.own.id, due_on=days(-1), message=None, actor=system_actor
        )
    with pytest.raises(ValidationError, match="Choose the enterprise"):
        reports.request_report(
            db, enterprise_id=None, due_on=days(1), message=None, actor=system_actor
        )
    with pytest.raises(ValidationError, match="inspectors"):
        _plan(db, site, system_actor, inspectors="  ")
    planned = _plan(db, site, system_actor)
    before = _counts(db)
    with pytest.raises(ValidationError, match="before it happens"):
        reports.record_verification(
            db,
            verification_id=planned.id,
            data=RecordData(
                checked_on=days(1),
                lines=(CountData(agreement_line_id=lines.stock.id, counted_qty=1),),
            ),
            actor=system_actor,
        )
    with pytest.raises(ValidationError, match="0 or more"):
        _record(db, planned, lines.stock, -5, system_actor)
    with pytest.raises(ValidationError, match="production capacity"):
        _record(db, planned, lines.capacity_line, 5, system_actor)
    assert _counts(db) == before and db.get(Verification, planned.id).status == "planned"


def test_photos_follow_the_attachment_rules(db, site, lines, system_actor, tmp_path):
    store = AttachmentStore(tmp_path, max_bytes=1024 * 1024)
    planned = _plan(db, site, system_actor)
    photo = reports.add_photo(
        db,
        verification_id=planned.id,
        filename="现场.png",
        content=PNG,
        actor=system_actor,
        store=store,
    )
    assert photo.content_type == "image/png"
    assert store.path_for(photo).read_bytes() == PNG
    assert str(store.path_for(photo)).startswith(str(tmp_path / "verifications"))
    before = _counts(db)
    with pytest.raises(ValidationError, match="PDF, JPEG or PNG"):
        reports.add_photo(
            db,
            verification_id=planned.id,
            filename="x.jpg",
            content=HTML,
            actor=system_actor,
            store=store,
        )
    with pytest.raises(ValidationError, match="too large"):
        reports.add_photo(
            db,
            verification_id=planned.id,
            filename="big.pdf",
            content=PDF + b"0" * (50 * 1024 * 1024),
            actor=system_actor,
            store=store,
        )
    assert _counts(db) == before
    _record(db, planned, lines.stock, 1000, system_actor)
    with pytest.raises(Conflict, match="no more photos"):
        reports.add_photo(
            db,
            verification_id=planned.id,
            filename="late.pdf",
            content=PDF,
            actor=system_actor,
            store=store,
        )


def test_a_planned_check_can_be_cancelled_with_a_reason(db, site, lines, system_actor):
    planned = _plan(db, site, system_actor)
    with pytest.raises(ValidationError, match="why"):
        reports.cancel_verification(db, verification_id=planned.id, reason=" ", actor=system_actor)
    cancelled = reports.cancel_verification(
        db, verification_id=planned.id, reason="防汛值守，改期", actor=system_actor
    )
    assert cancelled.status == "cancelled"
    with pytest.raises(Conflict, match="cancelled"):
        _record(db, planned, lines.stock, 1000, system_actor)
