"""Random sequences of receipts, issues, moves, reservations, partial shipments from them,
releases, adjustments and scraps keep the ledger's invariants: balance = sum of movements,
0 ≤ reserved ≤ qty, never negative, and the reserved cache = the open reservations' remainders."""

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
from sqlalchemy import func, select

from reserve.errors import Conflict, InsufficientStock
from reserve.stock import ledger
from reserve.stock.models import MovementKind, ReservationStatus, StockBalance, StockReservation
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
            self.open: dict[int, tuple[tuple[int, int], int]] = {}  # id -> (key, open qty)
            self.lines = iter(range(1, 10**6))

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
                reservation = self._reserve(key, n)
                self.reserved[key] += n
                self.open[reservation.id] = (key, n)
            else:
                with pytest.raises(InsufficientStock), session.begin_nested():
                    self._reserve(key, n)

        def _reserve(self, key, n):
            return ledger.reserve(
                session,
                location_id=key[0],
                batch_id=key[1],
                qty=n,
                document=ledger.DocumentRef("order", 1, "DB-FUZZ", date.today()),
                line_id=next(self.lines),
                actor=place.actor,
            )

        def _pick(self, data):
            if not self.open:
                return None
            return data.draw(st.sampled_from(sorted(self.open)))

        @rule(data=st.data())
        def ship_part_of_a_reservation(self, data):
            """Partial consumption: ship some (or all) of what one reservation holds open."""
            reservation_id = self._pick(data)
            if reservation_id is None:
                return
            key, open_qty = self.open[reservation_id]
            n = data.draw(st.integers(1, open_qty))
            self._post(MovementKind.ISSUE, key, -n, from_reserved=reservation_id)
            self.qty[key] -= n
            self.reserved[key] -= n
            self._left(reservation_id, key, open_qty - n)

        @rule(data=st.data())
        def ship_more_than_a_reservation_holds(self, data):
            reservation_id = self._pick(data)
            if reservation_id is None:
                return
            key, open_qty = self.open[reservation_id]
            with pytest.raises(Conflict), session.begin_nested():
                self._post(MovementKind.ISSUE, key, -(open_qty + 1), from_reserved=reservation_id)

        @rule(data=st.data(), everything=st.booleans())
        def release(self, data, everything):
            reservation_id = self._pick(data)
            if reservation_id is None:
                return
            key, open_qty = self.open[reservation_id]
            n = open_qty if everything else data.draw(st.integers(1, open_qty))
            ledger.release(
                session,
                reservation_id=reservation_id,
                qty=None if everything else n,
                actor=place.actor,
            )
            self.reserved[key] -= n
            self._left(reservation_id, key, open_qty - n)

        @rule(data=st.data())
        def release_a_closed_reservation(self, data):
            closed = session.scalar(
                select(StockReservation.id).where(
                    StockReservation.status != ReservationStatus.OPEN.value
                )
            )
            if closed is not None:
                with pytest.raises(Conflict), session.begin_nested():
                    ledger.release(session, reservation_id=closed, actor=place.actor)

        def _left(self, reservation_id, key, left):
            if left:
                self.open[reservation_id] = (key, left)
            else:
                del self.open[reservation_id]

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
            open_rows = session.execute(
                select(
                    StockReservation.location_id,
                    StockReservation.batch_id,
                    func.sum(
                        StockReservation.qty
                        - StockReservation.consumed_qty
                        - StockReservation.released_qty
                    ),
                )
                .where(StockReservation.status == ReservationStatus.OPEN.value)
                .group_by(StockReservation.location_id, StockReservation.batch_id)
            ).all()
            open_by_key = {(loc, batch): int(n) for loc, batch, n in open_rows}
            for loc, batch, _qty, reserved in rows:  # the cache is the open reservations
                assert reserved == open_by_key.get((loc, batch), 0)
            model_open = Counter()
            for key, n in self.open.values():
                model_open[key] += n
            assert open_by_key == {k: v for k, v in model_open.items() if v}
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
