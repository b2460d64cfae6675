"""The demo's floor: approved orders advanced through the services (picking, shipped, partly
received with a reason, received, closed, a return with a damaged unit), the ledger clean."""

from __future__ import annotations

import sqlalchemy as sa

from reserve.demo.orders_floor import advance_orders
from reserve.disposals.models import Scrap
from reserve.orders.floor_models import OrderReturnLine
from reserve.orders.models import AllocationOrder, OrderSource
from reserve.stock import ledger
from tests.orders import floor_factories
from tests.orders.floor_factories import make_order

floor_site = floor_factories.floor_site  # the fixture


def test_advance_orders_walks_the_floor_and_the_ledger_verifies(db, floor_site, make_enterprise):
    s = floor_site
    agreement_line = floor_factories.make_agreement_line(db, make_enterprise(), s.quilt)
    orders = [
        make_order(db, lines=[(s.quilt, [("stock", s.b2, s.quilt_b1, 10)])]),
        make_order(db, lines=[(s.quilt, [("stock", s.b2, s.quilt_b1, 10)])]),
        make_order(db, lines=[(s.quilt, [("stock", s.a1, s.quilt_b2, 10)])]),
        make_order(
            db,
            kind="transfer",
            destination=s.dest,
            lines=[(s.quilt, [("stock", s.a1, s.quilt_b2, 5)])],
        ),
        make_order(db, lines=[(s.quilt, [("agreement", agreement_line, 40)])]),
        make_order(
            db,
            lines=[
                (s.tent, [("stock", s.a1, s.tent_b1, 6)]),
                (s.pump, [("stock", s.a1, s.pump_b1, 2)]),
            ],
        ),
    ]
    done = advance_orders(db, orders)
    assert done == {
        "picking": 1,
        "shipped": 1,
        "partly_received": 1,
        "received": 1,
        "closed": 1,
        "returned": 1,
    }
    statuses = [db.get(AllocationOrder, o.id, populate_existing=True).status for o in orders]
    assert statuses == ["picking", "shipped", "received", "received", "closed", "closed"]
    short = db.scalar(sa.select(sa.func.sum(OrderSource.short_qty)))
    assert short == 2
    conditions = db.execute(sa.select(OrderReturnLine.condition, OrderReturnLine.qty)).all()
    assert sorted(conditions) == [("good", 2), ("good", 5), ("scrap", 1)]
    assert db.scalar(sa.select(sa.func.count()).select_from(Scrap)) == 1
    assert ledger.verify(db) == []
