"""入库单 (receipt notes) and their lines."""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Mapped, mapped_column, relationship

from reserve.attached import AttachedFile
from reserve.db import Base, Code, UTCDateTime, utcnow


class ReceiptStatus(enum.StrEnum):
    DRAFT = "draft"
    POSTED = "posted"
    CANCELLED = "cancelled"

    @property
    def label(self):
        return {
            "draft": _l("Draft"),
            "posted": _l("Posted"),
            "cancelled": _l("Cancelled"),
        }[self.value]


class Receipt(Base):
    """入库单: what came into one warehouse, from where, on which paper."""

    __tablename__ = "receipts"
    __table_args__ = (
        sa.Index("ix_receipts_warehouse_date", "warehouse_id", "document_date", "id"),
        sa.Index("ix_receipts_status_date", "status", "document_date"),
        sa.Index("ix_receipts_date_id", "document_date", "id"),  # the list's order, by key
        # 协议调用: goods of a call-up come in linked to it, and only they
        sa.CheckConstraint(
            "(source = 'agreement_call_up') = (call_up_id IS NOT NULL)",
            name="call_up_with_source",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    no: Mapped[str] = mapped_column(sa.String(20), unique=True)
    warehouse_id: Mapped[int] = mapped_column(sa.ForeignKey("warehouses.id"))
    source: Mapped[str] = mapped_column(sa.String(20))
    call_up_id: Mapped[int | None] = mapped_column(sa.ForeignKey("call_ups.id"), index=True)
    supplier: Mapped[str | None] = mapped_column(sa.String(100))
    funding_source: Mapped[str | None] = mapped_column(sa.String(60))
    paper_no: Mapped[str | None] = mapped_column(sa.String(60))
    document_date: Mapped[date]
    note: Mapped[str | None] = mapped_column(sa.String(500))
    status: Mapped[str] = mapped_column(sa.String(10), default=ReceiptStatus.DRAFT.value)
    # Attribution (reserve.documents.stamp): who, as a user id and the username kept for the record.
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    created_by_name: Mapped[str] = mapped_column(sa.String(40))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    posted_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    posted_by_name: Mapped[str | None] = mapped_column(sa.String(40))
    posted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancelled_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    cancelled_by_name: Mapped[str | None] = mapped_column(sa.String(40))
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    lines: Mapped[list[ReceiptLine]] = relationship(
        back_populates="receipt", cascade="all, delete-orphan", order_by="ReceiptLine.line_no"
    )

    # What the loser of a race is told (reserve.documents.transition).
    state_notes = {
        ReceiptStatus.POSTED.value: (
            "posted",
            lambda no, name: _l(
                "Receipt %(no)s has already been posted (by %(name)s); it cannot be changed or "
                "posted again.",
                no=no,
                name=name,
            ),
        ),
        ReceiptStatus.CANCELLED.value: (
            "cancelled",
            lambda no, name: _l("Receipt %(no)s was cancelled (by %(name)s).", no=no, name=name),
        ),
    }

    def __str__(self) -> str:
        return self.no

    @property
    def status_label(self):
        return ReceiptStatus(self.status).label

    @property
    def is_draft(self) -> bool:
        return self.status == ReceiptStatus.DRAFT.value


class ReceiptLine(Base):
    """入库单明细: one batch of one material into one location. The batch is set on posting."""

    __tablename__ = "receipt_lines"
    __table_args__ = (
        sa.UniqueConstraint("receipt_id", "line_no"),
        sa.CheckConstraint("qty > 0", name="qty_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    receipt_id: Mapped[int] = mapped_column(sa.ForeignKey("receipts.id", ondelete="CASCADE"))
    line_no: Mapped[int] = mapped_column(sa.SmallInteger)
    material_id: Mapped[int] = mapped_column(sa.ForeignKey("materials.id"), index=True)
    batch_no: Mapped[str] = mapped_column(Code(40))
    production_date: Mapped[date | None]
    expiry_date: Mapped[date | None]
    qty: Mapped[int] = mapped_column(sa.BigInteger)
    location_id: Mapped[int] = mapped_column(sa.ForeignKey("locations.id"))
    unit_cost: Mapped[Decimal | None] = mapped_column(sa.Numeric(12, 2))
    # 序列号: the serial numbers the line brought in, a JSON list (as on every document line).
    serial_nos: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    batch_id: Mapped[int | None] = mapped_column(sa.ForeignKey("batches.id"), index=True)
    # 确认理由: why an expired or near-expiry batch was received anyway (reserve.stock.expiry);
    # kept only on such a line, and required there.
    expiry_reason: Mapped[str | None] = mapped_column(sa.String(200))

    receipt: Mapped[Receipt] = relationship(back_populates="lines")


class ReceiptAttachment(AttachedFile, Base):
    """附件: a scanned paper (the delivery note) kept with a receipt, stored as a file under the
    instance folder; the row says what it is and who brought it."""

    __tablename__ = "receipt_attachments"
    storage_folder = "receipts"
    owner_key = "receipt_id"

    receipt_id: Mapped[int] = mapped_column(
        sa.ForeignKey("receipts.id", ondelete="CASCADE"), index=True
    )
