"""调拨单现场作业 (the floor): pick (拣货), ship (出库) and close (关闭) an approved order.

Every step claims the order first with ``reserve.documents.transition`` (one conditional
UPDATE, the states it may leave from ``reserve.orders.lifecycle``), then writes its rows, its
ledger movements and its timeline entry (``OrderLog``) and audit entry, in the caller's
transaction. Quantities of a source only grow, each by one conditional UPDATE bounded by the
one before (the database checks the chain again).

- Pick: a (location, batch) taken for a stock source, against its reservation. Another batch
  or location than the plan is refused, unless it is picked as a **substitute** with a reason:
  that much of the source's reservation is released and the substitute reserved, and the
  substitute becomes a source of its own (the planned one keeps the rest), so each source still
  ships from its own reservation. A substitute is of the same material, in the same warehouse,
  available now, and expires no earlier than the planned batch (FEFO).
- Ship: per source warehouse, what is picked and not yet shipped, on one vehicle: ISSUE (a
  dispatch) or TRANSFER_OUT (a transfer) from the reservations, an 出库单 with its lines. The
  order is *shipped* when every source has shipped (an agreement source when its enterprise
  confirmed the call-up: ``call_up_shipped``), else it stays *picking*.
- Close: a received order, or a shipped one with the shortfall accepted (a reason); what is
  still reserved is released.

Receiving and returns are ``reserve.orders.floor_returns``."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from reserve.agreements.callups import normalise_plate
from reserve.auth.actor import Actor
from reserve.catalog.models import Material
from reserve.db import local_today
from reserve.documents import clean_serials, stamp
from reserve.errors import Conflict, NotFound, ValidationError
from reserve.forms import normalise_phone
from reserve.orders.floor_models import OrderPick, OrderShipment, OrderShipmentLine
from reserve.orders.floor_status import (
    RESERVATION_TYPE,
    after_shipment,
    check_action,
    claim,
    get_order,
    log_step,
    source_for,
)
from reserve.orders.models import (
    AllocationOrder,
    OrderKind,
    OrderLine,
    OrderSource,
    OrderStatus,
    SourceKind,
)
from reserve.stock import ledger
from reserve.stock.ledger import DocumentRef, Posting
from reserve.stock.models import Batch, MovementKind, SerialItem, StockReservation
from reserve.stock.numbering import next_document_no
from reserve.stock.queries import fefo_sources
from reserve.texts import checked_text
from reserve.warehouses.models import Location, Warehouse

S = OrderStatus


class WrongBatch(Conflict):
    code = "wrong_batch"


class OverPick(Conflict):
    code = "over_pick"


# Pick (拣货) -----------------------------------------------------------------------------------


def _pick_serials(
    session: Session, material: Material, location_id: int, batch_id: int, qty: int, serial_nos
) -> list[str]:
    """A serial-tracked material's pick names its units, in stock there and not picked yet."""
    numbers = clean_serials(serial_nos)
    if material.tracking != "serial":
        if numbers:
            raise ValidationError(
                _l("This material is not tracked by serial number."), field="serial_nos"
            )
        return []
    if len(numbers) != qty or len(set(numbers)) != qty:
        raise ValidationError(
            _l("Give one serial number per unit picked (%(n)s).", n=qty), field="serial_nos"
        )
    found = set(
        session.scalars(
            select(SerialItem.serial_no).where(
                SerialItem.material_id == material.id,
                SerialItem.batch_id == batch_id,
                SerialItem.location_id == location_id,
                SerialItem.status == "in_stock",
                SerialItem.serial_no.in_(numbers),
            )
        )
    )
    if missing := [n for n in numbers if n not in found]:
        raise ValidationError(
            _l("Not in stock here: %(serials)s.", serials=", ".join(missing)), field="serial_nos"
        )
    picked = session.scalars(
        select(OrderPick.serial_nos).where(
            OrderPick.batch_id == batch_id,
            OrderPick.location_id == location_id,
            OrderPick.shipment_id.is_(None),
        )
    ).all()
    if taken := sorted(set(numbers) & {n for row in picked for n in row or ()}):
        raise ValidationError(
            _l("Already picked: %(serials)s.", serials=", ".join(taken)), field="serial_nos"
        )
    return numbers


