"""行政区划, 储备库 and 库位."""

from __future__ import annotations

import enum
from datetime import datetime
from decimal import Decimal

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Mapped, mapped_column, relationship

from reserve.db import Base, Code, UTCDateTime, utcnow


class RegionLevel(enum.StrEnum):
    PROVINCE = "province"
    CITY = "city"
    DISTRICT = "district"
    COUNTY = "county"
    TOWNSHIP = "township"

    @property
    def label(self):
        return {
            "province": _l("Province"),
            "city": _l("City"),
            "district": _l("District"),
            "county": _l("County"),
            "township": _l("Township"),
        }[self.value]


class Region(Base):
    """行政区划: a GB/T 2260 division (6-digit code); a township has the 9-digit 统计用区划代码
    whose first six digits are its county's code."""

    __tablename__ = "regions"
    __table_args__ = (
        # 6 digits of GB/T 2260, or a township's 9 of 统计用区划代码 (the service checks the rest)
        sa.CheckConstraint(
            "(level = 'township' AND length(code) = 9)"
            " OR (level <> 'township' AND length(code) = 6)",
            name="code_fits_level",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(9), unique=True)
    name: Mapped[str] = mapped_column(sa.String(60))
    level: Mapped[str] = mapped_column(sa.String(10))
    parent_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("regions.id", ondelete="RESTRICT"), index=True
    )

    parent: Mapped[Region | None] = relationship(remote_side=[id], lazy="joined", join_depth=1)

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class WarehouseLevel(enum.StrEnum):
    PROVINCE = "province"
    CITY = "city"
    DISTRICT = "district"
    TOWNSHIP = "township"

    @property
    def label(self):
        return {
            "province": _l("Provincial"),
            "city": _l("Municipal"),
            "district": _l("District/county"),
            "township": _l("Township"),
        }[self.value]


class Warehouse(Base):
    """储备库: a warehouse of the bureau."""

    __tablename__ = "warehouses"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(Code(20), unique=True)
    name: Mapped[str] = mapped_column(sa.String(100))
    level: Mapped[str] = mapped_column(sa.String(10), index=True)
    region_id: Mapped[int] = mapped_column(sa.ForeignKey("regions.id"), index=True)
    address: Mapped[str | None] = mapped_column(sa.String(200))
    lat: Mapped[Decimal | None] = mapped_column(sa.Numeric(9, 6))
    lng: Mapped[Decimal | None] = mapped_column(sa.Numeric(9, 6))
    area_m2: Mapped[Decimal | None] = mapped_column(sa.Numeric(10, 1))
    phone: Mapped[str | None] = mapped_column(sa.String(30))
    is_active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    region: Mapped[Region] = relationship(lazy="joined")

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


RECEIVING_CODE = "RECV"


class Location(Base):
    """库位/货位: a place inside a warehouse (``A-01-02``), or its receiving area (收货区)."""

    __tablename__ = "locations"
    __table_args__ = (sa.UniqueConstraint("warehouse_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    warehouse_id: Mapped[int] = mapped_column(sa.ForeignKey("warehouses.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(Code(20))
    name: Mapped[str | None] = mapped_column(sa.String(60))
    is_receiving: Mapped[bool] = mapped_column(default=False)
    is_active: Mapped[bool] = mapped_column(default=True)

    warehouse: Mapped[Warehouse] = relationship(lazy="joined")

    def __str__(self) -> str:
        return f"{self.warehouse.code}/{self.code}"
