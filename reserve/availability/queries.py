"""可调用资源一览: the dispatcher's availability view. Per material, side by side:

- **physical stock** (实物储备): on hand and available in the bureau's warehouses (of the region),
  by the stock read side's one availability rule (``reserve.stock.queries``);
- **agreement stock** (协议储备): 可调用数量 of the stock lines of agreements in force
  (``AgreementLine.callable_expr``), with how many of those lines carry a flag
  (``reserve.agreements.flags``);
- **capacity** (产能储备): what capacity lines can produce within the horizon — a promise, never
  added to stock.

Every figure of an agreement line is on its ``agreement_lines`` row: no join to reports,
verifications or call-ups. A page of materials costs three statements whatever it holds: the
page's materials by key, their physical totals, their agreement totals.

**Region** (decided here, stated in the README): a warehouse counts for a region when it stands
in it or in a division under it. An agreement in force counts for a region when its delivery
area (代储协议的供应区域) names the region, a division under it (it delivers to part of the
region) or one above it (it delivers to all of it); an agreement without a delivery area counts
where its enterprise is registered (the region or a division under it)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import BigInteger, Select, and_, case, cast, exists, func, or_, select, union_all
from sqlalchemy.orm import Session, aliased

from reserve.agreements.flags import FlagRule, LineFlag
from reserve.agreements.models import (
    Agreement,
    AgreementLine,
    AgreementStatus,
    Enterprise,
    EnterpriseContact,
    LineKind,
    agreement_regions,
)
from reserve.agreements.queries import producible_expr, producible_within
from reserve.auth.actor import Actor
from reserve.catalog.models import Category, Material
from reserve.catalog.service import significant_prefix
from reserve.db import KeyPage, local_today, seek_page
from reserve.stock import queries as stock_queries
from reserve.stock.queries import StockFilter
from reserve.warehouses.models import Region

DEFAULT_HORIZON_HOURS = 72
MAX_HORIZON_HOURS = 24 * 365


@dataclass(frozen=True)
class AvailabilityFilter:
    """What the view is narrowed to: a category (its code and those under it), a region (and
    the divisions under it), a material (by id, or by text: name, code, pinyin initials), and
    the horizon in hours for capacity."""

    category_code: str | None = None
    region_id: int | None = None
    material_id: int | None = None
    q: str | None = None
    hours: int = DEFAULT_HORIZON_HOURS

    @property
    def stock_filter(self) -> StockFilter:
        return StockFilter(region_id=self.region_id)


# -- the pieces of SQL -------------------------------------------------------------------------


def _subtree(region_id: int, name: str):
    """The ids of a region and every division under it (a recursive CTE named ``name``)."""
    tree = select(Region.id).where(Region.id == region_id).cte(name, recursive=True)
    return select(tree.union_all(select(Region.id).where(Region.parent_id == tree.c.id)).c.id)


def _ancestors(region_id: int):
    """The ids of the regions above ``region_id`` (a recursive CTE)."""
    start = select(Region.parent_id.label("id")).where(Region.id == region_id)
    up = start.cte("availability_above", recursive=True)
    above = aliased(Region)
    return select(
        up.union_all(
            select(above.parent_id).where(above.id == up.c.id, above.parent_id.is_not(None))
        ).c.id
    )


def serves_region(region_id: int):
    """SQL on ``Agreement``: the agreement counts for the region (the rule in the docstring)."""
    area = select(agreement_regions.c.region_id).where(
        agreement_regions.c.agreement_id == Agreement.id
    )
    covers = exists(
        area.where(
            or_(
                agreement_regions.c.region_id.in_(_subtree(region_id, "availability_below")),
                agreement_regions.c.region_id.in_(_ancestors(region_id)),
            )
        )
    )
    registered_there = Agreement.enterprise_id.in_(
        select(Enterprise.id).where(
            Enterprise.region_id.in_(_subtree(region_id, "availability_seat"))
        )
    )
    return or_(covers, and_(~exists(area), registered_there))


def region_closure(name: str = "region_closure"):
    """Every (ancestor, descendant) pair of regions, a region its own ancestor too (a
    recursive CTE): the region rule above for many regions in one statement."""
    base = select(Region.id.label("ancestor"), Region.id.label("descendant")).cte(
        name, recursive=True
    )
    below = aliased(Region)
    return base.union_all(
        select(base.c.ancestor, below.id).where(below.parent_id == base.c.descendant)
    )


def serves_region_of(region_id, closure):
    """SQL on ``Agreement``: the agreement counts for the region ``region_id`` (a column of
    the outer statement), by the same rule as :func:`serves_region`, through ``closure``
    (:func:`region_closure`): its delivery area names the region, a division under it or one
    above it; or it has none and its enterprise is registered in the region or under it."""
    area = select(agreement_regions.c.region_id).where(
        agreement_regions.c.agreement_id == Agreement.id
    )
    linked = or_(
        and_(
            closure.c.ancestor == region_id, closure.c.descendant == agreement_regions.c.region_id
        ),
        and_(
            closure.c.descendant == region_id, closure.c.ancestor == agreement_regions.c.region_id
        ),
    )
    covers = exists(area.where(exists(select(closure.c.ancestor).where(linked))))
    registered_there = exists(
        select(closure.c.ancestor)
        .join(Enterprise, Enterprise.region_id == closure.c.descendant)
        .where(closure.c.ancestor == region_id, Enterprise.id == Agreement.enterprise_id)
    )
    return or_(covers, and_(~exists(area), registered_there))


def in_force(today: date) -> list:
    """SQL on ``Agreement``: in force today (active, started, not past its end)."""
    return [
        Agreement.status == AgreementStatus.ACTIVE.value,
        Agreement.valid_from <= today,
        Agreement.valid_to >= today,
    ]


def _agreement_conditions(actor: Actor, f: AvailabilityFilter, today: date) -> list:
    conditions = [*in_force(today), actor.visible_enterprise(Agreement.enterprise_id)]
    if f.region_id:
        conditions.append(serves_region(f.region_id))
    return conditions


def _material_conditions(f: AvailabilityFilter) -> list:
    conditions = []
    if f.material_id:
        conditions.append(Material.id == f.material_id)
    if f.q:
        text = f.q.strip()
        conditions.append(
            Material.name.ilike(f"%{text}%")
            | Material.code.ilike(f"{text}%")
            | Material.pinyin_initials.like(f"%{text.lower()}%")
        )
    if f.category_code:
        conditions.append(Category.code.like(significant_prefix(f.category_code) + "%"))
    return conditions


# -- the view: one row per material ------------------------------------------------------------


@dataclass(frozen=True)
class AvailabilityRow:
    """One material: physical stock beside agreement stock, capacity apart."""

    material_id: int
    code: str
    name: str
    spec: str | None
    unit: str
    category: str
    on_hand: int = 0  # 在库 in the region's warehouses
    available: int = 0  # 可用 there (the stock rule)
    warehouses: int = 0  # how many warehouses hold it
    committed: int = 0  # 协议储备数量 of stock lines in force
    called: int = 0  # outstanding call-ups on them
    shipped: int = 0  # of which shipped
    callable: int = 0  # 可调用数量 of stock lines
    stock_lines: int = 0
    flagged_lines: int = 0  # stock lines with at least one flag
    failed_lines: int = 0  # of which the newest verification failed
    capacity_lines: int = 0
    capacity_left: int = 0  # what capacity lines can still give in all
    capacity_within: int = 0  # producible within the horizon
    capacity_daily: int = 0
    capacity_lead_hours: int | None = None


def _page_material_ids(
    session: Session,
    actor: Actor,
    f: AvailabilityFilter,
    today: date,
    after: str | None,
    per_page: int,
) -> KeyPage:
    """The page's materials in code order after the key (a material code): those with stock
    in the region's warehouses or a line of an agreement in force that counts for the region.

    Each half is its own page by key (``materials`` in code order, an EXISTS probe per
    material by index), and the page is the first of their union: an OR of the two EXISTS
    would have PostgreSQL hash every stock balance of the province first."""
    per_page = max(1, min(per_page, 500))
    has_lines = exists(
        select(AgreementLine.id)
        .join(Agreement, Agreement.id == AgreementLine.agreement_id)
        .where(AgreementLine.material_id == Material.id, *_agreement_conditions(actor, f, today))
    )

    def half(condition) -> Select:
        stmt = (
            select(Material.id)
            .join(Category, Category.id == Material.category_id)
            .where(condition, *_material_conditions(f))
        )
        if after:
            stmt = stmt.where(Material.code > after)
        page = stmt.order_by(Material.code).limit(per_page + 1).subquery()
        return select(page.c.id)

    either = union_all(half(stock_queries.holds_stock(actor, f.stock_filter)), half(has_lines))
    rows = session.execute(
        _material_columns()
        .join(Category, Category.id == Material.category_id)
        .where(Material.id.in_(either))
        .order_by(Material.code)
        .limit(per_page + 1)
    ).all()
    items = rows[:per_page]
    return KeyPage(items, items[-1].code if len(rows) > per_page else None)


def _agreement_totals(
    session: Session, actor: Actor, f: AvailabilityFilter, ids: list[int], rule: FlagRule
) -> dict[int, dict]:
    line = AgreementLine
    stock = line.kind == LineKind.STOCK.value
    capacity = line.kind == LineKind.CAPACITY.value
    flags = rule.sql()

    def total(expression, when):
        return cast(func.coalesce(func.sum(case((when, expression), else_=0)), 0), BigInteger)

    def count(when):
        return func.count().filter(when)

    rows = session.execute(
        select(
            line.material_id,
            total(line.committed_qty, stock).label("committed"),
            total(line.called_qty, stock).label("called"),
            total(line.shipped_qty, stock).label("shipped"),
            total(line.callable_expr(), stock).label("callable"),
            count(stock).label("stock_lines"),
            count(rule.any_sql()).label("flagged_lines"),
            count(flags[LineFlag.VERIFICATION_FAILED]).label("failed_lines"),
            count(capacity).label("capacity_lines"),
            total(line.callable_expr(), capacity).label("capacity_left"),
            total(producible_expr(f.hours), capacity).label("capacity_within"),
            total(line.daily_qty, capacity).label("capacity_daily"),
            func.min(case((capacity, line.lead_hours))).label("capacity_lead_hours"),
        )
        .join(Agreement, Agreement.id == line.agreement_id)
        .where(line.material_id.in_(ids), *_agreement_conditions(actor, f, rule.today))
        .group_by(line.material_id)
    )
    return {row.material_id: row._asdict() for row in rows}


def _material_columns() -> Select:
    return select(
        Material.id.label("material_id"),
        Material.code,
        Material.name,
        Material.spec,
        Material.unit,
        Category.name.label("category"),
    )


def _rows_for(
    session: Session, actor: Actor, f: AvailabilityFilter, materials: list, rule: FlagRule
) -> list[AvailabilityRow]:
    """The figures of the materials (rows of ``_material_columns``), in their order: two
    statements (physical totals with their warehouse counts, agreement totals)."""
    ids = [material.material_id for material in materials]
    if not ids:
        return []
    physical = stock_queries.material_totals(session, actor, f.stock_filter, ids, rule.today)
    agreements = _agreement_totals(session, actor, f, ids, rule)
    rows = []
    for material in materials:
        stock = physical.get(material.material_id)
        figures = dict(agreements.get(material.material_id) or {})
        figures.pop("material_id", None)
        rows.append(
            AvailabilityRow(
                **material._asdict(),
                on_hand=int(stock.qty) if stock else 0,
                available=int(stock.available) if stock else 0,
                warehouses=stock.warehouses if stock else 0,
                **{k: (int(v) if v is not None else None) for k, v in figures.items()},
            )
        )
    return rows


def availability_page(
    session: Session,
    actor: Actor,
    f: AvailabilityFilter,
    *,
    rule: FlagRule | None = None,
    after: str | None = None,
    per_page: int = 50,
) -> KeyPage:
    """可调用资源一览: a page of materials (code order, by key) with physical stock, agreement
    stock and capacity side by side; three statements, whatever the page holds."""
    rule = rule or FlagRule(today=local_today())
    page = _page_material_ids(session, actor, f, rule.today, after, per_page)
    return KeyPage(_rows_for(session, actor, f, page.items, rule), page.next_key)


def material_availability(
    session: Session, actor: Actor, material_id: int, f: AvailabilityFilter, *, rule: FlagRule
) -> AvailabilityRow | None:
    """One material's row of the view (its drill-down's totals); None for no such material."""
    material = session.execute(
        _material_columns()
        .join(Category, Category.id == Material.category_id)
        .where(Material.id == material_id)
    ).one_or_none()
    if material is None:
        return None
    return _rows_for(session, actor, f, [material], rule)[0]


# -- the drill-down: one material's warehouses and agreement lines ----------------------------


@dataclass(frozen=True)
class LineAvailability:
    """One agreement line of the material: who holds it, how fast they deliver, whom to call
    at night, what they last reported and what was last counted, and what can be called."""

    line_id: int
    agreement_id: int
    agreement_no: str
    enterprise_id: int
    enterprise_name: str
    kind: str
    committed_qty: int
    called_qty: int
    shipped_qty: int
    capped_qty: int | None
    callable_qty: int
    reported_qty: int | None
    reported_at: datetime | None
    verified_qty: int | None
    verified_on: date | None
    verification_passed: bool | None
    daily_qty: int | None
    lead_hours: int | None
    response_hours: int
    valid_from: date
    valid_to: date
    duty_name: str | None
    duty_phone: str | None
    flags: tuple[LineFlag, ...] = field(default=())
    producible: int = 0

    @property
    def is_capacity(self) -> bool:
        return self.kind == LineKind.CAPACITY.value


def material_line_page(
    session: Session,
    actor: Actor,
    material_id: int,
    f: AvailabilityFilter,
    *,
    rule: FlagRule,
    after: str | None = None,
    per_page: int = 50,
) -> KeyPage:
    """The material's lines of agreements in force for the region, stock lines first, then by
    response time (fastest first), paged by key; the duty contact joined (one at most)."""
    line = AgreementLine
    duty = aliased(EnterpriseContact)
    stmt = (
        select(
            line.id.label("line_id"),
            Agreement.id.label("agreement_id"),
            Agreement.no.label("agreement_no"),
            Enterprise.id.label("enterprise_id"),
            Enterprise.name.label("enterprise_name"),
            line.kind,
            line.committed_qty,
            line.called_qty,
            line.shipped_qty,
            line.capped_qty,
            line.callable_expr().label("callable_qty"),
            line.reported_qty,
            line.reported_at,
            line.verified_qty,
            line.verified_on,
            line.verification_passed,
            line.daily_qty,
            line.lead_hours,
            Agreement.response_hours,
            Agreement.valid_from,
            Agreement.valid_to,
            duty.name.label("duty_name"),
            duty.phone.label("duty_phone"),
        )
        .join(Agreement, Agreement.id == line.agreement_id)
        .join(Enterprise, Enterprise.id == Agreement.enterprise_id)
        .outerjoin(duty, and_(duty.enterprise_id == Enterprise.id, duty.is_duty))
        .where(line.material_id == material_id, *_agreement_conditions(actor, f, rule.today))
    )
    page = seek_page(
        session,
        stmt,
        [(line.kind, True), (Agreement.response_hours, False), (line.id, False)],
        after=after,
        per_page=per_page,
        key_of=lambda row: (row.kind, row.response_hours, row.line_id),
    )
    items = []
    for row in page.items:
        values = row._asdict()
        capacity = row.kind == LineKind.CAPACITY.value
        items.append(
            LineAvailability(
                **values,
                flags=rule.flags_of(row),
                producible=producible_within(
                    row.daily_qty, row.lead_hours, row.callable_qty, f.hours
                )
                if capacity
                else 0,
            )
        )
    return KeyPage(items, page.next_key)


def material_warehouse_page(
    session: Session,
    actor: Actor,
    material_id: int,
    f: AvailabilityFilter,
    *,
    after: str | None = None,
    per_page: int = 50,
    today: date | None = None,
) -> KeyPage:
    """The material's physical stock in each warehouse of the region (the stock read side)."""
    return stock_queries.material_warehouse_page(
        session, actor, material_id, f.stock_filter, after=after, per_page=per_page, today=today
    )
