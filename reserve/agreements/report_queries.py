"""Read side of stock reports and verifications (库存申报, 核查): the lists (paged by key,
newest first, filtered by enterprise, status and month), a document's lines, its photos, and
the evidence an agreement's stock lines carry. Every read is limited to the enterprises the
actor sees (an enterprise user: its own)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from reserve.agreements.models import Agreement, AgreementLine, Enterprise, LineKind
from reserve.agreements.report_models import (
    ReportKind,
    ReportStatus,
    StockReport,
    StockReportLine,
    Verification,
    VerificationAttachment,
    VerificationLine,
)
from reserve.auth.actor import Actor
from reserve.auth.models import User
from reserve.catalog.models import Material
from reserve.db import KeyPage, seek_page


def _next_month(month: date) -> date:
    return date(month.year + month.month // 12, month.month % 12 + 1, 1)


def report_search(
    *,
    actor: Actor,
    enterprise_id: int | None = None,
    status: str | None = None,
    month: date | None = None,
):
    """The report list as one SELECT: each report with its enterprise, its number of lines
    and how many are below commitment (counted in SQL). ``month``: the month a monthly
    report reports, or the month a requested one is due."""
    lines = (
        select(func.count())
        .where(StockReportLine.report_id == StockReport.id)
        .correlate(StockReport)
        .scalar_subquery()
    )
    short = (
        select(func.count())
        .where(
            StockReportLine.report_id == StockReport.id,
            StockReportLine.held_qty < StockReportLine.committed_qty,
        )
        .correlate(StockReport)
        .scalar_subquery()
    )
    stmt = select(
        StockReport.id,
        StockReport.no,
        StockReport.enterprise_id,
        Enterprise.name.label("enterprise_name"),
        StockReport.kind,
        StockReport.status,
        StockReport.period_month,
        StockReport.due_on,
        StockReport.corrects_id,
        StockReport.created_at,
        StockReport.submitted_at,
        lines.label("line_count"),
        short.label("short_count"),
    ).join(Enterprise, Enterprise.id == StockReport.enterprise_id)
    stmt = stmt.where(actor.visible_enterprise(StockReport.enterprise_id))
    if enterprise_id:
        stmt = stmt.where(StockReport.enterprise_id == enterprise_id)
    if status:
        stmt = stmt.where(StockReport.status == status)
    if month:
        month = month.replace(day=1)
        stmt = stmt.where(
            or_(
                StockReport.period_month == month,
                and_(
                    StockReport.kind == ReportKind.REQUESTED.value,
                    StockReport.due_on >= month,
                    StockReport.due_on < _next_month(month),
                ),
            )
        )
    return stmt


def awaited_count(session: Session, *, actor: Actor) -> int:
    """The portal's inbox: how many reports the bureau has requested and still awaits."""
    return session.scalar(
        select(func.count())
        .select_from(StockReport)
        .where(
            actor.visible_enterprise(StockReport.enterprise_id),
            StockReport.status == ReportStatus.REQUESTED.value,
        )
    )


def report_page(
    session: Session, *, actor: Actor, after: str | None = None, per_page: int = 50, **filters
) -> KeyPage:
    """One page of stock reports, newest first (by id)."""
    return seek_page(
        session,
        report_search(actor=actor, **filters),
        [(StockReport.id, True)],
        after=after,
        per_page=per_page,
    )


def report_lines(session: Session, report_id: int) -> list:
    """A report's lines with the agreement, the material and the line's commitment then."""
    return list(
        session.execute(
            select(
                StockReportLine.id,
                StockReportLine.line_no,
                StockReportLine.agreement_line_id,
                StockReportLine.committed_qty,
                StockReportLine.held_qty,
                StockReportLine.batch_no,
                StockReportLine.expiry_on,
                StockReportLine.note,
                (StockReportLine.held_qty < StockReportLine.committed_qty).label("is_short"),
                Agreement.id.label("agreement_id"),
                Agreement.no.label("agreement_no"),
                AgreementLine.line_no.label("agreement_line_no"),
                Material.code.label("material_code"),
                Material.name.label("material_name"),
                Material.unit,
            )
            .join(AgreementLine, AgreementLine.id == StockReportLine.agreement_line_id)
            .join(Agreement, Agreement.id == AgreementLine.agreement_id)
            .join(Material, Material.id == AgreementLine.material_id)
            .where(StockReportLine.report_id == report_id)
            .order_by(StockReportLine.line_no)
        )
    )


