"""库存台账: the only code that changes stock quantities, reservations and serial items.

Every change of quantity is an immutable ``StockMovement`` row; ``StockBalance`` is a cache of
their sum per (location, batch), kept in the same transaction. Decrements are one conditional
UPDATE checked by its result (``… WHERE qty - reserved >= :n``), so two racing dispatchers cannot
both take the last ten tents: one wins, the other gets ``InsufficientStock``. Corrections are
reversals, never edits. The id order of movements is the posting order; a document's paper date
is kept on the movement but never reorders it, and nothing posts into a closed month (posting
holds the month's lock shared, 月结 takes it exclusively).

Reservations (预留) are rows too: who set aside how much of which (location, batch) for which
document line; ``StockBalance.reserved`` is the cache of their open remainders. Serial items move
and change status with the quantity that carries them (``serial_nos``). ``verify`` rebuilds all
three caches in one pass and names every difference.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from flask import current_app, has_app_context
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, case, func, insert, literal, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from reserve.auth.actor import Actor
from reserve.catalog.models import Material
from reserve.db import UTCDateTime, local_today, utcnow
from reserve.errors import Conflict, InsufficientStock, NotFound, ValidationError
from reserve.stock import serials
from reserve.stock.guard import ledger_writes as _ledger_writes
from reserve.stock.models import (
    Batch,
    ClosedMonth,
    ItemStatus,
    MovementKind,
    ReservationStatus,
    StockBalance,
    StockMovement,
    StockReservation,
)
from reserve.stock.verification import Discrepancy, DiscrepancyKind, describe, verify
from reserve.warehouses.models import Location, Warehouse

__all__ = [  # verify lives in its own module; callers know it as ledger.verify
    "Discrepancy",
    "DiscrepancyKind",
    "describe",
    "verify",
]

MAX_QTY = 1_000_000_000
DOCUMENT_DATE_MIN = "2000-01-01"  # default of the config key (config.py) of that name
INCREASING = {
    MovementKind.RECEIPT,
    MovementKind.TRANSFER_IN,
    MovementKind.MOVE_IN,
    MovementKind.GAIN,
}
DECREASING = {
    MovementKind.ISSUE,
    MovementKind.TRANSFER_OUT,
    MovementKind.MOVE_OUT,
    MovementKind.LOSS,
    MovementKind.ROTATE_OUT,
    MovementKind.SCRAP,
}
# PostgreSQL advisory lock namespace of the accounting periods ("RESV"); the key is YYYYMM.
PERIOD_LOCK_NAMESPACE = 0x52455356


class PeriodClosed(Conflict):
    code = "period_closed"


@dataclass(frozen=True)
class DocumentRef:
    """The document a movement belongs to: its type, id, number and the date on its paper."""

    type: str
    id: int | None
    no: str | None
    date: date


def check_qty(qty: object, field: str = "qty") -> int:
    """A quantity is a whole number from 1 to 10⁹ in the material's unit."""
    if isinstance(qty, bool) or not isinstance(qty, int):
        raise ValidationError(_l("A quantity is a whole number."), field=field)
    if qty <= 0:
        raise ValidationError(_l("A quantity must be greater than zero."), field=field)
    if qty > MAX_QTY:
        raise ValidationError(_l("The quantity is implausibly large."), field=field)
    return qty


def lock_period(session: Session, month: str, *, exclusive: bool) -> None:
    """Hold the month's lock to the end of the transaction: postings share it, 月结 takes it
    alone, so a close waits for the postings in flight and a posting waits for a close in
    flight (then sees it). On SQLite the database's single write lock does the same: every
    write transaction begins IMMEDIATE (``reserve.db.transaction``)."""
    if session.get_bind().dialect.name != "postgresql":
        return
    function = "pg_advisory_xact_lock" if exclusive else "pg_advisory_xact_lock_shared"
    key = int(month.replace("-", ""))
    session.execute(
        text(f"SELECT {function}(:namespace, :key)"),
        {"namespace": PERIOD_LOCK_NAMESPACE, "key": key},
    )


def check_period_open(session: Session, document_date: date) -> None:
    """Refuse a document date in a closed month; the month stays open until this transaction
    ends (its lock is held shared)."""
    month = document_date.strftime("%Y-%m")
    lock_period(session, month, exclusive=False)
    closed = session.scalar(select(ClosedMonth.month).where(ClosedMonth.month == month))
    if closed is not None:
        raise PeriodClosed(
            _l("The month %(month)s is closed; nothing more can be posted into it.", month=month)
        )


