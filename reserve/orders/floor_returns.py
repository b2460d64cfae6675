"""签收与归还 (receive and return) of an allocation order: the far end of the floor.

- Receive (签收): the destination signs for what was shipped, source by source. Less than
  shipped is a shortfall (差异) that needs its reason; more is refused. A transfer's stock
  sources are posted into the destination warehouse's receiving area (TRANSFER_IN, the same
  batch, serial items carried); an agreement source's goods enter a warehouse through the
  call-up's 入库单 (``reserve.agreements.callup_receipts``), as every call-up's do. The order
  is *received* when everything shipped is signed for. Who: a keeper of the destination
  warehouse (transfer), or the dispatcher or admin recording the site's signed paper (dispatch).
- Return (归还): returnable materials (``Material.is_returnable``) come back from a site into a
  warehouse, each unit or quantity with its condition: good → RECEIPT movements of the 归还单
  (document type ``order_return``) into the warehouse; needs repair → the serial items go from
  issued to under repair (``ledger.mark_items_out_of_stock``), no quantity; scrap → received
  like the good ones, then a scrap request (``reserve.disposals.scraps``) for an approver, as
  every scrap. The source's ``returned_qty`` grows by all three."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from reserve.auth.actor import Actor
from reserve.auth.models import Role
from reserve.db import local_today, utcnow
from reserve.disposals.lines import DisposalLineData
from reserve.disposals.models import ScrapReason
from reserve.disposals.scraps import request_scrap
from reserve.documents import check_line_count, clean_serials, for_line, stamp, transition
from reserve.errors import Conflict, ValidationError
from reserve.orders.floor_models import (
    OrderReceipt,
    OrderReceiptLine,
    OrderReturn,
    OrderReturnLine,
    OrderShipmentLine,
    ReturnCondition,
)
from reserve.orders.floor_status import check_action, claim, get_order, log_step
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
from reserve.stock.models import ItemStatus, MovementKind
from reserve.stock.numbering import next_document_no
from reserve.texts import checked_text
from reserve.warehouses.models import Location

S = OrderStatus


@dataclass(frozen=True)
class ReceiveLineData:
    """签收明细 as the form and the API deliver it."""

    source_id: int | None
    qty: int | None
    reason: str | None = None
    serial_nos: tuple[str, ...] = ()


@dataclass(frozen=True)
class ReturnLineData:
    """归还明细 as the form and the API deliver it."""

    source_id: int | None
    condition: str | None
    qty: int | None
    serial_nos: tuple[str, ...] = ()
    location_id: int | None = None
    note: str | None = None


def receiving_area(session: Session, warehouse_id: int) -> int:
    """The warehouse's receiving area (收货区), where transfers and returns land."""
    found = session.scalar(
        select(Location.id)
        .where(Location.warehouse_id == warehouse_id, Location.is_receiving, Location.is_active)
        .order_by(Location.id)
        .limit(1)
    )
    if found is None:
        raise Conflict(_l("This warehouse has no receiving area to take goods into."))
    return found


def _source_of(session: Session, order: AllocationOrder, source_id: int | None) -> OrderSource:
    source = session.get(OrderSource, source_id, populate_existing=True) if source_id else None
    if source is None or source.order_id != order.id:
        raise ValidationError(_l("Not a source of this order."), field="source_id")
    return source


