"""Recording audit entries. Every service that writes calls ``record`` in the same transaction."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import inspect
from sqlalchemy.orm import Session

from reserve.audit.models import AuditEntry
from reserve.auth.actor import Actor


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, frozenset | set | tuple):
        return sorted(_plain(v) for v in value)
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


# Secrets, and what is derived from a name for searching (its pinyin initials: noise in a log
# that a reader reads, and the name beside it already says it)
NOT_SNAPSHOT = ("password_hash", "token_hash", "pinyin_initials")


def snapshot(obj: Any, exclude: tuple[str, ...] = NOT_SNAPSHOT) -> dict:
    """The column values of a model object, as JSON-safe plain values."""
    return {
        attr.key: _plain(getattr(obj, attr.key))
        for attr in inspect(obj).mapper.column_attrs
        if attr.key not in exclude
    }


def changes(before: dict, after: dict) -> tuple[dict, dict]:
    """Only what changed, so the log reads as a before/after summary."""
    keys = [k for k in after if before.get(k) != after.get(k)]
    return {k: before.get(k) for k in keys}, {k: after.get(k) for k in keys}


def record(
    session: Session,
    *,
    actor: Actor,
    action: str,
    obj: Any = None,
    object_type: str | None = None,
    object_id: Any = None,
    label: str | None = None,
    before: dict | None = None,
    after: dict | None = None,
) -> AuditEntry:
    """审计：append who did what to which object, from where, with a before/after summary."""
    if obj is not None:
        session.flush()
        object_type = object_type or type(obj).__tablename__
        object_id = object_id if object_id is not None else inspect(obj).identity[0]
    entry = AuditEntry(
        user_id=actor.user_id,
        username=actor.username,
        ip=actor.ip,
        action=action,
        object_type=object_type or "-",
        object_id=str(object_id) if object_id is not None else None,
        object_label=(label or str(obj or ""))[:200] or None,
        before=before,
        after=after,
    )
    session.add(entry)
    return entry
