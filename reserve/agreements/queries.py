"""Read side of enterprises: the searchable list and the choices for selects."""

from __future__ import annotations

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, contains_eager

from reserve.agreements.models import Enterprise
from reserve.auth.actor import Actor
from reserve.db import Page, paginate
from reserve.warehouses.models import Region

ENTERPRISE_SORTS = {
    "name": Enterprise.name,
    "uscc": Enterprise.uscc,
    "region": Region.code,
    "kind": Enterprise.kind,
    "contact": Enterprise.contact_name,
}


def enterprise_choices(session: Session, actor: Actor | None = None) -> list[tuple[int, str]]:
    """Enterprises for a select: every one (no actor: assigning a user to an enterprise), or
    those the actor sees."""
    stmt = select(Enterprise.id, Enterprise.name).order_by(Enterprise.name)
    if actor is not None:
        stmt = stmt.where(actor.visible_enterprise(Enterprise.id))
    return [(row.id, row.name) for row in session.execute(stmt)]


def enterprise_search(
    q: str | None = None,
    *,
    actor: Actor | None = None,
    region_id: int | None = None,
    active: bool | None = True,
    sort: str = "name",
):
    """The enterprise list as one SELECT with its region joined: matches name, USCC and
    contact; a region includes the divisions under it. Given an actor, limited to the
    enterprises the actor sees (an enterprise user: its own)."""
    stmt = (
        select(Enterprise).outerjoin(Enterprise.region).options(contains_eager(Enterprise.region))
    )
    if actor is not None:
        stmt = stmt.where(actor.visible_enterprise(Enterprise.id))
    q = (q or "").strip()
    if q:
        like = f"%{q}%"
        stmt = stmt.where(
            or_(
                Enterprise.name.ilike(like),
                Enterprise.uscc.ilike(f"%{q.replace(' ', '').upper()}%"),
                Enterprise.contact_name.ilike(like),
                Enterprise.contact_phone.like(like),
            )
        )
    if region_id:
        tree = select(Region.id).where(Region.id == region_id).cte("region_tree", recursive=True)
        tree = tree.union_all(select(Region.id).where(Region.parent_id == tree.c.id))
        stmt = stmt.where(Enterprise.region_id.in_(select(tree.c.id)))
    if active is not None:
        stmt = stmt.where(Enterprise.is_active == active)
    column = ENTERPRISE_SORTS.get(sort.lstrip("-"), Enterprise.name)
    order = column.desc() if sort.startswith("-") else column.asc()
    return stmt.order_by(order, Enterprise.id)


def enterprise_page(
    session: Session,
    *,
    actor: Actor | None = None,
    q: str | None = None,
    region_id: int | None = None,
    active: bool | None = True,
    sort: str = "name",
    page: int = 1,
    per_page: int = 50,
) -> Page:
    return paginate(
        session,
        enterprise_search(q, actor=actor, region_id=region_id, active=active, sort=sort),
        page=page,
        per_page=per_page,
    )
