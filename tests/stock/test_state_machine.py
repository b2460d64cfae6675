"""Random sequences of receipts, issues, moves, reservations, releases, adjustments and scraps
keep the ledger's invariants: balance = sum of movements, 0 ≤ reserved ≤ qty, never negative."""

from collections import Counter
from datetime import date

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import select

from reserve.errors import InsufficientStock
from reserve.stock import ledger
from reserve.stock.models import MovementKind, StockBalance
from reserve.warehouses.models import Location

QTY = st.integers(min_value=1, max_value=40)


@pytest.fixture
def ledger_world(db, place):
    extra = Location(warehouse_id=place.warehouse.id, code="B-01-01")
    db.add(extra)
    db.flush()
    # a small key space, so reservations and withdrawals meet on the same balance often
    return (
        db,
        [place.a1.id, place.a1.id, place.a2.id, extra.id],
        [place.batch.id, place.batch.id, place.batch2.id],
        place,
    )


def test_ledger_state_machine(ledger_world):
    session, locations, batches, place = ledger_world
    doc = ledger.DocumentRef("fuzz", None, None, date.today())

    class LedgerMachine(RuleBasedStateMachine):
        def __init__(self):
            super().__init__()
            self.savepoint = session.begin_nested()
            self.qty: Counter = Counter()
            self.reserved: Counter = Counter()

        def teardown(self):
            self.savepoint.rollback()

        @initialize()
        def stock_every_balance(self):
            for key in {(loc, batch) for loc in locations for batch in batches}:
                self._post(MovementKind.RECEIPT, key, 30)
                self.qty[key] += 30

        def _post(self, kind, key, qty, **kwargs):
            ledger.post_movement(
                session,
                kind=kind,
                location_id=key[0],
                batch_id=key[1],
                qty=qty,
                document=doc,
                actor=place.actor,
                **kwargs,
            )

        def _available(self, key):
            return self.qty[key] - self.reserved[key]

        @rule(
            loc=st.sampled_from(locations),
            batch=st.sampled_from(batches),
            n=QTY,
            kind=st.sampled_from([MovementKind.RECEIPT, MovementKind.GAIN]),
        )
        def increase(self, loc, batch, n, kind):
            self._post(kind, (loc, batch), n)
            self.qty[(loc, batch)] += n

        @rule(
            loc=st.sampled_from(locations),
            batch=st.sampled_from(batches),
            n=QTY,
            kind=st.sampled_from(
                [MovementKind.ISSUE, MovementKind.LOSS, MovementKind.SCRAP, MovementKind.ROTATE_OUT]
            ),
        )
        def decrease(self, loc, batch, n, kind):
            key = (loc, batch)
            if n <= self._available(key):
                self._post(kind, key, -n)
                self.qty[key] -= n
            else:
                with pytest.raises(InsufficientStock), session.begin_nested():
                    self._post(kind, key, -n)

        @rule(
            loc=st.sampled_from(locations),
            batch=st.sampled_from(batches),
            kind=st.sampled_from([MovementKind.ISSUE, MovementKind.LOSS]),
        )
        def overdraw_by_one(self, loc, batch, kind):
            """Aim at the boundary: one more than available, while some of it is reserved."""
            key = (loc, batch)
            if self.qty[key] == 0:
                return
            with pytest.raises(InsufficientStock), session.begin_nested():
                self._post(kind, key, -(self._available(key) + 1))

        @rule(loc=st.sampled_from(locations), batch=st.sampled_from(batches))
        def take_all_available(self, loc, batch):
            key = (loc, batch)
            if self._available(key) > 0:
                self._post(MovementKind.ISSUE, key, -self._available(key))
                self.qty[key] -= self._available(key)

        @rule(
            src=st.sampled_from(locations),
            dst=st.sampled_from(locations),
            batch=st.sampled_from(batches),
            n=QTY,
        )
        def move(self, src, dst, batch, n):
            if src == dst or n > self._available((src, batch)):
                return
            self._post(MovementKind.MOVE_OUT, (src, batch), -n)
            self._post(MovementKind.MOVE_IN, (dst, batch), n)
            self.qty[(src, batch)] -= n
            self.qty[(dst, batch)] += n

        @rule(loc=st.sampled_from(locations), batch=st.sampled_from(batches), data=st.data())
        def reserve(self, loc, batch, data):
            key = (loc, batch)
            n = data.draw(st.integers(1, max(1, self._available(key) + 2)))
            if n <= self._available(key):
                ledger.reserve_qty(session, location_id=loc, batch_id=batch, qty=n)
                self.reserved[key] += n
            else:
                with pytest.raises(InsufficientStock), session.begin_nested():
                    ledger.reserve_qty(session, location_id=loc, batch_id=batch, qty=n)

        @rule(loc=st.sampled_from(locations), batch=st.sampled_from(batches), n=QTY)
        def release(self, loc, batch, n):
            key = (loc, batch)
            if n <= self.reserved[key]:
                ledger.release_qty(session, location_id=loc, batch_id=batch, qty=n)
                self.reserved[key] -= n

        @rule(loc=st.sampled_from(locations), batch=st.sampled_from(batches), n=QTY)
        def ship_reserved(self, loc, batch, n):
            key = (loc, batch)
            if n <= self.reserved[key]:
                self._post(MovementKind.ISSUE, key, -n, from_reserved=True)
                self.qty[key] -= n
                self.reserved[key] -= n

        @invariant()
        def balances_agree(self):
            rows = session.execute(
                select(
                    StockBalance.location_id,
                    StockBalance.batch_id,
                    StockBalance.qty,
                    StockBalance.reserved,
                )
            ).all()
            for loc, batch, qty, reserved in rows:
                assert 0 <= reserved <= qty
                assert qty == self.qty[(loc, batch)]
                assert reserved == self.reserved[(loc, batch)]
            assert ledger.verify(session) == []

    run_state_machine_as_test(
        LedgerMachine,
        settings=settings(
            max_examples=60,
            stateful_step_count=30,
            deadline=None,
            suppress_health_check=list(HealthCheck),
        ),
    )
