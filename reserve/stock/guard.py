"""The ledger's runtime guard (law 1, belt and braces): nothing but ``reserve.stock.ledger``
writes the stock tables, whichever way it tries — ORM objects in a flush, ORM or Core DML
through a session, ``bulk_*_mappings``, or raw SQL text on a connection.

The ledger marks its own writes with ``ledger_writes()``; every other write to
``stock_balances``, ``stock_movements``, ``stock_reservations``, or to the status, place or
identity of a ``serial_items`` row, raises ``LedgerGuardError``. (Maintenance dates of serial
items stay writable by others.) The database adds what Python cannot promise: movements are
append-only by trigger, and the CHECKs hold whatever writes."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from itertools import chain

from sqlalchemy import event, inspect
from sqlalchemy.engine import Engine
from sqlalchemy.orm import ORMExecuteState, Session

from reserve.stock.models import SerialItem, StockBalance, StockMovement, StockReservation

STOCK_TABLES = frozenset(
    {StockBalance.__tablename__, StockMovement.__tablename__, StockReservation.__tablename__}
)
STOCK_MODELS = (StockBalance, StockMovement, StockReservation)
# the columns of a serial item that say where it is and in what state: the ledger's to change
SERIAL_COLUMNS = ("status", "location_id", "batch_id", "material_id", "serial_no")

_writing: ContextVar[bool] = ContextVar("ledger_writing", default=False)

_STOCK_SQL = re.compile(
    r"\b(?:INSERT\s+(?:OR\s+\w+\s+)?INTO|DELETE\s+FROM|UPDATE)\s+[\"`]?(?:"
    + "|".join(sorted(STOCK_TABLES))
    + r")\b",
    re.IGNORECASE,
)
_SERIAL_INSERT_DELETE = re.compile(
    r"\b(?:INSERT\s+(?:OR\s+\w+\s+)?INTO|DELETE\s+FROM)\s+[\"`]?serial_items\b", re.IGNORECASE
)
_SERIAL_UPDATE = re.compile(r"\bUPDATE\s+[\"`]?serial_items[\"`]?\s+SET\b(.*)", re.I | re.S)
_SERIAL_SET = re.compile(r"[\"`]?\b(?:" + "|".join(SERIAL_COLUMNS) + r")\b[\"`]?\s*=", re.I)


class LedgerGuardError(RuntimeError):
    """A write to the stock tables from outside the ledger: a programming error, not a user's."""

    def __init__(self, what: str = "stock balances, movements, reservations and serial items"):
        super().__init__(f"only reserve.stock.ledger writes {what}")


@contextmanager
def ledger_writes() -> Iterator[None]:
    """The ledger's own writes (and, deliberately, a bulk loader or a test that tampers)."""
    token = _writing.set(True)
    try:
        yield
    finally:
        _writing.reset(token)


def is_ledger_writing() -> bool:
    return _writing.get()


def _serial_item_changed(obj: SerialItem) -> bool:
    state = inspect(obj)
    return any(state.attrs[key].history.has_changes() for key in SERIAL_COLUMNS)


@event.listens_for(Session, "before_flush")
def _refuse_stock_writes_in_flush(session: Session, _context, _instances) -> None:
    if _writing.get():
        return
    for obj in chain(session.new, session.deleted):
        if isinstance(obj, (*STOCK_MODELS, SerialItem)):
            raise LedgerGuardError()
    for obj in session.dirty:
        if isinstance(obj, STOCK_MODELS) or (
            isinstance(obj, SerialItem) and _serial_item_changed(obj)
        ):
            raise LedgerGuardError()


@event.listens_for(Session, "do_orm_execute")
def _refuse_stock_dml(state: ORMExecuteState) -> None:
    if _writing.get() or not (state.is_insert or state.is_update or state.is_delete):
        return
    name = getattr(getattr(state.statement, "table", None), "name", None)
    if name in STOCK_TABLES or (name == SerialItem.__tablename__ and not state.is_update):
        raise LedgerGuardError()
    # an UPDATE of serial_items is checked on its SQL text below (which columns it sets)


def refused_sql(statement: str) -> bool:
    """Whether this SQL text writes what only the ledger may write."""
    if _STOCK_SQL.search(statement) or _SERIAL_INSERT_DELETE.search(statement):
        return True
    update = _SERIAL_UPDATE.search(statement)
    if update is None:
        return False
    set_clause = re.split(r"\bWHERE\b|\bRETURNING\b", update.group(1), maxsplit=1, flags=re.I)[0]
    return bool(_SERIAL_SET.search(set_clause))


@event.listens_for(Engine, "before_cursor_execute", retval=False)
def _refuse_raw_stock_sql(_conn, _cursor, statement: str, _parameters, _context, _many) -> None:
    """Everything reaches a cursor: ``session.execute(text(...))``, ``connection.execute``,
    ``bulk_insert_mappings`` / ``bulk_update_mappings`` and Core ``table.update()`` alike."""
    if not _writing.get() and refused_sql(statement):
        raise LedgerGuardError()
