"""轮换单 (rotation out of near-expiry stock) and 报废单 (scrap of damaged or expired stock).

Both take stock out through the ledger when posted; neither reserves stock before that."""

from __future__ import annotations

import enum
from datetime import date, datetime

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Mapped, mapped_column, relationship

from reserve.db import Base, UTCDateTime, utcnow
from reserve.warehouses.models import Warehouse


class Disposition(enum.StrEnum):
    """Where rotated-out stock goes (轮换出库去向)."""

    SOLD = "sold"
    DONATED = "donated"
    DRILL = "drill"
    RETURNED_TO_SUPPLIER = "returned_to_supplier"

    @property
    def label(self):
        return {
            "sold": _l("Sold"),
            "donated": _l("Donated"),
            "drill": _l("Used in a drill"),
            "returned_to_supplier": _l("Returned to supplier"),
        }[self.value]


class RotationStatus(enum.StrEnum):
    DRAFT = "draft"
    POSTED = "posted"

    @property
    def label(self):
        return {"draft": _l("Draft"), "posted": _l("Posted")}[self.value]


class Rotation(Base):
    """轮换单: near-expiry stock rotated out, to be replaced like for like (等量替换)."""

    __tablename__ = "rotations"
    __table_args__ = (sa.Index("ix_rotations_warehouse_id_id", "warehouse_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    no: Mapped[str] = mapped_column(sa.String(20), unique=True)
    warehouse_id: Mapped[int] = mapped_column(sa.ForeignKey("warehouses.id"))
    disposition: Mapped[str] = mapped_column(sa.String(24))
    counterparty: Mapped[str | None] = mapped_column(sa.String(100))
    document_date: Mapped[date]
    note: Mapped[str | None] = mapped_column(sa.String(200))
    status: Mapped[str] = mapped_column(
        sa.String(10), default=RotationStatus.DRAFT.value, index=True
    )
    # The receipt (入库单) that brought the replacement in; the receipts feature owns the table.
    replacement_receipt_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("receipts.id", ondelete="SET NULL"), index=True
    )
    # Attribution (reserve.documents.stamp): who, as a user id and the username kept for the record.
    created_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )
    created_by_name: Mapped[str] = mapped_column(sa.String(40))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    posted_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    posted_by_name: Mapped[str | None] = mapped_column(sa.String(40))
    posted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    warehouse: Mapped[Warehouse] = relationship(lazy="joined")
    lines: Mapped[list[RotationLine]] = relationship(
        cascade="all, delete-orphan", order_by="RotationLine.id", lazy="selectin"
    )

    state_notes = {
        RotationStatus.POSTED.value: (
            "posted",
            lambda no, name: _l(
                "Rotation %(no)s is already posted (by %(name)s).", no=no, name=name
            ),
        ),
    }

    @property
    def disposition_label(self):
        return Disposition(self.disposition).label

    @property
    def status_label(self):
        return RotationStatus(self.status).label


