"""Read side of stocktakes: the list, the count sheet and its totals, each one SELECT, scoped to
the warehouses the reader may see."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import Select, case, func, or_, select
from sqlalchemy.orm import Session, aliased

from reserve.auth.actor import Actor
from reserve.auth.models import User
from reserve.catalog.models import Category, Material
from reserve.db import KeyPage, seek_page
from reserve.stock.models import Batch, StockBalance
from reserve.stocktakes import pdf
from reserve.stocktakes.counting import row_of
from reserve.stocktakes.models import (
    Stocktake,
    StocktakeLine,
    StocktakeStatus,
    stocktake_categories,
    stocktake_locations,
)
from reserve.warehouses.models import Location, Warehouse

LINE_FILTERS = ("all", "uncounted", "counted", "variance", "found")
SCOPE_SHOWN = 12  # locations named in the count sheet's header; the lines name them all


def _line_stat(expression):
    return (
        select(expression)
        .where(StocktakeLine.stocktake_id == Stocktake.id)
        .correlate(Stocktake)
        .scalar_subquery()
    )


def _scope_count(table):
    return (
        select(func.count())
        .select_from(table)
        .where(table.c.stocktake_id == Stocktake.id)
        .correlate(Stocktake)
        .scalar_subquery()
    )


def stocktake_search(
    *, actor: Actor, status: str | None = None, warehouse_id: int | None = None
) -> Select:
    """The stocktake list as one SELECT, newest first, with each one's progress."""
    creator = aliased(User)
    stmt = (
        select(
            Stocktake.id,
            Stocktake.no,
            Stocktake.status,
            Stocktake.is_blind,
            Stocktake.created_at,
            Stocktake.submitted_at,
            Stocktake.approved_at,
            Warehouse.id.label("warehouse_id"),
            Warehouse.code.label("warehouse_code"),
            Warehouse.name.label("warehouse_name"),
            creator.full_name.label("created_by"),
            Stocktake.created_by_name.label("created_by_login"),
            _line_stat(func.count()).label("line_count"),
            _line_stat(func.count(StocktakeLine.counted_qty)).label("counted_count"),
            _line_stat(func.count(case((StocktakeLine.variance != 0, 1)))).label("variance_count"),
            _scope_count(stocktake_locations).label("location_scope"),
            _scope_count(stocktake_categories).label("category_scope"),
        )
        .join(Warehouse, Warehouse.id == Stocktake.warehouse_id)
        .outerjoin(creator, creator.id == Stocktake.created_by_id)
    )
    stmt = stmt.where(actor.visible(Stocktake.warehouse_id))
    if status:
        stmt = stmt.where(Stocktake.status == status)
    if warehouse_id:
        stmt = stmt.where(Stocktake.warehouse_id == warehouse_id)
    return stmt.order_by(Stocktake.id.desc())


def stocktake_page(
    session: Session,
    *,
    actor: Actor,
    status: str | None = None,
    warehouse_id: int | None = None,
    after: str | None = None,
    per_page: int = 50,
) -> KeyPage:
    """One page of the stocktake list, newest first, after the page key ``after``."""
    return seek_page(
        session,
        stocktake_search(actor=actor, status=status, warehouse_id=warehouse_id),
        [(Stocktake.id, True)],
        after=after,
        per_page=per_page,
    )


def stocktake_header(session: Session, stocktake_id: int):
    """One stocktake with its warehouse and the names of the people who acted on it."""
    people = {
        name: aliased(User)
        for name in ("created", "submitted", "approved", "rejected", "cancelled")
    }
    stmt = select(
        Stocktake,
        Warehouse.code.label("warehouse_code"),
        Warehouse.name.label("warehouse_name"),
        *[user.full_name.label(f"{name}_by") for name, user in people.items()],
    ).join(Warehouse, Warehouse.id == Stocktake.warehouse_id)
    for name, user in people.items():
        stmt = stmt.outerjoin(user, user.id == getattr(Stocktake, f"{name}_by_id"))
    return session.execute(stmt.where(Stocktake.id == stocktake_id)).one()


def scope_labels(session: Session, stocktake_id: int) -> tuple[list[str], list[str]]:
    """The codes of the locations and the categories a stocktake is limited to (empty: all)."""
    locations = session.scalars(
        select(Location.code)
        .join(stocktake_locations, stocktake_locations.c.location_id == Location.id)
        .where(stocktake_locations.c.stocktake_id == stocktake_id)
        .order_by(Location.code)
    ).all()
    categories = session.execute(
        select(Category.code, Category.name)
        .join(stocktake_categories, stocktake_categories.c.category_id == Category.id)
        .where(stocktake_categories.c.stocktake_id == stocktake_id)
        .order_by(Category.code)
    ).all()
    return list(locations), [f"{c.code} {c.name}" for c in categories]


