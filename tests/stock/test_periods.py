"""月结: close_month refuses what is not a past, open month, and nothing posts into it after."""

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from reserve.audit.models import AuditEntry
from reserve.auth.actor import Actor
from reserve.auth.models import Role
from reserve.db import local_today
from reserve.errors import Conflict, Forbidden, ValidationError
from reserve.stock import ledger
from reserve.stock.models import ClosedMonth
from reserve.stock.periods import close_month
from tests.stock.conftest import post

LAST_MONTH = local_today().replace(day=1) - timedelta(days=1)


def test_a_closed_month_takes_no_more_postings(db, place, make_user):
    admin = make_user(Role.ADMIN)
    post(db, place, 5, doc_date=LAST_MONTH)
    closed = close_month(db, month=LAST_MONTH.strftime("%Y-%m"), actor=Actor.for_user(admin))
    assert (closed.closed_by_id, closed.closed_by) == (admin.id, admin.username)
    with pytest.raises(ledger.PeriodClosed):
        post(db, place, 5, doc_date=LAST_MONTH)
    assert post(db, place, 5, doc_date=local_today()).qty == 5
    entry = db.scalar(select(AuditEntry).where(AuditEntry.action == "close"))
    assert entry.object_label == LAST_MONTH.strftime("%Y-%m") and entry.username == admin.username


def test_closing_twice_is_refused(db, system_actor):
    close_month(db, month="2026-01", actor=system_actor)
    with pytest.raises(Conflict, match="already closed"):
        close_month(db, month="2026-01", actor=system_actor)
    assert db.scalar(select(ClosedMonth.month)) == "2026-01"


@pytest.mark.parametrize("offset_days", [0, 40, 400])
def test_the_current_or_a_future_month_cannot_be_closed(db, system_actor, offset_days):
    month = (local_today() + timedelta(days=offset_days)).strftime("%Y-%m")
    with pytest.raises(ValidationError, match="not over yet"):
        close_month(db, month=month, actor=system_actor)
    assert db.scalar(select(ClosedMonth.month)) is None


@pytest.mark.parametrize("month", ["2026-13", "2026-1", "26-01", "", None, "2026-01-01"])
def test_a_malformed_month_is_refused(db, system_actor, month):
    with pytest.raises(ValidationError, match="YYYY-MM"):
        close_month(db, month=month, actor=system_actor)


@pytest.mark.parametrize("role", [Role.KEEPER, Role.DISPATCHER, Role.APPROVER, Role.VIEWER])
def test_only_an_administrator_closes_a_month(db, make_user, make_warehouse, role):
    user = make_user(role, warehouses=[make_warehouse()] if role is Role.KEEPER else [])
    with pytest.raises(Forbidden):
        close_month(db, month="2026-01", actor=Actor.for_user(user))
    assert db.scalar(select(ClosedMonth.month)) is None


def test_a_month_closed_long_ago_still_refuses_backdated_paper(db, place, system_actor):
    close_month(db, month="2025-03", actor=system_actor)
    with pytest.raises(ledger.PeriodClosed):
        post(db, place, 1, doc_date=date(2025, 3, 31))
    assert post(db, place, 1, doc_date=date(2025, 4, 1)).qty == 1
