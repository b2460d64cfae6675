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

import functools
import weakref
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import NamedTuple

from flask import current_app, has_app_context
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, bindparam, case, event, func, insert, literal, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, SessionTransaction, object_session

from reserve.auth.actor import Actor
from reserve.catalog.models import Material
from reserve.db import UTCDateTime, local_today, utcnow
from reserve.errors import Conflict, InsufficientStock, NotFound, ValidationError
from reserve.stock import numbering, serials
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
    session.connection().execute(
        _lock_statement(function), {"namespace": PERIOD_LOCK_NAMESPACE, "key": _period_key(month)}
    )


@functools.cache
def _lock_statement(function: str):
    return text(f"SELECT {function}(:namespace, :key)")


@functools.cache
def _closed_statement():
    """Whether a month is closed, built once. Not in the lock's statement: a statement's
    snapshot is taken before it waits for the lock, so it would miss a close that commits
    meanwhile; the lock first, then this (a new snapshot), sees it."""
    return select(ClosedMonth.month).where(ClosedMonth.month == bindparam("month"))


def _period_key(month: str) -> int:
    """The advisory lock key of a month: ``2026-10`` → 202610."""
    return int(month.replace("-", ""))


def _open_months(session: Session) -> weakref.WeakKeyDictionary[SessionTransaction, set[str]]:
    """The months each (nested) transaction of this session found open and holds the lock of;
    a transaction rolled back or ended drops out with its object."""
    return session.info.setdefault("reserve.ledger.open_months", weakref.WeakKeyDictionary())


@event.listens_for(ClosedMonth, "after_insert")
def _forget_a_closed_month(_mapper, _connection, closed: ClosedMonth) -> None:
    """A month closed in this session (月结, or a test's row): what is posted after it in the
    same transaction checks the month again, and is refused."""
    session = object_session(closed)
    if session is not None:
        for months in _open_months(session).values():
            months.discard(closed.month)


def _transactions(session: Session) -> Iterator[SessionTransaction]:
    """The session's transaction in progress, innermost savepoint first, out to the root."""
    transaction = session.get_nested_transaction() or session.get_transaction()
    while transaction is not None:
        yield transaction
        transaction = transaction.parent


def period_checked(session: Session, document_date: date) -> bool:
    """Whether this transaction already found the month of ``document_date`` open (and holds
    its lock): ``check_period_open`` would then send nothing."""
    month = document_date.strftime("%Y-%m")
    checked = _open_months(session)
    return any(month in checked.get(t, ()) for t in _transactions(session))


def check_period_open(session: Session, document_date: date, *, locked: bool = False) -> None:
    """Refuse a document date in a closed month; the month stays open until this transaction
    ends (its lock is held shared). Checked once per transaction and month: a move's form
    date and its posting, a receipt's header and its movements share one check, kept by the
    savepoint that took the lock (a savepoint rolled back forgets it with its lock).
    ``locked``: the caller took the month's shared lock in an earlier statement of this
    transaction (``read_move_places``); the closed month is then read in a statement of its
    own all the same, so that it sees a close that committed while the lock was awaited."""
    if period_checked(session, document_date):
        return
    month = document_date.strftime("%Y-%m")
    checked = _open_months(session)
    if not locked:
        lock_period(session, month, exclusive=False)
    closed = session.scalar(_closed_statement(), {"month": month})  # autoflush: a month
    # closed earlier in this transaction is seen
    if closed is not None:
        raise PeriodClosed(
            _l("The month %(month)s is closed; nothing more can be posted into it.", month=month)
        )
    checked.setdefault(next(_transactions(session)), set()).add(month)


@functools.cache
def _number_and_closed_statement():
    """The day's document counter taken and the month's close read in one statement (a CTE
    beside a subquery: one snapshot, taken after the lock of an earlier statement)."""
    taken = numbering.take_number_statement("postgresql").cte("taken")
    closed = select(ClosedMonth.month).where(ClosedMonth.month == bindparam("month"))
    return select(taken.c.last, closed.scalar_subquery())


