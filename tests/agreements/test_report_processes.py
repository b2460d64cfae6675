"""库存申报 and 核查 with real processes on a committed database (SQLite file or PostgreSQL):
four processes submit the same draft while four others ship on the same line (the call-up
service's statement, stood in for here): exactly one submission wins, the others are told it
was submitted; no shipment is lost, and the cap is the reported quantity plus what had shipped
when the report's UPDATE ran. Then four processes record the same planned verification:
exactly one does."""

import multiprocessing
import time
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, update

from reserve.agreements import reports, signing
from reserve.agreements.models import AgreementLine, Enterprise
from reserve.agreements.report_models import StockReport, Verification
from reserve.agreements.reports import CountData, PlanData, RecordData, ReportData, ReportLineData
from reserve.agreements.signing import AgreementData, LineData
from reserve.audit.models import AuditEntry
from reserve.auth.actor import Actor
from reserve.db import local_today, transaction
from reserve.errors import Conflict
from reserve.extensions import db as flask_db
from tests.agreements.conftest import code
from tests.conftest import drop_database, make_database, test_app
from tests.stock.test_processes import _dispose, _schema

SPAWN = multiprocessing.get_context("spawn")
RACERS = 4
SHIP = 50


def _seed(url: str) -> dict:
    from reserve.catalog.models import Category, Material

    app = test_app(url)
    _schema(app)
    today = local_today()
    actor = Actor.system("seed")
    with app.app_context(), transaction() as s:
        category = Category(code="1000000", name="基本生活保障物资", level=1)
        enterprise = Enterprise(name="济南统一企业有限公司", uscc=code("91370100MA3C4PYX8"))
        s.add_all([category, enterprise])
        s.flush()
        material = Material(code="M001", name="方便面", unit="箱", category_id=category.id)
        s.add(material)
        s.flush()
        agreement = signing.create_agreement(
            s,
            data=AgreementData(
                no="RACE-1",
                enterprise_id=enterprise.id,
                signed_on=today,
                valid_from=today - timedelta(days=10),
                valid_to=today + timedelta(days=300),
                response_hours=12,
                lines=(LineData(material_id=material.id, kind="stock", committed_qty=1000),),
            ),
            actor=actor,
        )
        signing.activate_agreement(s, agreement_id=agreement.id, actor=actor)
        line_id = agreement.lines[0].id
        s.execute(update(AgreementLine).where(AgreementLine.id == line_id).values(called_qty=400))
        draft = reports.create_report(
            s,
            data=ReportData(
                enterprise_id=enterprise.id,
                period_month=today,
                lines=(ReportLineData(agreement_line_id=line_id, held_qty=600),),
            ),
            actor=actor,
        )
        planned = reports.plan_verification(
            s,
            data=PlanData(enterprise_id=enterprise.id, planned_on=today, inspectors="张伟"),
            actor=actor,
        )
        ids = {"line": line_id, "report": draft.id, "verification": planned.id}
    _dispose(app)
    return ids


def _wait(start: str) -> None:
    while not Path(start).exists():  # all racers start together
        time.sleep(0.005)


def _submit(url: str, report_id: int, start: str) -> str:
    app = test_app(url)
    _wait(start)
    with app.app_context():
        try:
            with transaction() as s:
                reports.submit_report(s, report_id=report_id, actor=Actor.system("racer"))
            outcome = "won"
        except Conflict as error:
            outcome = str(error.message)
        flask_db.session.remove()
    _dispose(app)
    return outcome


def _ship(url: str, line_id: int, start: str) -> str:
    """The call-up's confirmation, as its service writes it: one conditional UPDATE."""
    app = test_app(url)
    _wait(start)
    with app.app_context():
        with transaction() as s:
            done = s.execute(
                update(AgreementLine)
                .where(
                    AgreementLine.id == line_id,
                    AgreementLine.shipped_qty + SHIP <= AgreementLine.called_qty,
                )
                .values(shipped_qty=AgreementLine.shipped_qty + SHIP)
            ).rowcount
        flask_db.session.remove()
    _dispose(app)
    return "shipped" if done == 1 else "refused"


def _record(url: str, verification_id: int, line_id: int, start: str) -> str:
    app = test_app(url)
    _wait(start)
    with app.app_context():
        try:
            with transaction() as s:
                reports.record_verification(
                    s,
                    verification_id=verification_id,
                    data=RecordData(
                        checked_on=local_today(),
                        lines=(CountData(agreement_line_id=line_id, counted_qty=600),),
                    ),
                    actor=Actor.system("racer"),
                )
            outcome = "won"
        except Conflict as error:
            outcome = str(error.message)
        flask_db.session.remove()
    _dispose(app)
    return outcome


def _race(calls) -> list:
    start_dir = Path(calls[0][1][-1]).parent
    start = start_dir / "go"
    with SPAWN.Pool(len(calls)) as pool:
        pending = [pool.apply_async(fn, args) for fn, args in calls]
        time.sleep(1.0)  # let the spawned racers import and wait at the start line
        start.write_text("go")
        return [p.get(timeout=120) for p in pending]


@pytest.fixture
def committed_url(tmp_path, worker_id, request):
    url = make_database(f"rep_{worker_id}_{request.node.name[:16]}", tmp_path)
    yield url
    drop_database(url)


@pytest.mark.slow
def test_racing_submissions_and_shipments(committed_url, tmp_path):
    ids = _seed(committed_url)
    go = str(tmp_path / "go")
    calls = [(_submit, (committed_url, ids["report"], go)) for _ in range(RACERS)]
    calls += [(_ship, (committed_url, ids["line"], go)) for _ in range(RACERS)]
    outcomes = _race(calls)
    submits, ships = outcomes[:RACERS], outcomes[RACERS:]
    assert submits.count("won") == 1, submits
    assert all("SB" in o and "racer" in o for o in submits if o != "won"), submits  # who did
    assert ships == ["shipped"] * RACERS
    app = test_app(committed_url)
    with app.app_context():
        s = flask_db.session
        line = s.get(AgreementLine, ids["line"])
        assert line.shipped_qty == RACERS * SHIP  # no shipment lost
        assert line.reported_qty == 600
        assert 600 <= line.capped_qty <= 600 + RACERS * SHIP
        assert (line.capped_qty - 600) % SHIP == 0  # held + shipped as it was at that moment
        assert s.get(StockReport, ids["report"]).status == "submitted"
        assert (
            s.scalar(
                select(func.count())
                .select_from(AuditEntry)
                .where(AuditEntry.object_type == "stock_reports", AuditEntry.action == "submit")
            )
            == 1
        )
        s.remove()
    _dispose(app)

    go2 = str(tmp_path / "again" / "go")
    Path(go2).parent.mkdir()
    outcomes = _race(
        [(_record, (committed_url, ids["verification"], ids["line"], go2)) for _ in range(RACERS)]
    )
    assert outcomes.count("won") == 1, outcomes
    app = test_app(committed_url)
    with app.app_context():
        s = flask_db.session
        verification = s.get(Verification, ids["verification"])
        assert verification.status == "recorded" and len(verification.lines) == 1
        s.remove()
    _dispose(app)
