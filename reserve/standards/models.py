"""储备标准/定额 and their history (储备标准变更记录).

A standard says, for one material and one scope, how much the reserve must hold:

- the scope is **one warehouse** (``warehouse_id``) or **a region** (``region_id``: a district or
  the city, covering the warehouses in it and in the divisions under it, and the agreements that
  count for it by ``reserve.availability.queries``' region rule) — exactly one of the two;
- ``required_qty`` (应储数量), in the material's unit;
- ``min_physical_pct`` (实物储备比例, 0–100): the share of the requirement that must be physical
  stock in the bureau's warehouses;
- ``counts_agreements``: whether agreement stock (协议储备) counts towards the requirement. A
  warehouse holds no agreement stock, so only a region's standard may count it (checked here).

Unique per (material, scope), in the database: NULLs differ in a unique constraint on both
PostgreSQL and SQLite, so each of the two constraints bites only for its own kind of scope."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from reserve.db import Base, UTCDateTime, utcnow


class ReserveStandard(Base):
    """储备标准: what one scope must hold of one material."""

    __tablename__ = "reserve_standards"
    __table_args__ = (
        sa.UniqueConstraint("material_id", "warehouse_id", name="uq_standard_material_warehouse"),
        sa.UniqueConstraint("material_id", "region_id", name="uq_standard_material_region"),
        sa.CheckConstraint("(warehouse_id IS NULL) <> (region_id IS NULL)", name="one_scope"),
        sa.CheckConstraint("required_qty > 0", name="required_positive"),
        sa.CheckConstraint(
            "min_physical_pct >= 0 AND min_physical_pct <= 100", name="physical_pct_range"
        ),
        sa.CheckConstraint(
            "warehouse_id IS NULL OR counts_agreements = false", name="agreements_by_region"
        ),
        sa.Index("ix_reserve_standards_warehouse", "warehouse_id"),
        sa.Index("ix_reserve_standards_region", "region_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    material_id: Mapped[int] = mapped_column(sa.ForeignKey("materials.id"))
    warehouse_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("warehouses.id", ondelete="CASCADE")
    )
    region_id: Mapped[int | None] = mapped_column(sa.ForeignKey("regions.id", ondelete="CASCADE"))
    required_qty: Mapped[int] = mapped_column(sa.BigInteger)
    min_physical_pct: Mapped[int] = mapped_column(sa.SmallInteger, default=0)
    counts_agreements: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    basis: Mapped[str | None] = mapped_column(sa.String(200))  # 测算依据
    updated_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )
    updated_by_name: Mapped[str] = mapped_column(sa.String(40))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    @property
    def physical_required(self) -> int:
        """The physical part of the requirement, rounded up (a share of a tent is a tent)."""
        return physical_required(self.required_qty, self.min_physical_pct)


def physical_required(required_qty: int, pct: int) -> int:
    """应储实物数量: ``ceil(required × pct / 100)`` in integers."""
    return -(-required_qty * pct // 100)


class StandardChange(Base):
    """储备标准变更记录: who created, changed, imported or deleted a standard, when, and the
    values before and after (kept when the standard itself is deleted)."""

    __tablename__ = "standard_changes"
    __table_args__ = (
        sa.CheckConstraint(
            "action IN ('create', 'update', 'delete', 'import')", name="action_known"
        ),
        sa.Index("ix_standard_changes_standard", "standard_id", "id"),
        sa.Index("ix_standard_changes_material", "material_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    standard_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("reserve_standards.id", ondelete="SET NULL")
    )
    material_id: Mapped[int] = mapped_column(sa.ForeignKey("materials.id"))
    scope_label: Mapped[str] = mapped_column(sa.String(120))
    action: Mapped[str] = mapped_column(sa.String(10))
    before: Mapped[dict | None] = mapped_column(sa.JSON)
    after: Mapped[dict | None] = mapped_column(sa.JSON)
    reason: Mapped[str | None] = mapped_column(sa.String(200))
    changed_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )
    changed_by_name: Mapped[str] = mapped_column(sa.String(40))
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