@dataclass(frozen=True)
class Totals:
    lines: int
    counted: int
    found: int
    surplus_lines: int
    shortage_lines: int
    surplus_value: object  # Decimal yuan, or None when no price is known
    shortage_value: object

    @property
    def uncounted(self) -> int:
        return self.lines - self.counted


def stocktake_totals(session: Session, stocktake_id: int) -> Totals:
    """Progress and differences of a stocktake, summed in SQL (values at batch cost, else the
    material's reference price)."""
    variance = StocktakeLine.variance
    price = func.coalesce(Batch.unit_cost, Material.reference_price)
    gain, loss = variance > 0, variance < 0
    row = session.execute(
        select(
            func.count(),
            func.count(StocktakeLine.counted_qty),
            func.count(case((StocktakeLine.is_found, 1))),
            func.count(case((gain, 1))),
            func.count(case((loss, 1))),
            func.sum(case((gain, variance * price))),
            func.sum(case((loss, -variance * price))),
        )
        .select_from(StocktakeLine)
        .join(Batch, Batch.id == StocktakeLine.batch_id)
        .join(Material, Material.id == StocktakeLine.material_id)
        .where(StocktakeLine.stocktake_id == stocktake_id)
    ).one()
    return Totals(*row)


def _line_rows() -> Select:
    counter = aliased(User)
    return (
        select(
            StocktakeLine.id,
            StocktakeLine.location_id,
            Location.code.label("location_code"),
            StocktakeLine.material_id,
            Material.code.label("material_code"),
            Material.name.label("material_name"),
            Material.spec,
            Material.unit,
            Material.tracking,
            Material.near_expiry_days,
            StocktakeLine.batch_id,
            Batch.batch_no,
            Batch.expiry_date,
            StocktakeLine.is_found,
            StocktakeLine.system_qty,
            StocktakeLine.counted_qty,
            StocktakeLine.variance,
            StocktakeLine.reason,
            StocktakeLine.counted_at,
            counter.full_name.label("counted_by"),
            counter.username.label("counted_by_login"),
        )
        .join(Location, Location.id == StocktakeLine.location_id)
        .join(Material, Material.id == StocktakeLine.material_id)
        .join(Batch, Batch.id == StocktakeLine.batch_id)
        .outerjoin(counter, counter.id == StocktakeLine.counted_by_id)
        .order_by(Location.code, Material.code, Batch.expiry_date, Batch.batch_no, StocktakeLine.id)
    )


NO_EXPIRY = date(9999, 12, 31)  # a batch without an expiry date walks after the dated ones
LINE_KEYS = (
    (Location.code, False),
    (Material.code, False),
    (func.coalesce(Batch.expiry_date, NO_EXPIRY), False),
    (Batch.batch_no, False),
    (StocktakeLine.id, False),
)


def _lines(stocktake_id: int) -> Select:
    return _line_rows().where(StocktakeLine.stocktake_id == stocktake_id)


def line_search(stocktake_id: int, *, show: str = "all", q: str | None = None) -> Select:
    """The count sheet: a stocktake's lines in walking order (location, material, batch)."""
    stmt = _lines(stocktake_id)
    if show == "uncounted":
        stmt = stmt.where(StocktakeLine.counted_qty.is_(None))
    elif show == "counted":
        stmt = stmt.where(StocktakeLine.counted_qty.is_not(None))
    elif show == "variance":
        stmt = stmt.where(StocktakeLine.variance != 0)
    elif show == "found":
        stmt = stmt.where(StocktakeLine.is_found)
    q = (q or "").strip()
    if q:
        like = f"%{q}%"
        stmt = stmt.where(
            or_(
                Location.code.ilike(f"{q}%"),
                Material.code.ilike(f"{q}%"),
                Material.name.ilike(like),
                Material.pinyin_initials.like(f"%{q.lower()}%"),
                Batch.batch_no.ilike(f"{q}%"),
            )
        )
    return stmt


def line_page(
    session: Session,
    stocktake_id: int,
    *,
    show: str = "all",
    q: str | None = None,
    after: str | None = None,
    per_page: int = 100,
) -> KeyPage:
    """One page of the count sheet in walking order, after the page key ``after``."""
    return seek_page(
        session,
        line_search(stocktake_id, show=show, q=q),
        LINE_KEYS,
        after=after,
        per_page=per_page,
        key_of=lambda row: (
            row.location_code,
            row.material_code,
            row.expiry_date or NO_EXPIRY,
            row.batch_no,
            row.id,
        ),
    )


def all_lines(session: Session, stocktake_id: int) -> list:
    return list(session.execute(_lines(stocktake_id)))


def line_row(session: Session, line_id: int):
    return session.execute(_line_rows().where(StocktakeLine.id == line_id)).one()


def location_choices(session: Session, warehouse_id: int) -> list[tuple[int, str]]:
    rows = session.execute(
        select(Location.id, Location.code, Location.name)
        .where(Location.warehouse_id == warehouse_id, Location.is_active)
        .order_by(Location.is_receiving.desc(), Location.code)
    )
    return [(row.id, f"{row.code} {row.name}" if row.name else row.code) for row in rows]


