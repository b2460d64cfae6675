"""Read side of stock: by material across warehouses, by material and warehouse (the pivot),
drill-down, the stock card (物资台账) and first-expiry-first-out sources. Aggregated in SQL; long
lists page by key, not OFFSET.

**The availability rule, defined here once** (DESIGN.md, law 1), for every page, the API, the
exports and ``fefo_sources``:

- *on hand* (在库) is a balance's ``qty``;
- *available to dispatch* (可用) is ``qty - reserved`` of a batch that is **not expired**
  (``reserve.stock.expiry``: expired from the day after its expiry date), and 0 for an expired
  one: expired stock is on hand, counted and shown, but never offered;
- *expired* (过期) and *near-expiry* (临期, inside the material's ``near_expiry_days``) quantities
  are on-hand quantities, shown beside it with their badges.

"Blocked" stock (DESIGN.md: "not expired or blocked") has no state of its own today: batches have
no status column, and a serial item that is not in stock (issued, in use, under repair,
scrapped) has already left its balance's ``qty`` through the ledger, so nothing else needs
excluding. When a batch status (quarantine, 冻结) arrives, it joins ``_usable`` below and every
reader follows.

The SQL form of the rule (``available_sql`` …) and the Python form (``available_of``) are side
by side below so they cannot drift; the dates come from ``reserve.stock.expiry``."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    Select,
    and_,
    case,
    cast,
    distinct,
    exists,
    func,
    literal,
    or_,
    select,
    tuple_,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql.functions import FunctionElement

from reserve.auth.actor import Actor
from reserve.catalog.models import Category, Material
from reserve.catalog.service import significant_prefix
from reserve.db import KeyPage, local_today, normalise_code, seek_page
from reserve.stock.expiry import ExpiryState, expired_before, expiry_state
from reserve.stock.models import Batch, SerialItem, StockBalance, StockMovement
from reserve.warehouses.models import Location, Region, Warehouse
from reserve.warehouses.queries import region_subtree

NO_EXPIRY = date(9999, 12, 31)  # sorts batches without an expiry date last
HOLDERS_SHOWN = 3  # warehouses named per material on the stock list ("…等 N 处")


# -- the availability rule ------------------------------------------------------------------


class days_after(FunctionElement):
    """``day + n`` days as a SQL date, ``n`` a column (a material's warning days)."""

    type = Date()
    inherit_cache = True


@compiles(days_after)
def _days_after(element, compiler, **kw):
    day, days = list(element.clauses)
    return f"CAST({compiler.process(day, **kw)} AS DATE) + {compiler.process(days, **kw)}"


@compiles(days_after, "sqlite")
def _days_after_sqlite(element, compiler, **kw):
    day, days = list(element.clauses)
    return f"date({compiler.process(day, **kw)}, '+' || {compiler.process(days, **kw)} || ' days')"


def _usable(expiry_date, today: date):
    """SQL: the batch may be dispatched (not expired; no blocked state exists yet)."""
    return or_(expiry_date.is_(None), expiry_date >= expired_before(today))


def available_sql(qty, reserved, expiry_date, today: date):
    """SQL: 可用 of one balance row."""
    return case((_usable(expiry_date, today), qty - reserved), else_=0)


def expired_sql(qty, expiry_date, today: date):
    """SQL: the on-hand quantity of an expired batch (过期)."""
    return case((expiry_date < expired_before(today), qty), else_=0)


def near_expiry_sql(qty, expiry_date, near_expiry_days, today: date):
    """SQL: the on-hand quantity of a batch near expiry (临期), not yet expired."""
    return case(
        (
            and_(
                expiry_date >= expired_before(today),
                expiry_date <= days_after(literal(today, Date), near_expiry_days),
            ),
            qty,
        ),
        else_=0,
    )


def available_of(qty: int, reserved: int, state: ExpiryState | None) -> int:
    """Python: 可用 of one balance row whose expiry state is known."""
    return 0 if state is ExpiryState.EXPIRED else qty - reserved


@dataclass(frozen=True)
class StockFilter:
    """What the stock list is narrowed to: category, warehouse, expiry horizon, text, a batch
    or serial number (prefix, as typed or scanned), and a region (the warehouses in it and in
    the divisions under it: the availability view)."""

    q: str | None = None
    category_code: str | None = None
    warehouse_id: int | None = None
    expiring_within_days: int | None = None
    batch_no: str | None = None
    region_id: int | None = None

    @property
    def is_search(self) -> bool:
        return bool(
            self.q
            or self.category_code
            or self.warehouse_id
            or self.expiring_within_days is not None
            or self.batch_no
        )


class starts_with(FunctionElement):
    """``column`` starts with a text, in the form each database's index serves: ``LIKE 'X%'`` on
    PostgreSQL (through a ``text_pattern_ops`` index, whatever the collation), and on SQLite the
    range ``>= 'X' AND < 'Y'`` (its binary order is the byte order, so the range is exactly the
    prefix, and the plain index serves it; its LIKE is case-insensitive and would not)."""

    type = Boolean()
    inherit_cache = True


@compiles(starts_with)
def _starts_with(element, compiler, **kw):
    column, pattern, _low, _high = list(element.clauses)
    return f"{compiler.process(column, **kw)} LIKE {compiler.process(pattern, **kw)} ESCAPE '\\'"


@compiles(starts_with, "sqlite")
def _starts_with_sqlite(element, compiler, **kw):
    column, _pattern, low, high = (compiler.process(c, **kw) for c in element.clauses)
    return f"({column} >= {low} AND {column} < {high})"


def _prefix(column, text: str):
    text = normalise_code(text) or ""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    high = text[:-1] + chr(ord(text[-1]) + 1) if text else "\U0010ffff"
    return starts_with(column, literal(escaped + "%"), literal(text), literal(high))


def matching_batch_ids(text: str) -> Select:
    """批号 or 序列号 starting with ``text``: the batch ids, each by its own index."""
    return (
        select(Batch.id)
        .where(_prefix(Batch.batch_no, text))
        .union(select(SerialItem.batch_id).where(_prefix(SerialItem.serial_no, text)))
    )


def _scoped_balances(actor: Actor, f: StockFilter):
    """Conditions on StockBalance for the reader's scope and the filter."""
    conditions = [StockBalance.qty > 0, actor.visible(StockBalance.warehouse_id)]
    if f.warehouse_id:
        conditions.append(StockBalance.warehouse_id == f.warehouse_id)
    if f.expiring_within_days is not None:
        horizon = local_today() + timedelta(days=f.expiring_within_days)
        conditions.append(
            StockBalance.batch_id.in_(select(Batch.id).where(Batch.expiry_date <= horizon))
        )
    if f.batch_no:
        conditions.append(StockBalance.batch_id.in_(matching_batch_ids(f.batch_no)))
    if f.region_id:
        in_region = select(Warehouse.id).where(Warehouse.region_id.in_(region_subtree(f.region_id)))
        conditions.append(StockBalance.warehouse_id.in_(in_region))
    return conditions


def _material_conditions(f: StockFilter) -> list:
    """Conditions on Material (joined to Category): the text and the category."""
    conditions = []
    if f.q:
        text = f.q.strip()
        like = f"%{text}%"
        conditions.append(
            Material.name.ilike(like)
            | Material.code.ilike(f"{text}%")
            | Material.spec.ilike(like)
            | Material.pinyin_initials.like(f"%{text.lower()}%")
        )
    if f.category_code:
        conditions.append(Category.code.like(significant_prefix(f.category_code) + "%"))
    return conditions


def holds_stock(actor: Actor, f: StockFilter):
    """SQL: the material (``Material.id`` of the outer statement) has stock in the reader's
    scope and the filter's warehouses."""
    return exists(
        select(StockBalance.id).where(
            StockBalance.material_id == Material.id, *_scoped_balances(actor, f)
        )
    )


def _page_material_ids(
    session: Session, actor: Actor, f: StockFilter, after: str | None, per_page: int
) -> tuple[list[int], bool]:
    """The page's materials (in code order, after the key) that hold stock in the filter."""
    stmt = (
        select(Material.id)
        .join(Material.category)
        .where(holds_stock(actor, f), *_material_conditions(f))
    )
    if f.batch_no:  # a few batches match: start from their materials, not from every material
        matching = select(Batch.material_id).where(Batch.id.in_(matching_batch_ids(f.batch_no)))
        stmt = stmt.where(Material.id.in_(matching))
    if after:
        stmt = stmt.where(Material.code > after)
    ids = list(session.scalars(stmt.order_by(Material.code).limit(per_page + 1)))
    return ids[:per_page], len(ids) > per_page


@dataclass(frozen=True)
class Holder:
    """A warehouse holding a material: its name and what is available there."""

    warehouse_id: int
    name: str
    available: int
    qty: int


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
    available: int
    expired_qty: int
    near_expiry_qty: int
    nearest_expiry: date | None
    near_expiry_days: int
    warehouses: int = 0
    holders: tuple[Holder, ...] = field(default=())

    @property
    def nearest_expiry_state(self) -> ExpiryState | None:
        return expiry_state(self.nearest_expiry, self.near_expiry_days)

    @property
    def more_holders(self) -> int:
        return max(0, self.warehouses - len(self.holders))


def _material_totals(
    session: Session,
    actor: Actor,
    f: StockFilter,
    ids: list[int],
    today: date,
    *narrowed,
    count_warehouses: bool = False,
) -> list[StockRow]:
    """On hand, reserved, available, expired, near expiry and the nearest expiry of each of
    ``ids``, in code order. The batches are read by ``ix_batches_material_expiry`` (the same
    materials, their expiry dates in the index), so the page costs what its materials hold."""
    qty, reserved, expiry = StockBalance.qty, StockBalance.reserved, Batch.expiry_date
    rows = session.execute(
        select(
            Material.id,
            Material.code,
            Material.name,
            Material.spec,
            Material.unit,
            Category.name,
            cast(func.sum(qty), BigInteger),
            cast(func.sum(reserved), BigInteger),
            cast(func.sum(available_sql(qty, reserved, expiry, today)), BigInteger),
            cast(func.sum(expired_sql(qty, expiry, today)), BigInteger),
            cast(
                func.sum(near_expiry_sql(qty, expiry, Material.near_expiry_days, today)),
                BigInteger,
            ),
            func.min(expiry),
            Material.near_expiry_days,
            *([func.count(distinct(StockBalance.warehouse_id))] if count_warehouses else []),
        )
        .select_from(StockBalance)
        .join(Batch, and_(Batch.id == StockBalance.batch_id, Batch.material_id.in_(ids)))
        .join(Material, Material.id == StockBalance.material_id)
        .join(Category, Category.id == Material.category_id)
        .where(StockBalance.material_id.in_(ids), *_scoped_balances(actor, f), *narrowed)
        .group_by(
            Material.id,
            Material.code,
            Material.name,
            Material.spec,
            Material.unit,
            Category.name,
            Material.near_expiry_days,
        )
        .order_by(Material.code)
    ).all()
    return [StockRow(*row) for row in rows]


def material_totals(
    session: Session, actor: Actor, f: StockFilter, ids: list[int], today: date | None = None
) -> dict[int, StockRow]:
    """The stock list's totals (on hand, available, expired …) of the materials ``ids`` in the
    filter's warehouses, and how many warehouses hold each, by material id: one statement (the
    availability view's physical side)."""
    if not ids:
        return {}
    rows = _material_totals(session, actor, f, ids, today or local_today(), count_warehouses=True)
    return {row.material_id: row for row in rows}


@dataclass(frozen=True)
class WarehouseStock:
    """One warehouse's stock of a material: on hand and available to dispatch."""

    warehouse_id: int
    code: str
    name: str
    level: str
    region_name: str | None
    qty: int
    available: int


def material_warehouse_page(
    session: Session,
    actor: Actor,
    material_id: int,
    f: StockFilter,
    *,
    after: str | None = None,
    per_page: int = 50,
    today: date | None = None,
) -> KeyPage:
    """Each warehouse of the filter holding the material, in code order, paged by key: what is
    on hand there and available (the rule above), aggregated in SQL."""
    today = today or local_today()
    cells = _by_warehouse(actor, f, [material_id], today)
    stmt = (
        select(
            Warehouse.id.label("warehouse_id"),
            Warehouse.code,
            Warehouse.name,
            Warehouse.level,
            Region.name.label("region_name"),
            cells.c.qty,
            cells.c.available,
        )
        .select_from(cells)
        .join(Warehouse, Warehouse.id == cells.c.warehouse_id)
        .outerjoin(Region, Region.id == Warehouse.region_id)
    )
    page = seek_page(session, stmt, [(Warehouse.code, False)], after=after, per_page=per_page)
    return KeyPage([WarehouseStock(**row._asdict()) for row in page.items], page.next_key)


def _by_warehouse(actor: Actor, f: StockFilter, ids: list[int], today: date):
    """Per (material, warehouse) of ``ids``: on hand and available (a subquery)."""
    qty, reserved, expiry = StockBalance.qty, StockBalance.reserved, Batch.expiry_date
    return (
        select(
            StockBalance.material_id,
            StockBalance.warehouse_id,
            cast(func.sum(qty), BigInteger).label("qty"),
            cast(func.sum(available_sql(qty, reserved, expiry, today)), BigInteger).label(
                "available"
            ),
        )
        .join(Batch, and_(Batch.id == StockBalance.batch_id, Batch.material_id.in_(ids)))
        .where(StockBalance.material_id.in_(ids), *_scoped_balances(actor, f))
        .group_by(StockBalance.material_id, StockBalance.warehouse_id)
        .subquery()
    )


def _holders(
    session: Session, actor: Actor, f: StockFilter, ids: list[int], today: date
) -> dict[int, tuple[int, list[Holder]]]:
    """Per material: how many warehouses hold it, and the first few by what is available."""
    cells = _by_warehouse(actor, f, ids, today)
    ranked = (
        select(
            cells.c.material_id,
            cells.c.warehouse_id,
            Warehouse.name,
            cells.c.available,
            cells.c.qty,
            func.row_number()
            .over(
                partition_by=cells.c.material_id,
                order_by=(cells.c.available.desc(), cells.c.qty.desc(), Warehouse.code),
            )
            .label("rank"),
            func.count().over(partition_by=cells.c.material_id).label("holders"),
        )
        .join(Warehouse, Warehouse.id == cells.c.warehouse_id)
        .subquery()
    )
    found: dict[int, tuple[int, list[Holder]]] = {}
    for row in session.execute(
        select(ranked)
        .where(ranked.c.rank <= HOLDERS_SHOWN)
        .order_by(ranked.c.material_id, ranked.c.rank)
    ):
        count, holders = found.setdefault(row.material_id, (row.holders, []))
        holders.append(Holder(row.warehouse_id, row.name, row.available, row.qty))
    return found


def stock_by_material(
    session: Session,
    actor: Actor,
    f: StockFilter,
    *,
    after: str | None = None,
    per_page: int = 50,
    today: date | None = None,
) -> KeyPage:
    """按物资汇总库存: on hand, reserved, available, expired and near-expiry quantities, the
    nearest expiry and the warehouses holding it (by name), per material in code order. Three
    statements, whatever the page holds: the page's materials by key, their totals, their
    holders."""
    today = today or local_today()
    ids, more = _page_material_ids(session, actor, f, after, per_page)
    if not ids:
        return KeyPage([], None)
    holders = _holders(session, actor, f, ids, today)
    items = []
    for row in _material_totals(session, actor, f, ids, today):
        count, named = holders.get(row.material_id, (0, []))
        items.append(_with_holders(row, count, named))
    return KeyPage(items, items[-1].code if more and items else None)


def _with_holders(row: StockRow, count: int, named: list[Holder]) -> StockRow:
    return replace(row, warehouses=count, holders=tuple(named))


@dataclass(frozen=True)
class UnitTotal:
    """What a search found, in one unit: e.g. 1,200 顶 over 3 materials."""

    unit: str
    materials: int
    qty: int
    available: int
    expired_qty: int


def totals_by_unit(
    session: Session, actor: Actor, f: StockFilter, today: date | None = None
) -> list[UnitTotal]:
    """合计 per unit of everything the filter finds (every page, not only the one shown)."""
    today = today or local_today()
    qty, reserved, expiry = StockBalance.qty, StockBalance.reserved, Batch.expiry_date
    rows = session.execute(
        select(
            Material.unit,
            func.count(distinct(Material.id)),
            cast(func.sum(qty), BigInteger),
            cast(func.sum(available_sql(qty, reserved, expiry, today)), BigInteger),
            cast(func.sum(expired_sql(qty, expiry, today)), BigInteger),
        )
        .select_from(StockBalance)
        .join(Batch, Batch.id == StockBalance.batch_id)
        .join(Material, Material.id == StockBalance.material_id)
        .join(Category, Category.id == Material.category_id)
        .where(*_scoped_balances(actor, f), *_material_conditions(f))
        .group_by(Material.unit)
        .order_by(func.sum(qty).desc(), Material.unit)
    ).all()
    return [UnitTotal(*row) for row in rows]


def all_stock_rows(
    session: Session, actor: Actor, f: StockFilter, *, chunk: int = 500
) -> Iterator[StockRow]:
    """Every row of the stock list, page after page by key (the Excel export)."""
    after = None
    while True:
        page = stock_by_material(session, actor, f, after=after, per_page=chunk)
        yield from page.items
        if not page.next_key:
            return
        after = page.next_key


# -- the pivot: materials × warehouses -------------------------------------------------------


@dataclass(frozen=True)
class PivotMaterial:
    material_id: int
    code: str
    name: str
    spec: str | None
    unit: str
    cells: dict[int, int]  # warehouse id → available
    on_hand: dict[int, int]  # warehouse id → on hand (an empty cell is "—", a 0 is expired)

    @property
    def total(self) -> int:
        return sum(self.cells.values())


@dataclass(frozen=True)
class PivotPage:
    """按库分布: a page of materials (rows) by the warehouses holding them (columns)."""

    rows: list[PivotMaterial]
    warehouses: list[tuple[int, str, str]]  # (id, code, name), in code order
    next_key: str | None

    def column_totals(self) -> list[tuple[str, dict[int, int], int]]:
        """Per unit on the page (one cannot add 顶 to 张): its column sums and its total."""
        by_unit: dict[str, dict[int, int]] = {}
        for row in self.rows:
            sums = by_unit.setdefault(row.unit, {})
            for warehouse_id, available in row.cells.items():
                sums[warehouse_id] = sums.get(warehouse_id, 0) + available
        return [(unit, sums, sum(sums.values())) for unit, sums in by_unit.items()]


def stock_pivot(
    session: Session,
    actor: Actor,
    f: StockFilter,
    *,
    after: str | None = None,
    per_page: int = 50,
    today: date | None = None,
) -> PivotPage:
    """物资 × 储备库: what is available of each material of the page in each warehouse of the
    reader's scope that holds any of them. Two statements: the page by key, then its cells."""
    today = today or local_today()
    ids, more = _page_material_ids(session, actor, f, after, per_page)
    if not ids:
        return PivotPage([], [], None)
    cells = _by_warehouse(actor, f, ids, today)
    result = session.execute(
        select(
            Material.id,
            Material.code,
            Material.name,
            Material.spec,
            Material.unit,
            Warehouse.id,
            Warehouse.code,
            Warehouse.name,
            cells.c.available,
            cells.c.qty,
        )
        .select_from(cells)
        .join(Material, Material.id == cells.c.material_id)
        .join(Warehouse, Warehouse.id == cells.c.warehouse_id)
        .order_by(Material.code, Warehouse.code)
    ).all()
    rows: dict[int, PivotMaterial] = {}
    warehouses: dict[int, tuple[int, str, str]] = {}
    for m_id, code, name, spec, unit, w_id, w_code, w_name, available, qty in result:
        row = rows.setdefault(m_id, PivotMaterial(m_id, code, name, spec, unit, {}, {}))
        row.cells[w_id] = int(available)
        row.on_hand[w_id] = int(qty)
        warehouses[w_id] = (w_id, w_code, w_name)
    items = list(rows.values())
    return PivotPage(
        items,
        sorted(warehouses.values(), key=lambda w: w[1]),
        items[-1].code if more and items else None,
    )


# -- one material: its batches and locations -------------------------------------------------


@dataclass(frozen=True)
class BalanceRow:
    balance_id: int
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
    expiry_state: ExpiryState | None = None

    @property
    def available(self) -> int:
        return available_of(self.qty, self.reserved, self.expiry_state)


def _balance_rows(
    actor: Actor, material_id: int, warehouse_id: int | None, batch_id: int | None
) -> Select:
    """The material's balances, shaped so that the plan stays small at any scale: batches
    through ``batches.material_id`` (the material's own, by index, never the whole table), the
    location code as a per-row lookup by primary key (PostgreSQL computes it after the LIMIT),
    and the small warehouses table joined."""
    conditions = _scoped_balances(actor, StockFilter(warehouse_id=warehouse_id))
    if batch_id:
        conditions.append(StockBalance.batch_id == batch_id)
    location_code = (
        select(Location.code).where(Location.id == StockBalance.location_id).scalar_subquery()
    )
    return (
        select(
            StockBalance.id,
            Warehouse.id,
            Warehouse.code,
            Warehouse.name,
            StockBalance.location_id,
            location_code.label("location_code"),
            Batch.id,
            Batch.batch_no,
            Batch.production_date,
            Batch.expiry_date,
            StockBalance.qty,
            StockBalance.reserved,
        )
        .select_from(StockBalance)
        .join(Batch, and_(Batch.id == StockBalance.batch_id, Batch.material_id == material_id))
        .join(Warehouse, Warehouse.id == StockBalance.warehouse_id)
        .where(StockBalance.material_id == material_id, *conditions)
    )


def _balance_key():
    """The material page's order: warehouse, first expiry first (none last), batch, place."""
    return (
        Warehouse.code,
        func.coalesce(Batch.expiry_date, literal(NO_EXPIRY, Date)),
        Batch.batch_no,
        StockBalance.id,
    )


def material_balance_page(
    session: Session,
    actor: Actor,
    material_id: int,
    *,
    near_expiry_days: int,
    warehouse_id: int | None = None,
    batch_id: int | None = None,
    after: int | None = None,
    per_page: int = 100,
    today: date | None = None,
) -> KeyPage:
    """A page of one material's batches at locations (by warehouse, first expiry first), read
    by key: ``after`` is the last balance id shown."""
    today = today or local_today()
    stmt = _balance_rows(actor, material_id, warehouse_id, batch_id)
    key = _balance_key()
    if after:
        last = session.execute(
            select(*key)
            .select_from(StockBalance)
            .join(Batch, Batch.id == StockBalance.batch_id)
            .join(Warehouse, Warehouse.id == StockBalance.warehouse_id)
            .where(StockBalance.id == after)
        ).one_or_none()
        if last is not None:
            stmt = stmt.where(tuple_(*key) > tuple_(*(literal(v) for v in last)))
    rows = session.execute(stmt.order_by(*key).limit(per_page + 1)).all()
    more = len(rows) > per_page
    items = [
        BalanceRow(*row, expiry_state=expiry_state(row[9], near_expiry_days, today))
        for row in rows[:per_page]
    ]
    return KeyPage(items, str(items[-1].balance_id) if more and items else None)


def material_balances(
    session: Session,
    actor: Actor,
    material_id: int,
    warehouse_id: int | None = None,
    *,
    near_expiry_days: int = 0,
    today: date | None = None,
) -> list[BalanceRow]:
    """Every batch at every location of one material the reader may see (the move form's
    choices, narrowed to a warehouse); the pages use ``material_balance_page``."""
    today = today or local_today()
    stmt = _balance_rows(actor, material_id, warehouse_id, None).order_by(*_balance_key())
    return [
        BalanceRow(*row, expiry_state=expiry_state(row[9], near_expiry_days, today))
        for row in session.execute(stmt)
    ]


def material_summary(
    session: Session,
    actor: Actor,
    material_id: int,
    *,
    warehouse_id: int | None = None,
    batch_id: int | None = None,
    today: date | None = None,
) -> StockRow | None:
    """The material page's totals (over every page of it): on hand, available, expired, near."""
    narrowed = [StockBalance.batch_id == batch_id] if batch_id else []
    rows = _material_totals(
        session,
        actor,
        StockFilter(warehouse_id=warehouse_id),
        [material_id],
        today or local_today(),
        *narrowed,
    )
    return rows[0] if rows else None


def serial_items(
    session: Session,
    actor: Actor,
    material_id: int,
    *,
    batch_id: int | None = None,
    after: str | None = None,
    per_page: int = 100,
) -> KeyPage:
    """单品 of a material with their status, place and maintenance dates, by serial number,
    paged by key (``after`` is the last serial number shown)."""
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
        .where(SerialItem.material_id == material_id, actor.visible(Location.warehouse_id))
    )
    if batch_id:
        stmt = stmt.where(SerialItem.batch_id == batch_id)
    if after:
        stmt = stmt.where(SerialItem.serial_no > after)
    rows = session.execute(stmt.order_by(SerialItem.serial_no).limit(per_page + 1)).all()
    more = len(rows) > per_page
    rows = rows[:per_page]
    return KeyPage(rows, rows[-1].serial_no if more and rows else None)


