"""Document numbers (单号): prefix, the day, a four-digit sequence — e.g. ``RK20261124-0001``.
Safe under concurrency: the sequence is taken with one upsert (``INSERT … ON CONFLICT DO UPDATE
SET last = last + 1 RETURNING last``): the day's first number creates its counter, the others
add one to it, and two documents at once wait on the counter's row, never share a number."""

from __future__ import annotations

import functools
from datetime import date

from sqlalchemy import bindparam
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from reserve.stock.models import DocumentCounter

PREFIXES = {
    "receipt": "RK",  # 入库单
    "move": "YK",  # 移库单
    "stocktake": "PD",  # 盘点单
    "rotation": "LH",  # 轮换单
    "scrap": "BF",  # 报废单
    "order_shipment": "CK",  # 出库单 (an order's shipment)
    "order_receipt": "QS",  # 签收单
    "order_return": "GH",  # 归还单
    # numbered by month (next_monthly_document_no):
    "order": "DB",  # 调拨单, DB-YYYYMM-NNNN
    # numbered by year (next_yearly_document_no):
    "call_up": "DY",  # 调用单
    "stock_report": "SB",  # 库存申报
    "verification": "HC",  # 核查
}


@functools.cache
def take_number_statement(dialect: str):
    """The counter's upsert (``… RETURNING last``), built once per dialect; the ledger runs it
    as a CTE beside the closed month's read (``ledger.number_in_open_month``)."""
    table = DocumentCounter.__table__
    stmt = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table).values(
        prefix=bindparam("prefix"), day=bindparam("day"), last=1
    )
    return stmt.on_conflict_do_update(
        index_elements=[table.c.prefix, table.c.day], set_={"last": table.c.last + 1}
    ).returning(table.c.last)


def next_document_no(session: Session, kind: str, day: date) -> str:
    """The next number for a document of this kind on this day: one statement."""
    return daily_document_no(kind, day, _next(session, PREFIXES[kind], day))


def daily_document_no(kind: str, day: date, sequence: int) -> str:
    """``RK20261124-0001``: a daily document's number from its counter's value."""
    return f"{PREFIXES[kind]}{day:%Y%m%d}-{sequence:04d}"


def next_yearly_document_no(session: Session, kind: str, year: int) -> str:
    """The next number of a document numbered by year, e.g. ``DY2026-0001`` (the counter of
    1 January carries the year's sequence)."""
    return f"{PREFIXES[kind]}{year}-{_next(session, PREFIXES[kind], date(year, 1, 1)):04d}"


def next_monthly_document_no(session: Session, kind: str, day: date) -> str:
    """The next number of a document numbered by month, e.g. ``DB-202612-0001`` (the counter of
    the month's first day carries the month's sequence): one statement, like the others."""
    month = day.replace(day=1)
    return f"{PREFIXES[kind]}-{month:%Y%m}-{_next(session, PREFIXES[kind], month):04d}"


def _next(session: Session, prefix: str, day: date) -> int:
    stmt = take_number_statement(session.get_bind().dialect.name)
    return session.connection().execute(stmt, {"prefix": prefix, "day": day}).scalar_one()
