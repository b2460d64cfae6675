"""Read side of rotation and scrap: the rotation candidates (临期/过期批次), the document lists
and the lines of one document, aggregated and joined in SQL, scoped to what the reader sees."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.functions import FunctionElement

from reserve.auth.actor import Actor
from reserve.catalog.models import Category, Material
from reserve.catalog.service import significant_prefix
from reserve.db import KeyPage, local_today, seek_page
from reserve.disposals.models import Rotation, RotationLine, Scrap, ScrapLine
from reserve.stock.expiry import ExpiryState, expired_before
from reserve.stock.models import Batch, StockBalance
from reserve.warehouses.models import Location, Warehouse

# The receipts feature owns this table; only its id, number and warehouse are read here.
RECEIPTS = sa.table(
    "receipts", sa.column("id"), sa.column("no"), sa.column("warehouse_id"), sa.column("status")
)
RECEIPT_CANCELLED = "cancelled"


class days_until(FunctionElement):
    """Whole days from ``today`` to a date column (negative once it is past)."""

    type = sa.Integer()
    name = "days_until"
    inherit_cache = True


@compiles(days_until)
def _days_until(element, compiler, **kw):
    day, today = list(element.clauses)
    return f"({compiler.process(day, **kw)} - CAST({compiler.process(today, **kw)} AS DATE))"


@compiles(days_until, "sqlite")
def _days_until_sqlite(element, compiler, **kw):
    day, today = list(element.clauses)
    return (
        f"CAST(julianday({compiler.process(day, **kw)}) - "
        f"julianday({compiler.process(today, **kw)}) AS INTEGER)"
    )


# Rotation candidates (临期/过期) ---------------------------------------------------------------


@dataclass(frozen=True)
class CandidateRow:
    warehouse_id: int
    warehouse_code: str
    warehouse_name: str
    location_id: int
    location_code: str
    batch_id: int
    batch_no: str
    material_id: int
    material_code: str
    material_name: str
    spec: str | None
    unit: str
    expiry_date: date
    qty: int
    reserved: int
    near_expiry_days: int
    days_left: int  # negative: expired that many days ago

    @property
    def available(self) -> int:
        return self.qty - self.reserved

    @property
    def is_expired(self) -> bool:
        return self.days_left < 0


HORIZONS = (0, 30, 60, 90, 180, 365)


def rotation_candidates(
    session: Session,
    actor: Actor,
    *,
    warehouse_id: int | None = None,
    category_code: str | None = None,
    horizon_days: int | None = None,
    state: str | None = None,
    after: str | None = None,
    per_page: int = 50,
) -> KeyPage:
    """临期/过期批次: (location, batch) balances with something available (on hand − reserved:
    reserved stock is promised and cannot be rotated or scrapped) expiring within the
    material's near-expiry days (or ``horizon_days``; 0 is expired only) or already expired,
    soonest first. ``state`` narrows to ``expired`` or ``near`` (reserve.stock.expiry's rule)."""
    today = local_today()
    conditions = [
        StockBalance.qty - StockBalance.reserved > 0,
        Batch.expiry_date.is_not(None),
        actor.visible(StockBalance.warehouse_id),
    ]
    if state == ExpiryState.EXPIRED.value or horizon_days == 0:
        conditions.append(Batch.expiry_date < expired_before(today))
    elif state == ExpiryState.NEAR.value:
        conditions.append(Batch.expiry_date >= expired_before(today))
    if horizon_days:
        conditions.append(Batch.expiry_date <= today + timedelta(days=max(0, horizon_days)))
    elif horizon_days is None:
        # The widest window first, so the index on the expiry date does the narrowing.
        widest = session.scalar(select(func.max(Material.near_expiry_days))) or 0
        conditions += [
            Batch.expiry_date <= today + timedelta(days=widest),
            days_until(Batch.expiry_date, sa.literal(today, sa.Date()))
            <= Material.near_expiry_days,
        ]
    if warehouse_id:
        conditions.append(StockBalance.warehouse_id == warehouse_id)
    if category_code:
        conditions.append(Category.code.like(significant_prefix(category_code) + "%"))
    stmt = (
        select(
            Warehouse.id,
            Warehouse.code,
            Warehouse.name,
            Location.id,
            Location.code,
            Batch.id,
            Batch.batch_no,
            Material.id,
            Material.code,
            Material.name,
            Material.spec,
            Material.unit,
            Batch.expiry_date,
            StockBalance.qty,
            StockBalance.reserved,
            Material.near_expiry_days,
        )
        .select_from(StockBalance)
        .join(Batch, Batch.id == StockBalance.batch_id)
        .join(Material, Material.id == StockBalance.material_id)
        .join(Category, Category.id == Material.category_id)
        .join(Location, Location.id == StockBalance.location_id)
        .join(Warehouse, Warehouse.id == StockBalance.warehouse_id)
        .where(*conditions)
    )
    # soonest first; a balance is one (warehouse, location, batch), so the keys are unique
    keys = [(c, False) for c in (Batch.expiry_date, Warehouse.code, Material.code, Location.code)]
    result = seek_page(
        session,
        stmt,
        [*keys, (Batch.id, False)],
        after=after,
        per_page=per_page,
        key_of=lambda row: (row[12], row[1], row[8], row[4], row[5]),
    )
    items = [CandidateRow(*row, (row[12] - today).days) for row in result.items]
    return KeyPage(items, result.next_key)


# Document lists ------------------------------------------------------------------------------


def rotation_page(
    session: Session,
    actor: Actor,
    *,
    warehouse_id: int | None = None,
    status: str | None = None,
    after: str | None = None,
    per_page: int = 50,
) -> KeyPage:
    """轮换单 list, newest first, with the warehouse and the number of lines."""
    lines = (
        select(func.count())
        .where(RotationLine.rotation_id == Rotation.id)
        .correlate(Rotation)
        .scalar_subquery()
    )
    stmt = (
        select(
            Rotation.id,
            Rotation.no,
            Rotation.document_date,
            Rotation.disposition,
            Rotation.counterparty,
            Rotation.status,
            Rotation.created_by_name.label("created_by"),
            Rotation.replacement_receipt_id,
            Warehouse.code.label("warehouse_code"),
            Warehouse.name.label("warehouse_name"),
            lines.label("line_count"),
        )
        .join(Warehouse, Warehouse.id == Rotation.warehouse_id)
        .where(actor.visible(Rotation.warehouse_id))
    )
    if warehouse_id:
        stmt = stmt.where(Rotation.warehouse_id == warehouse_id)
    if status:
        stmt = stmt.where(Rotation.status == status)
    return seek_page(session, stmt, [(Rotation.id, True)], after=after, per_page=per_page)


def scrap_page(
    session: Session,
    actor: Actor,
    *,
    warehouse_id: int | None = None,
    status: str | None = None,
    after: str | None = None,
    per_page: int = 50,
) -> KeyPage:
    """报废单 list, newest first, with the warehouse and the number of lines."""
    lines = (
        select(func.count())
        .where(ScrapLine.scrap_id == Scrap.id)
        .correlate(Scrap)
        .scalar_subquery()
    )
    stmt = (
        select(
            Scrap.id,
            Scrap.no,
            Scrap.document_date,
            Scrap.reason,
            Scrap.reason_text,
            Scrap.status,
            Scrap.requested_by_name.label("requested_by"),
            sa.func.coalesce(Scrap.approved_by_name, Scrap.rejected_by_name).label("decided_by"),
            Warehouse.code.label("warehouse_code"),
            Warehouse.name.label("warehouse_name"),
            lines.label("line_count"),
        )
        .join(Warehouse, Warehouse.id == Scrap.warehouse_id)
        .where(actor.visible(Scrap.warehouse_id))
    )
    if warehouse_id:
        stmt = stmt.where(Scrap.warehouse_id == warehouse_id)
    if status:
        stmt = stmt.where(Scrap.status == status)
    return seek_page(session, stmt, [(Scrap.id, True)], after=after, per_page=per_page)


# One document's lines ------------------------------------------------------------------------


@dataclass(frozen=True)
class LineRow:
    id: int
    qty: int
    serial_nos: list[str]
    location_code: str
    batch_no: str
    expiry_date: date | None
    material_code: str
    material_name: str
    spec: str | None
    unit: str
    near_expiry_days: int
    unit_cost: Decimal | None  # the batch's, as received; None when the receipt gave none

    @property
    def value(self) -> Decimal | None:
        """What the line takes off the books: quantity × the batch's unit cost."""
        return None if self.unit_cost is None else self.unit_cost * self.qty


@dataclass(frozen=True)
class LinesValue:
    """What a document takes off the books: the sum of the lines that have a unit cost, and
    how many lines have none (so a partial total is never passed off as the whole)."""

    total: Decimal
    lines_without_cost: int


def lines_value(lines: list[LineRow]) -> LinesValue:
    """The value at stake on an approval (报废/轮换金额)."""
    values = [line.value for line in lines]
    return LinesValue(
        total=sum((v for v in values if v is not None), Decimal(0)),
        lines_without_cost=sum(1 for v in values if v is None),
    )


def _lines(session: Session, model, document_column, document_id: int) -> list[LineRow]:
    rows = session.execute(
        select(
            model.id,
            model.qty,
            model.serial_nos,
            Location.code,
            Batch.batch_no,
            Batch.expiry_date,
            Material.code,
            Material.name,
            Material.spec,
            Material.unit,
            Material.near_expiry_days,
            Batch.unit_cost,
        )
        .join(Location, Location.id == model.location_id)
        .join(Batch, Batch.id == model.batch_id)
        .join(Material, Material.id == Batch.material_id)
        .where(document_column == document_id)
        .order_by(model.id)
    ).all()
    return [LineRow(*row[:2], list(row[2] or []), *row[3:]) for row in rows]


def rotation_lines(session: Session, rotation_id: int) -> list[LineRow]:
    return _lines(session, RotationLine, RotationLine.rotation_id, rotation_id)


def scrap_lines(session: Session, scrap_id: int) -> list[LineRow]:
    return _lines(session, ScrapLine, ScrapLine.scrap_id, scrap_id)


# Choices for the forms -----------------------------------------------------------------------


@dataclass(frozen=True)
class StockChoice:
    """An available (location, batch) of a warehouse, as a line of a form offers it."""

    location_id: int
    batch_id: int
    location_code: str
    material_code: str
    material_name: str
    unit: str
    tracking: str
    batch_no: str
    expiry_date: date | None
    available: int
    near_expiry_days: int

    @property
    def value(self) -> str:
        return f"{self.location_id}:{self.batch_id}"

    @property
    def is_serial(self) -> bool:
        return self.tracking == "serial"


STOCK_CHOICES_LIMIT = 300


def _choice_select(warehouse_id: int) -> sa.Select:
    return (
        select(
            Location.id,
            Batch.id,
            Location.code,
            Material.code,
            Material.name,
            Material.unit,
            Material.tracking,
            Batch.batch_no,
            Batch.expiry_date,
            (StockBalance.qty - StockBalance.reserved).label("available"),
            Material.near_expiry_days,
        )
        .select_from(StockBalance)
        .join(Location, Location.id == StockBalance.location_id)
        .join(Batch, Batch.id == StockBalance.batch_id)
        .join(Material, Material.id == StockBalance.material_id)
        .where(StockBalance.warehouse_id == warehouse_id)
    )


def stock_choices(
    session: Session,
    warehouse_id: int,
    *,
    q: str | None = None,
    soonest_expiry_first: bool = False,
    include: tuple[tuple[int, int], ...] = (),
    limit: int = STOCK_CHOICES_LIMIT,
) -> list[StockChoice]:
    """What a line can take out of a warehouse: every available balance (narrowed by a search
    on material name, code, pinyin initials or batch number), plus those already chosen."""
    stmt = _choice_select(warehouse_id).where(StockBalance.qty - StockBalance.reserved > 0)
    q = (q or "").strip()
    if q:
        like = f"%{q}%"
        stmt = stmt.where(
            Material.name.ilike(like)
            | Material.code.ilike(f"{q}%")
            | Material.pinyin_initials.like(f"%{q.lower()}%")
            | Batch.batch_no.ilike(f"{q}%")
        )
    expiry = (case((Batch.expiry_date.is_(None), 1), else_=0), Batch.expiry_date)
    order = (*expiry, Material.code) if soonest_expiry_first else (Material.code, *expiry)
    rows = session.execute(stmt.order_by(*order, Location.code, Batch.id).limit(limit)).all()
    choices = [StockChoice(*row) for row in rows]
    have = {(c.location_id, c.batch_id) for c in choices}
    missing = [pair for pair in include if pair not in have]
    if missing:
        chosen = or_(
            *(
                and_(StockBalance.location_id == location_id, StockBalance.batch_id == batch_id)
                for location_id, batch_id in missing
            )
        )
        extra = session.execute(_choice_select(warehouse_id).where(chosen)).all()
        choices = [StockChoice(*row) for row in extra] + choices
    return choices


def balance_warehouse(session: Session, location_id: int, batch_id: int):
    """The warehouse and available quantity of a (location, batch), for a prefilled line."""
    return session.execute(
        select(
            StockBalance.warehouse_id, (StockBalance.qty - StockBalance.reserved).label("available")
        ).where(StockBalance.location_id == location_id, StockBalance.batch_id == batch_id)
    ).first()


def receipt_no(session: Session, receipt_id: int | None) -> str | None:
    if receipt_id is None:
        return None
    return session.scalar(select(RECEIPTS.c.no).where(RECEIPTS.c.id == receipt_id))


def receipt_options(
    session: Session, warehouse_id: int, *, limit: int = 100
) -> list[tuple[int, str]]:
    """The warehouse's latest receipts, to link one as a rotation's replacement."""
    rows = session.execute(
        select(RECEIPTS.c.id, RECEIPTS.c.no)
        .where(RECEIPTS.c.warehouse_id == warehouse_id, RECEIPTS.c.status != RECEIPT_CANCELLED)
        .order_by(RECEIPTS.c.id.desc())
        .limit(limit)
    )
    return [(row.id, row.no) for row in rows]