@dataclass(frozen=True)
class BatchMatch:
    """A batch found by its number or by a serial number in it, with what is on hand of it."""

    batch_id: int
    batch_no: str
    material_id: int
    material_code: str
    material_name: str
    unit: str
    expiry_date: date | None
    qty: int


def find_batches(session: Session, actor: Actor, text: str, *, limit: int = 20) -> list[BatchMatch]:
    """按批号/序列号查: batches whose number (or one of whose serial numbers) starts with
    ``text``, holding stock the reader may see; by prefix on their indexes."""
    ids = matching_batch_ids(text).subquery()
    rows = session.execute(
        select(
            Batch.id,
            Batch.batch_no,
            Material.id,
            Material.code,
            Material.name,
            Material.unit,
            Batch.expiry_date,
            cast(func.sum(StockBalance.qty), BigInteger),
        )
        .select_from(ids)
        .join(Batch, Batch.id == ids.c.id)
        .join(Material, Material.id == Batch.material_id)
        .join(StockBalance, StockBalance.batch_id == Batch.id)
        .where(StockBalance.qty > 0, actor.visible(StockBalance.warehouse_id))
        .group_by(
            Batch.id,
            Batch.batch_no,
            Material.id,
            Material.code,
            Material.name,
            Material.unit,
            Batch.expiry_date,
        )
        .order_by(Batch.batch_no, Material.code)
        .limit(limit)
    ).all()
    return [BatchMatch(*row) for row in rows]


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
    expiry_date: date | None = None  # of the movement's batch: its 过期 / 临期 badge


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
            Batch.expiry_date,
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
    session: Session,
    *,
    material_id: int,
    warehouse_ids: Iterable[int] | None = None,
    today: date | None = None,
) -> list[FefoSource]:
    """先到期先出: the available (location, batch) quantities of a material, first expiry first;
    batches without expiry come last, oldest received first. An expired batch is never offered
    (its available is 0, the rule above)."""
    today = today or local_today()
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
            StockBalance.material_id == material_id,
            StockBalance.qty - StockBalance.reserved > 0,
            _usable(received.expiry_date, today),
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


def batch_label(session: Session, material_id: int, batch_id: int) -> str | None:
    """The batch number of one of the material's batches (None if it is not the material's)."""
    return session.scalar(
        select(Batch.batch_no).where(Batch.id == batch_id, Batch.material_id == material_id)
    )


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
