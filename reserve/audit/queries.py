"""Read side of the audit log (审计日志): newest first, filtered on indexed columns.

The table grows with every write (a million rows within a few years). The list pages by key on
(time, id), newest first, and counts at most ``COUNT_CAP`` matching rows, so no page costs a
scan of the whole table however deep the reader goes."""

from __future__ import annotations

from datetime import date, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from reserve.audit.models import AuditEntry
from reserve.auth.models import User
from reserve.db import KeyPage, capped_count, local_day_start, seek_page

LOCAL_TZ = ZoneInfo("Asia/Shanghai")
COUNT_CAP = 1_000
AUDIT_KEYS = ((AuditEntry.at, True), (AuditEntry.id, True))


def audit_search(
    session: Session,
    *,
    username: str | None = None,
    object_type: str | None = None,
    object_id: str | int | None = None,
    action: str | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
):
    """The filtered entries, newest first; ``date_to`` includes the whole local day."""
    stmt = select(AuditEntry)
    username = (username or "").strip()
    if username:
        # An existing account is found by its id (indexed, and it survives a rename); the
        # recorded name alone covers the system actor and deleted accounts.
        user_id = session.scalar(select(User.id).where(User.username == username))
        stmt = stmt.where(
            AuditEntry.user_id == user_id
            if user_id is not None
            else AuditEntry.username == username
        )
    if object_type:
        stmt = stmt.where(AuditEntry.object_type == object_type)
    if object_id is not None and str(object_id).strip():
        stmt = stmt.where(AuditEntry.object_id == str(object_id).strip())
    if action and action.strip():
        stmt = stmt.where(AuditEntry.action == action.strip())
    if date_from:
        stmt = stmt.where(AuditEntry.at >= local_day_start(date_from))
    if date_to:
        stmt = stmt.where(AuditEntry.at < local_day_start(date_to + timedelta(days=1)))
    # newest first by time, so a filter on (type or action, time) reads only the rows it shows
    return stmt.order_by(AuditEntry.at.desc(), AuditEntry.id.desc())


def audit_page(
    session: Session,
    *,
    username: str | None = None,
    object_type: str | None = None,
    object_id: str | int | None = None,
    action: str | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
    after: str | None = None,
    per_page: int = 50,
) -> KeyPage:
    """One page of the log, newest first, after the page key ``after`` (a seek on (time, id):
    the last page of a million entries costs what the first one costs)."""
    stmt = audit_search(
        session,
        username=username,
        object_type=object_type,
        object_id=object_id,
        action=action,
        date_from=date_from,
        date_to=date_to,
    )
    return seek_page(session, stmt, AUDIT_KEYS, after=after, per_page=per_page, scalars=True)


def audit_count(session: Session, **filters) -> int:
    """How many entries match, counted no further than ``COUNT_CAP + 1``."""
    return capped_count(session, audit_search(session, **filters), COUNT_CAP)


def audit_object_types(session: Session) -> list[str]:
    """The distinct object types, for the filter select."""
    return _distinct(session, "object_type")


def audit_actions(session: Session) -> list[str]:
    """The distinct actions, for the filter select."""
    return _distinct(session, "action")


def _distinct(session: Session, name: str) -> list[str]:
    """The distinct values of an indexed column: a loose index scan (one probe of its index
    per value) instead of a DISTINCT over the whole table."""
    column = AuditEntry.__table__.c[name]
    values = select(func.min(column).label("value")).cte(f"distinct_{name}", recursive=True)
    following = select(func.min(column)).where(column > values.c.value).scalar_subquery()
    values = values.union_all(select(following).where(values.c.value.is_not(None)))
    return list(session.scalars(select(values.c.value).where(values.c.value.is_not(None))))
