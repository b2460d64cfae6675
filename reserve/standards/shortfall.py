"""储备缺口: every reserve standard against what its scope holds today.

For a standard, in its material's unit:

- **physical** (实物可用): available stock of the material in the scope's warehouses, by the stock
  read side's one availability rule (``reserve.stock.queries.available_sql``: on hand − reserved
  of batches not expired; a serial item out of service has already left its balance);
- **agreement** (协议可调用): of a region's standard that counts agreement stock, what the stock
  lines of agreements in force that count for the region can still be called up
  (``AgreementLine.callable_expr``: capped by a failed verification or a report below
  commitment, less outstanding call-ups) — the availability view's figure, by its region rule;
- **total** = physical + agreement; **shortfall** = max(0, required − total);
- **physical shortfall** = max(0, ⌈required × 实物储备比例⌉ − physical).

Severity: *critical* when the total covers less than half the requirement, or there is no
physical stock at all against a physical share; *short* when either shortfall is above zero;
*met* otherwise. Every standard's figures come from one statement, whatever their number."""

from __future__ import annotations

import enum
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from flask_babel import lazy_gettext as _l
from sqlalchemy import BigInteger, and_, cast, func, literal, select, union_all
from sqlalchemy.orm import Session, aliased

from reserve.agreements.models import Agreement, AgreementLine, LineKind
from reserve.auth.actor import Actor
from reserve.availability.queries import in_force, region_closure, serves_region_of
from reserve.catalog.models import Category, Material
from reserve.catalog.service import significant_prefix
from reserve.db import local_today
from reserve.standards.models import ReserveStandard, physical_required
from reserve.stock.models import Batch, StockBalance
from reserve.stock.queries import available_sql
from reserve.warehouses.models import Region, Warehouse

CRITICAL_COVER = 0.5  # below half the requirement covered: critical


class Severity(enum.StrEnum):
    CRITICAL = "critical"
    SHORT = "short"
    MET = "met"

    @property
    def label(self):
        return {
            "critical": _l("Critical"),
            "short": _l("Short"),
            "met": _l("Met"),
        }[self.value]

    @property
    def rank(self) -> int:
        return {"critical": 0, "short": 1, "met": 2}[self.value]


@dataclass(frozen=True)
class ShortfallFilter:
    """What the shortfall list is narrowed to: a material, a category (and those under it), a
    warehouse scope, a region scope (that region's standards and those of the divisions and
    warehouses under it), and a severity."""

    material_id: int | None = None
    category_code: str | None = None
    warehouse_id: int | None = None
    region_id: int | None = None
    severity: str | None = None


@dataclass(frozen=True)
class ShortfallRow:
    standard_id: int
    material_id: int
    material_code: str
    material_name: str
    unit: str
    category_code: str
    category_name: str
    warehouse_id: int | None
    warehouse_name: str | None
    region_id: int | None  # the scope's region (a warehouse's own region for a warehouse)
    region_name: str | None
    is_region_scope: bool
    required: int
    min_physical_pct: int
    counts_agreements: bool
    physical: int
    agreement: int

    @property
    def scope_label(self) -> str:
        return (self.region_name if self.is_region_scope else self.warehouse_name) or ""

    @property
    def total(self) -> int:
        return self.physical + (self.agreement if self.counts_agreements else 0)

    @property
    def shortfall(self) -> int:
        return max(0, self.required - self.total)

    @property
    def physical_required(self) -> int:
        return physical_required(self.required, self.min_physical_pct)

    @property
    def physical_shortfall(self) -> int:
        return max(0, self.physical_required - self.physical)

    @property
    def cover(self) -> float:
        """The share of the requirement covered (1.0 and above: met)."""
        return self.total / self.required if self.required else 1.0

    @property
    def cover_pct(self) -> int:
        return int(self.cover * 100)

    @property
    def severity(self) -> Severity:
        if self.cover < CRITICAL_COVER or (self.physical_required > 0 and self.physical <= 0):
            return Severity.CRITICAL
        if self.shortfall or self.physical_shortfall:
            return Severity.SHORT
        return Severity.MET


