"""The flag rule of a stock line (reserve/agreements/flags.py), in Python and in SQL, on the same
table of cases: the two forms must agree, and the boundaries are where the rule says."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
from sqlalchemy import select

from reserve.agreements.flags import FlagRule, LineFlag
from reserve.agreements.models import Agreement, AgreementLine
from reserve.agreements.signing import LineData
from reserve.db import SHANGHAI
from tests.agreements.conftest import code as uscc
from tests.availability.conftest import _agreement

TODAY = date(2026, 6, 30)
RULE = FlagRule(today=TODAY)  # 90 days; reports 31 + 10
NV, VO, VF = LineFlag.NEVER_VERIFIED, LineFlag.VERIFICATION_OVERDUE, LineFlag.VERIFICATION_FAILED
RB, RO = LineFlag.REPORTED_BELOW, LineFlag.REPORT_OVERDUE


def ago(n: int) -> date:
    return TODAY - timedelta(days=n)


def local(day: date, hour: int = 12) -> datetime:
    """``hour`` o'clock in Asia/Shanghai on ``day``, in UTC."""
    return datetime.combine(day, time(hour), tzinfo=SHANGHAI).astimezone(UTC)


GOOD = dict(
    committed_qty=1000,
    shipped_qty=0,
    reported_qty=1000,
    reported_at=local(ago(3)),
    verified_on=ago(10),
    verification_passed=True,
    valid_from=ago(200),
)

UNREPORTED = {"reported_qty": None, "reported_at": None}

CASES = [
    ("clean", {}, ()),
    ("never verified", {"verified_on": None, "verification_passed": None}, (NV,)),
    ("verified 89 days ago", {"verified_on": ago(89)}, ()),
    ("verified exactly 90 days ago: due today, not overdue", {"verified_on": ago(90)}, ()),
    ("verified 91 days ago", {"verified_on": ago(91)}, (VO,)),
    ("failed", {"verification_passed": False}, (VF,)),
    ("failed and overdue", {"verification_passed": False, "verified_on": ago(120)}, (VO, VF)),
    ("reported below commitment", {"reported_qty": 999}, (RB,)),
    ("reported at commitment", {"reported_qty": 1000}, ()),
    ("below, but the rest is out on a call-up", {"reported_qty": 700, "shipped_qty": 300}, ()),
    ("below even with what shipped", {"reported_qty": 600, "shipped_qty": 300}, (RB,)),
    ("reported 41 days ago", {"reported_at": local(ago(41))}, ()),
    ("reported 42 days ago", {"reported_at": local(ago(42))}, (RO,)),
    # 00:30 in Shanghai on the 41st day back is still that day there (16:30 UTC the day before)
    ("reported just after local midnight, 41 days ago", {"reported_at": local(ago(41), 0)}, ()),
    ("reported late in the evening, 42 days ago", {"reported_at": local(ago(42), 23)}, (RO,)),
    (
        "never reported, agreement started 41 days ago",
        {"reported_qty": None, "reported_at": None, "valid_from": ago(41)},
        (),
    ),
    (
        "never reported, agreement started 42 days ago",
        {"reported_qty": None, "reported_at": None, "valid_from": ago(42)},
        (RO,),
    ),
    (
        "everything at once",
        {
            "verified_on": None,
            "verification_passed": None,
            "reported_qty": 10,
            "reported_at": local(ago(60)),
        },
        (NV, RB, RO),
    ),
]


@pytest.mark.parametrize(("name", "changes", "expected"), CASES, ids=[c[0] for c in CASES])
def test_the_flags_of_a_stock_line(name, changes, expected):
    assert RULE.flags(kind="stock", **{**GOOD, **changes}) == expected


def test_a_capacity_line_is_never_flagged():
    bare = {**GOOD, "verified_on": None, "verification_passed": None, "reported_qty": None}
    assert RULE.flags(kind="capacity", **{**bare, "reported_at": None}) == ()


def test_the_periods_come_from_the_configuration(app):
    rule = FlagRule.from_config({"VERIFICATION_PERIOD_DAYS": 30}, today=TODAY)
    assert rule.flags(kind="stock", **{**GOOD, "verified_on": ago(31)}) == (VO,)
    assert FlagRule.from_config(app.config, today=TODAY).verification_period_days == 90


def test_the_sql_form_agrees_with_the_python_form_on_every_case(db, make_enterprise, make_material):
    """Each case as a real line on the database (SQLite or PostgreSQL): the SQL conditions pick
    exactly the lines whose Python flags say so."""
    enterprise = make_enterprise("核查测试企业", uscc("91370100MA3C4PYX7"))
    material = make_material("瓶装饮用水", code="1010100001", unit="箱")
    expected = {}
    for n, (_name, changes, flags) in enumerate(CASES):
        values = {**GOOD, **changes}
        agreement = _agreement(
            db,
            f"XY-F{n:03d}",
            enterprise,
            [
                LineData(
                    material_id=material.id, kind="stock", committed_qty=values["committed_qty"]
                )
            ],
            start=values["valid_from"],
            end=TODAY + timedelta(days=10),
            activate=False,
        )
        line = db.scalars(
            select(AgreementLine).where(AgreementLine.agreement_id == agreement.id)
        ).one()
        if values["shipped_qty"]:
            line.called_qty = line.shipped_qty = values["shipped_qty"]
        line.reported_qty, line.reported_at = values["reported_qty"], values["reported_at"]
        line.verified_on, line.verification_passed = (
            values["verified_on"],
            values["verification_passed"],
        )
        if values["verified_on"] is not None:
            line.verified_qty = 1
        expected[line.id] = set(flags)
    db.flush()
    found = {line_id: set() for line_id in expected}
    for flag, condition in RULE.sql().items():
        ids = db.scalars(
            select(AgreementLine.id)
            .join(Agreement, Agreement.id == AgreementLine.agreement_id)
            .where(AgreementLine.id.in_(expected), condition)
        )
        for line_id in ids:
            found[line_id].add(flag)
    assert found == expected
    flagged = set(
        db.scalars(
            select(AgreementLine.id)
            .join(Agreement, Agreement.id == AgreementLine.agreement_id)
            .where(AgreementLine.id.in_(expected), RULE.any_sql())
        )
    )
    assert flagged == {line_id for line_id, flags in expected.items() if flags}
