"""扫码操作: the moves and counts the scan page and PDAs send, each under the client's own
operation id, kept so that the server applies each id at most once."""

from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from reserve.db import Base, UTCDateTime, utcnow


class ScanOperationKind(enum.StrEnum):
    MOVE = "move"
    COUNT = "count"


class ScanOperation(Base):
    """An applied scan operation (已执行的扫码操作): the client's operation id (a UUID made in
    the browser before it queued the operation), what was asked (its fingerprint), and the first
    answer. The row is written in the same transaction as the move or count it answers for, so an
    id is stored if and only if its work committed; the unique id makes a second copy impossible,
    whichever process gets there second."""

    __tablename__ = "scan_operations"
    __table_args__ = (
        sa.CheckConstraint("kind IN ('move', 'count')", name="kind_known"),
        sa.CheckConstraint("length(operation_id) >= 8", name="operation_id_long_enough"),
        sa.CheckConstraint("kind = 'move' OR stock_move_id IS NULL", name="move_only_for_move"),
        sa.CheckConstraint(
            "kind = 'count' OR stocktake_line_id IS NULL", name="line_only_for_count"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    operation_id: Mapped[str] = mapped_column(sa.String(64), unique=True)
    kind: Mapped[str] = mapped_column(sa.String(10))
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    fingerprint: Mapped[str] = mapped_column(sa.String(64))  # sha256 of what was asked
    stock_move_id: Mapped[int | None] = mapped_column(sa.ForeignKey("stock_moves.id"))
    stocktake_line_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("stocktake_lines.id", ondelete="SET NULL")
    )
    result: Mapped[str] = mapped_column(sa.Text, default="")  # the first answer, as JSON
    applied_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
