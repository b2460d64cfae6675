"""The demo city's allocation orders on the floor: approved orders taken on through the floor's
services (never by writing rows), so that the ledger verifies — some picking, some shipped, one
partly received with the reason for its shortfall, some received, some closed, and one return
of returnable materials with a damaged unit sent to the scrap flow.

``advance_orders(session, orders)`` takes the approved orders (``reserve.demo.orders`` makes
them) and gives each, in turn, the next of ``STEPS``; agreement sources are confirmed shipped
by their enterprise (``callups.confirm_shipped``), as the portal would."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, nullcontext

from sqlalchemy import select
from sqlalchemy.orm import Session

from reserve.agreements.callups import confirm_shipped
from reserve.auth.actor import Actor
from reserve.db import utcnow
from reserve.orders import floor
from reserve.orders.floor_models import OrderShipmentLine
from reserve.orders.floor_returns import (
    ReceiveLineData,
    ReturnLineData,
    receive_order,
    return_goods,
)
from reserve.orders.models import AllocationOrder, OrderKind, OrderSource, SourceKind
from reserve.stock.models import ItemStatus, SerialItem

STEPS = ("picking", "shipped", "partly_received", "received", "closed", "returned")
VEHICLES = (("鲁A3K721", "王建国", "13905310001"), ("鲁AD72815", "刘海涛", "13905310002"))


def _sources(session: Session, order: AllocationOrder) -> list[OrderSource]:
    return list(
        session.scalars(
            select(OrderSource)
            .where(OrderSource.order_id == order.id)
            .order_by(OrderSource.id)
            .execution_options(populate_existing=True)
        )
    )


def _serials(session: Session, source: OrderSource, n: int) -> list[str]:
    return list(
        session.scalars(
            select(SerialItem.serial_no)
            .where(
                SerialItem.batch_id == source.batch_id,
                SerialItem.location_id == source.location_id,
                SerialItem.status == ItemStatus.IN_STOCK.value,
            )
            .order_by(SerialItem.serial_no)
            .limit(n)
        )
    )


def _pick(session: Session, source: OrderSource, qty: int, actor: Actor) -> None:
    serial = source.line.material.tracking == "serial"
    floor.record_pick(
        session,
        source_id=source.id,
        location_id=source.location_id,
        batch_id=source.batch_id,
        qty=qty,
        serial_nos=_serials(session, source, qty) if serial else (),
        actor=actor,
    )


def _ship_all(session: Session, order: AllocationOrder, actor: Actor, n: int) -> None:
    sources = _sources(session, order)
    for source in sources:
        if source.kind == SourceKind.STOCK.value and source.qty > source.picked_qty:
            _pick(session, source, source.qty - source.picked_qty, actor)
    plate, driver, phone = VEHICLES[n % len(VEHICLES)]
    for warehouse_id in sorted({s.warehouse_id for s in sources if s.warehouse_id}):
        floor.ship_warehouse(
            session,
            order_id=order.id,
            warehouse_id=warehouse_id,
            vehicle_plate=plate,
            driver_name=driver,
            driver_phone=phone,
            actor=actor,
        )
    for source in sources:
        if source.kind == SourceKind.AGREEMENT.value and source.call_up_id:
            confirm_shipped(
                session,
                call_up_id=source.call_up_id,
                shipped_qty=source.qty,
                vehicle_plate=plate,
                driver_name=driver,
                driver_phone=phone,
                shipped_at=utcnow(),
                actor=actor,
            )


def _receive_all(session: Session, order: AllocationOrder, actor: Actor, short: int = 0) -> None:
    lines, short_left = [], short
    for source in _sources(session, order):
        waiting = source.shipped_qty - source.received_qty - source.short_qty
        if waiting <= 0:
            continue
        missing = min(short_left, waiting - 1) if source.line.material.tracking != "serial" else 0
        short_left -= missing
        reason = "途中雨淋受潮，现场拒收" if missing else None
        lines.append(ReceiveLineData(source.id, waiting - missing, reason))
    receive_order(session, order_id=order.id, lines=lines, signed_by="现场负责人", actor=actor)


def _return(session: Session, order: AllocationOrder, actor: Actor) -> bool:
    """归还 of the order's returnable stock sources: all good but one damaged unit (scrap)."""
    sources = [
        s
        for s in _sources(session, order)
        if s.kind == SourceKind.STOCK.value and s.line.material.is_returnable and s.received_qty
    ]
    if order.kind != OrderKind.DISPATCH.value or not sources:
        return False
    lines = []
    for i, source in enumerate(sources):
        serials = [
            n
            for row in session.scalars(
                select(OrderShipmentLine.serial_nos).where(OrderShipmentLine.source_id == source.id)
            )
            for n in row or ()
        ][: source.received_qty]
        qty = source.received_qty
        damaged = 1 if i == 0 else 0
        if qty - damaged:
            lines.append(ReturnLineData(source.id, "good", qty - damaged, tuple(serials[damaged:])))
        if damaged:
            lines.append(
                ReturnLineData(source.id, "scrap", 1, tuple(serials[:1]), note="篷布撕裂，支架变形")
            )
    return_goods(
        session,
        order_id=order.id,
        warehouse_id=sources[0].warehouse_id,
        lines=lines,
        note="事件结束，物资归还",
        actor=actor,
    )
    return True


def advance_order(
    session: Session,
    order: AllocationOrder,
    step: str,
    *,
    n: int = 0,
    at: Callable[[str], AbstractContextManager] | None = None,
) -> str:
    """One approved order taken to ``step`` (one of ``STEPS``); ``at(phase)`` gives the clock of
    each phase ("pick", "ship", "receive", "close", "return"), so the demo posts them at their
    own past times. Returns the step done (a return falls back to closing when the order has
    nothing returnable)."""
    actor = Actor.system("demo")
    clock = at or (lambda _phase: nullcontext())
    stock = [s for s in _sources(session, order) if s.kind == SourceKind.STOCK.value]
    if step == "picking" and stock:
        with clock("pick"):
            _pick(session, stock[0], max(1, stock[0].qty // 2), actor)
    else:
        step = "shipped" if step == "picking" else step
        with clock("ship"):
            _ship_all(session, order, actor, n)
    if step == "partly_received":
        with clock("receive"):
            _receive_all(session, order, actor, short=2)
    elif step in ("received", "closed", "returned"):
        with clock("receive"):
            _receive_all(session, order, actor)
    if step in ("closed", "returned"):
        with clock("close"):
            floor.close_order(session, order_id=order.id, actor=actor)
    if step == "returned":
        with clock("return"):
            if not _return(session, order, actor):
                step = "closed"
    return step


def advance_orders(session: Session, orders: Sequence[AllocationOrder]) -> dict[str, int]:
    """调拨单现场作业 of the demo: each approved order gets the next step of ``STEPS``.
    Returns how many orders got each step."""
    done: dict[str, int] = {}
    for n, order in enumerate(orders):
        step = advance_order(session, order, STEPS[n % len(STEPS)], n=n)
        done[step] = done.get(step, 0) + 1
    return done