def check_document_date(session: Session, document_date: object) -> date:
    """The date on a document's paper: given, within the configured window (from
    ``DOCUMENT_DATE_MIN``, 2000-01-01 by default, to today + 1 day: a day's slack for clocks
    and time zones), and in an open month."""
    if not isinstance(document_date, date):
        raise ValidationError(_l("Give the date on the paper."), field="document_date")
    configured = current_app.config.get("DOCUMENT_DATE_MIN") if has_app_context() else None
    earliest = date.fromisoformat(str(configured or DOCUMENT_DATE_MIN))
    if document_date < earliest:
        raise ValidationError(
            _l(
                "The document date %(date)s is before %(earliest)s.",
                date=document_date.isoformat(),
                earliest=earliest.isoformat(),
            ),
            field="document_date",
        )
    if document_date > local_today() + timedelta(days=1):
        raise ValidationError(
            _l("The document date %(date)s is in the future.", date=document_date.isoformat()),
            field="document_date",
        )
    check_period_open(session, document_date)
    return document_date


def _place(session: Session, location_id: int, batch_id: int):
    row = session.execute(
        select(
            Location.warehouse_id,
            Location.code.label("location_code"),
            Warehouse.name.label("warehouse_name"),
            Batch.material_id,
            Batch.batch_no,
            Material.name.label("material_name"),
            Material.unit,
            Material.tracking,
        )
        .join(Warehouse, Warehouse.id == Location.warehouse_id)
        .join(Batch, Batch.id == batch_id)
        .join(Material, Material.id == Batch.material_id)
        .where(Location.id == location_id)
    ).first()
    if row is None:
        raise NotFound(_l("No such location or batch."))
    return row


def _available(session: Session, location_id: int, batch_id: int) -> int:
    available = session.scalar(
        select(func.coalesce(func.sum(StockBalance.qty - StockBalance.reserved), 0)).where(
            StockBalance.location_id == location_id, StockBalance.batch_id == batch_id
        )
    )
    return int(available or 0)  # PostgreSQL sums bigint as numeric


def _insufficient(
    session: Session, place, location_id: int, batch_id: int, wanted: int
) -> InsufficientStock:
    available = _available(session, location_id, batch_id)
    return InsufficientStock(
        _l(
            "Not enough %(material)s (batch %(batch)s) at %(warehouse)s %(location)s: "
            "%(available)s %(unit)s available, %(wanted)s %(unit)s wanted.",
            material=place.material_name,
            batch=place.batch_no,
            warehouse=place.warehouse_name,
            location=place.location_code,
            available=available,
            unit=place.unit,
            wanted=wanted,
        ),
        available=available,
    )


def _balance_key(location_id: int, batch_id: int):
    return and_(StockBalance.location_id == location_id, StockBalance.batch_id == batch_id)


def _increase(session: Session, place, location_id: int, batch_id: int, n: int) -> int:
    stmt = (
        update(StockBalance)
        .where(_balance_key(location_id, batch_id))
        .values(qty=StockBalance.qty + n)
        .returning(StockBalance.qty)
        .execution_options(synchronize_session=False)
    )
    after = session.execute(stmt).scalar()
    if after is not None:
        return after
    try:
        with session.begin_nested():
            session.execute(
                insert(StockBalance).values(
                    location_id=location_id,
                    batch_id=batch_id,
                    material_id=place.material_id,
                    warehouse_id=place.warehouse_id,
                    qty=n,
                    reserved=0,
                )
            )
        return n
    except IntegrityError:  # another transaction created the row first: add to it
        return session.execute(stmt).scalar_one()


def _decrease(
    session: Session, place, location_id: int, batch_id: int, n: int, from_reserved: bool
) -> int:
    stmt = update(StockBalance).where(_balance_key(location_id, batch_id))
    if from_reserved:  # shipping what a reservation set aside (already checked on its row)
        stmt = stmt.where(StockBalance.reserved >= n).values(
            qty=StockBalance.qty - n, reserved=StockBalance.reserved - n
        )
    else:
        stmt = stmt.where(StockBalance.qty - StockBalance.reserved >= n).values(
            qty=StockBalance.qty - n
        )
    after = session.execute(
        stmt.returning(StockBalance.qty).execution_options(synchronize_session=False)
    ).scalar()
    if after is None:
        raise _insufficient(session, place, location_id, batch_id, n)
    return after


