"""审计日志: an append-only record of every write."""

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Mapped, mapped_column

from reserve.db import Base, UTCDateTime, utcnow


class AuditEntry(Base):
    __tablename__ = "audit_entries"
    __table_args__ = (
        sa.Index("ix_audit_entries_object", "object_type", "object_id", "at"),
        sa.Index("ix_audit_entries_type_at", "object_type", "at"),
        sa.Index("ix_audit_entries_action_at", "action", "at"),
        sa.Index("ix_audit_entries_user_at", "user_id", "at", "id"),  # one user's log, by key
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    username: Mapped[str] = mapped_column(sa.String(40))
    ip: Mapped[str | None] = mapped_column(sa.String(45))
    action: Mapped[str] = mapped_column(sa.String(40))
    object_type: Mapped[str] = mapped_column(sa.String(40))
    object_id: Mapped[str | None] = mapped_column(sa.String(40))
    object_label: Mapped[str | None] = mapped_column(sa.String(200))
    before: Mapped[dict | None] = mapped_column(sa.JSON)
    after: Mapped[dict | None] = mapped_column(sa.JSON)


@event.listens_for(AuditEntry, "before_update")
@event.listens_for(AuditEntry, "before_delete")
def _refuse_change(_mapper, _connection, _target):
    raise RuntimeError("audit entries are append-only")