def number_in_open_month(session: Session, *, kind: str, document_date: date) -> str:
    """``check_period_open(locked=True)`` and then ``next_document_no``, in one round trip on
    PostgreSQL when the month is still to be checked (a move: the lock was taken by
    ``read_move_places``). A closed month raises; the number it took goes with the rollback."""
    if period_checked(session, document_date) or session.get_bind().dialect.name != "postgresql":
        check_period_open(session, document_date, locked=True)
        return numbering.next_document_no(session, kind, document_date)
    month = document_date.strftime("%Y-%m")
    sequence, closed = session.execute(  # the session's execute: autoflush sees a month
        _number_and_closed_statement(),  # closed earlier in this transaction
        {"prefix": numbering.PREFIXES[kind], "day": document_date, "month": month},
    ).one()
    if closed is not None:
        raise PeriodClosed(
            _l("The month %(month)s is closed; nothing more can be posted into it.", month=month)
        )
    _open_months(session).setdefault(next(_transactions(session)), set()).add(month)
    return numbering.daily_document_no(kind, document_date, sequence)


def check_document_date(session: Session, document_date: object, *, period: bool = True) -> date:
    """The date on a document's paper: given, within the configured window (from
    ``DOCUMENT_DATE_MIN``, 2000-01-01 by default, to today + 1 day: a day's slack for clocks
    and time zones), and in an open month (``period=False``: the caller checks the month
    itself later, with ``check_period_open``, before it posts anything)."""
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
    if period:
        check_period_open(session, document_date)
    return document_date


class Place(NamedTuple):
    """Where a movement posts and what it posts: read once per (location, batch)."""

    warehouse_id: int
    location_code: str
    warehouse_name: str
    material_id: int
    batch_no: str
    material_name: str
    unit: str
    tracking: str


class PlaceLocation(NamedTuple):
    """A location as a posting reads it (库位): its warehouse, code and whether it is in use."""

    id: int
    warehouse_id: int
    code: str
    warehouse_name: str
    is_active: bool


class PlaceBatch(NamedTuple):
    """A batch as a posting reads it (批次): its material, number, unit and tracking."""

    id: int
    material_id: int
    batch_no: str
    material_name: str
    unit: str
    tracking: str


def read_places(
    session: Session,
    *,
    location_ids: Iterable[int],
    batch_ids: Iterable[int],
) -> tuple[dict[int, PlaceLocation], dict[int, PlaceBatch]]:
    """These locations and batches as plain rows, one query each however many: what a caller
    checks (a move's two locations and its batch) and then hands to ``post_movements`` as
    ``places_of`` them, so that the posting does not read them again. Absent ids are absent.
    (Through the session, whose autoflush writes the batches just added.) A move reads
    its places with ``read_move_places`` instead: one statement."""
    location_ids, batch_ids = sorted(set(location_ids)), sorted(set(batch_ids))
    params = {"location_ids": location_ids, "batch_ids": batch_ids}
    locations = {
        row[0]: PlaceLocation(*row)
        for row in session.execute(_places_statement("locations"), params)
    }
    batches = {
        row[0]: PlaceBatch(*row) for row in session.execute(_places_statement("batches"), params)
    }
    return locations, batches


@functools.cache
def _places_statement(which: str):
    """read_places' two statements, built once (building one costs more than running it)."""
    locations = (
        select(*_LOCATION_COLUMNS)
        .join(Warehouse, Warehouse.id == Location.warehouse_id)
        .where(Location.id.in_(bindparam("location_ids", expanding=True)))
    )
    batches = (
        select(*_BATCH_COLUMNS)
        .join(Material, Material.id == Batch.material_id)
        .where(Batch.id.in_(bindparam("batch_ids", expanding=True)))
    )
    return locations if which == "locations" else batches


# What read_places reads of a location and of a batch, in the order of PlaceLocation/PlaceBatch.
_LOCATION_COLUMNS = (
    Location.id,
    Location.warehouse_id,
    Location.code,
    Warehouse.name,
    Location.is_active,
)
_BATCH_COLUMNS = (
    Batch.id,
    Batch.material_id,
    Batch.batch_no,
    Material.name,
    Material.unit,
    Material.tracking,
)


@functools.cache
def _move_places_statement(lock: bool):
    """The locations of a move with its one batch, in one statement: the batch is LEFT JOINed
    onto every location row (absent, its columns are NULL). ``lock``: the statement also takes
    the month's shared lock (PostgreSQL), one round trip fewer than a statement of its own."""
    stmt = (
        select(*_LOCATION_COLUMNS, *_BATCH_COLUMNS)
        .join(Warehouse, Warehouse.id == Location.warehouse_id)
        .outerjoin(
            Batch.__table__.join(Material.__table__, Material.id == Batch.material_id),
            Batch.id == bindparam("batch_id"),
        )
        .where(Location.id.in_(bindparam("location_ids", expanding=True)))
    )
    if lock:
        stmt = stmt.add_columns(
            func.pg_advisory_xact_lock_shared(bindparam("namespace"), bindparam("key"))
        )
    return stmt


