"""入库单 (receipt notes) and their lines."""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Mapped, mapped_column, relationship

from reserve.db import Base, UTCDateTime, utcnow


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
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    no: Mapped[str] = mapped_column(sa.String(20), unique=True)
    warehouse_id: Mapped[int] = mapped_column(sa.ForeignKey("warehouses.id"))
    source: Mapped[str] = mapped_column(sa.String(20))
    supplier: Mapped[str | None] = mapped_column(sa.String(100))
    funding_source: Mapped[str | None] = mapped_column(sa.String(60))
    paper_no: Mapped[str | None] = mapped_column(sa.String(60))
    document_date: Mapped[date] = mapped_column(index=True)
    note: Mapped[str | None] = mapped_column(sa.String(500))
    status: Mapped[str] = mapped_column(sa.String(10), default=ReceiptStatus.DRAFT.value)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    created_by: Mapped[str] = mapped_column(sa.String(40))
    posted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    posted_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    posted_by: Mapped[str | None] = mapped_column(sa.String(40))
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancelled_by: Mapped[str | None] = mapped_column(sa.String(40))

    lines: Mapped[list[ReceiptLine]] = relationship(
        back_populates="receipt", cascade="all, delete-orphan", order_by="ReceiptLine.line_no"
    )

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
    batch_no: Mapped[str] = mapped_column(sa.String(40))
    production_date: Mapped[date | None]
    expiry_date: Mapped[date | None]
    qty: Mapped[int] = mapped_column(sa.BigInteger)
    location_id: Mapped[int] = mapped_column(sa.ForeignKey("locations.id"))
    unit_cost: Mapped[Decimal | None] = mapped_column(sa.Numeric(12, 2))
    serials: Mapped[str | None] = mapped_column(sa.Text)  # one serial number per line
    batch_id: Mapped[int | None] = mapped_column(sa.ForeignKey("batches.id"), index=True)

    receipt: Mapped[Receipt] = relationship(back_populates="lines")

    @property
    def serial_list(self) -> list[str]:
        return (self.serials or "").split("\n") if self.serials else []
