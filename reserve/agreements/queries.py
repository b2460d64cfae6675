"""Read side of enterprises and agreements: the searchable lists (paged by key), choices for
selects, an agreement's lines and an enterprise's commitments.

Stock lines (实物代储) and capacity lines (产能储备) are never added together: every total
here is per kind, and capacity is shown as what can be produced within a horizon."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Select, and_, case, exists, func, or_, select
from sqlalchemy.orm import Session, aliased, contains_eager, selectinload

from reserve.agreements.flags import FlagRule, LineFlag
from reserve.agreements.models import (
    Agreement,
    AgreementAttachment,
    AgreementLine,
    AgreementStatus,
    Enterprise,
    EnterpriseContact,
    EnterpriseStatus,
    LineKind,
    effective_status,
)
from reserve.auth.actor import Actor
from reserve.auth.models import User
from reserve.catalog.models import Material
from reserve.db import KeyPage, local_today, seek_page
from reserve.warehouses.models import Region

DEFAULT_HORIZON_HOURS = 72

ENTERPRISE_SORTS = {"name": Enterprise.name, "uscc": Enterprise.uscc}


def enterprise_choices(session: Session, actor: Actor | None = None) -> list[tuple[int, str]]:
    """Enterprises for a select: every one (no actor: assigning a user to an enterprise), or
    those the actor sees."""
    stmt = select(Enterprise.id, Enterprise.name).order_by(Enterprise.name)
    if actor is not None:
        stmt = stmt.where(actor.visible_enterprise(Enterprise.id))
    return [(row.id, row.name) for row in session.execute(stmt)]


def area_choices(session: Session) -> list[tuple[int, str]]:
    """Regions down to counties (no townships, of which a province has thousands), in code
    order: the enterprise list's filter and an agreement's delivery area."""
    rows = session.execute(
        select(Region.id, Region.code, Region.name)
        .where(Region.level != "township")
        .order_by(Region.code)
    )
    return [(row.id, f"{row.code} {row.name}") for row in rows]


def _region_tree(region_id: int):
    tree = select(Region.id).where(Region.id == region_id).cte("region_tree", recursive=True)
    return select(tree.union_all(select(Region.id).where(Region.parent_id == tree.c.id)).c.id)


def enterprise_search(
    q: str | None = None,
    *,
    actor: Actor | None = None,
    region_id: int | None = None,
    status: str | None = EnterpriseStatus.ACTIVE.value,
    enterprise_type: str | None = None,
) -> Select:
    """The enterprise list as one SELECT, its region and 24-hour duty contact joined: matches
    name, pinyin initials (``jntl`` finds 济南统一), credit code, and a contact's name or
    phone; a region includes the divisions under it. Given an actor, limited to the
    enterprises the actor sees (an enterprise user: its own)."""
    duty = aliased(EnterpriseContact)
    stmt = (
        select(Enterprise, duty.name.label("duty_name"), duty.phone.label("duty_phone"))
        .outerjoin(Enterprise.region)
        .outerjoin(duty, and_(duty.enterprise_id == Enterprise.id, duty.is_duty))
        .options(contains_eager(Enterprise.region))
    )
    if actor is not None:
        stmt = stmt.where(actor.visible_enterprise(Enterprise.id))
    q = (q or "").strip()
    if q:
        like = f"%{q}%"
        contact = exists().where(
            EnterpriseContact.enterprise_id == Enterprise.id,
            or_(EnterpriseContact.name.ilike(like), EnterpriseContact.phone.like(like)),
        )
        stmt = stmt.where(
            or_(
                Enterprise.name.ilike(like),
                Enterprise.pinyin_initials.like(f"%{q.lower()}%"),
                Enterprise.uscc.ilike(f"%{q.replace(' ', '').upper()}%"),
                contact,
            )
        )
    if region_id:
        stmt = stmt.where(Enterprise.region_id.in_(_region_tree(region_id)))
    if status:
        stmt = stmt.where(Enterprise.status == status)
    if enterprise_type:
        stmt = stmt.where(Enterprise.enterprise_type == enterprise_type)
    return stmt


def enterprise_page(
    session: Session,
    *,
    actor: Actor | None = None,
    q: str | None = None,
    region_id: int | None = None,
    status: str | None = EnterpriseStatus.ACTIVE.value,
    enterprise_type: str | None = None,
    sort: str = "name",
    after: str | None = None,
    per_page: int = 50,
    with_contacts: bool = False,
) -> KeyPage:
    """One page of the enterprise list, by key (name or credit code, either way, then id).
    Rows have ``.Enterprise``, ``.duty_name`` and ``.duty_phone``; ``with_contacts`` loads
    every contact of the page in one more statement (the API lists them)."""
    column = ENTERPRISE_SORTS.get(sort.lstrip("-"), Enterprise.name)
    descending = sort.startswith("-")
    stmt = enterprise_search(
        q, actor=actor, region_id=region_id, status=status, enterprise_type=enterprise_type
    )
    if with_contacts:
        stmt = stmt.options(selectinload(Enterprise.contacts))
    return seek_page(
        session,
        stmt,
        [(column, descending), (Enterprise.id, descending)],
        after=after,
        per_page=per_page,
        key_of=lambda row: (getattr(row.Enterprise, column.key), row.Enterprise.id),
    )


def contacts(session: Session, enterprise_id: int) -> list[EnterpriseContact]:
    return list(
        session.scalars(
            select(EnterpriseContact)
            .where(EnterpriseContact.enterprise_id == enterprise_id)
            .order_by(EnterpriseContact.position)
        )
    )


# Agreements -----------------------------------------------------------------------------------

AGREEMENT_FILTERS = ("draft", "active", "expired", "terminated")


def _status_filter(status: str, today: date):
    if status == AgreementStatus.ACTIVE.value:
        return and_(Agreement.status == "active", Agreement.valid_to >= today)
    if status == AgreementStatus.EXPIRED.value:
        return and_(Agreement.status == "active", Agreement.valid_to < today)
    return Agreement.status == status


def agreement_search(
    *,
    actor: Actor | None = None,
    q: str | None = None,
    enterprise_id: int | None = None,
    status: str | None = None,
    expiring_days: int | None = None,
    material_id: int | None = None,
    today: date | None = None,
) -> Select:
    """The agreement list as one SELECT: number, enterprise, dates, status, and the count of
    stock and capacity lines (counted apart, never summed together)."""
    today = today or local_today()
    counts = (
        select(
            AgreementLine.agreement_id,
            func.count().filter(AgreementLine.kind == LineKind.STOCK.value).label("stock_lines"),
            func.count()
            .filter(AgreementLine.kind == LineKind.CAPACITY.value)
            .label("capacity_lines"),
        )
        .group_by(AgreementLine.agreement_id)
        .subquery()
    )
    stmt = (
        select(
            Agreement.id,
            Agreement.no,
            Agreement.enterprise_id,
            Enterprise.name.label("enterprise_name"),
            Agreement.signed_on,
            Agreement.valid_from,
            Agreement.valid_to,
            Agreement.response_hours,
            Agreement.status,
            func.coalesce(counts.c.stock_lines, 0).label("stock_lines"),
            func.coalesce(counts.c.capacity_lines, 0).label("capacity_lines"),
        )
        .join(Enterprise, Enterprise.id == Agreement.enterprise_id)
        .outerjoin(counts, counts.c.agreement_id == Agreement.id)
    )
    if actor is not None:
        stmt = stmt.where(actor.visible_enterprise(Agreement.enterprise_id))
    q = (q or "").strip()
    if q:
        like = f"%{q}%"
        stmt = stmt.where(
            or_(
                Agreement.no.ilike(like),
                Enterprise.name.ilike(like),
                Enterprise.pinyin_initials.like(f"%{q.lower()}%"),
            )
        )
    if enterprise_id:
        stmt = stmt.where(Agreement.enterprise_id == enterprise_id)
    if status in AGREEMENT_FILTERS:
        stmt = stmt.where(_status_filter(status, today))
    if expiring_days is not None:
        stmt = stmt.where(
            Agreement.status == AgreementStatus.ACTIVE.value,
            Agreement.valid_to >= today,
            Agreement.valid_to <= date.fromordinal(today.toordinal() + expiring_days),
        )
    if material_id:
        stmt = stmt.where(
            exists().where(
                AgreementLine.agreement_id == Agreement.id,
                AgreementLine.material_id == material_id,
            )
        )
    return stmt


@dataclass(frozen=True)
class AgreementRow:
    id: int
    no: str
    enterprise_id: int
    enterprise_name: str
    signed_on: date
    valid_from: date
    valid_to: date
    response_hours: int
    status: str
    stock_lines: int
    capacity_lines: int

    @property
    def status_label(self):
        return AgreementStatus(self.status).label


def agreement_page(
    session: Session,
    *,
    actor: Actor | None = None,
    after: str | None = None,
    per_page: int = 50,
    today: date | None = None,
    **filters,
) -> KeyPage:
    """One page of agreements by key: the soonest to end first (then id). Status as read
    today (an agreement in force past its end reads as expired)."""
    today = today or local_today()
    page = seek_page(
        session,
        agreement_search(actor=actor, today=today, **filters),
        [(Agreement.valid_to, False), (Agreement.id, False)],
        after=after,
        per_page=per_page,
    )
    rows = [
        AgreementRow(
            **{**row._asdict(), "status": effective_status(row.status, row.valid_to, today)}
        )
        for row in page.items
    ]
    return KeyPage(rows, page.next_key)


@dataclass(frozen=True)
class LineRow:
    """An agreement's line with every figure the detail page shows, all read off the
    ``agreement_lines`` row (see ``AgreementLine``): what was committed, called (and shipped),
    last reported and verified, and what can be called (可调用数量)."""

    id: int
    line_no: int
    material_id: int
    material_code: str
    material_name: str
    unit: str
    kind: str
    committed_qty: int
    unit_price: object
    daily_qty: int | None
    lead_hours: int | None
    called_qty: int
    shipped_qty: int = 0
    capped_qty: int | None = None
    callable_qty: int = 0
    reported_qty: int | None = None
    reported_at: datetime | None = None
    verified_qty: int | None = None
    verified_on: date | None = None
    verification_passed: bool | None = None
    valid_from: date | None = None
    flags: tuple = ()

    @property
    def kind_label(self):
        return LineKind(self.kind).label

    @property
    def is_capacity(self) -> bool:
        return self.kind == LineKind.CAPACITY.value

    def producible_within(self, hours: int) -> int:
        """What the line can still produce within ``hours`` (of what is left to call)."""
        return producible_within(self.daily_qty, self.lead_hours, self.callable_qty, hours)


def producible_within(daily_qty: int | None, lead_hours: int | None, total: int, hours: int) -> int:
    """产能储备: what a capacity line can deliver within ``hours`` of the call — nothing before
    its lead time, then ``daily_qty`` a day (pro rata by the hour), never above ``total`` (its
    maximum, or what is left of it to call). ``producible_expr`` is the same in SQL."""
    if daily_qty is None or lead_hours is None or hours <= lead_hours:
        return 0
    return min(total, daily_qty * (hours - lead_hours) // 24)


def producible_expr(hours: int, total=None):
    """SQL form of ``producible_within`` on ``agreement_lines``; ``total`` defaults to what is
    left to call on the line (``AgreementLine.callable_expr``). 0 for a stock line."""
    line = AgreementLine
    total = line.callable_expr() if total is None else total
    made = line.daily_qty * (hours - line.lead_hours) // 24
    return case(
        (line.kind != LineKind.CAPACITY.value, 0),
        (line.lead_hours >= hours, 0),
        (made > total, total),
        else_=made,
    )


def agreement_lines(
    session: Session, agreement_id: int, *, rule: FlagRule | None = None
) -> list[LineRow]:
    """An agreement's lines in order, with their figures; given a flag rule, each stock
    line's flags (the detail page gives one for an agreement in force)."""
    rows = session.execute(
        select(
            AgreementLine.id,
            AgreementLine.line_no,
            AgreementLine.material_id,
            Material.code.label("material_code"),
            Material.name.label("material_name"),
            Material.unit,
            AgreementLine.kind,
            AgreementLine.committed_qty,
            AgreementLine.unit_price,
            AgreementLine.daily_qty,
            AgreementLine.lead_hours,
            AgreementLine.called_qty,
            AgreementLine.shipped_qty,
            AgreementLine.capped_qty,
            AgreementLine.callable_expr().label("callable_qty"),
            AgreementLine.reported_qty,
            AgreementLine.reported_at,
            AgreementLine.verified_qty,
            AgreementLine.verified_on,
            AgreementLine.verification_passed,
            Agreement.valid_from,
        )
        .join(Material, Material.id == AgreementLine.material_id)
        .join(Agreement, Agreement.id == AgreementLine.agreement_id)
        .where(AgreementLine.agreement_id == agreement_id)
        .order_by(AgreementLine.line_no)
    )
    return [
        LineRow(**row._asdict(), flags=rule.flags_of(row) if rule is not None else ())
        for row in rows
    ]