def read_move_places(
    session: Session,
    *,
    location_ids: Iterable[int],
    batch_id: int,
    lock_period_of: date | None = None,
) -> tuple[dict[int, PlaceLocation], PlaceBatch | None]:
    """These locations and one batch as plain rows, in ONE statement (what ``read_places``
    reads in two): a move's two locations and its batch. ``lock_period_of``: take that
    month's shared lock in the same statement (PostgreSQL; the lock is taken when a location
    is found: a move whose locations are not found posts nothing). Follow it with
    ``check_period_open(…, locked=True)`` before posting."""
    lock = lock_period_of is not None and session.get_bind().dialect.name == "postgresql"
    params: dict[str, object] = {"batch_id": batch_id, "location_ids": sorted(set(location_ids))}
    if lock:
        params["namespace"] = PERIOD_LOCK_NAMESPACE
        params["key"] = _period_key(lock_period_of.strftime("%Y-%m"))
    locations: dict[int, PlaceLocation] = {}
    batch = None
    for row in session.execute(_move_places_statement(lock), params):
        locations[row[0]] = PlaceLocation(*row[:5])
        if row[5] is not None:
            batch = PlaceBatch(*row[5:11])
    return locations, batch


def places_of(
    keys: Iterable[tuple[int, int]],
    locations: dict[int, PlaceLocation],
    batches: dict[int, PlaceBatch],
) -> dict[tuple[int, int], Place]:
    """The places of these (location, batch) pairs from rows ``read_places`` read."""
    places = {}
    for location_id, batch_id in keys:
        location, batch = locations.get(location_id), batches.get(batch_id)
        if location is None or batch is None:
            raise NotFound(_l("No such location or batch."))
        places[(location_id, batch_id)] = Place(
            location.warehouse_id,
            location.code,
            location.warehouse_name,
            batch.material_id,
            batch.batch_no,
            batch.material_name,
            batch.unit,
            batch.tracking,
        )
    return places


def _places(session: Session, keys: Sequence[tuple[int, int]]) -> dict[tuple[int, int], Place]:
    """The places of these (location, batch) pairs: one query for the locations, one for the
    batches, however many pairs."""
    locations, batches = read_places(
        session,
        location_ids=[location_id for location_id, _batch in keys],
        batch_ids=[batch_id for _location, batch_id in keys],
    )
    return places_of(keys, locations, batches)


def _place(session: Session, location_id: int, batch_id: int) -> Place:
    return _places(session, [(location_id, batch_id)])[(location_id, batch_id)]


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


@functools.cache
def _increase_statement(dialect: str):
    """``INSERT … ON CONFLICT (location_id, batch_id) DO UPDATE SET qty = qty + excluded.qty
    RETURNING …``, built once per dialect and run with one parameter set per balance."""
    table = StockBalance.__table__
    stmt = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)
    return stmt.on_conflict_do_update(
        index_elements=[table.c.location_id, table.c.batch_id],
        set_={"qty": table.c.qty + stmt.excluded.qty},
    ).returning(table.c.location_id, table.c.batch_id, table.c.qty)


def _increase_all(
    session: Session, places: dict[tuple[int, int], Place], added: dict[tuple[int, int], int]
) -> dict[tuple[int, int], int]:
    """Add to these balances, creating the missing ones, in ONE statement (``INSERT … ON
    CONFLICT (location_id, batch_id) DO UPDATE SET qty = qty + excluded.qty``, its rows sent
    together by the driver's insertmanyvalues): a balance a concurrent transaction creates
    meanwhile is added to, not duplicated. Returns each balance's quantity after; its row
    stays locked to the end of the transaction. (Core, not the ORM: a balance object in the
    session is not refreshed, as it was not before.)"""
    if not added:
        return {}
    stmt = _increase_statement(session.get_bind().dialect.name)
    rows = session.connection().execute(
        stmt,
        [
            {
                "location_id": location_id,
                "batch_id": batch_id,
                "material_id": places[(location_id, batch_id)].material_id,
                "warehouse_id": places[(location_id, batch_id)].warehouse_id,
                "qty": n,
                "reserved": 0,
            }
            for (location_id, batch_id), n in added.items()
        ],
    )
    return {(row[0], row[1]): int(row[2]) for row in rows}