def severity_key(row: ShortfallRow):
    return (row.severity.rank, row.cover, row.material_code, row.scope_label, row.standard_id)


def scope_warehouses(standards):
    """(standard id, warehouse id) of every warehouse in each standard's scope: the warehouse
    itself, or every warehouse of the region and the divisions under it (``standards`` a
    selectable with ``id``, ``warehouse_id`` and ``region_id``)."""
    closure = region_closure("standard_regions")
    own = select(standards.c.id.label("standard_id"), standards.c.warehouse_id).where(
        standards.c.warehouse_id.is_not(None)
    )
    in_region = (
        select(standards.c.id.label("standard_id"), Warehouse.id.label("warehouse_id"))
        .join(closure, closure.c.ancestor == standards.c.region_id)
        .join(Warehouse, Warehouse.region_id == closure.c.descendant)
    )
    return union_all(own, in_region).subquery("scope_warehouses")


def _standard_conditions(actor: Actor, f: ShortfallFilter) -> list:
    """Which standards the reader sees: every one for the office roles; a keeper those of the
    warehouses they keep (a region's figure spans warehouses they do not see)."""
    s = ReserveStandard
    conditions = []
    if not actor.sees_region_totals:
        conditions.append(s.warehouse_id.is_not(None))
        conditions.append(actor.visible(s.warehouse_id))
    if f.material_id:
        conditions.append(s.material_id == f.material_id)
    if f.warehouse_id:
        conditions.append(s.warehouse_id == f.warehouse_id)
    if f.region_id:
        below = region_closure("filter_regions")
        under = select(below.c.descendant).where(below.c.ancestor == f.region_id)
        conditions.append(
            s.region_id.in_(under)
            | s.warehouse_id.in_(select(Warehouse.id).where(Warehouse.region_id.in_(under)))
        )
    if f.category_code:
        conditions.append(Category.code.like(significant_prefix(f.category_code) + "%"))
    return conditions