@dataclass(frozen=True)
class UnitTotal:
    """Lines of one unit added up (one cannot add 箱 to 床): committed, called, callable and,
    for capacity, what is producible within the horizon."""

    unit: str
    committed: int
    called: int
    callable: int
    within: int


def unit_totals(lines: list[LineRow], hours: int) -> list[UnitTotal]:
    """Per unit, in the lines' order, of lines of ONE kind (stock and capacity never mix)."""
    totals: dict[str, list[int]] = {}
    for line in lines:
        t = totals.setdefault(line.unit, [0, 0, 0, 0])
        t[0] += line.committed_qty
        t[1] += line.called_qty
        t[2] += line.callable_qty
        t[3] += line.producible_within(hours) if line.is_capacity else 0
    return [UnitTotal(unit, *figures) for unit, figures in totals.items()]


@dataclass(frozen=True)
class Commitment:
    """What an enterprise has committed for one material under its agreements in force: the
    stock it holds and, apart, the capacity it keeps."""

    material_id: int
    material_code: str
    material_name: str
    unit: str
    stock_qty: int
    stock_callable: int
    capacity_daily: int
    capacity_total: int
    capacity_lead_hours: int | None
    capacity_within: int


def commitments(
    session: Session, enterprise_id: int, *, hours: int = DEFAULT_HORIZON_HOURS, today=None
) -> list[Commitment]:
    """Per material, over the enterprise's agreements in force today: stock committed (实物代储)
    and capacity (产能储备: a day, in all, the shortest lead time and what is producible within
    ``hours``), aggregated in SQL and never added together."""
    today = today or local_today()
    is_stock = AgreementLine.kind == LineKind.STOCK.value
    is_capacity = AgreementLine.kind == LineKind.CAPACITY.value
    made = AgreementLine.daily_qty * (hours - AgreementLine.lead_hours) / 24
    within = case(
        (~is_capacity, 0),
        (AgreementLine.lead_hours >= hours, 0),
        (made > AgreementLine.committed_qty, AgreementLine.committed_qty),
        else_=made,
    )
    rows = session.execute(
        select(
            Material.id.label("material_id"),
            Material.code.label("material_code"),
            Material.name.label("material_name"),
            Material.unit,
            func.coalesce(
                func.sum(case((is_stock, AgreementLine.committed_qty), else_=0)), 0
            ).label("stock_qty"),
            func.coalesce(
                func.sum(case((is_stock, AgreementLine.callable_expr()), else_=0)), 0
            ).label("stock_callable"),
            func.coalesce(func.sum(case((is_capacity, AgreementLine.daily_qty), else_=0)), 0).label(
                "capacity_daily"
            ),
            func.coalesce(
                func.sum(case((is_capacity, AgreementLine.committed_qty), else_=0)), 0
            ).label("capacity_total"),
            func.min(case((is_capacity, AgreementLine.lead_hours))).label("capacity_lead_hours"),
            func.coalesce(func.sum(within), 0).label("capacity_within"),
        )
        .join(AgreementLine, AgreementLine.material_id == Material.id)
        .join(Agreement, Agreement.id == AgreementLine.agreement_id)
        .where(
            Agreement.enterprise_id == enterprise_id,
            Agreement.status == AgreementStatus.ACTIVE.value,
            Agreement.valid_from <= today,
            Agreement.valid_to >= today,
        )
        .group_by(Material.id, Material.code, Material.name, Material.unit)
        .order_by(Material.code)
    )
    return [
        Commitment(**{**row._asdict(), "capacity_within": int(row.capacity_within)}) for row in rows
    ]


