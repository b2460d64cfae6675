"""The floor's documents of an allocation order: picks (拣货记录), shipments (出库单) with their
lines, receipts at the destination (签收单) and returns (归还单).

Each row says what one person did with one source (``OrderSource``) of the order; the source's
own ``picked_qty`` / ``shipped_qty`` / ``received_qty`` / ``short_qty`` / ``returned_qty`` are
their sums, kept by ``reserve.orders.floor`` in the same transaction, and the database checks
the chain on the source. Quantities move only through ``reserve.stock.ledger``."""

from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Mapped, mapped_column, relationship

from reserve.db import Base, UTCDateTime, utcnow


class OrderPick(Base):
    """拣货记录: a quantity of a (location, batch) taken off the shelf for a source, by a scan or
    from the pick list. A substitute batch (替代批次) names the reason and the source it replaced;
    ``shipment_id`` is set when the shipment carries it away."""

    __tablename__ = "order_picks"
    __table_args__ = (
        sa.CheckConstraint("qty > 0", name="qty_positive"),
        sa.CheckConstraint(
            "replaced_source_id IS NULL OR substitute_reason IS NOT NULL",
            name="substitute_why",
        ),
        sa.Index("ix_order_picks_source", "source_id", "shipment_id"),
        sa.Index("ix_order_picks_order", "order_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(sa.ForeignKey("allocation_orders.id", ondelete="CASCADE"))
    source_id: Mapped[int] = mapped_column(sa.ForeignKey("order_sources.id", ondelete="CASCADE"))
    location_id: Mapped[int] = mapped_column(sa.ForeignKey("locations.id"))
    batch_id: Mapped[int] = mapped_column(sa.ForeignKey("batches.id"))
    qty: Mapped[int] = mapped_column(sa.BigInteger)
    serial_nos: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    replaced_source_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("order_sources.id", ondelete="SET NULL")
    )
    substitute_reason: Mapped[str | None] = mapped_column(sa.String(200))
    label_code: Mapped[str | None] = mapped_column(sa.String(40))  # the label scanned, if any
    shipment_id: Mapped[int | None] = mapped_column(sa.ForeignKey("order_shipments.id"))
    picked_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    picked_by_name: Mapped[str] = mapped_column(sa.String(40))
    picked_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class OrderShipment(Base):
    """出库单: what one source warehouse loaded on one vehicle for an order (ISSUE for a
    dispatch, TRANSFER_OUT for a transfer), with the delivery note printed from it."""

    __tablename__ = "order_shipments"
    __table_args__ = (sa.Index("ix_order_shipments_order", "order_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    no: Mapped[str] = mapped_column(sa.String(20), unique=True)
    order_id: Mapped[int] = mapped_column(sa.ForeignKey("allocation_orders.id", ondelete="CASCADE"))
    warehouse_id: Mapped[int] = mapped_column(sa.ForeignKey("warehouses.id"), index=True)
    vehicle_plate: Mapped[str] = mapped_column(sa.String(12))
    driver_name: Mapped[str] = mapped_column(sa.String(40))
    driver_phone: Mapped[str] = mapped_column(sa.String(30))
    note: Mapped[str | None] = mapped_column(sa.String(200))
    shipped_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )
    shipped_by_name: Mapped[str] = mapped_column(sa.String(40))
    shipped_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    lines: Mapped[list[OrderShipmentLine]] = relationship(
        cascade="all, delete-orphan", order_by="OrderShipmentLine.id"
    )


class OrderShipmentLine(Base):
    """出库单明细: the quantity of one source on the vehicle (serial numbers carried)."""

    __tablename__ = "order_shipment_lines"
    __table_args__ = (sa.CheckConstraint("qty > 0", name="qty_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    shipment_id: Mapped[int] = mapped_column(
        sa.ForeignKey("order_shipments.id", ondelete="CASCADE"), index=True
    )
    source_id: Mapped[int] = mapped_column(sa.ForeignKey("order_sources.id"), index=True)
    qty: Mapped[int] = mapped_column(sa.BigInteger)
    serial_nos: Mapped[list[str]] = mapped_column(sa.JSON, default=list)


class OrderReceipt(Base):
    """签收单: what the destination signed for, source by source; a transfer's goods are posted
    into the destination warehouse's receiving area (TRANSFER_IN)."""

    __tablename__ = "order_receipts"
    __table_args__ = (sa.Index("ix_order_receipts_order", "order_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    no: Mapped[str] = mapped_column(sa.String(20), unique=True)
    order_id: Mapped[int] = mapped_column(sa.ForeignKey("allocation_orders.id", ondelete="CASCADE"))
    warehouse_id: Mapped[int | None] = mapped_column(sa.ForeignKey("warehouses.id"))
    signed_by: Mapped[str | None] = mapped_column(sa.String(40))  # 签收人 on the paper
    note: Mapped[str | None] = mapped_column(sa.String(200))
    received_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )
    received_by_name: Mapped[str] = mapped_column(sa.String(40))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    lines: Mapped[list[OrderReceiptLine]] = relationship(
        cascade="all, delete-orphan", order_by="OrderReceiptLine.id"
    )


class OrderReceiptLine(Base):
    """签收明细: received of one source, and the shortfall accepted (差异) with its reason."""

    __tablename__ = "order_receipt_lines"
    __table_args__ = (
        sa.CheckConstraint("qty >= 0 AND short_qty >= 0 AND qty + short_qty > 0", name="qty_sane"),
        sa.CheckConstraint("short_qty = 0 OR reason IS NOT NULL", name="shortfall_why"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    receipt_id: Mapped[int] = mapped_column(
        sa.ForeignKey("order_receipts.id", ondelete="CASCADE"), index=True
    )
    source_id: Mapped[int] = mapped_column(sa.ForeignKey("order_sources.id"), index=True)
    qty: Mapped[int] = mapped_column(sa.BigInteger)
    short_qty: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    reason: Mapped[str | None] = mapped_column(sa.String(200))
    serial_nos: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    location_id: Mapped[int | None] = mapped_column(sa.ForeignKey("locations.id"))


class ReturnCondition(enum.StrEnum):
    """归还状况: back to stock, to repair (serial items), or to the scrap flow."""

    GOOD = "good"
    REPAIR = "repair"
    SCRAP = "scrap"

    @property
    def label(self):
        return {"good": _l("Good"), "repair": _l("Needs repair"), "scrap": _l("Scrap")}[self.value]


class OrderReturn(Base):
    """归还单: returnable materials back from the event into a warehouse, with their condition;
    the scrapped part goes on as a scrap request (``scrap_id``)."""

    __tablename__ = "order_returns"
    __table_args__ = (sa.Index("ix_order_returns_order", "order_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    no: Mapped[str] = mapped_column(sa.String(20), unique=True)
    order_id: Mapped[int] = mapped_column(sa.ForeignKey("allocation_orders.id", ondelete="CASCADE"))
    warehouse_id: Mapped[int] = mapped_column(sa.ForeignKey("warehouses.id"), index=True)
    scrap_id: Mapped[int | None] = mapped_column(sa.ForeignKey("scraps.id"))
    note: Mapped[str | None] = mapped_column(sa.String(200))
    returned_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )
    returned_by_name: Mapped[str] = mapped_column(sa.String(40))
    returned_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    lines: Mapped[list[OrderReturnLine]] = relationship(
        cascade="all, delete-orphan", order_by="OrderReturnLine.id"
    )


class OrderReturnLine(Base):
    """归还明细: a quantity of one source in one condition (one serial number per unit)."""

    __tablename__ = "order_return_lines"
    __table_args__ = (
        sa.CheckConstraint("qty > 0", name="qty_positive"),
        sa.CheckConstraint("condition IN ('good', 'repair', 'scrap')", name="condition_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    return_id: Mapped[int] = mapped_column(
        sa.ForeignKey("order_returns.id", ondelete="CASCADE"), index=True
    )
    source_id: Mapped[int] = mapped_column(sa.ForeignKey("order_sources.id"), index=True)
    condition: Mapped[str] = mapped_column(sa.String(10))
    qty: Mapped[int] = mapped_column(sa.BigInteger)
    serial_nos: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    location_id: Mapped[int] = mapped_column(sa.ForeignKey("locations.id"))
    note: Mapped[str | None] = mapped_column(sa.String(200))

    @property
    def condition_label(self):
        return ReturnCondition(self.condition).label
