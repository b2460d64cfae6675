"""What the API keeps between requests: the responses of idempotent writes (幂等键)."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from reserve.db import Base, UTCDateTime, utcnow


class IdempotencyKey(Base):
    """幂等键: the first response to a write sent with an ``Idempotency-Key`` header, kept 24 h.

    The row is written in the same transaction as the work it answers for, so a key is stored
    if and only if its work committed; the unique (user, key) makes a second copy impossible."""

    __tablename__ = "api_idempotency_keys"
    __table_args__ = (sa.UniqueConstraint("user_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(sa.String(255))
    fingerprint: Mapped[str] = mapped_column(sa.String(64))  # sha256 of method, path and body
    status: Mapped[int]
    body: Mapped[bytes] = mapped_column(sa.LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
