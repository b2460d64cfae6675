"""库存申报 and 核查: the evidence that the stock an enterprise holds for the bureau is there.

- A stock report (库存申报, ``SB2026-0001``) is the enterprise's word: per stock line of its
  agreements in force, the quantity actually held (with batch and expiry where relevant).
  Monthly (for one month) or requested by the bureau (with a due date and a message).
  requested → draft → submitted; a submitted report is never edited: a correction is a new
  report naming the one it corrects (``corrects_id``).
- A verification (核查/抽查, ``HC2026-0001``) is the bureau's count: planned (date,
  inspectors), then recorded (checked date, counted quantity and 合格/不合格 per line, the
  overall result, findings, photos). Recorded is final; a correction is a new verification.

Submitting a report or recording a verification writes the line's evidence columns
(``AgreementLine.reported_*`` / ``verified_*`` / ``capped_qty``) in the same transaction
(``reserve.agreements.reports``). Lines snapshot what was committed (and shipped) when filed,
so an old report still reads as it was."""

from __future__ import annotations

import enum
from datetime import date, datetime

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Mapped, mapped_column, relationship

from reserve.agreements.models import AgreementLine, Enterprise
from reserve.db import Base, UTCDateTime, utcnow


class ReportKind(enum.StrEnum):
    """申报类型: 月度申报 (monthly) or 按要求申报 (requested by the bureau)."""

    MONTHLY = "monthly"
    REQUESTED = "requested"

    @property
    def label(self):
        return {"monthly": _l("Monthly"), "requested": _l("On request")}[self.value]


class ReportStatus(enum.StrEnum):
    """申报状态."""

    REQUESTED = "requested"
    DRAFT = "draft"
    SUBMITTED = "submitted"

    @property
    def label(self):
        return {
            "requested": _l("Requested"),
            "draft": _l("Draft"),
            "submitted": _l("Submitted"),
        }[self.value]


