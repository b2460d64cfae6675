"""The home page's counts, aggregated in SQL and scoped to what the reader may see."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from reserve.agreements.models import Enterprise
from reserve.auth.actor import Actor
from reserve.catalog.models import Material
from reserve.warehouses.models import Location, Warehouse


@dataclass(frozen=True)
class HomeSummary:
    warehouses: int
    locations: int
    materials: int
    enterprises: int
    area_m2: float


def home_summary(session: Session, actor: Actor) -> HomeSummary:
    wh = select(func.count(Warehouse.id), func.coalesce(func.sum(Warehouse.area_m2), 0)).where(
        Warehouse.is_active, actor.visible(Warehouse.id)
    )
    loc = (
        select(func.count(Location.id))
        .join(Warehouse)
        .where(Location.is_active, actor.visible(Location.warehouse_id))
    )
    count, area = session.execute(wh).one()
    return HomeSummary(
        warehouses=count,
        locations=session.scalar(loc) or 0,
        materials=session.scalar(select(func.count(Material.id)).where(Material.is_active)) or 0,
        enterprises=session.scalar(select(func.count(Enterprise.id)).where(Enterprise.is_active))
        or 0,
        area_m2=float(area or 0),
    )