# Reservations (预留) -------------------------------------------------------------------------


def _take_from_reservation(
    session: Session, *, reservation_id: int, location_id: int, batch_id: int, n: int
) -> None:
    """Consume ``n`` of an open reservation of this (location, batch): one conditional UPDATE."""
    closes = StockReservation.consumed_qty + StockReservation.released_qty + n >= (
        StockReservation.qty
    )
    done = session.execute(
        update(StockReservation)
        .where(
            StockReservation.id == reservation_id,
            StockReservation.location_id == location_id,
            StockReservation.batch_id == batch_id,
            StockReservation.status == ReservationStatus.OPEN.value,
            StockReservation.qty - StockReservation.consumed_qty - StockReservation.released_qty
            >= n,
        )
        .values(
            consumed_qty=StockReservation.consumed_qty + n,
            status=case(
                (closes, ReservationStatus.CONSUMED.value), else_=ReservationStatus.OPEN.value
            ),
            closed_at=case((closes, literal(utcnow(), UTCDateTime())), else_=None),
        )
        .returning(StockReservation.id)
        .execution_options(synchronize_session="fetch")
    ).scalar()
    if done is not None:
        return
    reservation = session.get(StockReservation, reservation_id, populate_existing=True)
    if reservation is None:
        raise NotFound(_l("No such reservation."))
    if (reservation.location_id, reservation.batch_id) != (location_id, batch_id):
        raise Conflict(_l("This reservation is for another location or batch."))
    raise Conflict(
        _l(
            "Reservation %(id)s has %(open)s open; %(wanted)s cannot be taken from it.",
            id=reservation.id,
            open=reservation.open_qty,
            wanted=n,
        )
    )