def _take_pick(session: Session, source: OrderSource, qty: int) -> None:
    """picked_qty += qty, never beyond what the source plans: one conditional UPDATE."""
    done = session.execute(
        update(OrderSource)
        .where(OrderSource.id == source.id, OrderSource.picked_qty + qty <= OrderSource.qty)
        .values(picked_qty=OrderSource.picked_qty + qty)
        .execution_options(synchronize_session=False)
    ).rowcount
    session.refresh(source)
    if done != 1:
        raise OverPick(
            _l(
                "Over-pick: %(left)s are left to pick for this source, not %(qty)s.",
                left=source.qty - source.picked_qty,
                qty=qty,
            ),
            field="qty",
        )


def _check_substitute(
    session: Session, source: OrderSource, batch: Batch, location: Location, qty: int
) -> None:
    planned = session.get(Batch, source.batch_id)
    if planned.expiry_date and batch.expiry_date and batch.expiry_date < planned.expiry_date:
        raise WrongBatch(
            _l(
                "Batch %(batch)s expires before the planned batch %(planned)s: take the planned "
                "one (first expiry, first out).",
                batch=batch.batch_no,
                planned=planned.batch_no,
            ),
            field="batch_id",
        )
    available = {
        (row.location_id, row.batch_id): row.available
        for row in fefo_sources(
            session, material_id=batch.material_id, warehouse_ids=[source.warehouse_id]
        )
    }.get((location.id, batch.id), 0)
    if available < qty:
        raise WrongBatch(
            _l(
                "Only %(n)s of batch %(batch)s at %(location)s are available: it cannot stand in "
                "for %(qty)s.",
                n=available,
                batch=batch.batch_no,
                location=location.code,
                qty=qty,
            ),
            field="qty",
        )


def _substitute(
    session: Session,
    order: AllocationOrder,
    source: OrderSource,
    batch: Batch,
    location: Location,
    qty: int,
    reason: str,
    actor: Actor,
) -> OrderSource:
    """替代批次: release ``qty`` of the planned reservation, reserve the substitute, and make it
    a source of its own picked at once (or the source itself, when all of it is replaced)."""
    _check_substitute(session, source, batch, location, qty)
    if source.qty - source.picked_qty < qty:
        raise OverPick(
            _l(
                "Over-pick: %(left)s are left to pick for this source, not %(qty)s.",
                left=source.qty - source.picked_qty,
                qty=qty,
            ),
            field="qty",
        )
    ledger.release(session, reservation_id=source.reservation_id, qty=qty, actor=actor)
    reservation = ledger.reserve(
        session,
        location_id=location.id,
        batch_id=batch.id,
        qty=qty,
        document=DocumentRef(RESERVATION_TYPE, order.id, order.no, local_today()),
        line_id=source.line_id,
        actor=actor,
    )
    planned = session.get(Batch, source.batch_id)
    note = f"替代 {planned.batch_no}: {reason}"[:200]
    if source.picked_qty == 0 and source.qty == qty:
        source.location_id, source.batch_id = location.id, batch.id
        source.reservation_id, source.note = reservation.id, note
        source.picked_qty = qty
        session.flush()
        return source
    shrunk = session.execute(
        update(OrderSource)
        .where(OrderSource.id == source.id, OrderSource.qty - qty >= OrderSource.picked_qty)
        .values(qty=OrderSource.qty - qty)
        .execution_options(synchronize_session=False)
    ).rowcount
    if shrunk != 1:
        raise OverPick(_l("This source has just been picked by someone else; reload."))
    session.refresh(source)
    stand_in = OrderSource(
        order_id=order.id,
        line_id=source.line_id,
        kind=SourceKind.STOCK.value,
        warehouse_id=source.warehouse_id,
        location_id=location.id,
        batch_id=batch.id,
        qty=qty,
        reservation_id=reservation.id,
        distance_km=source.distance_km,
        expected_at=source.expected_at,
        picked_qty=qty,
        note=note,
    )
    session.add(stand_in)
    session.flush()
    return stand_in


