"""Agreement capacity has the stock ledger's discipline, with real processes on a committed
database (SQLite file or PostgreSQL): eight processes call up 25 each from a line of 100 at
once — exactly four win (the whole capacity granted, no more), the others are told the line
and what is left, and the line holds exactly what was granted."""

import multiprocessing
import time
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from reserve.agreements import callups, signing
from reserve.agreements.callup_models import CallUp
from reserve.agreements.callups import CallUpData
from reserve.agreements.models import AgreementLine, Enterprise
from reserve.agreements.signing import AgreementData, LineData
from reserve.auth.actor import Actor
from reserve.db import local_today, transaction, utcnow
from reserve.errors import Conflict
from reserve.extensions import db as flask_db
from tests.agreements.conftest import code
from tests.conftest import drop_database, make_database, test_app
from tests.stock.test_processes import _dispose, _schema

SPAWN = multiprocessing.get_context("spawn")
RACERS = 8
CAPACITY = 100
EACH = 25


def _seed(url: str, kind: str) -> int:
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
        line = LineData(material_id=material.id, kind=kind, committed_qty=CAPACITY)
        if kind == "capacity":
            line = LineData(
                material_id=material.id,
                kind=kind,
                committed_qty=CAPACITY,
                daily_qty=50,
                lead_hours=24,
            )
        agreement = signing.create_agreement(
            s,
            data=AgreementData(
                no="RACE-1",
                enterprise_id=enterprise.id,
                signed_on=today,
                valid_from=today,
                valid_to=today + timedelta(days=300),
                response_hours=12,
                lines=(line,),
            ),
            actor=actor,
        )
        signing.activate_agreement(s, agreement_id=agreement.id, actor=actor)
        line_id = agreement.lines[0].id
    _dispose(app)
    return line_id


def _call(url: str, line_id: int, start: str) -> str:
    app = test_app(url)
    while not Path(start).exists():  # all racers start together
        time.sleep(0.005)
    with app.app_context():
        try:
            with transaction() as s:
                callups.call_up(
                    s,
                    data=CallUpData(
                        line_id=line_id,
                        qty=EACH,
                        needed_by=utcnow() + timedelta(hours=6),
                        destination="安置点",
                    ),
                    actor=Actor.system("racer"),
                )
            outcome = "won"
        except Conflict as error:
            outcome = str(error.message)
        flask_db.session.remove()
    _dispose(app)
    return outcome


@pytest.fixture
def committed_url(tmp_path, worker_id, request):
    url = make_database(f"cu_{worker_id}_{request.node.name[-12:]}", tmp_path)
    yield url
    drop_database(url)


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["stock", "capacity"])
def test_eight_processes_calling_up_one_line_are_granted_exactly_its_capacity(
    committed_url, tmp_path, kind
):
    line_id = _seed(committed_url, kind)
    start = tmp_path / "go"
    with SPAWN.Pool(RACERS) as pool:
        pending = pool.starmap_async(
            _call, [(committed_url, line_id, str(start)) for _ in range(RACERS)]
        )
        time.sleep(1.0)  # let the spawned racers import and wait at the start line
        start.write_text("go")
        outcomes = pending.get(timeout=120)
    winners = CAPACITY // EACH
    assert outcomes.count("won") == winners, outcomes
    for outcome in outcomes:
        if outcome != "won":
            # in the racers' language (zh_CN): the agreement, its line, the material, what is left
            assert "RACE-1" in outcome and "方便面" in outcome, outcome
            assert f"仅剩 {CAPACITY - winners * EACH}，" in outcome, outcome
    app = test_app(committed_url)
    with app.app_context():
        session = flask_db.session
        line = session.get(AgreementLine, line_id)
        granted = session.scalar(select(func.sum(CallUp.qty)).where(CallUp.line_id == line_id))
        numbers = session.scalars(select(CallUp.no)).all()
        assert (line.called_qty, granted) == (CAPACITY, CAPACITY)
        assert len(set(numbers)) == winners
        session.remove()
    _dispose(app)
