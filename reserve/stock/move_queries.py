"""Read side of stock moves (移库单): the list, narrowed to a warehouse, a material or dates,
newest first and paged by key, scoped to the warehouses the reader sees; and one move."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from functools import cache

from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, select
from sqlalchemy.orm import Session, aliased

from reserve.auth.actor import Actor
from reserve.catalog.models import Material
from reserve.db import KeyPage
from reserve.errors import NotFound
from reserve.stock.models import Batch, StockMove
from reserve.warehouses.models import Location, Warehouse


@dataclass(frozen=True)
class MoveFilter:
    """What the move list is narrowed to: warehouse, material (by id or by text), dates on
    the paper (the one time axis: ``document_date``)."""

    warehouse_id: int | None = None
    material_id: int | None = None
    q: str | None = None
    date_from: date | None = None
    date_to: date | None = None


@dataclass(frozen=True)
class MoveRow:
    id: int
    no: str
    document_date: date
    moved_at: datetime
    moved_by_name: str
    qty: int
    note: str | None
    warehouse_id: int
    warehouse_code: str
    warehouse_name: str
    from_location: str
    to_location: str
    batch_id: int
    batch_no: str
    expiry_date: date | None
    material_id: int
    material_code: str
    material_name: str
    spec: str | None
    unit: str
    near_expiry_days: int


@cache
def _locations() -> tuple:
    """The move's two locations, aliased once (at first use, when every model is mapped):
    aliasing per call cost more than the list's query on SQLite."""
    return aliased(Location, name="source"), aliased(Location, name="target")


def _moves(actor: Actor, f: MoveFilter) -> Select:
    source, target = _locations()
    stmt = (
        select(
            StockMove.id,
            StockMove.no,
            StockMove.document_date,
            StockMove.moved_at,
            StockMove.moved_by_name,
            StockMove.qty,
            StockMove.note,
            Warehouse.id,
            Warehouse.code,
            Warehouse.name,
            source.code,
            target.code,
            Batch.id,
            Batch.batch_no,
            Batch.expiry_date,
            Material.id,
            Material.code,
            Material.name,
            Material.spec,
            Material.unit,
            Material.near_expiry_days,
        )
        .join(Warehouse, Warehouse.id == StockMove.warehouse_id)
        .join(source, source.id == StockMove.from_location_id)
        .join(target, target.id == StockMove.to_location_id)
        .join(Batch, Batch.id == StockMove.batch_id)
        .join(Material, Material.id == Batch.material_id)
        .where(actor.visible(StockMove.warehouse_id))
    )
    if f.warehouse_id:
        stmt = stmt.where(StockMove.warehouse_id == f.warehouse_id)
    if f.material_id:
        stmt = stmt.where(Batch.material_id == f.material_id)
    q = (f.q or "").strip()
    if q:
        stmt = stmt.where(
            Material.name.ilike(f"%{q}%")
            | Material.code.ilike(f"{q}%")
            | Material.pinyin_initials.like(f"%{q.lower()}%")
            | Batch.batch_no.ilike(f"{q}%")
            | StockMove.no.ilike(f"{q}%")
        )
    if f.date_from:
        stmt = stmt.where(StockMove.document_date >= f.date_from)
    if f.date_to:
        stmt = stmt.where(StockMove.document_date <= f.date_to)
    return stmt


def move_page(
    session: Session, actor: Actor, f: MoveFilter, *, before: int | None = None, per_page: int = 50
) -> KeyPage:
    """移库单 list, newest first: one statement, paged by move id (seek, not OFFSET)."""
    stmt = _moves(actor, f)
    if before:
        stmt = stmt.where(StockMove.id < before)
    rows = session.execute(stmt.order_by(StockMove.id.desc()).limit(per_page + 1)).all()
    more = len(rows) > per_page
    items = [MoveRow(*row) for row in rows[:per_page]]
    return KeyPage(items, str(items[-1].id) if more and items else None)


def move_detail(session: Session, actor: Actor, move_id: int) -> MoveRow:
    """One 移库单; refused to a keeper who does not keep its warehouse."""
    row = session.execute(
        _moves(Actor.system(), MoveFilter()).where(StockMove.id == move_id)
    ).one_or_none()
    if row is None:
        raise NotFound(_l("No such stock move."))
    move = MoveRow(*row)
    actor.require_see(move.warehouse_id)
    return move