class StockReport(Base):
    """库存申报: what one enterprise says it holds, per stock line of its agreements."""

    __tablename__ = "stock_reports"
    __table_args__ = (
        sa.CheckConstraint("kind IN ('monthly', 'requested')", name="kind_known"),
        sa.CheckConstraint("status IN ('requested', 'draft', 'submitted')", name="status_known"),
        sa.CheckConstraint(
            "kind <> 'monthly' OR period_month IS NOT NULL", name="monthly_has_month"
        ),
        sa.CheckConstraint("kind <> 'requested' OR due_on IS NOT NULL", name="requested_has_due"),
        sa.CheckConstraint(
            "status <> 'submitted' OR submitted_at IS NOT NULL", name="submitted_stamped"
        ),
        sa.CheckConstraint("corrects_id IS NULL OR corrects_id <> id", name="not_self_correction"),
        # One monthly report per enterprise and month; a correction is the way to change it.
        sa.Index(
            "uq_stock_reports_one_monthly",
            "enterprise_id",
            "period_month",
            unique=True,
            sqlite_where=sa.text("kind = 'monthly' AND corrects_id IS NULL"),
            postgresql_where=sa.text("kind = 'monthly' AND corrects_id IS NULL"),
        ),
        sa.Index("ix_stock_reports_enterprise_id_id", "enterprise_id", "id"),
        sa.Index("ix_stock_reports_status_id", "status", "id"),
        sa.Index("ix_stock_reports_period_month_id", "period_month", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    no: Mapped[str] = mapped_column(sa.String(40), unique=True)
    enterprise_id: Mapped[int] = mapped_column(sa.ForeignKey("enterprises.id"))
    kind: Mapped[str] = mapped_column(sa.String(10))
    status: Mapped[str] = mapped_column(sa.String(12))
    period_month: Mapped[date | None] = mapped_column(sa.Date)
    due_on: Mapped[date | None] = mapped_column(sa.Date)
    request_message: Mapped[str | None] = mapped_column(sa.String(500))
    note: Mapped[str | None] = mapped_column(sa.String(500))
    corrects_id: Mapped[int | None] = mapped_column(sa.ForeignKey("stock_reports.id"), index=True)
    requested_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    requested_by_name: Mapped[str | None] = mapped_column(sa.String(40))
    requested_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    created_by_name: Mapped[str] = mapped_column(sa.String(40))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    submitted_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    submitted_by_name: Mapped[str | None] = mapped_column(sa.String(40))
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    enterprise: Mapped[Enterprise] = relationship(lazy="joined")
    lines: Mapped[list[StockReportLine]] = relationship(
        back_populates="report",
        cascade="all, delete-orphan",
        order_by="StockReportLine.line_no",
    )

    # What the loser of a race is told (reserve.documents.transition).
    state_notes = {
        ReportStatus.SUBMITTED.value: (
            "submitted",
            lambda no, name: _l(
                "Stock report %(no)s was already submitted (by %(name)s); file a correction.",
                no=no,
                name=name,
            ),
        ),
    }

    def __str__(self) -> str:
        return self.no

    @property
    def kind_label(self):
        return ReportKind(self.kind).label

    @property
    def status_label(self):
        return ReportStatus(self.status).label

    @property
    def is_submitted(self) -> bool:
        return self.status == ReportStatus.SUBMITTED.value


class StockReportLine(Base):
    """申报明细: the quantity held on one stock agreement line, as the enterprise reports it
    (``committed_qty`` is the commitment when filed, shown beside it)."""

    __tablename__ = "stock_report_lines"
    __table_args__ = (
        sa.UniqueConstraint("report_id", "line_no"),
        sa.UniqueConstraint("report_id", "agreement_line_id"),
        sa.CheckConstraint("held_qty >= 0", name="held_not_negative"),
        sa.CheckConstraint("committed_qty > 0", name="committed_positive"),
        sa.Index("ix_stock_report_lines_agreement_line_id_id", "agreement_line_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(
        sa.ForeignKey("stock_reports.id", ondelete="CASCADE"), index=True
    )
    line_no: Mapped[int] = mapped_column(sa.SmallInteger)
    agreement_line_id: Mapped[int] = mapped_column(sa.ForeignKey("agreement_lines.id"))
    committed_qty: Mapped[int] = mapped_column(sa.BigInteger)
    held_qty: Mapped[int] = mapped_column(sa.BigInteger)
    batch_no: Mapped[str | None] = mapped_column(sa.String(60))
    expiry_on: Mapped[date | None] = mapped_column(sa.Date)
    note: Mapped[str | None] = mapped_column(sa.String(200))

    report: Mapped[StockReport] = relationship(back_populates="lines")
    agreement_line: Mapped[AgreementLine] = relationship()

    @property
    def is_short(self) -> bool:
        """Held below what was committed (低于协议储备数量): allowed, and shown."""
        return self.held_qty < self.committed_qty


class VerificationStatus(enum.StrEnum):
    """核查状态."""

    PLANNED = "planned"
    RECORDED = "recorded"
    CANCELLED = "cancelled"

    @property
    def label(self):
        return {
            "planned": _l("Planned"),
            "recorded": _l("Recorded"),
            "cancelled": _l("Cancelled"),
        }[self.value]


class Verification(Base):
    """核查: the bureau's check of what one enterprise holds, planned then recorded."""

    __tablename__ = "verifications"
    __table_args__ = (
        sa.CheckConstraint("status IN ('planned', 'recorded', 'cancelled')", name="status_known"),
        sa.CheckConstraint(
            "status <> 'recorded' OR (checked_on IS NOT NULL AND passed IS NOT NULL"
            " AND recorded_at IS NOT NULL)",
            name="recorded_complete",
        ),
        sa.CheckConstraint(
            "status <> 'cancelled' OR cancel_reason IS NOT NULL", name="cancelled_why"
        ),
        sa.CheckConstraint("corrects_id IS NULL OR corrects_id <> id", name="not_self_correction"),
        sa.Index("ix_verifications_enterprise_id_id", "enterprise_id", "id"),
        sa.Index("ix_verifications_status_id", "status", "id"),
        sa.Index("ix_verifications_planned_on_id", "planned_on", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    no: Mapped[str] = mapped_column(sa.String(40), unique=True)
    enterprise_id: Mapped[int] = mapped_column(sa.ForeignKey("enterprises.id"))
    status: Mapped[str] = mapped_column(sa.String(12))
    planned_on: Mapped[date] = mapped_column(sa.Date)
    inspectors: Mapped[str] = mapped_column(sa.String(200))
    checked_on: Mapped[date | None] = mapped_column(sa.Date)
    passed: Mapped[bool | None] = mapped_column(sa.Boolean)
    findings: Mapped[str | None] = mapped_column(sa.String(2000))
    cancel_reason: Mapped[str | None] = mapped_column(sa.String(200))
    corrects_id: Mapped[int | None] = mapped_column(sa.ForeignKey("verifications.id"), index=True)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    created_by_name: Mapped[str] = mapped_column(sa.String(40))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    recorded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    recorded_by_name: Mapped[str | None] = mapped_column(sa.String(40))
    recorded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancelled_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    cancelled_by_name: Mapped[str | None] = mapped_column(sa.String(40))
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    enterprise: Mapped[Enterprise] = relationship(lazy="joined")
    lines: Mapped[list[VerificationLine]] = relationship(
        back_populates="verification",
        cascade="all, delete-orphan",
        order_by="VerificationLine.line_no",
    )

    state_notes = {
        VerificationStatus.RECORDED.value: (
            "recorded",
            lambda no, name: _l(
                "Verification %(no)s was already recorded (by %(name)s); record a correction.",
                no=no,
                name=name,
            ),
        ),
        VerificationStatus.CANCELLED.value: (
            "cancelled",
            lambda no, name: _l(
                "Verification %(no)s was cancelled (by %(name)s).", no=no, name=name
            ),
        ),
    }

    def __str__(self) -> str:
        return self.no

    @property
    def status_label(self):
        return VerificationStatus(self.status).label

    @property
    def result_label(self):
        if self.passed is None:
            return "—"
        return _l("Passed") if self.passed else _l("Failed")


class VerificationLine(Base):
    """核查明细: what the inspectors counted on one stock agreement line, and whether it
    passed (合格/不合格). ``committed_qty`` and ``shipped_qty`` are the line's when recorded."""

    __tablename__ = "verification_lines"
    __table_args__ = (
        sa.UniqueConstraint("verification_id", "line_no"),
        sa.UniqueConstraint("verification_id", "agreement_line_id"),
        sa.CheckConstraint("counted_qty >= 0", name="counted_not_negative"),
        sa.CheckConstraint("committed_qty > 0", name="committed_positive"),
        sa.CheckConstraint("shipped_qty >= 0", name="shipped_not_negative"),
        sa.Index("ix_verification_lines_agreement_line_id_id", "agreement_line_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    verification_id: Mapped[int] = mapped_column(
        sa.ForeignKey("verifications.id", ondelete="CASCADE"), index=True
    )
    line_no: Mapped[int] = mapped_column(sa.SmallInteger)
    agreement_line_id: Mapped[int] = mapped_column(sa.ForeignKey("agreement_lines.id"))
    committed_qty: Mapped[int] = mapped_column(sa.BigInteger)
    shipped_qty: Mapped[int] = mapped_column(sa.BigInteger)
    counted_qty: Mapped[int] = mapped_column(sa.BigInteger)
    passed: Mapped[bool] = mapped_column(sa.Boolean)
    note: Mapped[str | None] = mapped_column(sa.String(200))

    verification: Mapped[Verification] = relationship(back_populates="lines")
    agreement_line: Mapped[AgreementLine] = relationship()

    @property
    def result_label(self):
        return _l("Passed") if self.passed else _l("Failed")


class VerificationAttachment(Base):
    """核查照片: photos (or a scanned record) of a verification, under the same rules as an
    agreement's attachments (``reserve.files``), stored as ``verifications/<id>/…``."""

    __tablename__ = "verification_attachments"
    __table_args__ = (
        sa.CheckConstraint("size_bytes > 0", name="size_positive"),
        sa.CheckConstraint(
            "content_type IN ('application/pdf', 'image/jpeg', 'image/png')",
            name="content_type_known",
        ),
        sa.CheckConstraint("length(sha256) = 64", name="sha256_hex"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    verification_id: Mapped[int] = mapped_column(
        sa.ForeignKey("verifications.id", ondelete="CASCADE"), index=True
    )
    filename: Mapped[str] = mapped_column(sa.String(200))
    content_type: Mapped[str] = mapped_column(sa.String(40))
    size_bytes: Mapped[int] = mapped_column(sa.BigInteger)
    sha256: Mapped[str] = mapped_column(sa.String(64))
    uploaded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    uploaded_by_name: Mapped[str] = mapped_column(sa.String(40))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def __str__(self) -> str:
        return self.filename

    @property
    def storage_dir(self) -> str:
        return f"verifications/{self.verification_id}"

    @property
    def stored_name(self) -> str:
        return f"{self.id}-{self.sha256[:16]}"
