"""代储企业 (custodian enterprises). Agreements, reports and verification come later."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from reserve.db import Base, UTCDateTime, utcnow
from reserve.warehouses.models import Region


class Enterprise(Base):
    """代储企业: holds reserve stock for the bureau under agreement."""

    __tablename__ = "enterprises"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(100), unique=True)
    uscc: Mapped[str] = mapped_column(sa.String(18), unique=True)
    region_id: Mapped[int | None] = mapped_column(sa.ForeignKey("regions.id"), index=True)
    address: Mapped[str | None] = mapped_column(sa.String(200))
    legal_rep: Mapped[str | None] = mapped_column(sa.String(40))
    contact_name: Mapped[str | None] = mapped_column(sa.String(40))
    contact_phone: Mapped[str | None] = mapped_column(sa.String(30))
    duty_phone: Mapped[str | None] = mapped_column(sa.String(30))
    kind: Mapped[str | None] = mapped_column(sa.String(40))
    is_active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    region: Mapped[Region | None] = relationship(lazy="joined")

    def __str__(self) -> str:
        return self.name
