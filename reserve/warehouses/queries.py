"""Read side of regions, warehouses and locations: one SELECT per list, scoped in SQL."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import Row, Select, func, or_, select
from sqlalchemy.orm import Session, aliased

from reserve.auth.actor import Actor
from reserve.auth.models import User, user_warehouses
from reserve.db import KeyPage, SortKey, seek_page
from reserve.warehouses.models import Location, Region, RegionLevel, Warehouse, WarehouseLevel


@dataclass(frozen=True)
class RegionNode:
    """A region in the tree, with its depth (0 for a root)."""

    id: int
    code: str
    name: str
    level: str
    parent_id: int | None
    depth: int

    @property
    def level_label(self):
        return RegionLevel(self.level).label


def region_tree(session: Session) -> list[RegionNode]:
    """Every region depth-first, siblings in code order.

    Ordering by code alone is the tree order for GB/T 2260 (a child's code extends its
    parent's prefix), but not for townships, whose codes need not share the county's prefix;
    so the order is built from the parent links of one SELECT."""
    rows = session.execute(
        select(Region.id, Region.code, Region.name, Region.level, Region.parent_id).order_by(
            Region.code
        )
    ).all()
    ids = {row.id for row in rows}
    children: dict[int | None, list] = {}
    for row in rows:
        parent = row.parent_id if row.parent_id in ids else None
        children.setdefault(parent, []).append(row)
    tree: list[RegionNode] = []
    stack = [(row, 0) for row in reversed(children.get(None, []))]
    while stack:
        row, depth = stack.pop()
        tree.append(RegionNode(row.id, row.code, row.name, row.level, row.parent_id, depth))
        stack.extend((child, depth + 1) for child in reversed(children.get(row.id, [])))
    return tree


def region_choices(session: Session, *, exclude_id: int | None = None) -> list[tuple[int, str]]:
    """Regions for a select, indented by depth; ``exclude_id`` leaves out that subtree."""
    choices = []
    skip_below: int | None = None
    for node in region_tree(session):
        if skip_below is not None:
            if node.depth > skip_below:
                continue
            skip_below = None
        if node.id == exclude_id:
            skip_below = node.depth
            continue
        choices.append((node.id, f"{'　' * node.depth}{node.code} {node.name}"))
    return choices


def region_page(
    session: Session,
    *,
    parent_code: str | None = None,
    level: str | None = None,
    after: str | None = None,
    per_page: int = 50,
) -> KeyPage:
    """Regions in code order with their parent's code, optionally the children of one region."""
    parent = aliased(Region)
    stmt = select(
        Region.id,
        Region.code,
        Region.name,
        Region.level,
        parent.code.label("parent_code"),
    ).outerjoin(parent, Region.parent_id == parent.id)
    if parent_code:
        stmt = stmt.where(parent.code == parent_code)
    if level:
        stmt = stmt.where(Region.level == level)
    return seek_page(session, stmt, [(Region.code, False)], after=after, per_page=per_page)


def _location_count():
    return (
        select(func.count(Location.id))
        .where(Location.warehouse_id == Warehouse.id, Location.is_active)
        .correlate(Warehouse)
        .scalar_subquery()
    )


def _keeper_counts():
    """Enabled keepers per warehouse, grouped once: a correlated count per row hash-joined the
    whole users table again for every warehouse on the page (20 ms at province scale)."""
    return (
        select(user_warehouses.c.warehouse_id, func.count().label("n"))
        .join(User, User.id == user_warehouses.c.user_id)
        .where(User.is_enabled)
        .group_by(user_warehouses.c.warehouse_id)
        .subquery("keepers")
    )


def _warehouse_rows() -> Select:
    """Warehouse fields, its region, and its counts of locations in use and keepers."""
    keepers = _keeper_counts()
    return (
        select(
            Warehouse.id,
            Warehouse.code,
            Warehouse.name,
            Warehouse.level,
            Warehouse.region_id,
            Region.code.label("region_code"),
            Region.name.label("region_name"),
            Warehouse.address,
            Warehouse.lat,
            Warehouse.lng,
            Warehouse.area_m2,
            Warehouse.phone,
            Warehouse.is_active,
            _location_count().label("location_count"),
            func.coalesce(keepers.c.n, 0).label("keeper_count"),
        )
        .join(Region, Warehouse.region_id == Region.id)
        .outerjoin(keepers, keepers.c.warehouse_id == Warehouse.id)
    )


WAREHOUSE_SORTS = {  # sort name: the row's column it orders by
    "code": "code",
    "name": "name",
    "level": "level",
    "region": "region_code",
    "area": "area_m2",
    "locations": "location_count",
    "keepers": "keeper_count",
}
NO_AREA = {False: Decimal("1e12"), True: Decimal(-1)}  # by direction: an unknown area sorts last


def warehouse_keys(stmt: Select, sort: str) -> tuple[list[SortKey], Callable[[Row], tuple]]:
    """The page keys of a warehouse sort (``-`` for descending), ending in the unique code, and
    the function reading their values off a row."""
    name = WAREHOUSE_SORTS.get((sort or "code").lstrip("-"), "code")
    descending = (sort or "").startswith("-")
    code = stmt.selected_columns["code"]
    if name == "code":
        return [(code, descending)], lambda row: (row.code,)
    column = stmt.selected_columns[name]
    if name == "area_m2":  # one NULL order on every database: last, whichever the direction
        unknown = NO_AREA[descending]
        keys = [(func.coalesce(column, unknown), descending), (code, descending)]
        return keys, lambda row: (unknown if row.area_m2 is None else row.area_m2, row.code)
    return [(column, descending), (code, descending)], lambda row: (getattr(row, name), row.code)


def region_subtree(region_id: int):
    """The ids of a region and all regions below it (a recursive CTE)."""
    tree = select(Region.id).where(Region.id == region_id).cte("region_subtree", recursive=True)
    tree = tree.union_all(select(Region.id).where(Region.parent_id == tree.c.id))
    return select(tree.c.id)


def warehouse_search(
    *,
    actor: Actor,
    q: str | None = None,
    level: str | None = None,
    region_id: int | None = None,
    sort: str = "code",
) -> Select:
    """The warehouse list as one SELECT, limited to the warehouses the actor may see."""
    stmt = _warehouse_rows().where(actor.visible(Warehouse.id))
    q = (q or "").strip()
    if q:
        like = f"%{q}%"
        stmt = stmt.where(
            or_(
                Warehouse.code.ilike(like),
                Warehouse.name.ilike(like),
                Warehouse.address.ilike(like),
            )
        )
    if level:
        stmt = stmt.where(Warehouse.level == level)
    if region_id:
        stmt = stmt.where(Warehouse.region_id.in_(region_subtree(region_id)))
    keys, _value = warehouse_keys(stmt, sort)
    return stmt.order_by(*(column.desc() if desc else column.asc() for column, desc in keys))


def warehouse_page(
    session: Session,
    *,
    actor: Actor,
    q: str | None = None,
    level: str | None = None,
    region_id: int | None = None,
    sort: str = "code",
    after: str | None = None,
    per_page: int = 50,
) -> KeyPage:
    """One page of the warehouse list in the chosen sort, after the page key ``after``."""
    stmt = warehouse_search(actor=actor, q=q, level=level, region_id=region_id, sort=sort)
    keys, key_of = warehouse_keys(stmt, sort)
    return seek_page(session, stmt, keys, after=after, per_page=per_page, key_of=key_of)


def warehouse_summary(session: Session, warehouse_id: int):
    """One warehouse as a list row (fields, region, counts)."""
    return session.execute(_warehouse_rows().where(Warehouse.id == warehouse_id)).one_or_none()


def _locations(warehouse_id: int) -> Select:
    return (
        select(Location)
        .where(Location.warehouse_id == warehouse_id)
        .order_by(Location.is_receiving.desc(), Location.code)
    )


def warehouse_locations(session: Session, warehouse_id: int) -> list[Location]:
    """A warehouse's locations: the receiving area first, then by code (for short lists:
    forms and tests; pages use ``location_page``)."""
    return list(session.scalars(_locations(warehouse_id)))


def location_page(
    session: Session, warehouse_id: int, *, after: str | None = None, per_page: int = 50
) -> KeyPage:
    """One page of a warehouse's locations after the page key ``after``: the receiving area
    first on the first page, then the others by code, read off the (warehouse, code) index
    (41,582 locations at province scale: the last page costs what the first one costs)."""
    per_page = max(1, min(per_page, 500))
    head = (
        []
        if after
        else list(
            session.scalars(_locations(warehouse_id).where(Location.is_receiving).limit(per_page))
        )
    )
    if len(head) == per_page:  # all receiving areas (in practice one); the others follow
        return KeyPage(head, json.dumps([""]))
    rest = seek_page(
        session,
        select(Location).where(Location.warehouse_id == warehouse_id, ~Location.is_receiving),
        [(Location.code, False)],
        after=after,
        per_page=per_page - len(head),
        scalars=True,
    )
    return KeyPage(head + rest.items, rest.next_key)


def warehouse_keepers(session: Session, warehouse_id: int) -> list:
    """The enabled users who keep the warehouse (user_warehouses), by name."""
    return list(
        session.execute(
            select(User.id, User.username, User.full_name, User.phone)
            .join(user_warehouses, user_warehouses.c.user_id == User.id)
            .where(user_warehouses.c.warehouse_id == warehouse_id, User.is_enabled)
            .order_by(User.full_name, User.username)
        )
    )


def warehouse_choices(
    session: Session, actor: Actor | None = None, *, kept_only: bool = False
) -> list[tuple[int, str]]:
    """Warehouses for a select: every one (no actor: assigning keepers), those the actor sees
    (a filter), or those in use where the actor may write a document (``kept_only``: the kept
    ones; an admin, all)."""
    stmt = select(Warehouse.id, Warehouse.code, Warehouse.name).order_by(Warehouse.code)
    if actor is not None and kept_only:
        stmt = stmt.where(Warehouse.is_active.is_(True), actor.writable(Warehouse.id))
    elif actor is not None:
        stmt = stmt.where(actor.visible(Warehouse.id))
    return [(row.id, f"{row.code} {row.name}") for row in session.execute(stmt)]


def level_labels() -> dict[str, dict[str, str]]:
    """Translated labels of region and warehouse levels, for templates given plain rows."""
    return {
        "region": {level.value: level.label for level in RegionLevel},
        "warehouse": {level.value: level.label for level in WarehouseLevel},
    }
