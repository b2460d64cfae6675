"""The orders' read side: the order list and the event list (paged by key), the order page (its
lines' figures from requested to returned, late sources, the timeline) and the event page (its
orders and, per material, what was sent, received and returned).

Scope is the one rule of the services: ``service.visible(actor)`` for orders (the office sees
every order, a keeper those touching a warehouse they keep, an enterprise none), and the office
roles (``service.OFFICE``) for events. Figures are aggregated in SQL, each page a fixed number of
statements whatever the number of orders, lines or sources; the floor figures of the order page
are ``floor_queries.source_figures``, summed per line here, never recomputed."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import Select, and_, exists, false, func, or_, select
from sqlalchemy.orm import Session

from reserve.auth.actor import Actor
from reserve.auth.models import User
from reserve.catalog.models import Material
from reserve.db import KeyPage, local_day_start, seek_page
from reserve.orders import service
from reserve.orders.floor_queries import SourceFigures, source_figures
from reserve.orders.models import (
    AllocationOrder,
    Event,
    OrderLine,
    OrderLog,
    OrderSource,
    OrderStatus,
)
from reserve.warehouses.models import Warehouse

ORDER_KEYS = ((AllocationOrder.created_at, True), (AllocationOrder.id, True))  # newest first
EVENT_KEYS = ((Event.started_at, True), (Event.id, True))


def _line_stat(expression):
    """A figure over one order's lines, read for the orders of the page only (a correlated
    subquery on the order's lines, not a total over every line of every order)."""
    return (
        select(expression)
        .where(OrderLine.order_id == AllocationOrder.id)
        .correlate(AllocationOrder)
        .scalar_subquery()
    )


def awaiting_sign_off_clause():
    """先调后补, not yet 补批 (``AllocationOrder.awaits_sign_off`` as SQL)."""
    return and_(
        AllocationOrder.is_emergency.is_(True),
        AllocationOrder.signed_off_at.is_(None),
        AllocationOrder.status != OrderStatus.CANCELLED.value,
    )


def order_search(
    *,
    actor: Actor,
    event_id: int | None = None,
    status: str | None = None,
    warehouse_id: int | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
    awaiting_sign_off: bool = False,
) -> Select:
    """调拨单列表: one row per order the actor sees, with its event, destination, line count and
    requested total. ``warehouse_id``: orders with a source in, or the destination at, that
    warehouse; ``date_from``/``date_to``: created on those local days."""
    destination = Warehouse.__table__.alias("destination")
    stmt = (
        select(
            AllocationOrder.id,
            AllocationOrder.no.label("number"),
            AllocationOrder.kind,
            AllocationOrder.status,
            AllocationOrder.priority,
            AllocationOrder.is_emergency,
            AllocationOrder.signed_off_at.is_not(None).label("signed_off"),
            AllocationOrder.event_id,
            Event.name.label("event_name"),
            func.coalesce(destination.c.name, AllocationOrder.site_address).label("destination"),
            AllocationOrder.requesting_unit,
            AllocationOrder.needed_by,
            AllocationOrder.created_at,
            _line_stat(func.count()).label("line_count"),
            _line_stat(func.coalesce(func.sum(OrderLine.requested_qty), 0)).label(
                "requested_total"
            ),
        )
        .outerjoin(Event, Event.id == AllocationOrder.event_id)
        .outerjoin(destination, destination.c.id == AllocationOrder.destination_warehouse_id)
        .where(service.visible(actor))
    )
    if event_id:
        stmt = stmt.where(AllocationOrder.event_id == event_id)
    if status:
        stmt = stmt.where(AllocationOrder.status == status)
    if warehouse_id:
        stmt = stmt.where(
            or_(
                AllocationOrder.destination_warehouse_id == warehouse_id,
                exists(
                    select(OrderSource.id).where(
                        OrderSource.order_id == AllocationOrder.id,
                        OrderSource.warehouse_id == warehouse_id,
                    )
                ),
            )
        )
    if date_from:
        stmt = stmt.where(AllocationOrder.created_at >= local_day_start(date_from))
    if date_to:
        stmt = stmt.where(AllocationOrder.created_at < local_day_start(date_to + timedelta(days=1)))
    if awaiting_sign_off:
        stmt = stmt.where(awaiting_sign_off_clause())
    return stmt


