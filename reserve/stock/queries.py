"""Read side of stock: by material across warehouses, drill-down, the stock card (物资台账) and
first-expiry-first-out sources. Aggregated in SQL; long lists page by key, not OFFSET."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import BigInteger, Select, case, cast, distinct, exists, func, or_, select
from sqlalchemy.orm import Session, aliased

from reserve.auth.actor import Actor
from reserve.catalog.models import Category, Material
from reserve.catalog.service import significant_prefix
from reserve.db import local_today
from reserve.stock.models import Batch, SerialItem, StockBalance, StockMovement
from reserve.warehouses.models import Location, Warehouse


@dataclass(frozen=True)
class StockFilter:
    """What the stock list is narrowed to: category, warehouse, expiry horizon, text."""

    q: str | None = None
    category_code: str | None = None
    warehouse_id: int | None = None
    expiring_within_days: int | None = None


def _scoped_balances(actor: Actor, f: StockFilter):
    """Conditions on StockBalance (joined to Batch) for the reader's scope and the filter."""
    conditions = [StockBalance.qty > 0, actor.visible(StockBalance.warehouse_id)]
    if f.warehouse_id:
        conditions.append(StockBalance.warehouse_id == f.warehouse_id)
    if f.expiring_within_days is not None:
        horizon = local_today() + timedelta(days=f.expiring_within_days)
        conditions.append(
            StockBalance.batch_id.in_(select(Batch.id).where(Batch.expiry_date <= horizon))
        )
    return conditions


@dataclass(frozen=True)
class StockRow:
    material_id: int
    code: str
    name: str
    spec: str | None
    unit: str
    category: str
    qty: int
    reserved: int
    warehouses: int
    nearest_expiry: date | None

    @property
    def available(self) -> int:
        return self.qty - self.reserved


@dataclass(frozen=True)
class KeyPage:
    """A page read by key: the rows and the key of the next page (None at the end)."""

    items: list
    next_key: str | None


def stock_by_material(
    session: Session, actor: Actor, f: StockFilter, *, after: str | None = None, per_page: int = 50
) -> KeyPage:
    """按物资汇总库存: quantity, reserved, available and nearest expiry per material, in code
    order. Two statements: pick the page's materials by key, then aggregate just those."""
    conditions = _scoped_balances(actor, f)
    has_stock = exists(
        select(StockBalance.id).where(StockBalance.material_id == Material.id, *conditions)
    )
    page_ids = select(Material.id).join(Material.category).where(has_stock)
    if f.q:
        like = f"%{f.q.strip()}%"
        page_ids = page_ids.where(
            Material.name.ilike(like)
            | Material.code.ilike(f"{f.q}%")
            | Material.spec.ilike(like)
            | Material.pinyin_initials.like(f"%{f.q.strip().lower()}%")
        )
    if f.category_code:
        page_ids = page_ids.where(Category.code.like(significant_prefix(f.category_code) + "%"))
    if after:
        page_ids = page_ids.where(Material.code > after)
    ids = list(session.scalars(page_ids.order_by(Material.code).limit(per_page + 1)))
    more = len(ids) > per_page
    ids = ids[:per_page]
    if not ids:
        return KeyPage([], None)
    rows = session.execute(
        select(
            Material.id,
            Material.code,
            Material.name,
            Material.spec,
            Material.unit,
            Category.name,
            cast(func.sum(StockBalance.qty), BigInteger),
            cast(func.sum(StockBalance.reserved), BigInteger),
            func.count(distinct(StockBalance.warehouse_id)),
            func.min(Batch.expiry_date),
        )
        .select_from(StockBalance)
        .join(Batch, Batch.id == StockBalance.batch_id)
        .join(Material, Material.id == StockBalance.material_id)
        .join(Category, Category.id == Material.category_id)
        .where(StockBalance.material_id.in_(ids), *conditions)
        .group_by(
            Material.id, Material.code, Material.name, Material.spec, Material.unit, Category.name
        )
        .order_by(Material.code)
    ).all()
    items = [StockRow(*row) for row in rows]
    return KeyPage(items, items[-1].code if more and items else None)


@dataclass(frozen=True)
class BalanceRow:
    warehouse_id: int
    warehouse_code: str
    warehouse_name: str
    location_id: int
    location_code: str
    batch_id: int
    batch_no: str
    production_date: date | None
    expiry_date: date | None
    qty: int
    reserved: int

    @property
    def available(self) -> int:
        return self.qty - self.reserved