@functools.cache
def _decrease_statement(from_reserved: bool):
    """The conditional decrement, built once: ``UPDATE stock_balances SET qty = qty - :n …
    WHERE location_id = :location AND batch_id = :batch AND qty - reserved >= :n RETURNING qty``
    (shipping from a reservation: ``reserved >= :n``, and the reservation goes down too)."""
    n = bindparam("n", type_=StockBalance.qty.type)
    stmt = update(StockBalance).where(
        StockBalance.location_id == bindparam("location"),
        StockBalance.batch_id == bindparam("batch"),
    )
    if from_reserved:  # shipping what a reservation set aside (already checked on its row)
        stmt = stmt.where(StockBalance.reserved >= n).values(
            qty=StockBalance.qty - n, reserved=StockBalance.reserved - n
        )
    else:
        stmt = stmt.where(StockBalance.qty - StockBalance.reserved >= n).values(
            qty=StockBalance.qty - n
        )
    return stmt.returning(StockBalance.qty)


def _decrease(
    session: Session, place, location_id: int, batch_id: int, n: int, from_reserved: bool
) -> int:
    # Core on the session's connection: balances are never ORM objects in a posting session
    after = (
        session.connection()
        .execute(
            _decrease_statement(from_reserved), {"location": location_id, "batch": batch_id, "n": n}
        )
        .scalar()
    )
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


@dataclass(frozen=True)
class Posting:
    """One signed quantity change of ``post_movements``: what ``post_movement`` takes, less the
    document and the actor they share."""

    kind: MovementKind
    location_id: int
    batch_id: int
    qty: int
    note: str | None = None
    from_reserved: int | None = None
    reverses_id: int | None = None
    serial_nos: Sequence[str] = ()
    serial_status: ItemStatus | None = None


def _check_posting(posting: Posting) -> Posting:
    kind, qty = MovementKind(posting.kind), posting.qty
    if isinstance(qty, bool) or not isinstance(qty, int) or qty == 0:
        raise ValidationError(_l("A quantity is a whole number other than zero."), field="qty")
    check_qty(abs(qty))
    if (kind in INCREASING and qty < 0) or (kind in DECREASING and qty > 0):
        raise ValidationError(_l("The sign of the quantity does not fit the movement."))
    if posting.from_reserved is not None and qty > 0:
        raise ValidationError(_l("Only a decrease ships from a reservation."))
    return posting if kind is posting.kind else replace(posting, kind=kind)


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
    posting = Posting(
        kind=kind,
        location_id=location_id,
        batch_id=batch_id,
        qty=qty,
        note=note,
        from_reserved=from_reserved,
        reverses_id=reverses_id,
        serial_nos=serial_nos,
        serial_status=serial_status,
    )
    return post_movements(session, postings=[posting], document=document, actor=actor)[0]


