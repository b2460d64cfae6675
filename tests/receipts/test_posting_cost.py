"""What posting a receipt costs in statements: the lookups of materials, locations, batches and
balances are one query each, the balances one upsert, however many lines. Only the inserts of
new rows may grow with the lines, and only where the driver cannot batch them with RETURNING
in order (SQLite: one INSERT per new batch and per movement); on PostgreSQL nothing grows."""

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
    db.expunge_all()  # posting happens in a request of its own: nothing in the identity map
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


def test_posting_5_or_50_lines_costs_the_same_lookups(db, site, count_queries):
    five = _post(db, site, count_queries, 5, "FIVE")
    fifty = _post(db, site, count_queries, 50, "FIFTY")
    growth = _growth(five, fifty)
    if db.get_bind().dialect.name == "postgresql":
        assert growth == {}, growth
    else:  # SQLite: only the new batches and the movements, one INSERT each
        assert growth == {"INSERT INTO batches": 45, "INSERT INTO stock_movements": 45}, growth
    # the claim (2), lines, warehouse, period (2), receiving area, materials, locations, batches
    # (2), the batch lines' UPDATE, period and places (3), the balances' upsert: 16
    fixed = [s for s in five if not s.startswith(("INSERT INTO batches", "INSERT INTO stock_mov"))]
    assert len(fixed) <= 16 + 2, fixed  # (+ PostgreSQL's period locks)


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
