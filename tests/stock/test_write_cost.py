"""What a write costs in statements: a move reads its places once and posts both movements in
one insert; posting N movements of a document costs what posting one does, plus one
conditional UPDATE per decrease (the ledger's race semantics) and, on SQLite only, one INSERT
per movement (no ordered RETURNING for a batch there)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from reserve.errors import InsufficientStock
from reserve.stock import ledger
from reserve.stock.models import Batch, MovementKind, StockBalance, StockMovement
from reserve.stock.service import move_stock
from reserve.warehouses.models import Location
from tests.stock.conftest import TODAY, post

DOCUMENT = ledger.DocumentRef("test", None, "T-COST", TODAY)


def _first_words(statements: list[str]) -> list[str]:
    return [" ".join(s.split()[:3]) for s in statements]


def test_a_move_costs_a_dozen_statements(db, place, count_queries):
    post(db, place, 10)
    db.expunge_all()  # a request of its own
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
    assert words.count("UPDATE stock_balances SET") == 1  # the conditional decrement
    assert words.count("INSERT INTO stock_balances") == 1  # the increment, an upsert
    assert words.count("SELECT closed_months.month FROM") == 2  # the form's date, the posting
    movements = 1 if db.get_bind().dialect.name == "postgresql" else 2
    assert words.count("INSERT INTO stock_movements") == movements
    assert len(statements) <= 14 + movements, words
    rows = dict(db.execute(select(StockBalance.location_id, StockBalance.qty)).all())
    assert rows == {place.a1.id: 9, place.a2.id: 1}


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
