"""可调用数量, the one rule of what an agreement line can still give, in Python and in SQL: both
must agree on every combination a line can be in (the call-up's conditional UPDATE uses the
SQL form, the pages the Python one)."""

from __future__ import annotations

import itertools

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from reserve.agreements.models import AgreementLine, callable_qty


@pytest.mark.parametrize(
    ("committed", "called", "capped", "expected"),
    [
        (1000, 0, None, 1000),
        (1000, 400, None, 600),
        (1000, 1000, None, 0),
        (1000, 0, 600, 600),  # a report below commitment caps the line
        (1000, 100, 600, 500),
        (1000, 700, 600, 0),  # never negative
        (1000, 0, 1500, 1000),  # a cap above the commitment does not lift it
    ],
)
def test_callable_quantity(committed, called, capped, expected):
    assert callable_qty(committed, called, capped) == expected


def test_the_sql_rule_is_the_python_rule(db, make_agreement):
    line = make_agreement(activate=True).lines[0]
    for called, capped in itertools.product((0, 1, 400, 999, 1000), (None, 0, 1, 600, 1000, 1500)):
        db.execute(
            sa.update(AgreementLine)
            .where(AgreementLine.id == line.id)
            .values(called_qty=called, shipped_qty=0, capped_qty=capped)
        )
        in_sql = db.execute(
            sa.select(AgreementLine.callable_expr()).where(AgreementLine.id == line.id)
        ).scalar_one()
        assert in_sql == callable_qty(1000, called, capped), (called, capped)


@pytest.mark.parametrize(
    "values",
    [
        {"shipped_qty": 1},  # more shipped than called
        {"capped_qty": -1},
        {"reported_qty": -5},
        {"verified_qty": -5},
    ],
)
def test_the_database_refuses_impossible_line_figures(db, make_agreement, values):
    line = make_agreement(activate=True).lines[0]
    with pytest.raises(IntegrityError), db.begin_nested():
        db.execute(sa.update(AgreementLine).where(AgreementLine.id == line.id).values(**values))