class RotationLine(Base):
    """A line of a rotation: a quantity of one batch at one location (and its serial items)."""

    __tablename__ = "rotation_lines"
    __table_args__ = (sa.CheckConstraint("qty > 0", name="qty_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    rotation_id: Mapped[int] = mapped_column(
        sa.ForeignKey("rotations.id", ondelete="CASCADE"), index=True
    )
    location_id: Mapped[int] = mapped_column(sa.ForeignKey("locations.id"))
    batch_id: Mapped[int] = mapped_column(sa.ForeignKey("batches.id"), index=True)
    qty: Mapped[int]
    serial_nos: Mapped[list[str]] = mapped_column(sa.JSON, default=list)


class ScrapReason(enum.StrEnum):
    DAMAGED = "damaged"
    EXPIRED = "expired"
    FAILED_QUALITY_TEST = "failed_quality_test"
    OTHER = "other"

    @property
    def label(self):
        return {
            "damaged": _l("Damaged"),
            "expired": _l("Expired"),
            "failed_quality_test": _l("Failed quality test"),
            "other": _l("Other"),
        }[self.value]


class ScrapStatus(enum.StrEnum):
    REQUESTED = "requested"
    APPROVED = "approved"
    POSTED = "posted"
    REJECTED = "rejected"

    @property
    def label(self):
        return {
            "requested": _l("Awaiting approval"),
            "approved": _l("Approved"),
            "posted": _l("Posted"),
            "rejected": _l("Rejected"),
        }[self.value]


class Scrap(Base):
    """报废单: a keeper requests, an approver (not the requester) approves, a keeper posts."""

    __tablename__ = "scraps"
    __table_args__ = (sa.Index("ix_scraps_warehouse_id_id", "warehouse_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    no: Mapped[str] = mapped_column(sa.String(20), unique=True)
    warehouse_id: Mapped[int] = mapped_column(sa.ForeignKey("warehouses.id"))
    reason: Mapped[str] = mapped_column(sa.String(20))
    reason_text: Mapped[str | None] = mapped_column(sa.String(200))
    document_date: Mapped[date]
    note: Mapped[str | None] = mapped_column(sa.String(200))
    status: Mapped[str] = mapped_column(
        sa.String(10), default=ScrapStatus.REQUESTED.value, index=True
    )
    # Attribution (reserve.documents.stamp): who, as a user id and the username kept for the record.
    requested_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )
    requested_by_name: Mapped[str] = mapped_column(sa.String(40))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    approved_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    approved_by_name: Mapped[str | None] = mapped_column(sa.String(40))
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    rejected_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    rejected_by_name: Mapped[str | None] = mapped_column(sa.String(40))
    rejected_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decision_note: Mapped[str | None] = mapped_column(sa.String(200))  # or the rejection reason
    posted_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    posted_by_name: Mapped[str | None] = mapped_column(sa.String(40))
    posted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    warehouse: Mapped[Warehouse] = relationship(lazy="joined")
    lines: Mapped[list[ScrapLine]] = relationship(
        cascade="all, delete-orphan", order_by="ScrapLine.id", lazy="selectin"
    )

    state_notes = {
        ScrapStatus.REQUESTED.value: (
            None,
            lambda no, name: _l(
                "Scrap %(no)s is awaiting approval; it can be posted only once approved.", no=no
            ),
        ),
        ScrapStatus.APPROVED.value: (
            "approved",
            lambda no, name: _l(
                "Scrap %(no)s is no longer awaiting approval: it was approved (by %(name)s).",
                no=no,
                name=name,
            ),
        ),
        ScrapStatus.REJECTED.value: (
            "rejected",
            lambda no, name: _l(
                "Scrap %(no)s was rejected (by %(name)s); it is no longer awaiting approval and "
                "cannot be posted.",
                no=no,
                name=name,
            ),
        ),
        ScrapStatus.POSTED.value: (
            "posted",
            lambda no, name: _l("Scrap %(no)s is already posted (by %(name)s).", no=no, name=name),
        ),
    }

    @property
    def decided_by_name(self) -> str | None:
        """Who approved or rejected it."""
        return self.approved_by_name or self.rejected_by_name

    @property
    def decided_at(self) -> datetime | None:
        return self.approved_at or self.rejected_at

    @property
    def reason_label(self):
        return ScrapReason(self.reason).label

    @property
    def status_label(self):
        return ScrapStatus(self.status).label


class ScrapLine(Base):
    """A line of a scrap: a quantity of one batch at one location (and its serial items)."""

    __tablename__ = "scrap_lines"
    __table_args__ = (sa.CheckConstraint("qty > 0", name="qty_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    scrap_id: Mapped[int] = mapped_column(
        sa.ForeignKey("scraps.id", ondelete="CASCADE"), index=True
    )
    location_id: Mapped[int] = mapped_column(sa.ForeignKey("locations.id"))
    batch_id: Mapped[int] = mapped_column(sa.ForeignKey("batches.id"), index=True)
    qty: Mapped[int]
    serial_nos: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
