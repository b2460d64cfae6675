"""库存台账: the only code that changes stock quantities.

Every change is an immutable ``StockMovement`` row; ``StockBalance`` is a cache of their sum per
(location, batch), kept in the same transaction. Decrements are one conditional UPDATE checked
by its result (``… WHERE qty - reserved >= :n``), so two racing dispatchers cannot both take the
last ten tents: one wins, the other gets ``InsufficientStock``. Corrections are reversals, never
edits. The id order of movements is the posting order; a document's paper date is kept on the
movement but never reorders it, and nothing posts into a closed month.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import date, timedelta
from itertools import chain

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, event, func, insert, literal, select, union_all, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import ORMExecuteState, Session

from reserve.auth.actor import Actor
from reserve.catalog.models import Material
from reserve.errors import Conflict, InsufficientStock, NotFound, ValidationError
from reserve.stock.models import Batch, ClosedMonth, MovementKind, StockBalance, StockMovement
from reserve.warehouses.models import Location, Warehouse

MAX_QTY = 1_000_000_000
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


_STOCK_TABLES = {StockBalance.__tablename__, StockMovement.__tablename__}
_writing: ContextVar[bool] = ContextVar("ledger_writing", default=False)


@contextmanager
def _ledger_writes() -> Iterator[None]:
    token = _writing.set(True)
    try:
        yield
    finally:
        _writing.reset(token)


@event.listens_for(Session, "before_flush")
def _refuse_stock_writes_in_flush(session: Session, _context, _instances) -> None:
    """Belt and braces for law 1: an ORM object of a stock table changed outside the ledger."""
    if _writing.get():
        return
    for obj in chain(session.new, session.dirty, session.deleted):
        if isinstance(obj, StockBalance | StockMovement):
            raise RuntimeError("only reserve.stock.ledger writes stock balances and movements")


@event.listens_for(Session, "do_orm_execute")
def _refuse_stock_dml(state: ORMExecuteState) -> None:
    if _writing.get() or not (state.is_insert or state.is_update or state.is_delete):
        return
    table = getattr(state.statement, "table", None)
    if getattr(table, "name", None) in _STOCK_TABLES:
        raise RuntimeError("only reserve.stock.ledger writes stock balances and movements")


class PeriodClosed(Conflict):
    code = "period_closed"


@dataclass(frozen=True)
class DocumentRef:
    """The document a movement belongs to: its type, id, number and the date on its paper."""

    type: str
    id: int | None
    no: str | None
    date: date


@dataclass(frozen=True)
class Discrepancy:
    """A balance that does not equal the sum of its movements."""

    location_id: int
    batch_id: int
    balance_qty: int
    ledger_qty: int
    reserved: int

    def __str__(self) -> str:
        return (
            f"location {self.location_id} batch {self.batch_id}: balance {self.balance_qty}, "
            f"movements sum to {self.ledger_qty}, reserved {self.reserved}"
        )


def check_qty(qty: object, field: str = "qty") -> int:
    """A quantity is a whole number from 1 to 10⁹ in the material's unit."""
    if isinstance(qty, bool) or not isinstance(qty, int):
        raise ValidationError(_l("A quantity is a whole number."), field=field)
    if qty <= 0:
        raise ValidationError(_l("A quantity must be greater than zero."), field=field)
    if qty > MAX_QTY:
        raise ValidationError(_l("The quantity is implausibly large."), field=field)
    return qty


def check_period_open(session: Session, document_date: date) -> None:
    month = document_date.strftime("%Y-%m")
    if session.get(ClosedMonth, month) is not None:
        raise PeriodClosed(
            _l("The month %(month)s is closed; nothing more can be posted into it.", month=month)
        )


def check_document_date(session: Session, document_date: object) -> date:
    """The date on a document's paper: given, within the configured window (from
    ``DOCUMENT_DATE_MIN``, 2000-01-01 by default, to today + 1 day: a day's slack for clocks
    and time zones), and in an open month."""
    from flask import current_app, has_app_context

    from config import Config
    from reserve.db import local_today

    if not isinstance(document_date, date):
        raise ValidationError(_l("Give the date on the paper."), field="document_date")
    config = current_app.config if has_app_context() else vars(Config)
    earliest = date.fromisoformat(str(config["DOCUMENT_DATE_MIN"]))
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
    if from_reserved:  # shipping what an approved order reserved
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
    from_reserved: bool = False,
    reverses_id: int | None = None,
) -> StockMovement:
    """记账：post one signed quantity change and keep its balance, in the caller's transaction."""
    kind = MovementKind(kind)
    if isinstance(qty, bool) or not isinstance(qty, int) or qty == 0:
        raise ValidationError(_l("A quantity is a whole number other than zero."), field="qty")
    check_qty(abs(qty))
    if (kind in INCREASING and qty < 0) or (kind in DECREASING and qty > 0):
        raise ValidationError(_l("The sign of the quantity does not fit the movement."))
    check_period_open(session, document.date)
    place = _place(session, location_id, batch_id)
    with _ledger_writes():
        if qty > 0:
            after = _increase(session, place, location_id, batch_id, qty)
        else:
            after = _decrease(session, place, location_id, batch_id, -qty, from_reserved)
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
    """冲销：undo a movement by posting its opposite; the original stays as it was."""
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
    return post_movement(
        session,
        kind=MovementKind.REVERSAL,
        location_id=original.location_id,
        batch_id=original.batch_id,
        qty=-original.qty,
        document=DocumentRef(
            original.document_type, original.document_id, original.document_no, document_date
        ),
        actor=actor,
        note=reason.strip(),
        reverses_id=original.id,
    )


def reserve_qty(session: Session, *, location_id: int, batch_id: int, qty: int) -> None:
    """预留：set aside available stock for an approved order (no movement: nothing moved)."""
    check_qty(qty)
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
        raise _insufficient(
            session, _place(session, location_id, batch_id), location_id, batch_id, qty
        )


def release_qty(session: Session, *, location_id: int, batch_id: int, qty: int) -> None:
    """释放预留：give back a reservation (a cancelled order, a short-closed line)."""
    check_qty(qty)
    with _ledger_writes():
        result = session.execute(
            update(StockBalance)
            .where(_balance_key(location_id, batch_id), StockBalance.reserved >= qty)
            .values(reserved=StockBalance.reserved - qty)
            .execution_options(synchronize_session=False)
        )
    if result.rowcount != 1:
        raise Conflict(_l("Less is reserved there than the quantity to release."))


def verify(session: Session) -> list[Discrepancy]:
    """核对：recompute every balance from the movements and list each one that differs.

    One pass over each table: balances and movements side by side (UNION ALL), grouped once."""
    both = union_all(
        select(
            StockBalance.location_id,
            StockBalance.batch_id,
            StockBalance.qty.label("balance_qty"),
            literal(0).label("ledger_qty"),
            StockBalance.reserved.label("reserved"),
        ),
        select(
            StockMovement.location_id,
            StockMovement.batch_id,
            literal(0),
            StockMovement.qty,
            literal(0),
        ),
    ).subquery()
    balance_qty = func.sum(both.c.balance_qty)
    ledger_qty = func.sum(both.c.ledger_qty)
    reserved = func.sum(both.c.reserved)
    rows = session.execute(
        select(both.c.location_id, both.c.batch_id, balance_qty, ledger_qty, reserved)
        .group_by(both.c.location_id, both.c.batch_id)
        .having((balance_qty != ledger_qty) | (reserved < 0) | (reserved > balance_qty))
        .order_by(both.c.location_id, both.c.batch_id)
    )
    return [Discrepancy(*(int(v) for v in row)) for row in rows]
