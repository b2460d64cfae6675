"""The demo city's stock reports (库存申报) and verifications (核查), replayed in time order
through the same services as the pages (``reserve.agreements.reports``):

- monthly reports for the last three months from most enterprises (every fifth files none),
  some held below commitment (every fourth enterprise, 80–95 % of it);
- a verification for most enterprises in the last two months, passed; some enterprises last
  verified four to seven months ago, some never (unverified for more than 90 days);
- exactly one failed verification (the second enterprise: short on its first line);
- a requested report awaiting the first enterprise (the demo ``enterprise`` user's).

Kept fast: a few hundred small documents."""

from __future__ import annotations

import random
from datetime import date, timedelta

from sqlalchemy.orm import Session

from reserve.agreements import reports
from reserve.agreements.reports import (
    CountData,
    PlanData,
    RecordData,
    ReportData,
    ReportLineData,
)
from reserve.auth.actor import Actor
from reserve.db import clock_at, local_today
from reserve.demo.clock import demo_moment

INSPECTORS = ("张伟、李娜", "王强、刘洋", "陈静、杨帆", "赵磊、孙悦")


def _month_back(today: date, n: int) -> date:
    """The first day of the month ``n`` months before this one."""
    month = today.year * 12 + today.month - 1 - n
    return date(month // 12, month % 12 + 1, 1)


def _report(session, actor, enterprise_id, month, held_share, rng) -> bool:
    lines = reports.stock_lines(session, enterprise_id)
    if not lines:
        return False
    rows = tuple(
        ReportLineData(
            agreement_line_id=line.id,
            held_qty=line.committed_qty
            if held_share >= 1
            else int(line.committed_qty * held_share) - rng.randint(0, 3),
            batch_no=f"{month:%Y%m}-{line.line_no:02d}",
        )
        for line in lines
    )
    reports.file_report(
        session,
        data=ReportData(enterprise_id=enterprise_id, period_month=month, lines=rows),
        actor=actor,
    )
    return True


def _verify(session, actor, enterprise_id, day, rng, *, fail=False) -> bool:
    with clock_at(demo_moment(day - timedelta(days=7), 9)):
        lines = reports.stock_lines(session, enterprise_id)
        if not lines:
            return False
        planned = reports.plan_verification(
            session,
            data=PlanData(
                enterprise_id=enterprise_id, planned_on=day, inspectors=rng.choice(INSPECTORS)
            ),
            actor=actor,
        )
    counts = tuple(
        CountData(
            agreement_line_id=line.id,
            counted_qty=int(line.committed_qty * 0.7)
            if fail and n == 0
            else line.committed_qty - line.shipped_qty,
            note="部分物资受潮霉变，数量不足" if fail and n == 0 else None,
        )
        for n, line in enumerate(lines)
    )
    with clock_at(demo_moment(day, 15)):
        reports.record_verification(
            session,
            verification_id=planned.id,
            data=RecordData(
                checked_on=day,
                findings="库存短少，限期补足并整改仓储条件" if fail else "账实相符，储存条件良好",
                lines=counts,
            ),
            actor=actor,
        )
    return True


def load_reports(session: Session, actor: Actor, enterprise_ids: list[int]) -> dict[str, int]:
    """Reports and verifications of the demo enterprises: counts of each."""
    rng = random.Random(12)
    today = local_today()
    made = {"reports": 0, "verifications": 0, "requests": 0}
    # monthly reports, oldest month first (each submitted on the 3rd of the month after)
    for back in (3, 2, 1):
        month = _month_back(today, back)
        filed_on = min(_month_back(today, back - 1) + timedelta(days=2), today)
        with clock_at(demo_moment(filed_on)):
            for n, enterprise_id in enumerate(enterprise_ids):
                if n % 5 == 4:
                    continue  # these file no reports
                share = rng.uniform(0.8, 0.95) if n % 4 == 3 else 1
                made["reports"] += _report(session, actor, enterprise_id, month, share, rng)
    # verifications: long ago for some, recent for most, one failed, some never
    for n, enterprise_id in enumerate(enterprise_ids):
        if n % 11 == 10:
            continue  # never verified
        if n % 6 == 5:
            day = today - timedelta(days=rng.randint(120, 210))  # unverified for months
        else:
            day = today - timedelta(days=rng.randint(5, 60))
        made["verifications"] += _verify(session, actor, enterprise_id, day, rng, fail=n == 1)
    # a request awaiting the demo enterprise user's enterprise
    with clock_at(demo_moment(today - timedelta(days=1))):
        reports.request_report(
            session,
            enterprise_id=enterprise_ids[0],
            due_on=today + timedelta(days=6),
            message="汛期临近，请于截止日期前如实申报各协议物资实有数量及批号、有效期。",
            actor=actor,
        )
    made["requests"] += 1
    return made