def stocked_locations(session: Session, warehouse_id: int) -> dict[int, int]:
    """How many batches hold stock at each location of a warehouse (to choose what to count)."""
    rows = session.execute(
        select(StockBalance.location_id, func.count())
        .where(StockBalance.warehouse_id == warehouse_id, StockBalance.qty > 0)
        .group_by(StockBalance.location_id)
    )
    return {location_id: n for location_id, n in rows}


def count_location_choices(
    session: Session, stocktake_id: int, warehouse_id: int
) -> list[tuple[int, str]]:
    """Where a keeper may record found stock: the stocktake's locations, else all of them."""
    scoped = session.execute(
        select(Location.id, Location.code)
        .join(stocktake_locations, stocktake_locations.c.location_id == Location.id)
        .where(stocktake_locations.c.stocktake_id == stocktake_id)
        .order_by(Location.code)
    ).all()
    if scoped:
        return [(row.id, row.code) for row in scoped]
    return location_choices(session, warehouse_id)


def status_labels() -> dict[str, object]:
    return {status.value: status.label for status in StocktakeStatus}


def printable(session: Session, stocktake: Stocktake) -> pdf.CountSheet:
    """The count sheet (盘点表) as the plain data its PDF is printed from, lines in route order."""
    header = stocktake_header(session, stocktake.id)
    locations, categories = scope_labels(session, stocktake.id)
    scope = "；".join(
        part
        for part in (
            f"库位 {len(locations)} 个：{'、'.join(locations[:SCOPE_SHOWN])}"
            + ("等" if len(locations) > SCOPE_SHOWN else "")
            if locations
            else "",
            f"分类：{'、'.join(categories)}" if categories else "",
        )
        if part
    )
    return pdf.CountSheet(
        no=stocktake.no,
        warehouse=f"{header.warehouse_code} {header.warehouse_name}",
        status=stocktake.status,
        is_blind=stocktake.is_blind,
        scope=scope or "全库",
        created_at=stocktake.created_at,
        created_by=header.created_by or stocktake.created_by_name,
        note=stocktake.note,
        lines=[
            pdf.CountSheetLine(
                location=row.location_code,
                code=row.material_code,
                name=row.material_name,
                spec=row.spec or "",
                unit=row.unit,
                batch_no=row.batch_no,
                expiry_date=row.expiry_date,
                near_expiry_days=row.near_expiry_days,
                book_qty=row.system_qty,
            )
            for row in all_lines(session, stocktake.id)
        ],
    )


@dataclass(frozen=True)
class TreeNode:
    """A checkbox of the scope trees: a row (排) of locations, a location, or a category."""

    key: str  # the value submitted: a row key, a location id or a category id
    label: str
    stocked: int = 0  # batches the books hold there (locations and rows)
    children: tuple[TreeNode, ...] = ()

    @property
    def size(self) -> int:
        return len(self.children)


def location_tree(session: Session, warehouse_id: int) -> tuple[list[TreeNode], list[TreeNode]]:
    """The warehouse's locations in use for choosing what to count, in two SELECTs: the
    receiving areas, and the rows (排, the code before its first dash) with their locations in
    code order (排-列-层), each with the batches the books hold there."""
    stocked = stocked_locations(session, warehouse_id)
    rows = session.execute(
        select(Location.id, Location.code, Location.name, Location.is_receiving)
        .where(Location.warehouse_id == warehouse_id, Location.is_active)
        .order_by(Location.code)
    )
    receiving: list[TreeNode] = []
    grouped: dict[str, list[TreeNode]] = {}
    for row in rows:
        node = TreeNode(
            str(row.id),
            f"{row.code} {row.name}" if row.name else row.code,
            stocked.get(row.id, 0),
        )
        if row.is_receiving:
            receiving.append(node)
        else:
            grouped.setdefault(row_of(row.code), []).append(node)
    tree = [
        TreeNode(key, key, sum(n.stocked for n in nodes), tuple(nodes))
        for key, nodes in grouped.items()
    ]
    return receiving, tree


def category_nodes(session: Session) -> list[TreeNode]:
    """The category tree (code order is tree order), each node with its sub-categories."""
    rows = session.execute(
        select(Category.id, Category.code, Category.name, Category.parent_id).order_by(
            Category.code
        )
    ).all()
    kids: dict[int | None, list] = {}
    for row in rows:
        kids.setdefault(row.parent_id, []).append(row)
    known = {row.id for row in rows}

    def build(row) -> TreeNode:
        return TreeNode(
            str(row.id), f"{row.code} {row.name}", 0, tuple(build(k) for k in kids.get(row.id, []))
        )

    return [build(row) for row in rows if row.parent_id is None or row.parent_id not in known]
