"""Law 1, checked in the source: only reserve/stock/ledger.py writes the stock tables."""

import re
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "reserve"
WRITES = re.compile(
    r"(?:insert|update|delete)\(\s*(?:StockBalance|StockMovement)\b"
    r"|\b(?:StockBalance|StockMovement)\("
    r"|(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+\"?stock_(?:balances|movements)",
    re.IGNORECASE,
)


def test_only_the_ledger_writes_stock():
    offenders = []
    for path in PACKAGE.rglob("*.py"):
        if path.relative_to(PACKAGE).as_posix() in ("stock/ledger.py", "stock/models.py"):
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if WRITES.search(line):
                offenders.append(f"{path.relative_to(PACKAGE)}:{number}: {line.strip()}")
    assert offenders == []


def test_the_guard_pattern_catches_a_write():
    assert WRITES.search("session.execute(update(StockBalance).values(qty=1))")
    assert WRITES.search('db.execute(text("UPDATE stock_balances SET qty = 0"))')
    assert WRITES.search("session.add(StockMovement(qty=1))")
    assert not WRITES.search("select(StockBalance.qty)")
