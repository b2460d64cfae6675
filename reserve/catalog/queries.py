"""Read side of the catalogue: material search and the category tree, filtered in SQL."""

from __future__ import annotations

from sqlalchemy import exists, or_, select
from sqlalchemy.orm import Session

from reserve.auth.actor import Actor
from reserve.catalog.models import Category, Material
from reserve.catalog.service import significant_prefix
from reserve.db import Page, paginate
from reserve.stock.models import StockBalance

MATERIAL_SORTS = {
    "code": Material.code,
    "name": Material.name,
    "unit": Material.unit,
    "category": Category.code,
    "shelf_life": Material.shelf_life_days,
    "price": Material.reference_price,
}


def material_search(
    q: str | None = None,
    *,
    category_code: str | None = None,
    tracking: str | None = None,
    active: bool | None = True,
    sort: str = "code",
):
    """The material list as one SELECT: matches name, code, spec and pinyin initials."""
    stmt = select(Material).join(Material.category)
    q = (q or "").strip()
    if q:
        like = f"%{q}%"
        stmt = stmt.where(
            or_(
                Material.name.ilike(like),
                Material.code.ilike(f"{q}%"),
                Material.spec.ilike(like),
                Material.pinyin_initials.like(f"%{q.lower()}%"),
            )
        )
    if category_code:
        stmt = stmt.where(Category.code.like(significant_prefix(category_code) + "%"))
    if tracking:
        stmt = stmt.where(Material.tracking == tracking)
    if active is not None:
        stmt = stmt.where(Material.is_active == active)
    key = sort.lstrip("-")
    column = MATERIAL_SORTS.get(key, Material.code)
    order = column.desc() if sort.startswith("-") else column.asc()
    return stmt.order_by(order, Material.id)


PICK_LIMIT = 20


def material_label(code: str, name: str, spec: str | None, unit: str) -> str:
    """A material's full name on a form: ``code name spec (unit)``."""
    return " ".join(p for p in (code, name, spec or "") if p) + f" ({unit})"


def material_picks(
    session: Session,
    *,
    q: str | None,
    actor: Actor,
    warehouse_id: int | None = None,
    limit: int = PICK_LIMIT,
) -> list[dict]:
    """The material picker's answer: materials in use matching name, code, spec or pinyin
    initials, at most ``limit``, each with its full name. Given a warehouse (which the actor
    must see), only the materials it holds."""
    stmt = material_search(q).with_only_columns(
        Material.id, Material.code, Material.name, Material.spec, Material.unit
    )
    if warehouse_id is not None:
        actor.require_see(warehouse_id)
        stmt = stmt.where(
            exists(
                select(StockBalance.id).where(
                    StockBalance.material_id == Material.id,
                    StockBalance.warehouse_id == warehouse_id,
                    StockBalance.qty > 0,
                )
            )
        )
    rows = session.execute(stmt.limit(limit)).all()
    return [
        {"id": r.id, "code": r.code, "text": material_label(r.code, r.name, r.spec, r.unit)}
        for r in rows
    ]


def material_page(
    session: Session,
    *,
    q: str | None = None,
    category_code: str | None = None,
    tracking: str | None = None,
    active: bool | None = True,
    sort: str = "code",
    page: int = 1,
    per_page: int = 50,
) -> Page:
    return paginate(
        session,
        material_search(
            q, category_code=category_code, tracking=tracking, active=active, sort=sort
        ),
        page=page,
        per_page=per_page,
    )


def category_tree(session: Session) -> list[Category]:
    """Every category in code order: the code order is the tree order (depth-first)."""
    return list(session.scalars(select(Category).order_by(Category.code)))


def category_choices(session: Session, *, min_level: int = 1) -> list[tuple[int, str]]:
    rows = session.execute(
        select(Category.id, Category.code, Category.name, Category.level)
        .where(Category.level >= min_level)
        .order_by(Category.code)
    ).all()
    return [(r.id, f"{'　' * (r.level - 1)}{r.code} {r.name}") for r in rows]


def category_code_choices(session: Session) -> list[tuple[str, str]]:
    return [
        (str(code), label)
        for code, label in (
            (c.code, f"{'　' * (c.level - 1)}{c.code} {c.name}") for c in category_tree(session)
        )
    ]


def category_page(
    session: Session, *, level: int | None = None, page: int = 1, per_page: int = 50
) -> Page:
    stmt = select(Category).order_by(Category.code)
    if level:
        stmt = stmt.where(Category.level == level)
    return paginate(session, stmt, page=page, per_page=per_page)
