"""Allocation orders with real processes on a committed database (SQLite file or PostgreSQL):
eight approvals racing for the same stock and the same agreement capacity never oversell
either, each loser is told which line fell short and nothing of its order is held, and
``stock verify`` stays clean; order numbers ``DB-YYYYMM-NNNN`` are given once under parallel
drafting."""

import multiprocessing
import re
import time
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from reserve.agreements.callup_models import CallUp
from reserve.agreements.models import AgreementLine
from reserve.auth.actor import Actor
from reserve.db import local_today, transaction, utcnow
from reserve.errors import ReserveError
from reserve.extensions import db as flask_db
from reserve.orders import service
from reserve.orders.models import AllocationOrder, OrderSource
from reserve.orders.service import LineData, OrderData, SourceData
from reserve.stock import ledger
from reserve.stock.models import StockBalance, StockReservation
from tests.agreements.conftest import code
from tests.conftest import drop_database, make_database, test_app
from tests.stock.test_processes import _dispose, _schema

SPAWN = multiprocessing.get_context("spawn")
RACERS = 8
STOCK = 100  # tents in the one place
CAPACITY = 100  # quilts the one agreement line can still give
# (tents from stock on line 1, quilts called up on line 2) per order: four racers want much
# stock and one quilt, four one tent and much capacity. Whatever order they come in, exactly
# three of each kind fit (3 × 30 + 4 × 1 ≤ 100 < 4 × 30): the fourth stock-hungry order falls
# short on line 1, the fourth capacity-hungry one on line 2, and the six winners hold 93 of each.
HUNGRY, ONE = 30, 1
WANTS = [(HUNGRY, ONE)] * (RACERS // 2) + [(ONE, HUNGRY)] * (RACERS // 2)
DISPATCHER = Actor.system("dispatcher")


def _seed(url: str) -> dict:
    """One warehouse with 100 tents, one agreement for 100 quilts; the orders are drafted by
    the caller."""
    from reserve.agreements import signing
    from reserve.agreements.models import Enterprise
    from reserve.agreements.signing import AgreementData
    from reserve.agreements.signing import LineData as AgreementLineData
    from reserve.catalog.models import Category, Material
    from reserve.stock.models import Batch, MovementKind
    from reserve.warehouses.models import Location, Region, Warehouse

    app = test_app(url)
    _schema(app)
    today = local_today()
    seed = Actor.system("seed")
    with app.app_context(), transaction() as s:
        region = Region(code="370124", name="平阴县", level="county")
        category = Category(code="1000000", name="基本生活保障物资", level=1)
        enterprise = Enterprise(name="平阴被服制造有限公司", uscc=code("91370124MA3C4PYX8"))
        s.add_all([region, category, enterprise])
        s.flush()
        warehouse = Warehouse(code="RACE", name="竞争库", level="county", region_id=region.id)
        tent = Material(code="1010100001", name="帐篷", unit="顶", category_id=category.id)
        quilt = Material(code="1010100002", name="棉被", unit="床", category_id=category.id)
        s.add_all([warehouse, tent, quilt])
        s.flush()
        location = Location(warehouse_id=warehouse.id, code="A-01-01")
        batch = Batch(material_id=tent.id, batch_no="B1", source="purchase")
        s.add_all([location, batch])
        s.flush()
        ledger.post_movement(
            s,
            kind=MovementKind.RECEIPT,
            location_id=location.id,
            batch_id=batch.id,
            qty=STOCK,
            document=ledger.DocumentRef("seed", None, None, today),
            actor=seed,
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
                lines=(
                    AgreementLineData(material_id=quilt.id, kind="stock", committed_qty=CAPACITY),
                ),
            ),
            actor=seed,
        )
        signing.activate_agreement(s, agreement_id=agreement.id, actor=seed)
        ids = {
            "tent": tent.id,
            "quilt": quilt.id,
            "location": location.id,
            "batch": batch.id,
            "agreement_line": agreement.lines[0].id,
        }
    _dispose(app)
    return ids


def _order_data(ids: dict, tents: int, quilts: int) -> OrderData:
    return OrderData(
        kind="dispatch",
        requesting_unit="平阴县应急管理局",
        needed_by=utcnow() + timedelta(hours=8),
        site_address="平阴县玫瑰镇安置点",
        reason="汛期转移安置",
        lines=(
            LineData(
                material_id=ids["tent"],
                qty=tents,
                sources=(
                    SourceData(
                        kind="stock", qty=tents, location_id=ids["location"], batch_id=ids["batch"]
                    ),
                ),
            ),
            LineData(
                material_id=ids["quilt"],
                qty=quilts,
                sources=(
                    SourceData(
                        kind="agreement", qty=quilts, agreement_line_id=ids["agreement_line"]
                    ),
                ),
            ),
        ),
    )


def _submitted_orders(url: str, ids: dict) -> list[int]:
    """Every racer's order, drafted and submitted (all fit on their own: nothing held yet)."""
    app = test_app(url)
    with app.app_context(), transaction() as s:
        order_ids = []
        for tents, quilts in WANTS:
            order = service.create_order(s, data=_order_data(ids, tents, quilts), actor=DISPATCHER)
            service.submit_order(s, order_id=order.id, actor=DISPATCHER)
            order_ids.append(order.id)
    _dispose(app)
    return order_ids