def order_list(
    session: Session,
    *,
    actor: Actor,
    event_id: int | None = None,
    status: str | None = None,
    warehouse_id: int | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
    awaiting_sign_off: bool = False,
    after: str | None = None,
    limit: int = 50,
) -> KeyPage:
    """One page of the order list, newest first, after the page key ``after`` (one statement)."""
    stmt = order_search(
        actor=actor,
        event_id=event_id,
        status=status,
        warehouse_id=warehouse_id,
        date_from=date_from,
        date_to=date_to,
        awaiting_sign_off=awaiting_sign_off,
    )
    return seek_page(session, stmt, ORDER_KEYS, after=after, per_page=limit)


# The order page -------------------------------------------------------------------------------


@dataclass
class LineFigures:
    """One line of the order page: what was asked for and how far each part of it got."""

    id: int
    line_no: int
    material_id: int
    material_code: str
    material_name: str
    spec: str | None
    unit: str
    requested: int
    note: str | None
    sources: list[SourceFigures] = field(default_factory=list)

    def _sum(self, name: str) -> int:
        return sum(getattr(s, name) for s in self.sources)

    @property
    def allocated(self) -> int:
        return self._sum("qty")

    @property
    def picked(self) -> int:
        return self._sum("picked")

    @property
    def shipped(self) -> int:
        return self._sum("shipped")

    @property
    def received(self) -> int:
        return self._sum("received")

    @property
    def short(self) -> int:
        return self._sum("short")

    @property
    def returned(self) -> int:
        return self._sum("returned")

    @property
    def unallocated(self) -> int:
        """Asked for and given no source yet."""
        return max(self.requested - self.allocated, 0)


@dataclass(frozen=True)
class TimelineStep:
    """流转记录 as the page shows it: who (name, login), when, what, from which state, why."""

    at: datetime
    action: str
    from_status: str | None
    to_status: str
    username: str
    full_name: str | None
    note: str | None

    @property
    def who(self) -> str:
        return self.full_name or self.username


@dataclass
class OrderPage:
    order: AllocationOrder
    event: Event | None
    destination: str
    lines: list[LineFigures]
    timeline: list[TimelineStep]

    @property
    def sources(self) -> list[SourceFigures]:
        return [s for line in self.lines for s in line.sources]

    @property
    def late(self) -> list[SourceFigures]:
        """Sources past their expected arrival and not yet all signed for."""
        return [s for s in self.sources if s.is_late]


def order_lines(session: Session, order_id: int) -> list[LineFigures]:
    """An order's lines with their material (one statement), sources not yet attached."""
    rows = session.execute(
        select(
            OrderLine.id,
            OrderLine.line_no,
            OrderLine.material_id,
            Material.code,
            Material.name,
            Material.spec,
            Material.unit,
            OrderLine.requested_qty,
            OrderLine.note,
        )
        .join(Material, Material.id == OrderLine.material_id)
        .where(OrderLine.order_id == order_id)
        .order_by(OrderLine.line_no)
    ).all()
    return [LineFigures(*row) for row in rows]


def timeline(session: Session, order_id: int) -> list[TimelineStep]:
    """The order's timeline, oldest first, with each user's name (one statement)."""
    rows = session.execute(
        select(
            OrderLog.at,
            OrderLog.action,
            OrderLog.from_status,
            OrderLog.to_status,
            OrderLog.username,
            func.nullif(User.full_name, "").label("full_name"),
            OrderLog.note,
        )
        .outerjoin(User, User.id == OrderLog.user_id)
        .where(OrderLog.order_id == order_id)
        .order_by(OrderLog.id)
    ).all()
    return [TimelineStep(*row) for row in rows]


def order_page(session: Session, *, order_id: int, actor: Actor) -> OrderPage:
    """The order page's figures: the order (404 out of scope, ``service.get_order``), its event,
    its lines with their sources' floor figures, and the timeline (five statements)."""
    order = service.get_order(session, order_id, actor=actor)
    event = session.get(Event, order.event_id) if order.event_id else None
    destination = (
        session.get(Warehouse, order.destination_warehouse_id).name
        if order.destination_warehouse_id
        else order.site_address or ""
    )
    lines = order_lines(session, order.id)
    by_no = {line.line_no: line for line in lines}
    for figures in source_figures(session, order.id):
        by_no[figures.line_no].sources.append(figures)
    return OrderPage(order, event, destination, lines, timeline(session, order.id))


