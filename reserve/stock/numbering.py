"""Document numbers (单号): prefix, the day, a four-digit sequence — e.g. ``RK20261124-0001``.
Safe under concurrency: the sequence is taken with one conditional UPDATE … RETURNING."""

from __future__ import annotations

from datetime import date

from sqlalchemy import insert, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from reserve.stock.models import DocumentCounter

PREFIXES = {
    "receipt": "RK",  # 入库单
    "move": "YK",  # 移库单
    "stocktake": "PD",  # 盘点单
    "rotation": "LH",  # 轮换单
    "scrap": "BF",  # 报废单
    "order": "DB",  # 调拨单
}


def next_document_no(session: Session, kind: str, day: date) -> str:
    """The next number for a document of this kind on this day."""
    prefix = PREFIXES[kind]
    stmt = (
        update(DocumentCounter)
        .where(DocumentCounter.prefix == prefix, DocumentCounter.day == day)
        .values(last=DocumentCounter.last + 1)
        .returning(DocumentCounter.last)
        .execution_options(synchronize_session=False)
    )
    number = session.execute(stmt).scalar()
    if number is None:
        try:
            with session.begin_nested():
                session.execute(insert(DocumentCounter).values(prefix=prefix, day=day, last=1))
            number = 1
        except IntegrityError:  # created concurrently: take the next one
            number = session.execute(stmt).scalar_one()
    return f"{prefix}{day:%Y%m%d}-{number:04d}"


def next_yearly_no(session: Session, prefix: str, year: int) -> str:
    """The next number of a yearly series (``SB2026-0001``: 库存申报, ``HC2026-0001``: 核查),
    counted in the same table, under the first day of the year."""
    day = date(year, 1, 1)
    stmt = (
        update(DocumentCounter)
        .where(DocumentCounter.prefix == prefix, DocumentCounter.day == day)
        .values(last=DocumentCounter.last + 1)
        .returning(DocumentCounter.last)
        .execution_options(synchronize_session=False)
    )
    number = session.execute(stmt).scalar()
    if number is None:
        try:
            with session.begin_nested():
                session.execute(insert(DocumentCounter).values(prefix=prefix, day=day, last=1))
            number = 1
        except IntegrityError:  # created concurrently: take the next one
            number = session.execute(stmt).scalar_one()
    return f"{prefix}{year}-{number:04d}"