def _wait_to_start(start: str) -> None:
    while not Path(start).exists():  # all racers start together
        time.sleep(0.005)


def _approve(url: str, order_id: int, start: str) -> tuple[int, str]:
    app = test_app(url)
    _wait_to_start(start)
    with app.app_context():
        try:
            with transaction() as s:
                service.approve_order(s, order_id=order_id, actor=Actor.system("approver"))
            outcome = "won"
        except ReserveError as error:
            outcome = str(error.message)
        flask_db.session.remove()
    _dispose(app)
    return order_id, outcome


def _race(function, args: list[tuple], start: Path) -> list:
    with SPAWN.Pool(RACERS) as pool:
        pending = pool.starmap_async(function, args)
        time.sleep(1.0)  # let the spawned racers import and wait at the start line
        start.write_text("go")
        return pending.get(timeout=240)


@pytest.fixture
def committed_url(tmp_path, worker_id, request):
    url = make_database(f"ord_{worker_id}_{request.node.name[-12:]}", tmp_path)
    yield url
    drop_database(url)


@pytest.mark.slow
def test_eight_approvals_racing_for_stock_and_capacity_never_oversell(committed_url, tmp_path):
    ids = _seed(committed_url)
    order_ids = _submitted_orders(committed_url, ids)
    wants = dict(zip(order_ids, WANTS, strict=True))
    start = tmp_path / "go"
    outcomes = dict(_race(_approve, [(committed_url, o, str(start)) for o in order_ids], start))

    winners = [o for o, outcome in outcomes.items() if outcome == "won"]
    losers = {o: outcome for o, outcome in outcomes.items() if outcome != "won"}
    assert len(winners) == 6, outcomes
    # in the racers' language (zh_CN): the line that fell short, its material and what is left
    (stock_loser,) = [o for o in losers if wants[o] == (HUNGRY, ONE)]
    assert re.match(
        r"第 1 行：竞争库 A-01-01 的 帐篷（批次 B1）库存不足：可用 \d+ 顶，需要 30 顶",
        losers[stock_loser],
    ), losers
    (capacity_loser,) = [o for o in losers if wants[o] == (ONE, HUNGRY)]
    assert re.match(r"第 2 行：", losers[capacity_loser]), losers
    assert "RACE-1" in losers[capacity_loser] and "棉被" in losers[capacity_loser], losers
    app = test_app(committed_url)
    with app.app_context():
        s = flask_db.session
        status = dict(s.execute(select(AllocationOrder.id, AllocationOrder.status)).all())
        assert {o for o, st in status.items() if st == "approved"} == set(winners)
        assert {o for o, st in status.items() if st == "submitted"} == set(order_ids) - set(winners)
        balance = s.scalars(select(StockBalance)).one()
        line = s.get(AgreementLine, ids["agreement_line"])
        won_tents = sum(wants[o][0] for o in winners)
        won_quilts = sum(wants[o][1] for o in winners)
        assert won_tents == won_quilts == 3 * HUNGRY + 3 * ONE
        # exactly the winners' quantities are held, never more than there is
        assert (balance.qty, balance.reserved) == (STOCK, won_tents)
        assert won_tents <= STOCK and won_quilts <= CAPACITY
        assert line.called_qty == won_quilts <= line.committed_qty
        assert s.scalar(select(func.sum(StockReservation.qty))) == won_tents
        assert s.scalar(select(func.sum(CallUp.qty))) == won_quilts
        # a loser holds nothing: no reservation, no call-up on any of its sources
        held = s.execute(
            select(OrderSource.order_id).where(
                (OrderSource.reservation_id.is_not(None)) | (OrderSource.call_up_id.is_not(None))
            )
        ).scalars()
        assert set(held) == set(winners)
        assert ledger.verify(s) == []
        s.remove()
    _dispose(app)


def _draft_numbers(url: str, ids: dict, n: int, start: str) -> list[str]:
    app = test_app(url)
    _wait_to_start(start)
    taken = []
    with app.app_context():
        for _ in range(n):
            with transaction() as s:
                order = service.create_order(s, data=_order_data(ids, 1, 1), actor=DISPATCHER)
                taken.append(order.no)
        flask_db.session.remove()
    _dispose(app)
    return taken


@pytest.mark.slow
def test_orders_drafted_in_parallel_never_share_a_number(committed_url, tmp_path):
    """8 processes × 5 drafts: DB-YYYYMM-0001 to -0040, each once, the month's counter created
    by whichever process came first."""
    ids = _seed(committed_url)
    start = tmp_path / "go"
    results = _race(_draft_numbers, [(committed_url, ids, 5, str(start))] * RACERS, start)
    numbers = sorted(no for taken in results for no in taken)
    month = local_today().strftime("%Y%m")
    assert numbers == [f"DB-{month}-{i:04d}" for i in range(1, RACERS * 5 + 1)]
    app = test_app(committed_url)
    with app.app_context():
        stored = flask_db.session.scalars(select(AllocationOrder.no)).all()
        flask_db.session.remove()
    _dispose(app)
    assert sorted(stored) == numbers