def shortfall_rows(
    session: Session,
    *,
    actor: Actor,
    f: ShortfallFilter | None = None,
    standard_ids: Iterable[int] | None = None,
    today: date | None = None,
) -> list[ShortfallRow]:
    """储备缺口: every standard the reader sees (narrowed by ``f``), with its figures, most
    severe first; one statement, whatever the number of standards."""
    f = f or ShortfallFilter()
    today = today or local_today()
    s = ReserveStandard
    chosen = (
        select(s.id, s.material_id, s.warehouse_id, s.region_id, s.counts_agreements)
        .join(Material, Material.id == s.material_id)
        .join(Category, Category.id == Material.category_id)
        .where(*_standard_conditions(actor, f))
    )
    if standard_ids is not None:
        chosen = chosen.where(s.id.in_(list(standard_ids)))
    chosen = chosen.cte("chosen_standards")

    places = scope_warehouses(chosen)
    qty, reserved, expiry = StockBalance.qty, StockBalance.reserved, Batch.expiry_date
    physical = (
        select(
            places.c.standard_id,
            cast(func.sum(available_sql(qty, reserved, expiry, today)), BigInteger).label("qty"),
        )
        .select_from(places)
        .join(chosen, chosen.c.id == places.c.standard_id)
        .join(
            StockBalance,
            and_(
                StockBalance.warehouse_id == places.c.warehouse_id,
                StockBalance.material_id == chosen.c.material_id,
                StockBalance.qty > 0,
            ),
        )
        .join(Batch, Batch.id == StockBalance.batch_id)
        .group_by(places.c.standard_id)
        .subquery("physical")
    )
    closure = region_closure("agreement_regions_closure")
    agreement = (
        select(
            chosen.c.id.label("standard_id"),
            cast(func.sum(AgreementLine.callable_expr()), BigInteger).label("qty"),
        )
        .select_from(chosen)
        .join(
            AgreementLine,
            and_(
                AgreementLine.material_id == chosen.c.material_id,
                AgreementLine.kind == LineKind.STOCK.value,
            ),
        )
        .join(Agreement, Agreement.id == AgreementLine.agreement_id)
        .where(
            chosen.c.region_id.is_not(None),
            *in_force(today),
            actor.visible_enterprise(Agreement.enterprise_id),
            serves_region_of(chosen.c.region_id, closure),
        )
        .group_by(chosen.c.id)
        .subquery("agreement")
    )
    scope_region = aliased(Region)
    rows = session.execute(
        select(
            s.id,
            s.material_id,
            Material.code,
            Material.name,
            Material.unit,
            Category.code,
            Category.name,
            s.warehouse_id,
            Warehouse.name,
            func.coalesce(s.region_id, Warehouse.region_id),
            scope_region.name,
            s.region_id.is_not(None),
            s.required_qty,
            s.min_physical_pct,
            s.counts_agreements,
            func.coalesce(physical.c.qty, literal(0)),
            func.coalesce(agreement.c.qty, literal(0)),
        )
        .select_from(chosen)
        .join(s, s.id == chosen.c.id)
        .join(Material, Material.id == s.material_id)
        .join(Category, Category.id == Material.category_id)
        .outerjoin(Warehouse, Warehouse.id == s.warehouse_id)
        .outerjoin(scope_region, scope_region.id == func.coalesce(s.region_id, Warehouse.region_id))
        .outerjoin(physical, physical.c.standard_id == s.id)
        .outerjoin(agreement, agreement.c.standard_id == s.id)
    ).all()
    found = [
        ShortfallRow(
            *row[:12], int(row[12]), int(row[13]), bool(row[14]), int(row[15]), int(row[16])
        )
        for row in rows
    ]
    if f.severity:
        found = [row for row in found if row.severity.value == f.severity]
    return sorted(found, key=severity_key)


def shortfall_for(
    session: Session,
    *,
    material_id: int,
    actor: Actor,
    warehouse_id: int | None = None,
    region_id: int | None = None,
    today: date | None = None,
) -> list[ShortfallRow]:
    """One material's standing against its standards (of a warehouse, or of a region and what
    is under it), most severe first: the material and warehouse pages' panel."""
    f = ShortfallFilter(material_id=material_id, warehouse_id=warehouse_id, region_id=region_id)
    return shortfall_rows(session, actor=actor, f=f, today=today)


def standing_of_warehouse(
    session: Session, *, warehouse_id: int, actor: Actor, today: date | None = None
) -> list[ShortfallRow]:
    """A warehouse's own standards, most severe first (the warehouse page's panel)."""
    return shortfall_rows(
        session, actor=actor, f=ShortfallFilter(warehouse_id=warehouse_id), today=today
    )


# -- roll-ups ----------------------------------------------------------------------------------


@dataclass
class RollUp:
    """Standards of one group (a category or a region) in one unit, summed."""

    key: str
    unit: str
    standards: int = 0
    short: int = 0
    critical: int = 0
    required: int = 0
    total: int = 0
    shortfall: int = 0
    physical_shortfall: int = 0

    def add(self, row: ShortfallRow) -> None:
        self.standards += 1
        self.short += row.severity is not Severity.MET
        self.critical += row.severity is Severity.CRITICAL
        self.required += row.required
        self.total += row.total
        self.shortfall += row.shortfall
        self.physical_shortfall += row.physical_shortfall


def _roll_up(rows: Iterable[ShortfallRow], key) -> list[RollUp]:
    groups: dict[tuple[str, str], RollUp] = {}
    for row in rows:
        name = key(row)
        group = groups.setdefault((name, row.unit), RollUp(name, row.unit))
        group.add(row)
    return sorted(groups.values(), key=lambda g: (-g.critical, -g.short, -g.shortfall, g.key))


