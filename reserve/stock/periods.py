"""月结: closing a month, so that nothing more posts into it.

A close and a posting into the same month cannot both pass in the wrong order: posting holds the
month's lock shared until its transaction ends (``ledger.check_period_open``) and the close
takes it exclusively, so a close waits for the postings in flight, and a posting that waits for
a close in flight then finds the month closed. (On SQLite the single write lock orders them.)"""

from __future__ import annotations

import re

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from reserve.audit.service import record
from reserve.auth.actor import Actor
from reserve.db import local_today
from reserve.errors import Conflict, Forbidden, ValidationError
from reserve.stock.ledger import lock_period
from reserve.stock.models import ClosedMonth

MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


def parse_month(month: object) -> str:
    """A month as ``YYYY-MM`` (2026-10)."""
    match = MONTH.match(month.strip()) if isinstance(month, str) else None
    if match is None:
        raise ValidationError(_l("Give the month as YYYY-MM, e.g. 2026-10."), field="month")
    return match.group(0)


def close_month(session: Session, *, month: str, actor: Actor) -> ClosedMonth:
    """月结：close a past month; from then on nothing posts with a document date in it."""
    if not actor.is_admin:
        raise Forbidden(_l("Only an administrator closes a month."))
    month = parse_month(month)
    if month >= local_today().strftime("%Y-%m"):  # the current month or a future one
        raise ValidationError(
            _l(
                "The month %(month)s is not over yet; only a past month can be closed.",
                month=month,
            ),
            field="month",
        )
    lock_period(session, month, exclusive=True)  # waits for the postings into it in flight
    if session.scalar(select(ClosedMonth.month).where(ClosedMonth.month == month)):
        raise Conflict(_l("The month %(month)s is already closed.", month=month))
    closed = ClosedMonth(month=month, closed_by_id=actor.user_id, closed_by=actor.username)
    try:
        with session.begin_nested():
            session.add(closed)
            session.flush()
    except IntegrityError:  # closed a moment ago by another administrator (SQLite, no lock)
        raise Conflict(_l("The month %(month)s is already closed.", month=month)) from None
    record(
        session,
        actor=actor,
        action="close",
        object_type="closed_month",
        object_id=month,
        label=month,
        after={"month": month},
    )
    return closed