# Events ---------------------------------------------------------------------------------------


def _sees_events(actor: Actor) -> bool:
    return actor.has_role(*service.OFFICE)


def event_list(
    session: Session,
    *,
    actor: Actor,
    open_only: bool = False,
    kind: str | None = None,
    after: str | None = None,
    limit: int = 50,
) -> KeyPage:
    """事件列表: newest start first, with each event's order count and how many are still open
    (not closed or cancelled), by key (one statement). Events are the office's: a keeper or an
    enterprise user sees none."""
    open_states = [
        s.value for s in OrderStatus if s not in (OrderStatus.CLOSED, OrderStatus.CANCELLED)
    ]

    def _orders(*where):
        return (
            select(func.count())
            .select_from(AllocationOrder)
            .where(AllocationOrder.event_id == Event.id, *where)
            .correlate(Event)
            .scalar_subquery()
        )

    stmt = select(
        Event.id,
        Event.name,
        Event.kind,
        Event.level,
        Event.region_id,
        Event.started_at,
        Event.ended_at,
        _orders().label("order_count"),
        _orders(AllocationOrder.status.in_(open_states)).label("open_count"),
    )
    if not _sees_events(actor):
        stmt = stmt.where(false())
    if open_only:
        stmt = stmt.where(Event.ended_at.is_(None))
    if kind:
        stmt = stmt.where(Event.kind == kind)
    return seek_page(session, stmt, EVENT_KEYS, after=after, per_page=limit)


@dataclass(frozen=True)
class MaterialFlow:
    """Per material of an event: asked, allocated, sent (shipped), received, short, returned."""

    material_id: int
    material_code: str
    material_name: str
    unit: str
    requested: int
    allocated: int
    shipped: int
    received: int
    short: int
    returned: int


@dataclass
class EventPage:
    event: Event
    orders: KeyPage
    materials: list[MaterialFlow]


def event_materials(session: Session, event_id: int) -> list[MaterialFlow]:
    """What the event's orders (cancelled ones left out) asked for and what was sent, received and
    returned, per material (one statement: each line's source sums, then summed per material)."""
    per_line = (
        select(
            OrderLine.material_id,
            OrderLine.requested_qty.label("requested"),
            func.coalesce(func.sum(OrderSource.qty), 0).label("allocated"),
            func.coalesce(func.sum(OrderSource.shipped_qty), 0).label("shipped"),
            func.coalesce(func.sum(OrderSource.received_qty), 0).label("received"),
            func.coalesce(func.sum(OrderSource.short_qty), 0).label("short"),
            func.coalesce(func.sum(OrderSource.returned_qty), 0).label("returned"),
        )
        .join(AllocationOrder, AllocationOrder.id == OrderLine.order_id)
        .outerjoin(OrderSource, OrderSource.line_id == OrderLine.id)
        .where(
            AllocationOrder.event_id == event_id,
            AllocationOrder.status != OrderStatus.CANCELLED.value,
        )
        .group_by(OrderLine.id, OrderLine.material_id, OrderLine.requested_qty)
        .subquery()
    )
    rows = session.execute(
        select(
            Material.id,
            Material.code,
            Material.name,
            Material.unit,
            func.sum(per_line.c.requested),
            func.sum(per_line.c.allocated),
            func.sum(per_line.c.shipped),
            func.sum(per_line.c.received),
            func.sum(per_line.c.short),
            func.sum(per_line.c.returned),
        )
        .join(per_line, per_line.c.material_id == Material.id)
        .group_by(Material.id, Material.code, Material.name, Material.unit)
        .order_by(Material.code)
    ).all()
    return [MaterialFlow(*row[:4], *(int(v or 0) for v in row[4:])) for row in rows]


def event_page(
    session: Session, *, event_id: int, actor: Actor, after: str | None = None, limit: int = 50
) -> EventPage:
    """The event page: the event (404 for who may not see events, ``service.get_event``), a page
    of its orders the actor sees, and its materials' flow (three statements)."""
    event = service.get_event(session, event_id, actor=actor)
    orders = order_list(session, actor=actor, event_id=event.id, after=after, limit=limit)
    return EventPage(event, orders, event_materials(session, event.id))