def _received_qty(value: object) -> int:
    """A received quantity: a whole number, 0 (nothing arrived, the reason says why) or more."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValidationError(_l("The quantity is a whole number, 0 or more."), field="qty")
    return ledger.check_qty(value) if value else 0


def _arrived_serials(
    session: Session, source: OrderSource, data: ReceiveLineData, qty: int, waiting: int
) -> list[str]:
    """The serial items that arrived: those named, or all shipped and not yet signed for."""
    on_way = _shipped_serials(session, source)
    given = clean_serials(data.serial_nos)
    if not given:
        if qty < waiting:
            raise ValidationError(_l("Name the serial numbers that arrived."), field="serial_nos")
        return on_way
    if len(given) != qty or len(set(given)) != qty:
        raise ValidationError(
            _l("Give one serial number per unit received (%(n)s).", n=qty), field="serial_nos"
        )
    if strangers := [n for n in given if n not in on_way]:
        raise ValidationError(
            _l("Not shipped on this order: %(serials)s.", serials=", ".join(strangers)),
            field="serial_nos",
        )
    return given


def _shipped_serials(session: Session, source: OrderSource) -> list[str]:
    shipped = session.scalars(
        select(OrderShipmentLine.serial_nos).where(OrderShipmentLine.source_id == source.id)
    ).all()
    received = session.scalars(
        select(OrderReceiptLine.serial_nos).where(OrderReceiptLine.source_id == source.id)
    ).all()
    done = {n for row in received for n in row or ()}
    return [n for row in shipped for n in row or () if n not in done]


def _check_receiver(order: AllocationOrder, actor: Actor) -> None:
    if order.kind == OrderKind.TRANSFER.value:
        actor.require_write(order.destination_warehouse_id)
    else:
        actor.require_role(Role.DISPATCHER, Role.ADMIN)


def receive_order(
    session: Session,
    *,
    order_id: int,
    lines: Sequence[ReceiveLineData],
    actor: Actor,
    signed_by: str | None = None,
    note: str | None = None,
) -> OrderReceipt:
    """签收：the destination confirms what arrived of each source (partial allowed, each
    shortfall with its reason, more than shipped refused); a transfer posts TRANSFER_IN into
    the destination's receiving area. Received when everything shipped is signed for."""
    order = get_order(session, order_id, actor=actor)
    check_action("receive", order, actor)
    _check_receiver(order, actor)
    check_line_count(lines, empty=_l("Say what arrived of at least one source."))
    signed_by = checked_text(signed_by, OrderReceipt.signed_by, "signed_by")
    note = checked_text(note, OrderReceipt.note, "note")
    checked, seen = [], set()
    for n, data in enumerate(lines, start=1):
        with for_line(n):
            source = _source_of(session, order, data.source_id)
            if source.id in seen:
                raise ValidationError(_l("This source is signed for twice."), field="source_id")
            seen.add(source.id)
            qty = _received_qty(data.qty)
            waiting = source.shipped_qty - source.received_qty - source.short_qty
            if waiting == 0:
                raise ValidationError(
                    _l("Nothing shipped from this source waits to be signed for."), field="qty"
                )
            if qty > waiting:
                raise ValidationError(
                    _l(
                        "%(qty)s cannot be received: %(waiting)s were shipped and not yet signed "
                        "for.",
                        qty=qty,
                        waiting=waiting,
                    ),
                    field="qty",
                )
            reason = checked_text(data.reason, OrderReceiptLine.reason, "reason")
            if qty < waiting and reason is None:
                raise ValidationError(
                    _l("%(n)s are missing: give the reason for the difference.", n=waiting - qty),
                    field="reason",
                )
            serials: list[str] = []
            material = session.get(OrderLine, source.line_id).material
            if material.tracking == "serial" and source.kind == SourceKind.STOCK.value and qty:
                serials = _arrived_serials(session, source, data, qty, waiting)
            checked.append((source, qty, waiting - qty, reason if qty < waiting else None, serials))
    from_status = order.status
    order = claim(session, order, "receive")
    transfer_in = order.kind == OrderKind.TRANSFER.value
    into = receiving_area(session, order.destination_warehouse_id) if transfer_in else None
    receipt = OrderReceipt(
        no=next_document_no(session, "order_receipt", local_today()),
        order_id=order.id,
        warehouse_id=order.destination_warehouse_id,
        signed_by=signed_by,
        note=note,
        **stamp("received", actor),
    )
    session.add(receipt)
    session.flush()
    postings = []
    for source, qty, short, reason, serials in checked:
        stock_in = transfer_in and source.kind == SourceKind.STOCK.value and qty > 0
        receipt.lines.append(
            OrderReceiptLine(
                source_id=source.id,
                qty=qty,
                short_qty=short,
                reason=reason,
                serial_nos=serials,
                location_id=into if stock_in else None,
            )
        )
        if stock_in:
            postings.append(
                Posting(
                    kind=MovementKind.TRANSFER_IN,
                    location_id=into,
                    batch_id=source.batch_id,
                    qty=qty,
                    serial_nos=serials,
                    note=order.no,
                )
            )
        done = session.execute(
            update(OrderSource)
            .where(
                OrderSource.id == source.id,
                OrderSource.received_qty + OrderSource.short_qty + qty + short
                <= OrderSource.shipped_qty,
            )
            .values(
                received_qty=OrderSource.received_qty + qty,
                short_qty=OrderSource.short_qty + short,
            )
            .execution_options(synchronize_session=False)
        ).rowcount
        if done != 1:
            raise Conflict(_l("This source has just been signed for by someone else; reload."))
    session.flush()
    ledger.post_movements(
        session,
        postings=postings,
        document=DocumentRef("order_receipt", receipt.id, receipt.no, local_today()),
        actor=actor,
    )
    order = _after_receipt(session, order)
    short = sum(row[2] for row in checked)
    log_step(
        session,
        order,
        action="receive",
        from_status=from_status,
        actor=actor,
        note="; ".join(filter(None, [receipt.no, signed_by, *(r[3] for r in checked)])),
        audit={"receipt": receipt.no, "received": sum(r[1] for r in checked), "short": short},
    )
    return receipt


