"""Read side of the catalogue: material search and the category tree, filtered in SQL."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from decimal import Decimal

from sqlalchemy import exists, func, or_, select
from sqlalchemy.orm import Session

from reserve.auth.actor import Actor
from reserve.catalog.models import Category, Material
from reserve.catalog.service import significant_prefix
from reserve.db import KeyPage, SortKey, seek_page
from reserve.stock.models import StockBalance

NO_NUMBER = -1  # an unset shelf life or price sorts before every real one (one NULL order)
MATERIAL_SORTS: dict[str, tuple] = {  # sort name: (ordered expression, its value on a material)
    "code": (Material.code, lambda m: m.code),
    "name": (Material.name, lambda m: m.name),
    "unit": (Material.unit, lambda m: m.unit),
    "category": (Category.code, lambda m: m.category.code),
    "shelf_life": (
        func.coalesce(Material.shelf_life_days, NO_NUMBER),
        lambda m: NO_NUMBER if m.shelf_life_days is None else m.shelf_life_days,
    ),
    "price": (
        func.coalesce(Material.reference_price, NO_NUMBER),
        lambda m: Decimal(NO_NUMBER) if m.reference_price is None else m.reference_price,
    ),
}


def material_keys(sort: str) -> tuple[list[SortKey], Callable[[Material], Sequence]]:
    """The page keys of a material sort (``-`` for descending), ending in the id."""
    column, value = MATERIAL_SORTS.get((sort or "code").lstrip("-"), MATERIAL_SORTS["code"])
    descending = (sort or "").startswith("-")
    return [(column, descending), (Material.id, descending)], lambda m: (value(m), m.id)


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
    keys, _value = material_keys(sort)
    return stmt.order_by(*(column.desc() if desc else column.asc() for column, desc in keys))


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
    after: str | None = None,
    per_page: int = 50,
) -> KeyPage:
    """One page of the material list in the chosen sort, after the page key ``after``."""
    keys, key_of = material_keys(sort)
    return seek_page(
        session,
        material_search(q, category_code=category_code, tracking=tracking, active=active),
        keys,
        after=after,
        per_page=per_page,
        scalars=True,
        key_of=key_of,
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
    """The category filter's choices, indented by level, in tree order: plain rows (a filter
    on every list page; a hundred ORM objects built for it cost more than the query)."""
    rows = session.execute(
        select(Category.code, Category.name, Category.level).order_by(Category.code)
    )
    return [(str(code), f"{'　' * (level - 1)}{code} {name}") for code, name, level in rows]


def category_page(
    session: Session, *, level: int | None = None, after: str | None = None, per_page: int = 50
) -> KeyPage:
    """One page of the categories in code order (the tree order), after the page key ``after``."""
    stmt = select(Category)
    if level:
        stmt = stmt.where(Category.level == level)
    return seek_page(
        session, stmt, [(Category.code, False)], after=after, per_page=per_page, scalars=True
    )
