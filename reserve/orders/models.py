"""事件 and 调拨单: a disaster response (event) and the allocation orders that answer it.

An order asks for materials (its lines) to go to a destination: a site (调用, dispatch) or
another warehouse of the bureau (调拨, transfer). Each line is filled from sources (货源): a
(location, batch) of physical stock in a bureau warehouse, or an agreement line whose enterprise
ships on a call-up (``reserve.agreements.callups``). What a source promises is held from the
order's approval: physical stock by a ledger reservation (``StockReservation``, one per source),
agreement stock by a call-up (``CallUp``, one per source). Nothing here changes stock: picking,
shipping, receiving and returns post through ``reserve.stock.ledger`` like every document.

A source's quantities only grow along the way — planned ≥ picked ≥ shipped ≥ received — and the
database checks that chain, so a bug upstream cannot make an order claim it shipped what it never
picked. The order's own status follows ``reserve.orders.lifecycle``; every change of it is a row
of ``OrderLog`` (the timeline), written in the same transaction."""

from __future__ import annotations

import enum
from datetime import datetime
from decimal import Decimal

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Mapped, mapped_column, relationship

from reserve.catalog.models import Material
from reserve.db import Base, UTCDateTime, utcnow
from reserve.warehouses.models import Region, Warehouse


class EventKind(enum.StrEnum):
    """事件类型."""

    FLOOD = "flood"
    FOREST_FIRE = "forest_fire"
    TYPHOON = "typhoon"
    EARTHQUAKE = "earthquake"
    GEOLOGICAL = "geological"
    HAZMAT = "hazmat"
    DRILL = "drill"
    OTHER = "other"

    @property
    def label(self):
        return {
            "flood": _l("Flood"),
            "forest_fire": _l("Forest fire"),
            "typhoon": _l("Typhoon"),
            "earthquake": _l("Earthquake"),
            "geological": _l("Geological disaster"),
            "hazmat": _l("Hazardous chemicals"),
            "drill": _l("Drill"),
            "other": _l("Other"),
        }[self.value]


class EventLevel(enum.StrEnum):
    """应急响应级别: Ⅰ (most severe) to Ⅳ."""

    I = "1"  # noqa: E741 - the response level's own name
    II = "2"
    III = "3"
    IV = "4"

    @property
    def label(self):
        return {
            "1": _l("Level I"),
            "2": _l("Level II"),
            "3": _l("Level III"),
            "4": _l("Level IV"),
        }[self.value]


class Event(Base):
    """事件: one disaster response (or a drill) that groups the orders sent for it."""

    __tablename__ = "events"
    __table_args__ = (
        sa.CheckConstraint(
            "kind IN ('flood', 'forest_fire', 'typhoon', 'earthquake', 'geological', 'hazmat',"
            " 'drill', 'other')",
            name="kind_known",
        ),
        sa.CheckConstraint("level IN ('1', '2', '3', '4')", name="level_known"),
        sa.CheckConstraint("ended_at IS NULL OR ended_at >= started_at", name="ends_after_start"),
        sa.Index("ix_events_started_id", "started_at", "id"),  # the list's order, by key
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(100))
    kind: Mapped[str] = mapped_column(sa.String(12))
    level: Mapped[str] = mapped_column(sa.String(1))
    region_id: Mapped[int] = mapped_column(sa.ForeignKey("regions.id"), index=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    note: Mapped[str | None] = mapped_column(sa.String(500))
    created_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )
    created_by_name: Mapped[str] = mapped_column(sa.String(40))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    region: Mapped[Region] = relationship(lazy="joined")

    def __str__(self) -> str:
        return self.name

    @property
    def kind_label(self):
        return EventKind(self.kind).label

    @property
    def level_label(self):
        return EventLevel(self.level).label

    @property
    def is_open(self) -> bool:
        return self.ended_at is None


class OrderKind(enum.StrEnum):
    """调拨单类型: to a site (调用) or into another warehouse of the bureau (调拨)."""

    DISPATCH = "dispatch"
    TRANSFER = "transfer"

    @property
    def label(self):
        return {"dispatch": _l("Dispatch to a site"), "transfer": _l("Transfer")}[self.value]