def reserve(
    session: Session,
    *,
    location_id: int,
    batch_id: int,
    qty: int,
    document: DocumentRef,
    line_id: int | None,
    actor: Actor,
) -> StockReservation:
    """预留：set aside available stock for a document line (no movement: nothing moved)."""
    check_qty(qty)
    place = _place(session, location_id, batch_id)
    with _ledger_writes():
        result = session.execute(
            update(StockBalance)
            .where(
                _balance_key(location_id, batch_id), StockBalance.qty - StockBalance.reserved >= qty
            )
            .values(reserved=StockBalance.reserved + qty)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount != 1:
            raise _insufficient(session, place, location_id, batch_id, qty)
        reservation = StockReservation(
            location_id=location_id,
            batch_id=batch_id,
            material_id=place.material_id,
            warehouse_id=place.warehouse_id,
            document_type=document.type,
            document_id=document.id,
            document_no=document.no,
            line_id=line_id,
            qty=qty,
            consumed_qty=0,
            released_qty=0,
            status=ReservationStatus.OPEN.value,
            user_id=actor.user_id,
            username=actor.username,
        )
        session.add(reservation)
        session.flush()
    return reservation


def release(
    session: Session, *, reservation_id: int, qty: int | None = None, actor: Actor
) -> StockReservation:
    """释放预留：give back all (or ``qty``) of what a reservation still holds open."""
    reservation = session.get(StockReservation, reservation_id, populate_existing=True)
    if reservation is None:
        raise NotFound(_l("No such reservation."))
    n = reservation.open_qty if qty is None else check_qty(qty)
    if reservation.status != ReservationStatus.OPEN.value or n == 0:
        raise Conflict(_l("Reservation %(id)s is no longer open.", id=reservation.id))
    closes = StockReservation.consumed_qty + StockReservation.released_qty + n >= (
        StockReservation.qty
    )
    with _ledger_writes():
        done = session.execute(
            update(StockReservation)
            .where(
                StockReservation.id == reservation_id,
                StockReservation.status == ReservationStatus.OPEN.value,
                StockReservation.qty - StockReservation.consumed_qty - StockReservation.released_qty
                >= n,
            )
            .values(
                released_qty=StockReservation.released_qty + n,
                status=case(
                    (closes, ReservationStatus.RELEASED.value), else_=ReservationStatus.OPEN.value
                ),
                closed_at=case((closes, literal(utcnow(), UTCDateTime())), else_=None),
                released_by_id=actor.user_id,
                released_by=actor.username,
            )
            .returning(StockReservation.id)
            .execution_options(synchronize_session="fetch")
        ).scalar()
        if done is None:
            raise Conflict(
                _l(
                    "Reservation %(id)s has %(open)s open; %(wanted)s cannot be released.",
                    id=reservation.id,
                    open=reservation.open_qty,
                    wanted=n,
                )
            )
        cached = session.execute(
            update(StockBalance)
            .where(
                _balance_key(reservation.location_id, reservation.batch_id),
                StockBalance.reserved >= n,
            )
            .values(reserved=StockBalance.reserved - n)
            .execution_options(synchronize_session=False)
        )
        if cached.rowcount != 1:  # the cache disagrees with the rows: refuse, verify names it
            raise Conflict(_l("Less is reserved there than the quantity to release."))
    session.refresh(reservation)
    return reservation


# Movements (流水) -----------------------------------------------------------------------------


def post_movement(
    session: Session,
    *,
    kind: MovementKind,
    location_id: int,
    batch_id: int,
    qty: int,
    document: DocumentRef,
    actor: Actor,
    note: str | None = None,
    from_reserved: int | None = None,
    reverses_id: int | None = None,
    serial_nos: Sequence[str] = (),
    serial_status: ItemStatus | None = None,
) -> StockMovement:
    """记账：post one signed quantity change and keep its balance, in the caller's transaction.

    ``from_reserved`` names the reservation a decrease ships from; ``serial_nos`` the serial
    items it carries (one per unit), which move or change status with it."""
    kind = MovementKind(kind)
    if isinstance(qty, bool) or not isinstance(qty, int) or qty == 0:
        raise ValidationError(_l("A quantity is a whole number other than zero."), field="qty")
    check_qty(abs(qty))
    if (kind in INCREASING and qty < 0) or (kind in DECREASING and qty > 0):
        raise ValidationError(_l("The sign of the quantity does not fit the movement."))
    if from_reserved is not None and qty > 0:
        raise ValidationError(_l("Only a decrease ships from a reservation."))
    check_period_open(session, document.date)
    place = _place(session, location_id, batch_id)
    numbers = serials.numbers_for(place, qty, serial_nos)
    with _ledger_writes():
        if numbers and qty > 0:
            serials.take_in(session, place, location_id, batch_id, numbers)
        elif numbers:
            serials.take_out(session, place, kind, location_id, batch_id, numbers, serial_status)
        if from_reserved is not None:
            _take_from_reservation(
                session,
                reservation_id=from_reserved,
                location_id=location_id,
                batch_id=batch_id,
                n=-qty,
            )
        if qty > 0:
            after = _increase(session, place, location_id, batch_id, qty)
        else:
            shipping = from_reserved is not None
            after = _decrease(session, place, location_id, batch_id, -qty, shipping)
        movement = StockMovement(
            document_date=document.date,
            kind=kind.value,
            material_id=place.material_id,
            batch_id=batch_id,
            location_id=location_id,
            warehouse_id=place.warehouse_id,
            qty=qty,
            balance_after=after,
            document_type=document.type,
            document_id=document.id,
            document_no=document.no,
            user_id=actor.user_id,
            username=actor.username,
            note=(note or "")[:200] or None,
            reverses_id=reverses_id,
        )
        session.add(movement)
        session.flush()
    return movement


def reverse_movement(
    session: Session, *, movement_id: int, actor: Actor, reason: str, document_date: date
) -> StockMovement:
    """冲销：undo a movement by posting its opposite; the original stays as it was.

    A movement is reversed at most once: checked here for the message, and by a unique index
    on ``reverses_id`` for two reversals racing."""
    original = session.get(StockMovement, movement_id)
    if original is None:
        raise NotFound(_l("No such movement."))
    if not (reason or "").strip():
        raise ValidationError(_l("Give the reason for the reversal."), field="reason")
    if original.kind == MovementKind.REVERSAL.value:
        raise Conflict(_l("A reversal cannot itself be reversed; post a new movement."))
    already = session.scalar(
        select(StockMovement.id).where(StockMovement.reverses_id == movement_id)
    )
    if already:
        raise Conflict(_l("This movement has already been reversed."))
    try:
        with session.begin_nested():
            return post_movement(
                session,
                kind=MovementKind.REVERSAL,
                location_id=original.location_id,
                batch_id=original.batch_id,
                qty=-original.qty,
                document=DocumentRef(
                    original.document_type,
                    original.document_id,
                    original.document_no,
                    document_date,
                ),
                actor=actor,
                note=reason.strip(),
                reverses_id=original.id,
            )
    except IntegrityError:  # the unique index: another reversal of it committed first
        raise Conflict(_l("This movement has already been reversed.")) from None
