"""物资分类 (GB/T 38565-2020 tree) and 物资 (materials)."""

from __future__ import annotations

import enum
from datetime import datetime
from decimal import Decimal

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Mapped, mapped_column, relationship

from reserve.db import Base, Code, UTCDateTime, utcnow


class Category(Base):
    """物资分类: a node of the GB/T 38565 tree, 7-digit code, four levels."""

    __tablename__ = "categories"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(7), unique=True)
    name: Mapped[str] = mapped_column(sa.String(60))
    level: Mapped[int] = mapped_column(sa.SmallInteger)
    parent_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("categories.id", ondelete="RESTRICT"), index=True
    )
    is_local: Mapped[bool] = mapped_column(default=False)

    parent: Mapped[Category | None] = relationship(remote_side=[id])

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class Tracking(enum.StrEnum):
    BATCH = "batch"
    SERIAL = "serial"

    @property
    def label(self):
        return {"batch": _l("By batch"), "serial": _l("By serial number")}[self.value]


class Material(Base):
    """物资: a kind of material with its spec (规格型号) and unit (计量单位)."""

    __tablename__ = "materials"
    __table_args__ = (
        # 临期预警 below the shelf life; the code's prefix (its category's code) needs the other
        # table, so the service checks that (reserve.catalog.service.check_material_code).
        sa.CheckConstraint("near_expiry_days >= 0", name="near_expiry_not_negative"),
        sa.CheckConstraint(
            "shelf_life_days IS NULL"
            " OR (shelf_life_days > 0 AND near_expiry_days < shelf_life_days)",
            name="near_expiry_below_shelf_life",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(Code(20), unique=True)
    name: Mapped[str] = mapped_column(sa.String(60), index=True)
    spec: Mapped[str | None] = mapped_column(sa.String(120))
    unit: Mapped[str] = mapped_column(sa.String(10))
    category_id: Mapped[int] = mapped_column(sa.ForeignKey("categories.id"), index=True)
    tracking: Mapped[str] = mapped_column(sa.String(10), default=Tracking.BATCH.value)
    shelf_life_days: Mapped[int | None]
    near_expiry_days: Mapped[int] = mapped_column(default=90)
    reference_price: Mapped[Decimal | None] = mapped_column(sa.Numeric(12, 2))
    unit_weight_kg: Mapped[Decimal | None] = mapped_column(sa.Numeric(10, 3))
    unit_volume_m3: Mapped[Decimal | None] = mapped_column(sa.Numeric(10, 4))
    pinyin_initials: Mapped[str] = mapped_column(sa.String(60), index=True, default="")
    # 可回收: comes back after an event (tents, folding beds, pumps, generators) through a return
    is_returnable: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    is_active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    category: Mapped[Category] = relationship(lazy="joined")

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    @property
    def tracking_label(self):
        return Tracking(self.tracking).label