def material_balances(
    session: Session, actor: Actor, material_id: int, warehouse_id: int | None = None
) -> list[BalanceRow]:
    """Drill-down of one material: every batch at every location the reader may see."""
    conditions = _scoped_balances(actor, StockFilter(warehouse_id=warehouse_id))
    rows = session.execute(
        select(
            Warehouse.id,
            Warehouse.code,
            Warehouse.name,
            Location.id,
            Location.code,
            Batch.id,
            Batch.batch_no,
            Batch.production_date,
            Batch.expiry_date,
            StockBalance.qty,
            StockBalance.reserved,
        )
        .select_from(StockBalance)
        .join(Location, Location.id == StockBalance.location_id)
        .join(Warehouse, Warehouse.id == StockBalance.warehouse_id)
        .join(Batch, Batch.id == StockBalance.batch_id)
        .where(StockBalance.material_id == material_id, *conditions)
        .order_by(
            Warehouse.code,
            Batch.expiry_date.is_(None),
            Batch.expiry_date,
            Batch.batch_no,
            Location.code,
        )
    ).all()
    return [BalanceRow(*row) for row in rows]


def serial_items(session: Session, actor: Actor, material_id: int) -> list:
    """单品 of a material with their status, place and maintenance dates."""
    stmt = (
        select(
            SerialItem.id,
            SerialItem.serial_no,
            SerialItem.status,
            SerialItem.last_maintained_on,
            SerialItem.next_maintenance_on,
            Batch.batch_no,
            Location.code.label("location_code"),
            Warehouse.name.label("warehouse_name"),
        )
        .join(Batch, Batch.id == SerialItem.batch_id)
        .outerjoin(Location, Location.id == SerialItem.location_id)
        .outerjoin(Warehouse, Warehouse.id == Location.warehouse_id)
        .where(SerialItem.material_id == material_id)
        .order_by(SerialItem.serial_no)
    )
    return session.execute(stmt.where(actor.visible(Location.warehouse_id))).all()


@dataclass(frozen=True)
class CardFilter:
    """The stock card narrowed to a warehouse, a batch or a range of document dates.

    One time axis: "in March" means the date on the paper (``document_date``), as the month
    close, the bureau's ledger and the monthly report read it, not the time it was posted. The
    card still lists in posting order (by movement id), and its running balance starts from
    everything dated before ``date_from``, then adds the rows shown, in posting order."""

    material_id: int
    warehouse_id: int | None = None
    batch_id: int | None = None
    date_from: date | None = None
    date_to: date | None = None


def _card_conditions(actor: Actor, f: CardFilter) -> list:
    conditions = [
        StockMovement.material_id == f.material_id,
        actor.visible(StockMovement.warehouse_id),
    ]
    if f.warehouse_id:
        conditions.append(StockMovement.warehouse_id == f.warehouse_id)
    if f.batch_id:
        conditions.append(StockMovement.batch_id == f.batch_id)
    if f.date_to:
        conditions.append(StockMovement.document_date <= f.date_to)
    return conditions


@dataclass(frozen=True)
class CardRow:
    id: int
    posted_at: datetime
    document_date: date
    kind: str
    qty: int
    balance: int  # the running balance of what the card shows, after this movement
    warehouse_name: str
    location_code: str
    batch_no: str
    document_type: str
    document_id: int | None
    document_no: str | None
    username: str
    note: str | None


def _card_rows(actor: Actor, f: CardFilter) -> Select:
    conditions = _card_conditions(actor, f)
    if f.date_from:
        conditions.append(StockMovement.document_date >= f.date_from)
    return (
        select(
            StockMovement.id,
            StockMovement.posted_at,
            StockMovement.document_date,
            StockMovement.kind,
            StockMovement.qty,
            Warehouse.name,
            Location.code,
            Batch.batch_no,
            StockMovement.document_type,
            StockMovement.document_id,
            StockMovement.document_no,
            StockMovement.username,
            StockMovement.note,
        )
        .join(Warehouse, Warehouse.id == StockMovement.warehouse_id)
        .join(Location, Location.id == StockMovement.location_id)
        .join(Batch, Batch.id == StockMovement.batch_id)
        .where(*conditions)
    )


