"""Read side of reserve standards: the list (by key) and a standard's history."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from reserve.catalog.models import Material
from reserve.db import KeyPage, seek_page
from reserve.standards.models import ReserveStandard, StandardChange, physical_required
from reserve.warehouses.models import Region, Warehouse


@dataclass(frozen=True)
class StandardRow:
    id: int
    material_id: int
    material_code: str
    material_name: str
    unit: str
    warehouse_id: int | None
    warehouse_code: str | None
    warehouse_name: str | None
    region_id: int | None
    region_code: str | None
    region_name: str | None
    required_qty: int
    min_physical_pct: int
    counts_agreements: bool
    basis: str | None
    updated_by_name: str
    updated_at: datetime

    @property
    def scope_label(self) -> str:
        if self.region_id:
            return f"{self.region_code} {self.region_name}"
        return f"{self.warehouse_code} {self.warehouse_name}"

    @property
    def physical_required(self) -> int:
        return physical_required(self.required_qty, self.min_physical_pct)


def _rows():
    s = ReserveStandard
    return (
        select(
            s.id,
            s.material_id,
            Material.code.label("material_code"),
            Material.name.label("material_name"),
            Material.unit,
            s.warehouse_id,
            Warehouse.code.label("warehouse_code"),
            Warehouse.name.label("warehouse_name"),
            s.region_id,
            Region.code.label("region_code"),
            Region.name.label("region_name"),
            s.required_qty,
            s.min_physical_pct,
            s.counts_agreements,
            s.basis,
            s.updated_by_name,
            s.updated_at,
        )
        .select_from(s)
        .join(Material, Material.id == s.material_id)
        .outerjoin(Warehouse, Warehouse.id == s.warehouse_id)
        .outerjoin(Region, Region.id == s.region_id)
    )


def standard_page(
    session: Session, *, q: str | None = None, after: str | None = None, per_page: int = 50
) -> KeyPage:
    """The standards in material-code order, paged by key; ``q`` narrows by material."""
    stmt = _rows()
    text = (q or "").strip()
    if text:
        stmt = stmt.where(
            Material.name.ilike(f"%{text}%")
            | Material.code.ilike(f"{text}%")
            | Material.pinyin_initials.like(f"%{text.lower()}%")
        )
    page = seek_page(
        session,
        stmt,
        [(Material.code, False), (ReserveStandard.id, False)],
        after=after,
        per_page=per_page,
        key_of=lambda row: (row.material_code, row.id),
    )
    return KeyPage([StandardRow(**row._asdict()) for row in page.items], page.next_key)


def standard_row(session: Session, standard_id: int) -> StandardRow | None:
    row = session.execute(_rows().where(ReserveStandard.id == standard_id)).one_or_none()
    return StandardRow(**row._asdict()) if row else None


def standard_history(session: Session, standard_id: int, limit: int = 100) -> list[StandardChange]:
    """A standard's changes, newest first."""
    return list(
        session.scalars(
            select(StandardChange)
            .where(StandardChange.standard_id == standard_id)
            .order_by(StandardChange.id.desc())
            .limit(limit)
        )
    )
