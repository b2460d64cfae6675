"""The demo city's reports and verifications: the mix the issue asks for, loaded fast."""

from __future__ import annotations

import time
from datetime import timedelta

from sqlalchemy import func, select

from reserve.agreements.models import AgreementLine, Enterprise
from reserve.agreements.report_models import StockReport, StockReportLine, Verification
from reserve.db import local_today
from reserve.demo import load_demo


def test_the_demo_has_reports_verifications_and_their_flags(db):
    started = time.perf_counter()
    load_demo(db, password="demo-pass-1")
    db.flush()
    seconds = time.perf_counter() - started
    enterprises = db.scalar(select(func.count()).select_from(Enterprise))
    reporting = db.scalar(
        select(func.count(func.distinct(StockReport.enterprise_id))).where(
            StockReport.status == "submitted"
        )
    )
    assert reporting >= enterprises * 0.6  # most enterprises report
    short = db.scalar(
        select(func.count())
        .select_from(StockReportLine)
        .where(StockReportLine.held_qty < StockReportLine.committed_qty)
    )
    assert short > 0
    assert (
        db.scalar(
            select(func.count()).select_from(Verification).where(Verification.passed.is_(False))
        )
        == 1
    )
    stale = db.scalar(
        select(func.count())
        .select_from(AgreementLine)
        .where(
            AgreementLine.kind == "stock",
            AgreementLine.verified_on < local_today() - timedelta(days=90),
        )
    )
    assert stale > 0
    capped = db.scalar(
        select(func.count()).select_from(AgreementLine).where(AgreementLine.capped_qty.is_not(None))
    )
    assert capped > 0
    waiting = db.scalars(select(StockReport).where(StockReport.status == "requested")).all()
    assert len(waiting) == 1 and waiting[0].due_on > local_today()
    assert seconds < 120, seconds