def record_pick(
    session: Session,
    *,
    source_id: int,
    location_id: int | None,
    batch_id: int | None,
    qty: int,
    actor: Actor,
    serial_nos: Sequence[str] = (),
    substitute_reason: str | None = None,
    label_code: str | None = None,
    order_id: int | None = None,
) -> OrderPick:
    """拣货：record a quantity of a (location, batch) taken for a stock source of an approved
    order. The planned batch and location, or a substitute with a reason; never more than the
    source plans. The order moves approved → picking."""
    source = source_for(session, source_id, actor)
    if order_id is not None and source.order_id != order_id:
        raise NotFound(_l("No such source of an order."))
    order = session.get(AllocationOrder, source.order_id)
    check_action("pick", order, actor)
    if source.kind != SourceKind.STOCK.value:
        raise ValidationError(
            _l("An agreement source is shipped by its enterprise: there is nothing to pick.")
        )
    actor.require_write(source.warehouse_id)
    qty = ledger.check_qty(qty)
    reason = checked_text(substitute_reason, OrderPick.substitute_reason, "substitute_reason")
    material = session.get(OrderLine, source.line_id).material
    batch = session.get(Batch, batch_id) if batch_id else None
    if batch is None:
        raise ValidationError(_l("Scan the label of the stock you pick."), field="batch_id")
    location = session.get(Location, location_id) if location_id else None
    if location is None or location.warehouse_id != source.warehouse_id:
        raise WrongBatch(
            _l("This stock is not in the warehouse the pick list is for."), field="location_id"
        )
    if batch.material_id != material.id:
        raise WrongBatch(
            _l(
                "Wrong material: this is %(found)s, the pick list asks for %(wanted)s.",
                found=batch.material.name,
                wanted=material.name,
            ),
            field="batch_id",
        )
    from_status = order.status
    order = claim(session, order, "pick", to_state=S.PICKING.value)
    numbers = _pick_serials(session, material, location.id, batch.id, qty, serial_nos)
    replaced = None
    if (location.id, batch.id) == (source.location_id, source.batch_id):
        _take_pick(session, source, qty)
        target = source
    else:
        planned = session.get(Batch, source.batch_id)
        planned_at = session.get(Location, source.location_id)
        if reason is None:
            raise WrongBatch(
                _l(
                    "Wrong batch: this is %(batch)s at %(location)s; the pick list says "
                    "%(planned)s at %(planned_at)s. Take that one, or pick this one as a "
                    "substitute and say why.",
                    batch=batch.batch_no,
                    location=location.code,
                    planned=planned.batch_no,
                    planned_at=planned_at.code,
                ),
                field="substitute_reason",
            )
        replaced = source.id
        target = _substitute(session, order, source, batch, location, qty, reason, actor)
    pick = OrderPick(
        order_id=order.id,
        source_id=target.id,
        location_id=location.id,
        batch_id=batch.id,
        qty=qty,
        serial_nos=numbers,
        replaced_source_id=replaced,
        substitute_reason=reason if replaced else None,
        label_code=(label_code or "")[:40] or None,
        picked_by_id=actor.user_id,
        picked_by_name=actor.username,
    )
    session.add(pick)
    session.flush()
    log_step(
        session,
        order,
        action="pick",
        from_status=from_status,
        actor=actor,
        note=f"{material.name} {batch.batch_no} @ {location.code} × {qty}"
        + (f" (替代: {reason})" if replaced else ""),
        audit={"source_id": target.id, "qty": qty, "batch": batch.batch_no},
    )
    return pick


# Ship (出库) ------------------------------------------------------------------------------------


def _vehicle(vehicle_plate, driver_name, driver_phone) -> tuple[str, str, str]:
    plate = normalise_plate(vehicle_plate)
    driver = checked_text(driver_name, OrderShipment.driver_name, "driver_name")
    if driver is None:
        raise ValidationError(_l("Give the driver's name."), field="driver_name")
    phone = normalise_phone(
        checked_text(driver_phone, OrderShipment.driver_phone, "driver_phone"),
        field="driver_phone",
    )
    if phone is None:
        raise ValidationError(_l("Give the driver's phone."), field="driver_phone")
    return plate, driver, phone