def _after_receipt(session: Session, order: AllocationOrder) -> AllocationOrder:
    if order.status != S.SHIPPED.value:
        return order
    waiting = session.scalar(
        select(OrderSource.id)
        .where(
            OrderSource.order_id == order.id,
            OrderSource.received_qty + OrderSource.short_qty < OrderSource.shipped_qty,
        )
        .limit(1)
    )
    if waiting is not None:
        return order
    return transition(
        session,
        AllocationOrder,
        order.id,
        from_states=(S.SHIPPED.value,),
        to_state=S.RECEIVED.value,
        values={"received_at": utcnow()},
    )


# Return (归还) ---------------------------------------------------------------------------------


def _check_return_line(
    session: Session, order: AllocationOrder, warehouse_id: int, data: ReturnLineData, taken
):
    source = _source_of(session, order, data.source_id)
    if source.kind != SourceKind.STOCK.value:
        raise ValidationError(
            _l("Goods of an agreement source go back to their enterprise, not through a return."),
            field="source_id",
        )
    material = session.get(OrderLine, source.line_id).material
    if not material.is_returnable:
        raise ValidationError(
            _l("%(material)s is not a returnable material.", material=material.name),
            field="source_id",
        )
    if data.condition not in {c.value for c in ReturnCondition}:
        raise ValidationError(_l("Choose the condition it came back in."), field="condition")
    qty = ledger.check_qty(data.qty)
    left = source.received_qty - source.returned_qty - taken[source.id]
    if qty > left:
        raise ValidationError(
            _l(
                "%(qty)s cannot come back: %(left)s of this source were received and not yet "
                "returned.",
                qty=qty,
                left=left,
            ),
            field="qty",
        )
    taken[source.id] += qty
    serials = clean_serials(data.serial_nos)
    if material.tracking == "serial":
        if len(serials) != qty or len(set(serials)) != qty:
            raise ValidationError(
                _l("Give one serial number per unit returned (%(n)s).", n=qty), field="serial_nos"
            )
    elif data.condition == ReturnCondition.REPAIR.value:
        raise ValidationError(
            _l("Only serial items go to repair: return the quantity as good or as scrap."),
            field="condition",
        )
    elif serials:
        raise ValidationError(
            _l("This material is not tracked by serial number."), field="serial_nos"
        )
    location_id = data.location_id or receiving_area(session, warehouse_id)
    location = session.get(Location, location_id)
    if location is None or location.warehouse_id != warehouse_id:
        raise ValidationError(
            _l("Choose a location of the warehouse it comes back to."), field="location_id"
        )
    note = checked_text(data.note, OrderReturnLine.note, "note")
    return source, material, qty, serials, location_id, note


