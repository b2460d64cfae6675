"""标签: a printed QR label and what it points at — a batch at a location (a carton or pallet),
one serial item, or a location (库位). The code on it is derived from the row's id
(``reserve.labels.codes``); the row keeps who printed it first, how many times, and whether it
was revoked (lost, damaged) so that it no longer scans."""

from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Mapped, mapped_column

from reserve.db import Base, UTCDateTime, utcnow


class LabelKind(enum.StrEnum):
    STOCK = "stock"  # a batch at a location
    ITEM = "item"  # a serial item
    LOCATION = "location"

    @property
    def label(self):
        return {
            "stock": _l("Stock label"),
            "item": _l("Item label"),
            "location": _l("Location label"),
        }[self.value]


class Label(Base):
    """标签: one printed label. A stock label names its batch and location, an item label its
    serial item (and its batch), a location label its location only (CHECKs below)."""

    __tablename__ = "labels"
    __table_args__ = (
        sa.CheckConstraint("kind IN ('stock', 'item', 'location')", name="kind_known"),
        sa.CheckConstraint(
            "(kind = 'stock' AND location_id IS NOT NULL AND batch_id IS NOT NULL"
            " AND serial_item_id IS NULL)"
            " OR (kind = 'item' AND serial_item_id IS NOT NULL AND batch_id IS NOT NULL)"
            " OR (kind = 'location' AND location_id IS NOT NULL AND batch_id IS NULL"
            " AND serial_item_id IS NULL AND qty_at_label IS NULL)",
            name="targets_fit_kind",
        ),
        sa.CheckConstraint("qty_at_label IS NULL OR qty_at_label > 0", name="qty_positive"),
        sa.CheckConstraint("print_count >= 1", name="printed"),
        sa.CheckConstraint(
            "(revoked_at IS NULL AND revoke_reason IS NULL AND revoked_by_name IS NULL)"
            " OR (revoked_at IS NOT NULL AND revoke_reason IS NOT NULL"
            " AND revoked_by_name IS NOT NULL)",
            name="revoked_with_reason",
        ),
        # one live label per location and per serial item: a reprint prints the same code
        sa.Index(
            "uq_labels_live_location",
            "location_id",
            unique=True,
            sqlite_where=sa.text("kind = 'location' AND revoked_at IS NULL"),
            postgresql_where=sa.text("kind = 'location' AND revoked_at IS NULL"),
        ),
        sa.Index(
            "uq_labels_live_item",
            "serial_item_id",
            unique=True,
            sqlite_where=sa.text("kind = 'item' AND revoked_at IS NULL"),
            postgresql_where=sa.text("kind = 'item' AND revoked_at IS NULL"),
        ),
        sa.Index("ix_labels_place", "location_id", "batch_id"),
        sa.Index("ix_labels_warehouse_id", "warehouse_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(10))
    warehouse_id: Mapped[int] = mapped_column(sa.ForeignKey("warehouses.id"))
    location_id: Mapped[int | None] = mapped_column(sa.ForeignKey("locations.id"))
    batch_id: Mapped[int | None] = mapped_column(sa.ForeignKey("batches.id"), index=True)
    serial_item_id: Mapped[int | None] = mapped_column(sa.ForeignKey("serial_items.id"))
    qty_at_label: Mapped[int | None] = mapped_column(sa.BigInteger)  # printed on it, if any
    receipt_id: Mapped[int | None] = mapped_column(sa.ForeignKey("receipts.id"), index=True)
    print_count: Mapped[int] = mapped_column(default=1)
    first_printed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    first_printed_by_name: Mapped[str] = mapped_column(sa.String(40))
    first_printed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_printed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    revoked_by_name: Mapped[str | None] = mapped_column(sa.String(40))
    revoke_reason: Mapped[str | None] = mapped_column(sa.String(200))

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None


class LabelPrint(Base):
    """打印批次: one print of labels (new ones, or the same codes again) — which labels in
    which order, on which layout from which position — kept so that the sheet is fetched by a
    GET after the POST that printed (post, redirect, get): a refresh or a second download
    fetches the same sheet and prints nothing again, logs no reprint."""

    __tablename__ = "label_prints"
    __table_args__ = (
        sa.CheckConstraint(
            "layout IN ('a4-3x8', 'a4-2x5', '60x40', '100x70')", name="layout_known"
        ),
        sa.CheckConstraint("start >= 1 AND start <= 24", name="start_on_a_sheet"),
        sa.CheckConstraint("label_count >= 1 AND label_count <= 5000", name="label_count_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    warehouse_id: Mapped[int] = mapped_column(sa.ForeignKey("warehouses.id"), index=True)
    receipt_id: Mapped[int | None] = mapped_column(sa.ForeignKey("receipts.id"))
    layout: Mapped[str] = mapped_column(sa.String(10))
    start: Mapped[int] = mapped_column(default=1)
    label_ids: Mapped[list[int]] = mapped_column(sa.JSON)  # in the order they are printed
    label_count: Mapped[int]
    printed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    printed_by_name: Mapped[str] = mapped_column(sa.String(40))
    printed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
