"""The demo city's reserve standards (储备标准): about twenty, at city, district and warehouse
scope, for the materials the demo stock holds most of — most met, a few short, one or two
critical. Each requirement is set against what the scope holds once the demo stock is in (the
stock read side's figures), with the basis of calculation a bureau would write."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from reserve.auth.actor import Actor
from reserve.standards.service import StandardData, save_standard
from reserve.stock import queries as stock_queries
from reserve.stock.models import StockBalance
from reserve.stock.queries import StockFilter
from reserve.warehouses.models import Region, Warehouse

CITY = "370100"
# (share of what the scope holds that the standard requires, minimum physical share, basis):
# below 1 the standard is met, above it short; at 3 or more the scope covers under half: critical
CITY_PLAN = [
    (0.8, 70, "全市紧急转移安置 5 万人测算"),
    (0.9, 60, "全市紧急转移安置 5 万人测算"),
    (0.7, 80, "参照二类储备库储备规模"),
    (1.25, 60, "全市紧急转移安置 5 万人测算（2026 年提高）"),
    (0.85, 50, "上年度转移安置人数的 30%"),
    (0.6, 90, "防汛抗旱物资储备定额"),
]
WAREHOUSE_PLAN = [
    (0.75, 100, "本库承储任务"),
    (0.9, 100, "本库承储任务"),
    (0.5, 100, "本库承储任务"),
    (1.1, 100, "本库承储任务（新增）"),
    (0.8, 100, "本库承储任务"),
    (3.5, 100, "本库承储任务（新建库，待补库）"),
    (0.95, 100, "本库承储任务"),
    (0.7, 100, "本库承储任务"),
]
DISTRICT_PLAN = [
    (0.8, 50, "区县紧急转移安置 0.5 万人测算"),
    (0.9, 50, "区县紧急转移安置 0.5 万人测算"),
    (1.5, 50, "区县紧急转移安置 0.7 万人测算"),
    (0.6, 50, "区县紧急转移安置 0.5 万人测算"),
    (4.0, 80, "汛期前须补齐（区县防汛预案）"),
    (0.85, 50, "区县紧急转移安置 0.5 万人测算"),
]


def _top_materials(session: Session, limit: int, warehouse_ids=None) -> list[int]:
    stmt = select(StockBalance.material_id).where(StockBalance.qty > 0)
    if warehouse_ids is not None:
        stmt = stmt.where(StockBalance.warehouse_id.in_(warehouse_ids))
    stmt = (
        stmt.group_by(StockBalance.material_id)
        .order_by(func.sum(StockBalance.qty).desc(), StockBalance.material_id)
        .limit(limit)
    )
    return list(session.scalars(stmt))


def _set(session, actor, material_id, available, share, pct, basis, **scope) -> bool:
    if available <= 0:
        return False
    save_standard(
        session,
        data=StandardData(
            material_id=material_id,
            required_qty=max(1, round(available * share)),
            min_physical_pct=pct,
            counts_agreements=bool(scope.get("region_id")) and share > 1.2,
            basis=basis,
            warehouse_id=scope.get("warehouse_id"),
            region_id=scope.get("region_id"),
        ),
        actor=actor,
    )
    return True


def load_standards(session: Session, *, admin: Actor) -> int:
    """储备标准 of the demo city: returns how many were set."""
    system = Actor.system("demo")
    city = session.scalar(select(Region.id).where(Region.code == CITY))
    made = 0
    ids = _top_materials(session, len(CITY_PLAN))
    totals = stock_queries.material_totals(session, system, StockFilter(region_id=city), ids)
    for material_id, (share, pct, basis) in zip(ids, CITY_PLAN, strict=False):
        available = totals[material_id].available if material_id in totals else 0
        made += _set(session, admin, material_id, available, share, pct, basis, region_id=city)
    municipal = session.scalar(
        select(Warehouse.id).where(Warehouse.level == "city").order_by(Warehouse.code)
    )
    ids = _top_materials(session, len(WAREHOUSE_PLAN), [municipal])
    totals = stock_queries.material_totals(
        session, system, StockFilter(warehouse_id=municipal), ids
    )
    for material_id, (share, pct, basis) in zip(ids, WAREHOUSE_PLAN, strict=False):
        available = totals[material_id].available if material_id in totals else 0
        made += _set(
            session, admin, material_id, available, share, pct, basis, warehouse_id=municipal
        )
    districts = list(
        session.execute(
            select(Region.id, Warehouse.id)
            .join(Warehouse, Warehouse.region_id == Region.id)
            .where(Region.level.in_(("district", "county")))
            .order_by(Region.code)
        )
    )
    for (region_id, warehouse_id), (share, pct, basis) in zip(
        districts, DISTRICT_PLAN, strict=False
    ):
        ids = _top_materials(session, 1, [warehouse_id])
        if not ids:
            continue
        totals = stock_queries.material_totals(
            session, system, StockFilter(region_id=region_id), ids
        )
        available = totals[ids[0]].available if ids[0] in totals else 0
        made += _set(session, admin, ids[0], available, share, pct, basis, region_id=region_id)
    return made
