"""What a write costs in statements: a move reads its places once and posts both movements in
one insert; posting N movements of a document costs what posting one does, plus one
conditional UPDATE per decrease (the ledger's race semantics) and, on SQLite only, one INSERT
per movement (no ordered RETURNING for a batch there)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from reserve.audit.models import AuditEntry
from reserve.errors import InsufficientStock, NotFound, ValidationError
from reserve.stock import ledger
from reserve.stock.models import Batch, MovementKind, StockBalance, StockMove, StockMovement
from reserve.stock.periods import close_month
from reserve.stock.service import move_stock
from reserve.warehouses.models import Location
from tests.stock.conftest import TODAY, post

DOCUMENT = ledger.DocumentRef("test", None, "T-COST", TODAY)


def _first_words(statements: list[str]) -> list[str]:
    return [" ".join(s.split()[:3]) for s in statements]


def test_a_move_costs_seven_statements(db, place, count_queries):
    """The two locations and the batch in one read that also takes the month's lock
    (PostgreSQL), the number (one upsert) with the closed month read beside it (once a
    transaction; a statement after the lock's, so its snapshot sees a close that committed
    while the lock was awaited), the move, the decrement, the increment (an upsert), the
    movements and the audit entry: 18 statements at stop 19, 10 at stop 20, 8 at stop 21, 7
    on PostgreSQL now (9 on SQLite: the month and the number apart, a movement per INSERT).
    Exactly these, in this order: a statement added to the move fails here."""
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
        db.flush()  # the audit entry, pending in the session until then
    postgresql = db.get_bind().dialect.name == "postgresql"
    assert _first_words(statements) == [
        "SELECT locations.id, locations.warehouse_id,",
        *(
            ["WITH taken AS"]
            if postgresql
            else ["SELECT closed_months.month FROM", "INSERT INTO document_counters"]
        ),
        "INSERT INTO stock_moves",
        "UPDATE stock_balances SET",  # the conditional decrement
        "INSERT INTO stock_balances",  # the increment, an upsert
        *["INSERT INTO stock_movements"] * (1 if postgresql else 2),
        "INSERT INTO audit_entries",
    ]
    locks = [s for s in statements if "pg_advisory_xact_lock_shared" in s]
    assert len(locks) == int(postgresql)  # the month's lock, shared, in the places' read
    assert "batches" in statements[0]
    rows = dict(db.execute(select(StockBalance.location_id, StockBalance.qty)).all())
    assert rows == {place.a1.id: 9, place.a2.id: 1}


def test_a_second_move_in_the_transaction_checks_the_month_no_more(db, place, count_queries):
    post(db, place, 10)
    move = dict(warehouse_id=place.warehouse.id, batch_id=place.batch.id, qty=1, actor=place.actor)
    move_stock(db, from_location_id=place.a1.id, to_location_id=place.a2.id, **move)
    with count_queries() as statements:
        move_stock(db, from_location_id=place.a2.id, to_location_id=place.a1.id, **move)
    assert not [s for s in statements if "closed_months" in s or "pg_advisory" in s]


def test_a_move_into_a_closed_month_or_from_nowhere_writes_nothing(db, place):
    post(db, place, 10)
    last_month = (TODAY.replace(day=1) - timedelta(days=1)).strftime("%Y-%m")
    close_month(db, month=last_month, actor=place.actor)
    db.commit()
    counts = _counts(db)
    move = dict(warehouse_id=place.warehouse.id, batch_id=place.batch.id, qty=1, actor=place.actor)
    with pytest.raises(ledger.PeriodClosed):
        move_stock(
            db,
            from_location_id=place.a1.id,
            to_location_id=place.a2.id,
            document_date=date.fromisoformat(last_month + "-15"),
            **move,
        )
    db.rollback()
    with pytest.raises(ValidationError):
        move_stock(db, from_location_id=place.a1.id + 10_000, to_location_id=place.a2.id, **move)
    db.rollback()
    with pytest.raises(NotFound):
        move_stock(
            db,
            from_location_id=place.a1.id,
            to_location_id=place.a2.id,
            **{**move, "batch_id": place.batch.id + 10_000},
        )
    db.rollback()
    assert _counts(db) == counts


def _counts(db) -> tuple[int, ...]:
    return tuple(
        db.scalar(select(func.count()).select_from(model))
        for model in (StockMovement, StockMove, StockBalance, AuditEntry)
    )


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