class OrderPriority(enum.StrEnum):
    """紧急程度."""

    NORMAL = "normal"
    URGENT = "urgent"
    CRITICAL = "critical"

    @property
    def label(self):
        return {"normal": _l("Normal"), "urgent": _l("Urgent"), "critical": _l("Critical")}[
            self.value
        ]


class OrderStatus(enum.StrEnum):
    """调拨单状态; the transitions between them are ``reserve.orders.lifecycle.TRANSITIONS``."""

    DRAFT = "draft"
    SUBMITTED = "submitted"
    REJECTED = "rejected"
    APPROVED = "approved"
    PICKING = "picking"
    SHIPPED = "shipped"
    RECEIVED = "received"
    CLOSED = "closed"
    CANCELLED = "cancelled"

    @property
    def label(self):
        return {
            "draft": _l("Draft"),
            "submitted": _l("Awaiting approval"),
            "rejected": _l("Rejected"),
            "approved": _l("Approved"),
            "picking": _l("Picking"),
            "shipped": _l("Shipped"),
            "received": _l("Received"),
            "closed": _l("Closed"),
            "cancelled": _l("Cancelled"),
        }[self.value]


ORDER_STATUSES = tuple(s.value for s in OrderStatus)


class AllocationOrder(Base):
    """调拨单: materials for an event (or none) sent to a site or into a warehouse, numbered
    ``DB-YYYYMM-NNNN``. 先调后补: an emergency order is approved by its dispatcher and ships at
    once; it stays awaiting sign-off (补批) until an approver signs it off."""

    __tablename__ = "allocation_orders"
    __table_args__ = (
        sa.CheckConstraint("kind IN ('dispatch', 'transfer')", name="kind_known"),
        sa.CheckConstraint("priority IN ('normal', 'urgent', 'critical')", name="priority_known"),
        sa.CheckConstraint(
            "status IN (" + ", ".join(f"'{s}'" for s in ORDER_STATUSES) + ")",
            name="status_known",
        ),
        # a transfer goes into a warehouse; a dispatch goes to a site with an address
        sa.CheckConstraint(
            "(kind = 'transfer' AND destination_warehouse_id IS NOT NULL)"
            " OR (kind = 'dispatch' AND destination_warehouse_id IS NULL"
            " AND site_address IS NOT NULL)",
            name="destination_fits_kind",
        ),
        sa.CheckConstraint("(site_lat IS NULL) = (site_lng IS NULL)", name="site_position_whole"),
        sa.CheckConstraint(
            "status <> 'rejected' OR reject_reason IS NOT NULL", name="rejected_why"
        ),
        sa.CheckConstraint(
            "status <> 'cancelled' OR cancel_reason IS NOT NULL", name="cancelled_why"
        ),
        # approved (or past it) means somebody approved it; only emergencies get signed off
        sa.CheckConstraint(
            "status IN ('draft', 'submitted', 'rejected', 'cancelled') OR approved_at IS NOT NULL",
            name="approved_facts",
        ),
        sa.CheckConstraint(
            "is_emergency OR signed_off_at IS NULL", name="only_emergencies_signed_off"
        ),
        sa.Index("ix_allocation_orders_created_id", "created_at", "id"),  # the list, by key
        sa.Index("ix_allocation_orders_event_id", "event_id", "id"),
        sa.Index("ix_allocation_orders_status_id", "status", "id"),
        sa.Index("ix_allocation_orders_sign_off", "is_emergency", "signed_off_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    no: Mapped[str] = mapped_column(sa.String(20), unique=True)
    event_id: Mapped[int | None] = mapped_column(sa.ForeignKey("events.id"))
    kind: Mapped[str] = mapped_column(sa.String(10))
    status: Mapped[str] = mapped_column(sa.String(10), default=OrderStatus.DRAFT.value)
    priority: Mapped[str] = mapped_column(sa.String(10), default=OrderPriority.NORMAL.value)
    is_emergency: Mapped[bool] = mapped_column(default=False)
    requesting_unit: Mapped[str] = mapped_column(sa.String(100))  # 申请单位
    # 目的地: a warehouse of the bureau (transfer) or a site (dispatch)
    destination_warehouse_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("warehouses.id"), index=True
    )
    site_address: Mapped[str | None] = mapped_column(sa.String(200))
    site_region_id: Mapped[int | None] = mapped_column(sa.ForeignKey("regions.id"), index=True)
    site_lat: Mapped[Decimal | None] = mapped_column(sa.Numeric(9, 6))
    site_lng: Mapped[Decimal | None] = mapped_column(sa.Numeric(9, 6))
    contact_name: Mapped[str | None] = mapped_column(sa.String(40))
    contact_phone: Mapped[str | None] = mapped_column(sa.String(30))
    needed_by: Mapped[datetime] = mapped_column(UTCDateTime)
    reason: Mapped[str | None] = mapped_column(sa.String(500))  # 调拨事由
    note: Mapped[str | None] = mapped_column(sa.String(500))
    reject_reason: Mapped[str | None] = mapped_column(sa.String(200))
    cancel_reason: Mapped[str | None] = mapped_column(sa.String(200))
    # Attribution (reserve.documents.stamp), one triple per verb of the lifecycle.
    created_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )
    created_by_name: Mapped[str] = mapped_column(sa.String(40))
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
    signed_off_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    signed_off_by_name: Mapped[str | None] = mapped_column(sa.String(40))
    signed_off_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    shipped_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # the last source shipped
    received_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # the last receipt signed
    closed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    closed_by_name: Mapped[str | None] = mapped_column(sa.String(40))
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancelled_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    cancelled_by_name: Mapped[str | None] = mapped_column(sa.String(40))
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    event: Mapped[Event | None] = relationship()
    destination_warehouse: Mapped[Warehouse | None] = relationship()
    site_region: Mapped[Region | None] = relationship()
    lines: Mapped[list[OrderLine]] = relationship(
        cascade="all, delete-orphan", order_by="OrderLine.line_no", back_populates="order"
    )

    def __str__(self) -> str:
        return self.no

    @property
    def kind_label(self):
        return OrderKind(self.kind).label

    @property
    def status_label(self):
        return OrderStatus(self.status).label

    @property
    def priority_label(self):
        return OrderPriority(self.priority).label

    @property
    def awaits_sign_off(self) -> bool:
        """先调后补, not yet 补批."""
        return (
            self.is_emergency
            and self.signed_off_at is None
            and self.status != OrderStatus.CANCELLED.value
        )


