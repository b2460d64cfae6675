"""Deliberate corruption for the tests of ``flask stock verify`` — the one place a test goes
behind the ledger's back. Inside ``behind_the_ledgers_back`` the runtime guard is off (as for
the ledger itself); the database's own guards (the append-only trigger on stock_movements, the
CHECKs) still hold, so what is tampered is what a bug or a hand-edit could really do."""

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import text
from sqlalchemy.orm import Session

from reserve.stock.guard import ledger_writes


@contextmanager
def behind_the_ledgers_back(session: Session) -> Iterator:
    """Yield a function that runs raw SQL on the session's connection, unguarded."""

    def run(sql: str, **params) -> None:
        session.execute(text(sql), params)

    with ledger_writes():
        yield run
    session.expire_all()
