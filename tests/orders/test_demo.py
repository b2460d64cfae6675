"""The demo city's events and allocation orders (reserve.demo.orders): every state, numbered
DB-YYYYMM-NNNN in the month they were drafted, replayed through the services so the ledger
verifies, what the order pages read, and what they cost the demo's load."""

from __future__ import annotations

import re
import time
from collections import Counter

import pytest
import sqlalchemy as sa

import reserve.demo
from reserve.auth.actor import Actor
from reserve.auth.models import User
from reserve.db import SHANGHAI
from reserve.demo import load_demo
from reserve.orders import floor_queries, queries
from reserve.orders.floor_models import OrderReturnLine
from reserve.orders.models import AllocationOrder, Event, OrderLog, OrderSource
from reserve.stock import ledger


@pytest.fixture
def demo(db, monkeypatch):
    """The demo city loaded once in the test's savepoint; the orders' share of the load timed
    and its statements counted."""
    cost = {"seconds": 0.0, "statements": 0}
    real = reserve.demo.load_orders

    def counted(session, **kwargs):
        def count(*_args):
            cost["statements"] += 1

        engine = session.get_bind()
        sa.event.listen(engine, "before_cursor_execute", count)
        started = time.perf_counter()
        try:
            return real(session, **kwargs)
        finally:
            cost["seconds"] = time.perf_counter() - started
            sa.event.remove(engine, "before_cursor_execute", count)

    monkeypatch.setattr(reserve.demo, "load_orders", counted)
    started = time.perf_counter()
    load_demo(db, password="demo-pass-1")
    db.flush()
    cost["total"] = time.perf_counter() - started
    return cost


def _the_demo_has_orders_in_every_state_and_the_ledger_verifies(db, demo):
    orders = db.scalars(sa.select(AllocationOrder).order_by(AllocationOrder.id)).all()
    assert len(orders) == 15
    assert Counter(o.status for o in orders) == {
        "draft": 1,
        "submitted": 1,
        "rejected": 1,
        "approved": 1,
        "picking": 1,
        "shipped": 2,
        "received": 4,
        "closed": 3,
        "cancelled": 1,
    }
    emergency = [o for o in orders if o.is_emergency]
    assert sorted(o.signed_off_at is None for o in emergency) == [False, True]
    assert [o.kind for o in orders].count("transfer") == 1
    # numbered in the month each was drafted (in 北京时间), one sequence per month
    for order in orders:
        assert re.fullmatch(r"DB-\d{6}-\d{4}", order.no)
        assert order.no[3:9] == f"{order.created_at.astimezone(SHANGHAI):%Y%m}"
    by_month = Counter(o.no[3:9] for o in orders)
    assert sorted(o.no for o in orders) == sorted(
        f"DB-{month}-{n:04d}" for month, count in by_month.items() for n in range(1, count + 1)
    )
    assert ledger.verify(db) == []


def _the_demo_orders_belong_to_three_past_events_with_dated_timelines(db, demo):
    events = db.scalars(sa.select(Event).order_by(Event.started_at)).all()
    assert [e.kind for e in events] == ["drill", "flood", "forest_fire"]
    assert [e.is_open for e in events] == [False, False, True]
    assert "平阴县" in events[1].name and "南部山区" in events[2].name
    orders = db.scalars(sa.select(AllocationOrder)).all()
    assert {o.event_id for o in orders} == {e.id for e in events}
    for order in orders:
        times = db.scalars(
            sa.select(OrderLog.at).where(OrderLog.order_id == order.id).order_by(OrderLog.id)
        ).all()
        assert times and times == sorted(times)  # each step at its own time, in order
        assert times[0] >= order.event.started_at


def _the_demo_has_a_partial_receipt_and_a_return_with_a_damaged_unit(db, demo):
    short = db.execute(
        sa.select(OrderSource.order_id, OrderSource.short_qty).where(OrderSource.short_qty > 0)
    ).all()
    assert len(short) == 1 and short[0].short_qty == 2
    # the order page's figures: what was shipped and not received, with its reason
    gaps = floor_queries.shortfalls(db, short[0].order_id)
    assert gaps and all(reason for _material, _qty, reason in gaps)
    conditions = Counter(
        condition
        for condition, qty in db.execute(sa.select(OrderReturnLine.condition, OrderReturnLine.qty))
        for _ in range(qty if condition == "scrap" else 1)
    )
    assert conditions["scrap"] == 1 and conditions["good"] >= 1


def _the_order_pages_and_lists_read_the_demo(db, demo):
    """What the order list, the sign-off list and each order page show (the read side,
    reserve.orders.queries), as the demo's dispatcher."""
    user = db.scalar(sa.select(User).where(User.username == "dispatcher"))
    dispatcher = Actor.for_user(user)
    page = queries.order_list(db, actor=dispatcher)
    assert len(page.items) == 15 and page.next_key is None
    numbers = [row.number for row in page.items]
    assert numbers == sorted(numbers, reverse=True)  # newest first: drafted in number order
    waiting = queries.order_list(db, actor=dispatcher, awaiting_sign_off=True)
    assert [row.status for row in waiting.items] == ["shipped"]
    for row in page.items:
        shown = queries.order_page(db, order_id=row.id, actor=dispatcher)
        assert shown.lines and shown.timeline and shown.event is not None
        assert row.line_count == len(shown.lines)
        shipped = sum(line.shipped for line in shown.lines)
        received = sum(line.received for line in shown.lines)
        if row.status in ("draft", "submitted", "rejected", "approved", "cancelled"):
            assert shipped == 0, row.number
        if row.status in ("shipped", "received", "closed"):
            assert shipped > 0, row.number
        if row.status in ("received", "closed"):
            assert received > 0, row.number
        if row.status == "picking":
            assert sum(line.picked for line in shown.lines) > shipped == 0
        if row.status == "rejected":
            assert shown.timeline[-1].note  # the approver's reason
    # the event pages: what each event sent
    for event in db.scalars(sa.select(Event)):
        assert queries.event_materials(db, event.id)


def _the_orders_do_not_blow_up_the_demo_load(demo):
    # 15 orders through the services: a bounded number of statements, a small share of the load
    assert demo["statements"] < 4000, demo
    assert demo["seconds"] < max(0.25 * demo["total"], 5), demo


def test_the_demo_orders(db, demo):
    """One load of the demo city (minutes on a busy CI machine) for every check above."""
    _the_demo_has_orders_in_every_state_and_the_ledger_verifies(db, demo)
    _the_demo_orders_belong_to_three_past_events_with_dated_timelines(db, demo)
    _the_demo_has_a_partial_receipt_and_a_return_with_a_damaged_unit(db, demo)
    _the_order_pages_and_lists_read_the_demo(db, demo)
    _the_orders_do_not_blow_up_the_demo_load(demo)