@dataclass(frozen=True)
class LineSummary:
    """核查/申报提示 of an enterprise's stock lines under agreements in force: how many lines,
    how many carry each flag, how many carry none."""

    lines: int
    clean: int
    flags: dict[LineFlag, int]


def line_summary(session: Session, enterprise_id: int, *, rule: FlagRule) -> LineSummary:
    """The flags of an enterprise's stock lines in force, counted in one statement."""
    today = rule.today
    conditions = rule.sql()
    row = session.execute(
        select(
            func.count().label("lines"),
            func.count().filter(~rule.any_sql()).label("clean"),
            *(func.count().filter(conditions[flag]).label(flag.value) for flag in LineFlag),
        )
        .select_from(AgreementLine)
        .join(Agreement, Agreement.id == AgreementLine.agreement_id)
        .where(
            AgreementLine.kind == LineKind.STOCK.value,
            Agreement.enterprise_id == enterprise_id,
            Agreement.status == AgreementStatus.ACTIVE.value,
            Agreement.valid_from <= today,
            Agreement.valid_to >= today,
        )
    ).one()
    return LineSummary(
        lines=row.lines,
        clean=row.clean,
        flags={flag: getattr(row, flag.value) for flag in LineFlag},
    )


def attachment_rows(session: Session, agreement_id: int) -> list:
    """An agreement's attachments with who brought them (their login and name)."""
    return list(
        session.execute(
            select(
                AgreementAttachment.id,
                AgreementAttachment.agreement_id,
                AgreementAttachment.filename,
                AgreementAttachment.content_type,
                AgreementAttachment.size_bytes,
                AgreementAttachment.sha256,
                AgreementAttachment.uploaded_by_name.label("uploaded_by"),
                func.coalesce(User.full_name, AgreementAttachment.uploaded_by_name).label(
                    "uploaded_by_full_name"
                ),
                AgreementAttachment.uploaded_at,
            )
            .outerjoin(User, User.id == AgreementAttachment.uploaded_by_id)
            .where(AgreementAttachment.agreement_id == agreement_id)
            .order_by(AgreementAttachment.id)
        )
    )