def ship_warehouse(
    session: Session,
    *,
    order_id: int,
    warehouse_id: int,
    vehicle_plate: str | None,
    driver_name: str | None,
    driver_phone: str | None,
    actor: Actor,
    note: str | None = None,
) -> OrderShipment:
    """出库：one source warehouse ships what it has picked for the order on one vehicle — ISSUE
    (调用) or TRANSFER_OUT (调拨) from the reservations, an 出库单 numbered CK…, the serial items
    carried. The order is shipped when every source has shipped."""
    order = get_order(session, order_id, actor=actor)
    check_action("ship", order, actor)
    actor.require_write(warehouse_id)
    warehouse = session.get(Warehouse, warehouse_id)
    if warehouse is None:
        raise NotFound(_l("No such warehouse."))
    plate, driver, phone = _vehicle(vehicle_plate, driver_name, driver_phone)
    note = checked_text(note, OrderShipment.note, "note")
    from_status = order.status
    order = claim(session, order, "ship")
    picks = session.scalars(
        select(OrderPick)
        .join(OrderSource, OrderSource.id == OrderPick.source_id)
        .where(
            OrderPick.order_id == order.id,
            OrderPick.shipment_id.is_(None),
            OrderSource.warehouse_id == warehouse_id,
        )
        .order_by(OrderPick.id)
    ).all()
    if not picks:
        raise Conflict(
            _l(
                "Nothing picked in %(warehouse)s for order %(no)s waits to ship: pick first.",
                warehouse=warehouse.name,
                no=order.no,
            )
        )
    today = local_today()
    shipment = OrderShipment(
        no=next_document_no(session, "order_shipment", today),
        order_id=order.id,
        warehouse_id=warehouse_id,
        vehicle_plate=plate,
        driver_name=driver,
        driver_phone=phone,
        note=note,
        **stamp("shipped", actor),
    )
    session.add(shipment)
    session.flush()
    carried: dict[int, list[OrderPick]] = defaultdict(list)
    for pick in picks:
        carried[pick.source_id].append(pick)
        pick.shipment_id = shipment.id
    kind = (
        MovementKind.ISSUE if order.kind == OrderKind.DISPATCH.value else MovementKind.TRANSFER_OUT
    )
    postings = []
    for source_id, rows in carried.items():
        source = session.get(OrderSource, source_id, populate_existing=True)
        qty = sum(p.qty for p in rows)
        serials = [n for p in rows for n in p.serial_nos or ()]
        shipment.lines.append(OrderShipmentLine(source_id=source_id, qty=qty, serial_nos=serials))
        postings.append(
            Posting(
                kind=kind,
                location_id=source.location_id,
                batch_id=source.batch_id,
                qty=-qty,
                from_reserved=source.reservation_id,
                serial_nos=serials,
                note=order.no,
            )
        )
        done = session.execute(
            update(OrderSource)
            .where(
                OrderSource.id == source_id,
                OrderSource.shipped_qty + qty <= OrderSource.picked_qty,
            )
            .values(shipped_qty=OrderSource.shipped_qty + qty)
            .execution_options(synchronize_session=False)
        ).rowcount
        if done != 1:
            raise Conflict(_l("This source has just been shipped by someone else; reload."))
    session.flush()
    ledger.post_movements(
        session,
        postings=postings,
        document=DocumentRef("order_shipment", shipment.id, shipment.no, today),
        actor=actor,
    )
    order = after_shipment(session, order)
    log_step(
        session,
        order,
        action="ship",
        from_status=from_status,
        actor=actor,
        note=f"{shipment.no} {warehouse.name} {plate} {driver}",
        audit={"shipment": shipment.no, "lines": len(postings)},
    )
    return shipment


# Close (关闭) -----------------------------------------------------------------------------------


def close_order(
    session: Session, *, order_id: int, actor: Actor, reason: str | None = None
) -> AllocationOrder:
    """关闭：the dispatcher ends a received order, or a shipped one accepting its shortfall
    (with the reason); what its sources still hold reserved is released."""
    order = get_order(session, order_id, actor=actor)
    check_action("close", order, actor)
    text = checked_text(reason, AllocationOrder.cancel_reason, "reason")
    if order.status == S.SHIPPED.value and text is None:
        raise ValidationError(
            _l("Not everything shipped is signed for: say why the order is closed with it."),
            field="reason",
        )
    from_status = order.status
    order = claim(session, order, "close", to_state=S.CLOSED.value, values=stamp("closed", actor))
    held = session.scalars(
        select(StockReservation)
        .join(OrderSource, OrderSource.reservation_id == StockReservation.id)
        .where(OrderSource.order_id == order.id, StockReservation.status == "open")
    ).all()
    released = sum(r.open_qty for r in held)
    for reservation in held:
        ledger.release(session, reservation_id=reservation.id, actor=actor)
    log_step(
        session,
        order,
        action="close",
        from_status=from_status,
        actor=actor,
        note=text,
        audit={"released": released, **({"reason": text} if text else {})},
    )
    return order