def post_movements(
    session: Session,
    *,
    postings: Sequence[Posting],
    document: DocumentRef,
    actor: Actor,
    places: Mapping[tuple[int, int], Place] | None = None,
) -> list[StockMovement]:
    """记账：post the movements of one document in order, as ``post_movement`` would one by one,
    at a cost that does not grow with their number: the period is checked once, the places
    read in two queries, every increase added in one upsert and the movements inserted in one
    statement. Each decrease stays its own conditional UPDATE (the loser of a race gets
    ``InsufficientStock`` naming the place), and nothing is kept if one fails (the caller's
    transaction, or ``all_or_nothing``). ``places``: what ``places_of`` gave the caller for
    some of these (location, batch) pairs in this transaction; the others are read here."""
    postings = [_check_posting(posting) for posting in postings]
    if not postings:
        return []
    keys = [(p.location_id, p.batch_id) for p in postings]
    rising = {key for key, p in zip(keys, postings, strict=True) if p.qty > 0}
    falling = {key for key, p in zip(keys, postings, strict=True) if p.qty < 0}
    if len(postings) > 1 and rising & falling:  # one place up and down: keep the given order
        return [
            movement
            for posting in postings
            for movement in post_movements(
                session, postings=[posting], document=document, actor=actor, places=places
            )
        ]
    check_period_open(session, document.date)
    known = dict(places or {})
    if missing := [key for key in dict.fromkeys(keys) if key not in known]:
        known.update(_places(session, missing))
    places = known
    numbers = [
        serials.numbers_for(places[key], p.qty, p.serial_nos)
        for key, p in zip(keys, postings, strict=True)
    ]
    afters: list[int | None] = []
    added: dict[tuple[int, int], int] = {}
    with _ledger_writes():
        for key, posting, items in zip(keys, postings, numbers, strict=True):
            place, (location_id, batch_id) = places[key], key
            if items and posting.qty > 0:
                serials.take_in(session, place, location_id, batch_id, items)
            elif items:
                serials.take_out(
                    session, place, posting.kind, location_id, batch_id, items,
                    posting.serial_status,
                )  # fmt: skip
            if posting.from_reserved is not None:
                _take_from_reservation(
                    session,
                    reservation_id=posting.from_reserved,
                    location_id=location_id,
                    batch_id=batch_id,
                    n=-posting.qty,
                )
            if posting.qty > 0:
                added[key] = added.get(key, 0) + posting.qty
                afters.append(None)
            else:
                shipping = posting.from_reserved is not None
                afters.append(
                    _decrease(session, place, location_id, batch_id, -posting.qty, shipping)
                )
        final = _increase_all(session, places, added)
        # the balance after each increase: the final quantity less the later increases there
        for i in reversed(range(len(postings))):
            if afters[i] is None:
                afters[i] = final[keys[i]]
                final[keys[i]] -= postings[i].qty
        rows = [
            {
                "document_date": document.date,
                "kind": posting.kind.value,
                "material_id": places[key].material_id,
                "batch_id": posting.batch_id,
                "location_id": posting.location_id,
                "warehouse_id": places[key].warehouse_id,
                "qty": posting.qty,
                "balance_after": after,
                "document_type": document.type,
                "document_id": document.id,
                "document_no": document.no,
                "user_id": actor.user_id,
                "username": actor.username,
                "note": (posting.note or "")[:200] or None,
                "reverses_id": posting.reverses_id,
            }
            for key, posting, after in zip(keys, postings, afters, strict=True)
        ]
        return list(
            session.scalars(
                insert(StockMovement).returning(StockMovement, sort_by_parameter_order=True),
                rows,
            )
        )


def reverse_movement(
    session: Session,
    *,
    movement_id: int,
    actor: Actor,
    reason: str,
    document_date: date,
    serial_nos: Sequence[str] = (),
    serial_status: ItemStatus | None = None,
) -> StockMovement:
    """冲销：undo a movement by posting its opposite; the original stays as it was.

    A movement is reversed at most once: checked here for the message, and by a unique index
    on ``reverses_id`` for two reversals racing. The reversal of a serial-tracked material's
    movement names its items, as every movement of one does (``serial_nos``; what items taken
    out become, ``serial_status``)."""
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
                serial_nos=serial_nos,
                serial_status=serial_status,
            )
    except IntegrityError:  # the unique index: another reversal of it committed first
        raise Conflict(_l("This movement has already been reversed.")) from None


def mark_items_out_of_stock(
    session: Session,
    *,
    material_id: int,
    serial_nos: Sequence[str],
    from_status: ItemStatus,
    to_status: ItemStatus,
    location_id: int | None,
) -> None:
    """单品状态：serial items that are out of stock (issued, say) change status and place, no
    quantity moving (a pump back from an event that goes to repair, not to the shelf). One
    conditional UPDATE; an item not in ``from_status`` is refused by name."""
    if ItemStatus.IN_STOCK in (ItemStatus(from_status), ItemStatus(to_status)):
        raise ValidationError(_l("Items coming into or leaving stock move with a quantity."))
    numbers = sorted({s.strip() for s in serial_nos if s and s.strip()})
    if not numbers:
        raise ValidationError(_l("Give the serial numbers."), field="serial_nos")
    with _ledger_writes():
        changed = set(
            session.execute(
                update(serials.SerialItem)
                .where(
                    serials.SerialItem.material_id == material_id,
                    serials.SerialItem.serial_no.in_(numbers),
                    serials.SerialItem.status == ItemStatus(from_status).value,
                )
                .values(status=ItemStatus(to_status).value, location_id=location_id)
                .returning(serials.SerialItem.serial_no)
                .execution_options(synchronize_session="fetch")
            ).scalars()
        )
    if missing := [n for n in numbers if n not in changed]:
        raise Conflict(
            _l(
                "Not %(status)s: %(serials)s.",
                status=ItemStatus(from_status).label,
                serials=", ".join(missing),
            ),
            field="serial_nos",
        )
