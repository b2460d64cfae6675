"""What a write costs in statements: a move reads its places once and posts both movements in
one insert; posting N movements of a document costs what posting one does, plus one
conditional UPDATE per decrease (the ledger's race semantics) and, on SQLite only, one INSERT
per movement (no ordered RETURNING for a batch there)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from reserve.errors import InsufficientStock
from reserve.stock import ledger
from reserve.stock.models import Batch, MovementKind, StockBalance, StockMovement
from reserve.stock.periods import close_month
from reserve.stock.service import move_stock
from reserve.warehouses.models import Location
from tests.stock.conftest import TODAY, post

DOCUMENT = ledger.DocumentRef("test", None, "T-COST", TODAY)


def _first_words(statements: list[str]) -> list[str]:
    return [" ".join(s.split()[:3]) for s in statements]


def test_a_move_costs_ten_statements_or_so(db, place, count_queries):
    """One read of the two locations and the batch, the period checked once (not once for
    the form's date and again for the posting), the number, the move, the decrement, the
    increment (an upsert), the movements and the audit entry: 18 statements at stop 19, 10 at
    stop 20, 9 on PostgreSQL now (10 on SQLite: a movement per INSERT there)."""
    post(db, place, 10)
    db.commit()  # the stock came in another request: a transaction of its own
    db.expunge_all()
    with count_queries() as statements:
        move_stock(
            db,
            warehouse_id=place.warehouse.id,
            from_location_id=place.a1.id,
            to_location_id=place.a2.id,
            batch_id=place.batch.id,
            qty=1,
            actor=place.actor,
        )
    words = _first_words(statements)
    postgresql = db.get_bind().dialect.name == "postgresql"
    assert words.count("UPDATE stock_balances SET") == 1  # the conditional decrement
    assert words.count("INSERT INTO stock_balances") == 1  # the increment, an upsert
    assert words.count("SELECT closed_months.month FROM") == 1  # once a transaction
    locks = [s for s in statements if s.startswith("SELECT pg_advisory_xact_lock_shared")]
    assert len(locks) == int(postgresql)  # the month's lock, shared
    # the two locations and the batch, together
    assert words.count("SELECT locations.id, locations.warehouse_id,") == 1
    assert words.count("SELECT batches.id, batches.material_id,") == 0
    movements = 1 if postgresql else 2
    assert words.count("INSERT INTO stock_movements") == movements
    # the period (+ its lock), the places (1), the number (one upsert), the move, the
    # decrement, the increment, the movements (the audit entry is flushed with the rest)
    assert len(statements) == 6 + movements + int(postgresql), words
    rows = dict(db.execute(select(StockBalance.location_id, StockBalance.qty)).all())
    assert rows == {place.a1.id: 9, place.a2.id: 1}


def test_a_month_is_checked_again_after_a_rollback_or_a_close(db, place, count_queries):
    """The period check a transaction keeps is forgotten with the savepoint that made it, and
    a month closed in the same transaction refuses what is posted after."""
    with db.begin_nested() as savepoint:
        post(db, place, 1)
        savepoint.rollback()
    with count_queries() as statements:
        post(db, place, 2)
    assert _first_words(statements).count("SELECT closed_months.month FROM") == 1
    with count_queries() as statements:
        post(db, place, 3)
    assert _first_words(statements).count("SELECT closed_months.month FROM") == 0
    last_month = (TODAY.replace(day=1) - timedelta(days=1)).strftime("%Y-%m")
    earlier = ledger.DocumentRef("test", None, "T-EARLIER", date.fromisoformat(last_month + "-01"))
    ledger.post_movement(
        db,
        kind=MovementKind.GAIN,
        location_id=place.a1.id,
        batch_id=place.batch.id,
        qty=1,
        document=earlier,
        actor=place.actor,
    )
    close_month(db, month=last_month, actor=place.actor)
    with pytest.raises(ledger.PeriodClosed):
        ledger.post_movement(
            db,
            kind=MovementKind.GAIN,
            location_id=place.a1.id,
            batch_id=place.batch.id,
            qty=1,
            document=earlier,
            actor=place.actor,
        )


def _locations(db, place, n: int) -> list[Location]:
    locations = [Location(warehouse_id=place.warehouse.id, code=f"C-{i:02d}") for i in range(n)]
    db.add_all(locations)
    db.flush()
    return locations


@pytest.mark.parametrize("sign", [1, -1])
def test_posting_5_or_50_movements_costs_the_same_lookups(db, place, count_queries, sign):
    locations = _locations(db, place, 50)
    if sign < 0:  # stock to take out first
        ledger.post_movements(
            db,
            postings=[
                ledger.Posting(MovementKind.RECEIPT, loc.id, place.batch.id, 10)
                for loc in locations
            ],
            document=DOCUMENT,
            actor=place.actor,
        )
    kind = MovementKind.GAIN if sign > 0 else MovementKind.LOSS
    ledger.check_period_open(db, TODAY)  # once a transaction: neither count below has it
    counted = []
    for n in (5, 50):
        postings = [
            ledger.Posting(kind, loc.id, place.batch.id, sign * (1 + i % 3))
            for i, loc in enumerate(locations[:n])
        ]
        with count_queries() as statements:
            movements = ledger.post_movements(
                db, postings=postings, document=DOCUMENT, actor=place.actor
            )
        assert [m.qty for m in movements] == [p.qty for p in postings]
        counted.append(statements)
    five, fifty = (_first_words(s) for s in counted)
    grows = {"INSERT INTO stock_movements"} if db.get_bind().dialect.name == "sqlite" else set()
    if sign < 0:
        grows.add("UPDATE stock_balances SET")  # one conditional decrement per movement
    for words in {*five, *fifty}:
        if words not in grows:
            assert five.count(words) == fifty.count(words), words
    for words in grows:
        assert fifty.count(words) - five.count(words) == 45, words


def test_balance_after_in_order_when_one_place_goes_up_and_down(db, place):
    """A document that takes from and adds to the same place is posted in its order."""
    post(db, place, 5)
    movements = ledger.post_movements(
        db,
        postings=[
            ledger.Posting(MovementKind.GAIN, place.a1.id, place.batch.id, 2),
            ledger.Posting(MovementKind.LOSS, place.a1.id, place.batch.id, -7),
            ledger.Posting(MovementKind.GAIN, place.a1.id, place.batch.id, 1),
            ledger.Posting(MovementKind.GAIN, place.a2.id, place.batch.id, 4),
            ledger.Posting(MovementKind.GAIN, place.a2.id, place.batch.id, 3),
        ],
        document=DOCUMENT,
        actor=place.actor,
    )
    assert [m.balance_after for m in movements] == [7, 0, 1, 4, 7]
    assert ledger.verify(db) == []


def test_one_short_decrease_keeps_none_of_the_document(db, place, make_batch):
    post(db, place, 5)
    other = make_batch(place.material, "B9")
    before = db.scalar(select(StockMovement.id).order_by(StockMovement.id.desc()).limit(1))
    with pytest.raises(InsufficientStock, match="B1"), db.begin_nested():
        ledger.post_movements(
            db,
            postings=[
                ledger.Posting(MovementKind.RECEIPT, place.a2.id, other.id, 3),
                ledger.Posting(MovementKind.ISSUE, place.a1.id, place.batch.id, -6),
            ],
            document=DOCUMENT,
            actor=place.actor,
        )
    assert db.scalar(select(StockMovement.id).order_by(StockMovement.id.desc()).limit(1)) == before
    assert db.scalar(select(StockBalance.qty).where(StockBalance.batch_id == other.id)) is None
    assert db.get(Batch, other.id) is not None and ledger.verify(db) == []