def verification_search(
    *,
    actor: Actor,
    enterprise_id: int | None = None,
    status: str | None = None,
    month: date | None = None,
):
    """The verification list as one SELECT, with the enterprise, the number of lines counted
    and of lines failed. ``month``: checked in that month, or planned in it if not recorded."""
    counted = (
        select(func.count())
        .where(VerificationLine.verification_id == Verification.id)
        .correlate(Verification)
        .scalar_subquery()
    )
    failed = (
        select(func.count())
        .where(VerificationLine.verification_id == Verification.id, ~VerificationLine.passed)
        .correlate(Verification)
        .scalar_subquery()
    )
    stmt = select(
        Verification.id,
        Verification.no,
        Verification.enterprise_id,
        Enterprise.name.label("enterprise_name"),
        Verification.status,
        Verification.planned_on,
        Verification.checked_on,
        Verification.inspectors,
        Verification.passed,
        Verification.corrects_id,
        counted.label("line_count"),
        failed.label("failed_count"),
    ).join(Enterprise, Enterprise.id == Verification.enterprise_id)
    stmt = stmt.where(actor.visible_enterprise(Verification.enterprise_id))
    if enterprise_id:
        stmt = stmt.where(Verification.enterprise_id == enterprise_id)
    if status:
        stmt = stmt.where(Verification.status == status)
    if month:
        month = month.replace(day=1)
        day = func.coalesce(Verification.checked_on, Verification.planned_on)
        stmt = stmt.where(day >= month, day < _next_month(month))
    return stmt


def verification_page(
    session: Session, *, actor: Actor, after: str | None = None, per_page: int = 50, **filters
) -> KeyPage:
    """One page of verifications, newest first (by id)."""
    return seek_page(
        session,
        verification_search(actor=actor, **filters),
        [(Verification.id, True)],
        after=after,
        per_page=per_page,
    )


def verification_lines(session: Session, verification_id: int) -> list:
    return list(
        session.execute(
            select(
                VerificationLine.id,
                VerificationLine.line_no,
                VerificationLine.agreement_line_id,
                VerificationLine.committed_qty,
                VerificationLine.shipped_qty,
                VerificationLine.counted_qty,
                VerificationLine.passed,
                VerificationLine.note,
                Agreement.id.label("agreement_id"),
                Agreement.no.label("agreement_no"),
                AgreementLine.line_no.label("agreement_line_no"),
                Material.code.label("material_code"),
                Material.name.label("material_name"),
                Material.unit,
            )
            .join(AgreementLine, AgreementLine.id == VerificationLine.agreement_line_id)
            .join(Agreement, Agreement.id == AgreementLine.agreement_id)
            .join(Material, Material.id == AgreementLine.material_id)
            .where(VerificationLine.verification_id == verification_id)
            .order_by(VerificationLine.line_no)
        )
    )


def photo_rows(session: Session, verification_id: int) -> list:
    """A verification's photos with who brought them (their login and name)."""
    return list(
        session.execute(
            select(
                VerificationAttachment.id,
                VerificationAttachment.verification_id,
                VerificationAttachment.filename,
                VerificationAttachment.content_type,
                VerificationAttachment.size_bytes,
                VerificationAttachment.sha256,
                VerificationAttachment.uploaded_by_name.label("uploaded_by"),
                func.coalesce(User.full_name, VerificationAttachment.uploaded_by_name).label(
                    "uploaded_by_full_name"
                ),
                VerificationAttachment.uploaded_at,
            )
            .outerjoin(User, User.id == VerificationAttachment.uploaded_by_id)
            .where(VerificationAttachment.verification_id == verification_id)
            .order_by(VerificationAttachment.id)
        )
    )


def line_evidence(session: Session, agreement_id: int) -> dict[int, object]:
    """Per stock line of an agreement, what its columns say of the newest evidence: last
    reported (qty, when), last verified (qty, when, result), the cap and 可调用数量."""
    rows = session.execute(
        select(
            AgreementLine.id,
            AgreementLine.reported_qty,
            AgreementLine.reported_at,
            AgreementLine.verified_qty,
            AgreementLine.verified_on,
            AgreementLine.verification_passed,
            AgreementLine.shipped_qty,
            AgreementLine.capped_qty,
            AgreementLine.callable_expr().label("callable_qty"),
        ).where(
            AgreementLine.agreement_id == agreement_id,
            AgreementLine.kind == LineKind.STOCK.value,
        )
    )
    return {row.id: row for row in rows}