def stock_card(
    session: Session, actor: Actor, f: CardFilter, *, before: int | None = None, per_page: int = 100
) -> KeyPage:
    """物资台账, newest first: each movement with its document, user and the running balance
    (of the warehouse/batch the card is narrowed to). Pages by movement id."""
    stmt = _card_rows(actor, f)
    if before:
        stmt = stmt.where(StockMovement.id < before)
    rows = session.execute(stmt.order_by(StockMovement.id.desc()).limit(per_page + 1)).all()
    more = len(rows) > per_page
    rows = rows[:per_page]
    if not rows:
        return KeyPage([], None)
    # the opening (dated before the range) plus the range's rows posted up to the newest shown:
    # a movement backdated before date_from counts in the opening, never between two rows
    shown_so_far = StockMovement.id <= rows[0].id
    if f.date_from:
        shown_so_far = or_(StockMovement.document_date < f.date_from, shown_so_far)
    balance = int(
        session.scalar(
            select(func.coalesce(func.sum(StockMovement.qty), 0)).where(
                *_card_conditions(actor, f), shown_so_far
            )
        )
    )
    items = []
    for row in rows:
        items.append(CardRow(row[0], row[1], row[2], row[3], row[4], balance, *row[5:]))
        balance -= row[4]
    return KeyPage(items, str(items[-1].id) if more else None)


def stock_card_all(session: Session, actor: Actor, f: CardFilter) -> Iterator[CardRow]:
    """Every movement of the card, oldest first, for the Excel export (streamed)."""
    conditions = _card_conditions(actor, f)
    opening = 0
    if f.date_from:
        opening = int(
            session.scalar(
                select(func.coalesce(func.sum(StockMovement.qty), 0)).where(
                    *conditions, StockMovement.document_date < f.date_from
                )
            )
            or 0
        )
    balance = opening
    result = session.execute(
        _card_rows(actor, f).order_by(StockMovement.id).execution_options(yield_per=2000)
    )
    for row in result:
        balance += row[4]
        yield CardRow(row[0], row[1], row[2], row[3], row[4], balance, *row[5:])


@dataclass(frozen=True)
class FefoSource:
    warehouse_id: int
    location_id: int
    location_code: str
    batch_id: int
    batch_no: str
    expiry_date: date | None
    available: int


def fefo_sources(
    session: Session, *, material_id: int, warehouse_ids: Iterable[int] | None = None
) -> list[FefoSource]:
    """先到期先出: the available (location, batch) quantities of a material, first expiry first;
    batches without expiry come last, oldest received first."""
    received = aliased(Batch)
    stmt = (
        select(
            StockBalance.warehouse_id,
            Location.id,
            Location.code,
            received.id,
            received.batch_no,
            received.expiry_date,
            (StockBalance.qty - StockBalance.reserved).label("available"),
        )
        .join(Location, Location.id == StockBalance.location_id)
        .join(received, received.id == StockBalance.batch_id)
        .where(
            StockBalance.material_id == material_id, StockBalance.qty - StockBalance.reserved > 0
        )
        .order_by(
            case((received.expiry_date.is_(None), 1), else_=0),
            received.expiry_date,
            received.received_at,
            received.id,
            Location.code,
        )
    )
    if warehouse_ids is not None:
        stmt = stmt.where(StockBalance.warehouse_id.in_(list(warehouse_ids) or [-1]))
    return [FefoSource(*row) for row in session.execute(stmt)]


def batches_of(session: Session, material_id: int) -> list[tuple[int, str]]:
    return [
        (row.id, row.batch_no)
        for row in session.execute(
            select(Batch.id, Batch.batch_no)
            .where(Batch.material_id == material_id)
            .order_by(Batch.batch_no)
        )
    ]


def materials_in_stock(session: Session, warehouse_id: int) -> list[tuple[int, str]]:
    rows = session.execute(
        select(Material.id, Material.code, Material.name, Material.unit)
        .where(
            exists(
                select(StockBalance.id).where(
                    StockBalance.material_id == Material.id,
                    StockBalance.warehouse_id == warehouse_id,
                    StockBalance.qty > 0,
                )
            )
        )
        .order_by(Material.code)
    ).all()
    return [(r.id, f"{r.code} {r.name} ({r.unit})") for r in rows]


def location_options(session: Session, warehouse_id: int) -> list[tuple[int, str]]:
    return [
        (r.id, r.code)
        for r in session.execute(
            select(Location.id, Location.code)
            .where(Location.warehouse_id == warehouse_id, Location.is_active)
            .order_by(Location.is_receiving.desc(), Location.code)
        )
    ]
