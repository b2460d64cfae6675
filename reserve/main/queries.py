"""The landing page of work (待办): what waits for the reader, what needs attention in their
scope, and the counters. Aggregated in SQL in a fixed number of statements (four), whatever
the number of documents, batches or warehouses, and scoped by the actor like every list."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

import sqlalchemy as sa
from sqlalchemy import case, func, literal, select
from sqlalchemy.orm import Session

from reserve.agreements.models import Enterprise, EnterpriseStatus
from reserve.auth.actor import Actor
from reserve.auth.models import Role
from reserve.catalog.models import Material
from reserve.db import local_today
from reserve.disposals.models import Rotation, RotationStatus, Scrap, ScrapStatus
from reserve.disposals.queries import days_until
from reserve.receipts.models import Receipt, ReceiptStatus
from reserve.stock.expiry import expired_before
from reserve.stock.models import Batch, StockBalance
from reserve.stocktakes.models import Stocktake, StocktakeStatus
from reserve.warehouses.models import Location, Warehouse


@dataclass(frozen=True)
class HomeSummary:
    warehouses: int
    locations: int
    materials: int
    enterprises: int
    area_m2: float


@dataclass(frozen=True)
class DocumentCounts:
    """How many documents wait in each state, where the reader may act on them."""

    receipt_drafts: int = 0  # to post (keeper)
    rotation_drafts: int = 0  # to post (keeper)
    scraps_to_post: int = 0  # approved, to post (keeper)
    stocktakes_counting: int = 0  # to count and submit (keeper)
    scraps_to_approve: int = 0  # requested, to approve or reject (approver)
    stocktakes_to_approve: int = 0  # submitted, to confirm (approver)
    stocktakes_open_counting: int = 0  # in the reader's scope, whoever counts them
    stocktakes_open_submitted: int = 0


@dataclass(frozen=True)
class ExpiryTotal:
    """Batches (location × batch balances with something available) and their available
    quantity, per unit: 12 顶 and 300 箱 do not add up."""

    batches: int = 0
    qty_by_unit: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Attention:
    expired: ExpiryTotal
    near: ExpiryTotal


def _count(model, *conditions) -> sa.ScalarSelect:
    return select(func.count()).select_from(model).where(*conditions).scalar_subquery()


def document_counts(session: Session, actor: Actor) -> DocumentCounts:
    """One statement: a scalar count per waiting state, scoped to where the reader writes
    (drafts, counting, approved scraps) or sees (what an approver decides)."""
    writes = actor.may_write_somewhere()
    decides = actor.has_role(Role.APPROVER, Role.ADMIN)
    zero = literal(0)
    columns = [
        _count(
            Receipt,
            Receipt.status == ReceiptStatus.DRAFT.value,
            actor.writable(Receipt.warehouse_id),
        )
        if writes
        else zero,
        _count(
            Rotation,
            Rotation.status == RotationStatus.DRAFT.value,
            actor.writable(Rotation.warehouse_id),
        )
        if writes
        else zero,
        _count(
            Scrap, Scrap.status == ScrapStatus.APPROVED.value, actor.writable(Scrap.warehouse_id)
        )
        if writes
        else zero,
        _count(
            Stocktake,
            Stocktake.status == StocktakeStatus.COUNTING.value,
            actor.writable(Stocktake.warehouse_id),
        )
        if writes
        else zero,
        _count(
            Scrap, Scrap.status == ScrapStatus.REQUESTED.value, actor.visible(Scrap.warehouse_id)
        )
        if decides
        else zero,
        _count(
            Stocktake,
            Stocktake.status == StocktakeStatus.SUBMITTED.value,
            actor.visible(Stocktake.warehouse_id),
        )
        if decides
        else zero,
        _count(
            Stocktake,
            Stocktake.status == StocktakeStatus.COUNTING.value,
            actor.visible(Stocktake.warehouse_id),
        ),
        _count(
            Stocktake,
            Stocktake.status == StocktakeStatus.SUBMITTED.value,
            actor.visible(Stocktake.warehouse_id),
        ),
    ]
    return DocumentCounts(*(int(v or 0) for v in session.execute(select(*columns)).one()))


def expiry_attention(session: Session, actor: Actor, *, today: date | None = None) -> Attention:
    """过期 and 临期 stock in the reader's scope, as the rotation candidates list it: balances
    with something available (on hand − reserved), expired (expiry date before today) or within
    their material's warning days. Two statements: the widest warning window, then one
    aggregate per unit."""
    today = today or local_today()
    widest = session.scalar(select(func.max(Material.near_expiry_days))) or 0
    available = StockBalance.qty - StockBalance.reserved
    is_expired = Batch.expiry_date < expired_before(today)
    is_near = sa.and_(
        Batch.expiry_date >= expired_before(today),
        days_until(Batch.expiry_date, sa.literal(today, sa.Date())) <= Material.near_expiry_days,
    )
    rows = session.execute(
        select(
            Material.unit,
            func.count(case((is_expired, StockBalance.id))),
            func.coalesce(func.sum(case((is_expired, available), else_=0)), 0),
            func.count(case((is_near, StockBalance.id))),
            func.coalesce(func.sum(case((is_near, available), else_=0)), 0),
        )
        .select_from(StockBalance)
        .join(Batch, Batch.id == StockBalance.batch_id)
        .join(Material, Material.id == StockBalance.material_id)
        .where(
            available > 0,
            Batch.expiry_date.is_not(None),
            Batch.expiry_date <= today + timedelta(days=widest),
            actor.visible(StockBalance.warehouse_id),
        )
        .group_by(Material.unit)
        .order_by(Material.unit)
    ).all()
    expired = ExpiryTotal(
        batches=sum(r[1] for r in rows), qty_by_unit={r[0]: int(r[2]) for r in rows if r[2]}
    )
    near = ExpiryTotal(
        batches=sum(r[3] for r in rows), qty_by_unit={r[0]: int(r[4]) for r in rows if r[4]}
    )
    return Attention(expired=expired, near=near)


def home_summary(session: Session, actor: Actor) -> HomeSummary:
    """The counters, in one statement: warehouses and their area, locations, materials and
    custodian enterprises the reader sees."""
    warehouses = select(
        func.count(Warehouse.id), func.coalesce(func.sum(Warehouse.area_m2), 0)
    ).where(Warehouse.is_active, actor.visible(Warehouse.id))
    locations = (
        select(func.count(Location.id))
        .join(Warehouse)
        .where(Location.is_active, Warehouse.is_active, actor.visible(Location.warehouse_id))
    )
    materials = select(func.count(Material.id)).where(Material.is_active)
    enterprises = select(func.count(Enterprise.id)).where(
        Enterprise.status == EnterpriseStatus.ACTIVE.value, actor.visible_enterprise(Enterprise.id)
    )
    wh = warehouses.subquery()
    count, area, locs, mats, ents = session.execute(
        select(
            wh.c[0],
            wh.c[1],
            locations.scalar_subquery(),
            materials.scalar_subquery(),
            enterprises.scalar_subquery(),
        )
    ).one()
    return HomeSummary(
        warehouses=count or 0,
        locations=locs or 0,
        materials=mats or 0,
        enterprises=ents or 0,
        area_m2=float(area or 0),
    )