class OrderLine(Base):
    """调拨单明细: a quantity of one material the destination asked for."""

    __tablename__ = "order_lines"
    __table_args__ = (
        sa.CheckConstraint("requested_qty > 0", name="requested_positive"),
        sa.UniqueConstraint("order_id", "line_no"),
        sa.UniqueConstraint("order_id", "material_id"),  # one line per material
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(sa.ForeignKey("allocation_orders.id", ondelete="CASCADE"))
    line_no: Mapped[int]
    material_id: Mapped[int] = mapped_column(sa.ForeignKey("materials.id"), index=True)
    requested_qty: Mapped[int] = mapped_column(sa.BigInteger)
    note: Mapped[str | None] = mapped_column(sa.String(200))

    order: Mapped[AllocationOrder] = relationship(back_populates="lines")
    material: Mapped[Material] = relationship(lazy="joined")
    sources: Mapped[list[OrderSource]] = relationship(
        cascade="all, delete-orphan", order_by="OrderSource.id", back_populates="line"
    )


class SourceKind(enum.StrEnum):
    """货源: physical stock of a bureau warehouse, or an agreement line's enterprise."""

    STOCK = "stock"
    AGREEMENT = "agreement"

    @property
    def label(self):
        return {"stock": _l("Warehouse stock"), "agreement": _l("Agreement stock")}[self.value]


class OrderSource(Base):
    """货源分配: how much of a line one source gives, and how far it has got.

    A stock source names the (location, batch) it takes from; the order's approval reserves it
    (``reservation_id``). An agreement source names the agreement line; approval calls it up
    (``call_up_id``). ``picked_qty``/``shipped_qty``/``received_qty``/``returned_qty`` are what the
    floor has done with it, each bounded by the one before."""

    __tablename__ = "order_sources"
    __table_args__ = (
        sa.CheckConstraint("kind IN ('stock', 'agreement')", name="kind_known"),
        sa.CheckConstraint(
            "(kind = 'stock' AND warehouse_id IS NOT NULL AND location_id IS NOT NULL"
            " AND batch_id IS NOT NULL AND agreement_line_id IS NULL AND call_up_id IS NULL)"
            " OR (kind = 'agreement' AND agreement_line_id IS NOT NULL AND warehouse_id IS NULL"
            " AND location_id IS NULL AND batch_id IS NULL AND reservation_id IS NULL)",
            name="source_fits_kind",
        ),
        sa.CheckConstraint("qty > 0", name="qty_positive"),
        sa.CheckConstraint(
            "picked_qty >= 0 AND picked_qty <= qty"
            " AND shipped_qty >= 0 AND shipped_qty <= qty"
            " AND received_qty >= 0 AND received_qty <= shipped_qty"
            " AND returned_qty >= 0 AND returned_qty <= received_qty",
            name="quantities_chain",
        ),
        # 签收差异 (ordfloor): what the destination signed as missing never exceeds the gap
        sa.CheckConstraint(
            "short_qty >= 0 AND received_qty + short_qty <= shipped_qty",
            name="short_within_shipped",
        ),
        sa.CheckConstraint("distance_km IS NULL OR distance_km >= 0", name="distance_not_negative"),
        sa.Index("ix_order_sources_order", "order_id"),
        sa.Index("ix_order_sources_warehouse_order", "warehouse_id", "order_id"),
        sa.Index("ix_order_sources_agreement_line", "agreement_line_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # the order as well as the line: a keeper's pick list and the scope read it by order
    order_id: Mapped[int] = mapped_column(sa.ForeignKey("allocation_orders.id", ondelete="CASCADE"))
    line_id: Mapped[int] = mapped_column(
        sa.ForeignKey("order_lines.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(sa.String(10))
    warehouse_id: Mapped[int | None] = mapped_column(sa.ForeignKey("warehouses.id"))
    location_id: Mapped[int | None] = mapped_column(sa.ForeignKey("locations.id"))
    batch_id: Mapped[int | None] = mapped_column(sa.ForeignKey("batches.id"))
    agreement_line_id: Mapped[int | None] = mapped_column(sa.ForeignKey("agreement_lines.id"))
    qty: Mapped[int] = mapped_column(sa.BigInteger)  # planned (分配数量)
    reservation_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("stock_reservations.id"), unique=True
    )
    call_up_id: Mapped[int | None] = mapped_column(sa.ForeignKey("call_ups.id"), unique=True)
    distance_km: Mapped[Decimal | None] = mapped_column(sa.Numeric(8, 1))
    expected_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # 预计到达
    picked_qty: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    shipped_qty: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    received_qty: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    returned_qty: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    # signed for as missing at the destination, with a reason (``floor_models.OrderReceiptLine``)
    short_qty: Mapped[int] = mapped_column(sa.BigInteger, default=0, server_default="0")
    note: Mapped[str | None] = mapped_column(sa.String(200))

    line: Mapped[OrderLine] = relationship(back_populates="sources")
    warehouse: Mapped[Warehouse | None] = relationship()

    @property
    def kind_label(self):
        return SourceKind(self.kind).label


class OrderLog(Base):
    """流转记录: one step of an order's timeline (who, when, from which state to which)."""

    __tablename__ = "order_log"
    __table_args__ = (sa.Index("ix_order_log_order_id", "order_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(sa.ForeignKey("allocation_orders.id", ondelete="CASCADE"))
    action: Mapped[str] = mapped_column(sa.String(20))  # a key of lifecycle.TRANSITIONS, or a step
    from_status: Mapped[str | None] = mapped_column(sa.String(10))
    to_status: Mapped[str] = mapped_column(sa.String(10))
    note: Mapped[str | None] = mapped_column(sa.String(500))
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    username: Mapped[str] = mapped_column(sa.String(40))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
