"""Document numbers (单号): the day's first of a kind is -0001, each next one adds one, each kind
and each day counts on its own, and taking one is one statement."""

from __future__ import annotations

from datetime import date

from reserve.stock.numbering import next_document_no

DAY = date(2026, 11, 24)


def test_numbers_count_per_kind_and_day(db, count_queries):
    with count_queries() as statements:
        first = next_document_no(db, "receipt", DAY)
    assert first == "RK20261124-0001"
    assert len(statements) == 1  # the day's counter created by the same upsert
    assert next_document_no(db, "receipt", DAY) == "RK20261124-0002"
    assert next_document_no(db, "move", DAY) == "YK20261124-0001"
    assert next_document_no(db, "receipt", date(2026, 11, 25)) == "RK20261125-0001"
    with count_queries() as statements:
        assert next_document_no(db, "receipt", DAY) == "RK20261124-0003"
    assert len(statements) == 1
