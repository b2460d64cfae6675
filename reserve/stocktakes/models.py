"""盘点单 (stocktakes), their count lines and the serial items scanned into them."""

from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Mapped, mapped_column, relationship

from reserve.catalog.models import Category
from reserve.db import Base, UTCDateTime, utcnow
from reserve.warehouses.models import Location

stocktake_locations = sa.Table(
    "stocktake_locations",
    Base.metadata,
    sa.Column("stocktake_id", sa.ForeignKey("stocktakes.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("location_id", sa.ForeignKey("locations.id"), primary_key=True),
)

stocktake_categories = sa.Table(
    "stocktake_categories",
    Base.metadata,
    sa.Column("stocktake_id", sa.ForeignKey("stocktakes.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("category_id", sa.ForeignKey("categories.id"), primary_key=True),
)


class StocktakeStatus(enum.StrEnum):
    COUNTING = "counting"
    SUBMITTED = "submitted"
    POSTED = "posted"
    CANCELLED = "cancelled"

    @property
    def label(self):
        return STATUS_LABELS[self]

    @property
    def is_open(self) -> bool:
        return self in (StocktakeStatus.COUNTING, StocktakeStatus.SUBMITTED)


STATUS_LABELS = {
    StocktakeStatus.COUNTING: _l("Counting"),
    StocktakeStatus.SUBMITTED: _l("Awaiting approval"),
    StocktakeStatus.POSTED: _l("Posted"),
    StocktakeStatus.CANCELLED: _l("Cancelled"),
}
OPEN_STATUSES = (StocktakeStatus.COUNTING.value, StocktakeStatus.SUBMITTED.value)


class Stocktake(Base):
    """盘点单: a count of a warehouse, or of some of its locations or categories."""

    __tablename__ = "stocktakes"
    __table_args__ = (sa.Index("ix_stocktakes_warehouse_status", "warehouse_id", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    no: Mapped[str] = mapped_column(sa.String(20), unique=True)
    warehouse_id: Mapped[int] = mapped_column(sa.ForeignKey("warehouses.id"))
    is_blind: Mapped[bool] = mapped_column(default=False)
    status: Mapped[str] = mapped_column(
        sa.String(12), default=StocktakeStatus.COUNTING.value, index=True
    )
    note: Mapped[str | None] = mapped_column(sa.String(200))
    # Attribution (reserve.documents.stamp): who, as a user id and the username kept for the record.
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    created_by_name: Mapped[str | None] = mapped_column(sa.String(40))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    submitted_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    submitted_by_name: Mapped[str | None] = mapped_column(sa.String(40))
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    approved_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    approved_by_name: Mapped[str | None] = mapped_column(sa.String(40))
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    rejected_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    rejected_by_name: Mapped[str | None] = mapped_column(sa.String(40))
    rejected_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reject_reason: Mapped[str | None] = mapped_column(sa.String(200))
    cancelled_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    cancelled_by_name: Mapped[str | None] = mapped_column(sa.String(40))
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    locations: Mapped[list[Location]] = relationship(
        secondary=stocktake_locations, lazy="selectin", order_by=Location.code
    )
    categories: Mapped[list[Category]] = relationship(
        secondary=stocktake_categories, lazy="selectin", order_by=Category.code
    )

    # What the loser of a race is told (reserve.documents.transition).
    state_notes = {
        StocktakeStatus.SUBMITTED.value: (
            "submitted",
            lambda no, name: _l(
                "Stocktake %(no)s was submitted (by %(name)s) meanwhile; reload the page.",
                no=no,
                name=name,
            ),
        ),
        StocktakeStatus.POSTED.value: (
            "approved",
            lambda no, name: _l(
                "Stocktake %(no)s has already been approved and posted (by %(name)s).",
                no=no,
                name=name,
            ),
        ),
        StocktakeStatus.CANCELLED.value: (
            "cancelled",
            lambda no, name: _l("Stocktake %(no)s was cancelled (by %(name)s).", no=no, name=name),
        ),
        StocktakeStatus.COUNTING.value: (
            None,
            lambda no, name: _l(
                "Stocktake %(no)s is being counted; it is not awaiting approval.", no=no
            ),
        ),
    }

    def __str__(self) -> str:
        return self.no

    @property
    def status_label(self):
        return StocktakeStatus(self.status).label


class StocktakeLine(Base):
    """盘点明细: what the books said and what was counted for one batch at one location."""

    __tablename__ = "stocktake_lines"
    __table_args__ = (
        sa.UniqueConstraint("stocktake_id", "location_id", "batch_id"),
        sa.CheckConstraint(
            "system_qty >= 0 AND (counted_qty IS NULL OR counted_qty >= 0)", name="qty_not_negative"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    stocktake_id: Mapped[int] = mapped_column(sa.ForeignKey("stocktakes.id", ondelete="CASCADE"))
    location_id: Mapped[int] = mapped_column(sa.ForeignKey("locations.id"))
    batch_id: Mapped[int] = mapped_column(sa.ForeignKey("batches.id"), index=True)
    material_id: Mapped[int] = mapped_column(sa.ForeignKey("materials.id"))
    is_found: Mapped[bool] = mapped_column(default=False)  # counted, but not in the snapshot
    system_qty: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    counted_qty: Mapped[int | None] = mapped_column(sa.BigInteger)
    variance: Mapped[int | None] = mapped_column(sa.BigInteger)
    reason: Mapped[str | None] = mapped_column(sa.String(200))
    counted_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    counted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class StocktakeItem(Base):
    """A serial item (单品) found by scanning it during a stocktake: it counts once, on the
    line of the place where it was last scanned."""

    __tablename__ = "stocktake_items"
    __table_args__ = (sa.UniqueConstraint("stocktake_id", "serial_item_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    stocktake_id: Mapped[int] = mapped_column(sa.ForeignKey("stocktakes.id", ondelete="CASCADE"))
    line_id: Mapped[int] = mapped_column(
        sa.ForeignKey("stocktake_lines.id", ondelete="CASCADE"), index=True
    )
    serial_item_id: Mapped[int] = mapped_column(sa.ForeignKey("serial_items.id"))
    scanned_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    scanned_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