def return_goods(
    session: Session,
    *,
    order_id: int,
    warehouse_id: int,
    lines: Sequence[ReturnLineData],
    actor: Actor,
    note: str | None = None,
) -> OrderReturn:
    """归还：returnable materials of a dispatch back into a warehouse the keeper keeps, each with
    its condition (good → stock, repair → serial item under repair, scrap → a scrap request)."""
    order = get_order(session, order_id, actor=actor)
    check_action("return", order, actor)
    actor.require_write(warehouse_id)
    if order.kind != OrderKind.DISPATCH.value:
        raise Conflict(
            _l(
                "A transfer's goods are in the destination's stock: send them back with a "
                "transfer order."
            )
        )
    check_line_count(lines, empty=_l("Say what came back."))
    note = checked_text(note, OrderReturn.note, "note")
    taken: dict[int, int] = defaultdict(int)
    checked = []
    for n, data in enumerate(lines, start=1):
        with for_line(n):
            checked.append(
                (data.condition, *_check_return_line(session, order, warehouse_id, data, taken))
            )
    from_status = order.status
    order = claim(session, order, "return")
    today = local_today()
    back = OrderReturn(
        no=next_document_no(session, "order_return", today),
        order_id=order.id,
        warehouse_id=warehouse_id,
        note=note,
        **stamp("returned", actor),
    )
    session.add(back)
    session.flush()
    postings, scrap_lines = [], []
    for condition, source, material, qty, serials, location_id, line_note in checked:
        back.lines.append(
            OrderReturnLine(
                source_id=source.id,
                condition=condition,
                qty=qty,
                serial_nos=serials,
                location_id=location_id,
                note=line_note,
            )
        )
        if condition == ReturnCondition.REPAIR.value:
            ledger.mark_items_out_of_stock(
                session,
                material_id=material.id,
                serial_nos=serials,
                from_status=ItemStatus.ISSUED,
                to_status=ItemStatus.REPAIR,
                location_id=location_id,
            )
        else:
            postings.append(
                Posting(
                    kind=MovementKind.RECEIPT,
                    location_id=location_id,
                    batch_id=source.batch_id,
                    qty=qty,
                    serial_nos=serials,
                    note=f"归还 {order.no}" + (f" ({line_note})" if line_note else ""),
                )
            )
        if condition == ReturnCondition.SCRAP.value:
            scrap_lines.append(
                DisposalLineData(
                    location_id=location_id,
                    batch_id=source.batch_id,
                    qty=qty,
                    serial_nos=tuple(serials),
                )
            )
        done = session.execute(
            update(OrderSource)
            .where(
                OrderSource.id == source.id,
                OrderSource.returned_qty + qty <= OrderSource.received_qty,
            )
            .values(returned_qty=OrderSource.returned_qty + qty)
            .execution_options(synchronize_session=False)
        ).rowcount
        if done != 1:
            raise Conflict(_l("This source has just been returned by someone else; reload."))
    session.flush()
    ledger.post_movements(
        session,
        postings=postings,
        document=DocumentRef("order_return", back.id, back.no, today),
        actor=actor,
    )
    if scrap_lines:
        scrap = request_scrap(
            session,
            warehouse_id=warehouse_id,
            reason=ScrapReason.DAMAGED.value,
            document_date=today,
            lines=tuple(scrap_lines),
            actor=actor,
            note=f"归还单 {back.no}（{order.no}）",
        )
        back.scrap_id = scrap.id
        session.flush()
    log_step(
        session,
        order,
        action="return",
        from_status=from_status,
        actor=actor,
        note=back.no,
        audit={
            "return": back.no,
            **{c.value: sum(r[3] for r in checked if r[0] == c.value) for c in ReturnCondition},
        },
    )
    return back
