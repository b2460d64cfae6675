"""No two overlapping agreements in force, with real processes on a committed database (SQLite
file or PostgreSQL): eight drafts of one enterprise for one material, activated at once by
eight processes — exactly one comes into force, the others are told which one holds it."""

import multiprocessing
import time
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from reserve.agreements import signing
from reserve.agreements.models import Agreement, Enterprise
from reserve.agreements.signing import AgreementData, LineData
from reserve.auth.actor import Actor
from reserve.db import local_today, transaction
from reserve.errors import Conflict
from reserve.extensions import db as flask_db
from tests.agreements.conftest import code
from tests.conftest import drop_database, make_database, test_app
from tests.stock.test_processes import _dispose, _schema

SPAWN = multiprocessing.get_context("spawn")
RACERS = 8


def _seed(url: str) -> list[int]:
    from reserve.catalog.models import Category, Material

    app = test_app(url)
    _schema(app)
    today = local_today()
    with app.app_context(), transaction() as s:
        category = Category(code="1000000", name="基本生活保障物资", level=1)
        enterprise = Enterprise(name="济南统一企业有限公司", uscc=code("91370100MA3C4PYX8"))
        s.add_all([category, enterprise])
        s.flush()
        material = Material(code="M001", name="方便面", unit="箱", category_id=category.id)
        s.add(material)
        s.flush()
        ids = []
        for n in range(RACERS):
            agreement = signing.create_agreement(
                s,
                data=AgreementData(
                    no=f"RACE-{n}",
                    enterprise_id=enterprise.id,
                    signed_on=today,
                    valid_from=today + timedelta(days=n),
                    valid_to=today + timedelta(days=300 + n),
                    response_hours=12,
                    lines=(LineData(material_id=material.id, kind="stock", committed_qty=100),),
                ),
                actor=Actor.system("seed"),
            )
            ids.append(agreement.id)
    _dispose(app)
    return ids


def _activate(url: str, agreement_id: int, start: str) -> str:
    app = test_app(url)
    while not Path(start).exists():  # all racers start together
        time.sleep(0.005)
    with app.app_context():
        try:
            with transaction() as s:
                signing.activate_agreement(
                    s, agreement_id=agreement_id, actor=Actor.system("racer")
                )
            outcome = "won"
        except Conflict as error:
            outcome = str(error.message)
        flask_db.session.remove()
    _dispose(app)
    return outcome


@pytest.fixture
def committed_url(tmp_path, worker_id, request):
    url = make_database(f"agr_{worker_id}_{request.node.name[:16]}", tmp_path)
    yield url
    drop_database(url)


@pytest.mark.slow
def test_eight_processes_activating_overlapping_agreements_let_exactly_one_win(
    committed_url, tmp_path
):
    ids = _seed(committed_url)
    start = tmp_path / "go"
    with SPAWN.Pool(RACERS) as pool:
        pending = pool.starmap_async(
            _activate, [(committed_url, agreement_id, str(start)) for agreement_id in ids]
        )
        time.sleep(1.0)  # let the spawned racers import and wait at the start line
        start.write_text("go")
        outcomes = pending.get(timeout=120)
    assert outcomes.count("won") == 1, outcomes
    app = test_app(committed_url)
    with app.app_context():
        active = flask_db.session.scalars(
            select(Agreement.no).where(Agreement.status == "active")
        ).all()
        flask_db.session.remove()
    _dispose(app)
    assert len(active) == 1
    for outcome in outcomes:
        if outcome != "won":
            assert f"Agreement {active[0]} " in outcome or active[0] in outcome, outcome
