"""What posting a receipt costs in statements: the lookups of materials, locations, batches and
balances are one query each, the new batches one insert, the balances one upsert, the movements
one insert, however many lines: 1, 10 or 50 lines cost the same 17 statements on PostgreSQL
(16 on SQLite, which has no period lock), but for the movements on SQLite, one INSERT each
(no ordered RETURNING for a batch there: a small constant, one statement, per line)."""

from __future__ import annotations

from sqlalchemy import select

from reserve.receipts import service
from reserve.stock.models import StockBalance, StockMovement
from tests.receipts.conftest import line, receipt_data


def _post(db, site, count_queries, n: int, prefix: str) -> list[str]:
    lines = [
        line(site.tent if i % 2 else site.water, f"{prefix}-{i:03d}", 1 + i % 7) for i in range(n)
    ]
    receipt = service.create_receipt(db, data=receipt_data(site, *lines), actor=site.keeper)
    db.commit()  # posting happens in a request of its own: its own transaction,
    db.expunge_all()  # nothing in the identity map
    with count_queries() as posted:
        service.post_receipt(db, receipt_id=receipt.id, actor=site.keeper)
    movements = db.scalars(
        select(StockMovement).where(StockMovement.document_id == receipt.id)
    ).all()
    assert [m.qty for m in sorted(movements, key=lambda m: m.id)] == [1 + i % 7 for i in range(n)]
    assert all(m.balance_after == m.qty for m in movements)  # each a new batch
    return posted


def _growth(few: list[str], many: list[str]) -> dict[str, int]:
    """Statements of the long receipt beyond the short one's, by their first words."""

    def kinds(statements):
        counted: dict[str, int] = {}
        for statement in statements:
            words = statement.split()
            key = " ".join(words[:3]) if words[0].upper() == "INSERT" else words[0].upper()
            counted[key] = counted.get(key, 0) + 1
        return counted

    a, b = kinds(few), kinds(many)
    return {key: b[key] - a.get(key, 0) for key in b if b[key] != a.get(key, 0)}


def test_posting_1_10_or_50_lines_costs_the_same_statements(db, site, count_queries):
    one = _post(db, site, count_queries, 1, "ONE")
    postgresql = db.get_bind().dialect.name == "postgresql"
    for n in (10, 50):
        growth = _growth(one, _post(db, site, count_queries, n, f"N{n}"))
        if postgresql:
            assert growth == {}, (n, growth)
        else:  # SQLite: only the movements, one INSERT each
            assert growth == {"INSERT INTO stock_movements": n - 1}, (n, growth)
    # the claim (3: the receipt, the conditional UPDATE, the receipt as claimed), its lines,
    # the warehouse, the period (1; + its lock on PostgreSQL), the receiving area, the
    # materials, the locations, the batches on the books, the new batches' insert, the lines'
    # batch UPDATE, the places (2), the balances' upsert, the movements' insert: 16 (the audit
    # entry is flushed with the transaction)
    assert len(one) == 16 + int(postgresql), one
    assert sum(s.startswith("SELECT closed_months") for s in one) == 1  # once, not per check


def test_lines_into_the_same_balance_carry_their_running_balance(db, site):
    """Three lines of one batch at one place: one upsert, and each movement's balance after."""
    lines = [line(site.tent, "SAME", qty) for qty in (3, 4, 5)]
    receipt = service.create_receipt(db, data=receipt_data(site, *lines), actor=site.keeper)
    service.post_receipt(db, receipt_id=receipt.id, actor=site.keeper)
    movements = db.scalars(
        select(StockMovement)
        .where(StockMovement.document_id == receipt.id)
        .order_by(StockMovement.id)
    ).all()
    assert [(m.qty, m.balance_after) for m in movements] == [(3, 3), (4, 7), (5, 12)]
    again = service.create_receipt(
        db, data=receipt_data(site, line(site.tent, "SAME", 2)), actor=site.keeper
    )
    service.post_receipt(db, receipt_id=again.id, actor=site.keeper)
    assert (
        db.scalar(select(StockBalance.qty).where(StockBalance.batch_id == movements[0].batch_id))
        == 14
    )