def by_category(rows: Iterable[ShortfallRow]) -> list[RollUp]:
    """按分类汇总: the standards of each material category, per unit."""
    return _roll_up(rows, lambda row: f"{row.category_code} {row.category_name}")


def by_region(rows: Iterable[ShortfallRow]) -> list[RollUp]:
    """按区域汇总: the standards of each region (a warehouse's under its own region), per unit."""
    return _roll_up(rows, lambda row: row.region_name or "")


def counts(rows: Iterable[ShortfallRow]) -> dict[str, int]:
    found: dict[str, int] = defaultdict(int)
    for row in rows:
        found[row.severity.value] += 1
    return dict(found)


# -- the order suggestions' warning ------------------------------------------------------------


@dataclass(frozen=True)
class StandardWarning:
    """Taking ``taken`` from the scope of a standard would open or deepen its shortfall."""

    standard_id: int
    scope_label: str
    unit: str
    taken: int
    shortfall_before: int
    shortfall_after: int
    physical_shortfall_before: int
    physical_shortfall_after: int

    @property
    def message(self) -> str:
        return str(
            _l(
                "Taking %(taken)s %(unit)s leaves %(place)s short of its reserve standard by "
                "%(after)s %(unit)s (now %(before)s); physical share short by %(physical)s.",
                taken=self.taken,
                unit=self.unit,
                place=self.scope_label,
                after=self.shortfall_after,
                before=self.shortfall_before,
                physical=self.physical_shortfall_after,
            )
        )


def warnings_for_takes(
    session: Session, *, material_id: int, takes: dict[int, int], today: date | None = None
) -> list[StandardWarning]:
    """What taking ``takes`` (warehouse id → quantity of ``material_id``) would push further
    below a standard of those warehouses or of the regions above them."""
    return warnings_for_lines(session, takes={material_id: takes}, today=today).get(material_id, [])


def warnings_for_lines(
    session: Session, *, takes: dict[int, dict[int, int]], today: date | None = None
) -> dict[int, list[StandardWarning]]:
    """The warnings of many materials' takes (material id → warehouse id → quantity) at once:
    one statement finds the standards whose scope holds a warehouse taken from, one more (only
    if there are any) reads their figures."""
    wanted = {(m, w): q for m, by in takes.items() for w, q in by.items() if q > 0}
    if not wanted:
        return {}
    s = ReserveStandard
    standards = select(s.id, s.material_id, s.warehouse_id, s.region_id).where(
        s.material_id.in_(sorted({m for m, _ in wanted}))
    )
    chosen = standards.subquery("material_standards")
    places = scope_warehouses(chosen)
    hit: dict[int, int] = defaultdict(int)
    for standard_id, material_id, warehouse_id in session.execute(
        select(places.c.standard_id, chosen.c.material_id, places.c.warehouse_id)
        .join(chosen, chosen.c.id == places.c.standard_id)
        .where(places.c.warehouse_id.in_(sorted({w for _, w in wanted})))
    ):
        hit[standard_id] += wanted.get((material_id, warehouse_id), 0)
    hit = {k: v for k, v in hit.items() if v > 0}
    if not hit:
        return {}
    found: dict[int, list[StandardWarning]] = defaultdict(list)
    rows = shortfall_rows(session, actor=Actor.system(), standard_ids=sorted(hit), today=today)
    for row in rows:
        taken = hit[row.standard_id]
        shortfall_after = max(0, row.required - (row.total - taken))
        physical_after = max(0, row.physical_required - (row.physical - taken))
        if shortfall_after > row.shortfall or physical_after > row.physical_shortfall:
            found[row.material_id].append(
                StandardWarning(
                    standard_id=row.standard_id,
                    scope_label=row.scope_label,
                    unit=row.unit,
                    taken=taken,
                    shortfall_before=row.shortfall,
                    shortfall_after=shortfall_after,
                    physical_shortfall_before=row.physical_shortfall,
                    physical_shortfall_after=physical_after,
                )
            )
    return dict(found)
