"""Database foundations shared by every feature: the declarative base, the UTC time type,
SQLite connection settings and the ``transaction()`` helper (the caller owns the transaction)."""

import json
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import current_app
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Session

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)


SHANGHAI = ZoneInfo("Asia/Shanghai")
_clock: ContextVar[datetime | None] = ContextVar("clock", default=None)


def utcnow() -> datetime:
    """Now, in UTC; ``clock_at`` sets it (the demo loader replays a year in order)."""
    return _clock.get() or datetime.now(UTC)


@contextmanager
def clock_at(moment: datetime) -> Iterator[None]:
    token = _clock.set(moment.astimezone(UTC))
    try:
        yield
    finally:
        _clock.reset(token)


def local_today() -> date:
    """Today's date in Asia/Shanghai, where the bureau's paperwork is dated."""
    return utcnow().astimezone(SHANGHAI).date()


def local_day_start(day: date) -> datetime:
    """The UTC instant at which a calendar day starts in Asia/Shanghai."""
    return datetime.combine(day, time.min, tzinfo=SHANGHAI).astimezone(UTC)


class UTCDateTime(sa.TypeDecorator):
    """A timestamp stored in UTC and always read back timezone-aware (SQLite forgets the zone)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; Reserve stores aware UTC times only")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


_ASCII_UPPER = str.maketrans("abcdefghijklmnopqrstuvwxyz", "ABCDEFGHIJKLMNOPQRSTUVWXYZ")


def normalise_code(value: str | None) -> str | None:
    """A code as stored and compared: stripped, ASCII letters upper-cased (``a-01-01`` is
    ``A-01-01``; Chinese and other letters stay as typed, so SQLite and PostgreSQL agree)."""
    return value.strip().translate(_ASCII_UPPER) if isinstance(value, str) else value


class Code(sa.TypeDecorator):
    """A code people type or scan (material, warehouse and location codes, batch and serial
    numbers): stored normalised, and every value compared with it in a query is normalised the
    same way, so ``Batch.batch_no == "t-2026-01"`` finds ``T-2026-01`` and the index serves
    the lookup. Objects see the normalised value as soon as it is assigned."""

    impl = sa.String
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect) -> str | None:
        return normalise_code(value)


def _normalised(_target, value, _old, _initiator):
    return normalise_code(value)


@event.listens_for(Base, "mapper_configured", propagate=True)
def _normalise_codes_on_assignment(mapper, cls) -> None:
    for prop in mapper.column_attrs:
        if any(isinstance(column.type, Code) for column in prop.columns):
            event.listen(getattr(cls, prop.key), "set", _normalised, retval=True)


def configure_sqlite(engine: Engine) -> None:
    """Foreign keys, WAL and a busy timeout on every SQLite connection, and transactions that
    really begin (pysqlite's own handling breaks SAVEPOINT and holds no lock on BEGIN)."""

    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=10000")
        if engine.url.database not in (None, "", ":memory:"):
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        # A write transaction takes the write lock at once: a deferred one that read first can
        # fail to upgrade under concurrency (SQLITE_BUSY_SNAPSHOT) instead of waiting its turn.
        immediate = connection.get_execution_options().get("sqlite_immediate")
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


@contextmanager
def transaction(session: Session | None = None) -> Iterator[Session]:
    """Commit what the block did, or roll all of it back on any exception (all or nothing)."""
    # The app's Flask-SQLAlchemy session, found through the app (reserve.extensions imports
    # this module for Base, so importing it back would be a cycle).
    session = session if session is not None else current_app.extensions["sqlalchemy"].session()
    if session.get_bind().dialect.name == "sqlite":
        if session.in_transaction() and not (session.new or session.dirty or session.deleted):
            session.commit()  # end the read the view began, so the write begins IMMEDIATE
        if not session.in_transaction():
            session.connection(execution_options={"sqlite_immediate": True})
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise


@dataclass(frozen=True)
class Page:
    """One page of a list: the rows, and enough to draw the pager."""

    items: list
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages


@dataclass(frozen=True)
class KeyPage:
    """A page read by key: the rows and the key of the next page (None at the end)."""

    items: list
    next_key: str | None


SortKey = tuple[sa.ColumnElement, bool]  # a column of the statement, and whether descending


def _key_value(value):
    if isinstance(value, Decimal):
        return str(value)  # exact: a float would round a price
    return value.isoformat() if isinstance(value, date | datetime) else value


def _decode_key(keys: Sequence[SortKey], token: str | None) -> list | None:
    """The values of a page key, typed as the columns are; None for no key or a key that is
    not one (a hand-edited URL starts at the first page rather than failing)."""
    if not token:
        return None
    try:
        values = json.loads(token)
        if not isinstance(values, list) or len(values) != len(keys):
            return None
        typed = []
        for (column, _descending), value in zip(keys, values, strict=True):
            kind = getattr(column.type, "impl_instance", column.type).python_type
            if not isinstance(value, str | int | float):
                return None  # the keys are NOT NULL scalars
            if isinstance(value, bool) != (kind is bool):
                return None  # JSON true is not the number 1, nor 1 a boolean
            if kind is datetime:
                typed.append(datetime.fromisoformat(value))
            elif kind is date:
                typed.append(date.fromisoformat(value))
            elif kind is Decimal:
                number = Decimal(value) if isinstance(value, str) else None
                if number is None or not number.is_finite():
                    return None
                typed.append(number)
            elif not isinstance(value, kind):
                return None
            else:
                typed.append(value)
        return typed
    except (ValueError, TypeError, NotImplementedError, InvalidOperation):
        return None


def _after_key(keys: Sequence[SortKey], values: list) -> sa.ColumnElement[bool]:
    """Rows after ``values`` in the order of ``keys``: one row-value comparison when every key
    runs the same way (PostgreSQL reads it off a matching index), else the OR chain; both with
    the bound on the first key alone, which an index on that column serves even when the keys
    come from several joined tables."""
    first, descending = keys[0]
    lead = first <= values[0] if descending else first >= values[0]
    if len({descending for _column, descending in keys}) == 1:
        row = sa.tuple_(*(column for column, _descending in keys))
        bound = sa.tuple_(*(sa.literal(v, c.type) for (c, _d), v in zip(keys, values, strict=True)))
        return sa.and_(lead, row < bound if descending else row > bound)
    clauses = []
    for i, (column, desc) in enumerate(keys):
        equal = [keys[j][0] == values[j] for j in range(i)]
        clauses.append(sa.and_(*equal, column < values[i] if desc else column > values[i]))
    return sa.and_(lead, sa.or_(*clauses))


def seek_page(
    session: Session,
    stmt: sa.Select,
    keys: Sequence[SortKey],
    *,
    after: str | None = None,
    per_page: int = 50,
    scalars: bool = False,
    key_of: Callable[[object], Sequence] | None = None,
) -> KeyPage:
    """One page of ``stmt`` in the order of ``keys``, after the page key ``after`` (seek, not
    OFFSET: page 1,000 costs what page 1 costs, and a row added meanwhile moves nothing).

    The keys are NOT NULL columns of the statement, the last one unique (an id). The next
    page's key is the last row's values, read by each key column's name from the row (or the
    entity when ``scalars``), or by ``key_of``."""
    per_page = max(1, min(per_page, 500))
    values = _decode_key(keys, after)
    if values is not None:
        stmt = stmt.where(_after_key(keys, values))
    ordered = stmt.order_by(None).order_by(
        *(column.desc() if descending else column.asc() for column, descending in keys)
    )
    query = ordered.limit(per_page + 1)
    rows = list(session.scalars(query) if scalars else session.execute(query))
    items = rows[:per_page]
    if len(rows) <= per_page or not items:
        return KeyPage(items, None)
    last = items[-1]
    if key_of is not None:
        key = list(key_of(last))
    else:
        key = [getattr(last, column.key) for column, _descending in keys]
    return KeyPage(items, json.dumps([_key_value(v) for v in key], ensure_ascii=False))


def capped_count(session: Session, stmt: sa.Select, cap: int = 1000) -> int:
    """How many rows ``stmt`` matches, counting no further than ``cap + 1`` (read more than
    ``cap`` as "cap+"): a number for a list's reader that never costs a count of the table."""
    one = stmt.with_only_columns(sa.literal(1), maintain_column_froms=True)
    capped = one.order_by(None).limit(cap + 1).subquery()
    return session.scalar(sa.select(sa.func.count()).select_from(capped)) or 0


def paginate(
    session: Session, stmt: sa.Select, *, page: int = 1, per_page: int = 50, scalars: bool = True
) -> Page:
    """Count and fetch one page in SQL. For short reference lists; long lists page by key."""
    page = max(1, page)
    per_page = max(1, min(per_page, 500))
    total = session.scalar(sa.select(sa.func.count()).select_from(stmt.order_by(None).subquery()))
    query = stmt.limit(per_page).offset((page - 1) * per_page)
    rows = session.scalars(query).all() if scalars else session.execute(query).all()
    return Page(items=list(rows), total=total or 0, page=page, per_page=per_page)
