"""Laws 2 and 3 with real processes on a committed database (SQLite file or PostgreSQL):
racers never oversell, and a process killed mid-document leaves all of it or nothing."""

import multiprocessing
import os
import signal
import time
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from reserve.auth.actor import Actor
from reserve.db import transaction
from reserve.errors import InsufficientStock
from reserve.extensions import db as flask_db
from reserve.stock import ledger
from reserve.stock.models import Batch, MovementKind, StockBalance, StockMovement
from reserve.warehouses.models import Location
from tests.conftest import drop_database, make_database, test_app

SPAWN = multiprocessing.get_context("spawn")


def _schema(app):
    from flask_migrate import upgrade

    with app.app_context():
        if os.environ.get("RESERVE_TEST_SCHEMA") == "create_all":
            flask_db.create_all()
        else:
            upgrade()


def _seed(url: str, lines: int = 1, qty: int = 100) -> dict:
    from reserve.catalog.models import Category, Material
    from reserve.warehouses.models import Location, Region, Warehouse

    app = test_app(url)
    _schema(app)
    with app.app_context(), transaction() as s:
        region = Region(code="370100", name="济南市", level="city")
        category = Category(code="1000000", name="基本生活保障物资", level=1)
        s.add_all([region, category])
        s.flush()
        warehouse = Warehouse(code="RACE", name="竞争库", level="city", region_id=region.id)
        s.add(warehouse)
        s.flush()
        location = Location(warehouse_id=warehouse.id, code="A-01-01")
        s.add(location)
        materials = [
            Material(code=f"M{i:03d}", name=f"物资{i}", unit="件", category_id=category.id)
            for i in range(lines)
        ]
        s.add_all(materials)
        s.flush()
        batches = [Batch(material_id=m.id, batch_no="B1", source="purchase") for m in materials]
        s.add_all(batches)
        s.flush()
        if qty:
            ledger.post_movement(
                s,
                kind=MovementKind.RECEIPT,
                location_id=location.id,
                batch_id=batches[0].id,
                qty=qty,
                document=ledger.DocumentRef("seed", None, None, date.today()),
                actor=Actor.system("seed"),
            )
        ids = {"location": location.id, "batches": [b.id for b in batches]}
    _dispose(app)
    return ids


def _dispose(app) -> None:
    """Close this app's pooled connections (PostgreSQL must drop the database afterwards)."""
    with app.app_context():
        flask_db.engine.dispose()


def _take_one_at_a_time(url: str, location_id: int, batch_id: int, attempts: int):
    app = test_app(url)
    won = lost = 0
    with app.app_context():
        for _ in range(attempts):
            try:
                with transaction() as s:
                    ledger.post_movement(
                        s,
                        kind=MovementKind.ISSUE,
                        location_id=location_id,
                        batch_id=batch_id,
                        qty=-1,
                        document=ledger.DocumentRef("race", None, None, date.today()),
                        actor=Actor.system(f"racer-{os.getpid()}"),
                    )
                won += 1
            except InsufficientStock:
                lost += 1
    return won, lost


def _post_receipt_then_hang(
    url: str, location_id: int, batch_ids: list[int], marker: str, hang_after: int | None
):
    """Draft a 50-line receipt (committed), then post it; hang half-way through the posting."""
    from reserve.receipts.models import Receipt
    from reserve.receipts.service import ReceiptData, ReceiptLineData, create_receipt, post_receipt

    app = test_app(url)
    actor = Actor.system("crash")
    with app.app_context():
        session = flask_db.session
        receipt_id = session.scalar(select(Receipt.id))
        if receipt_id is None:
            with transaction() as s:
                materials = [s.get(Batch, b).material_id for b in batch_ids]
                receipt_id = create_receipt(
                    s,
                    actor=actor,
                    data=ReceiptData(
                        warehouse_id=s.get(Location, location_id).warehouse_id,
                        source="purchase",
                        document_date=date.today(),
                        lines=tuple(
                            ReceiptLineData(
                                material_id=m, batch_no=f"C{n:02d}", qty=10, location_id=location_id
                            )
                            for n, m in enumerate(materials)
                        ),
                    ),
                ).id
        real_post = ledger.post_movements

        def post_then_maybe_hang(*args, **kwargs):
            movements = real_post(*args, **kwargs)  # every line's movement, not yet committed
            if hang_after is not None and len(movements) >= hang_after:
                Path(marker).write_text("half-way")
                time.sleep(60)  # the parent kills us here, mid-transaction
            return movements

        ledger.post_movements = post_then_maybe_hang
        with transaction() as s:
            post_receipt(s, receipt_id=receipt_id, actor=actor)


@pytest.fixture
def committed_url(tmp_path, worker_id, request):
    url = make_database(f"proc_{worker_id}_{request.node.name[:20]}", tmp_path)
    yield url
    drop_database(url)


def _verify(url):
    app = test_app(url)
    with app.app_context():
        session = flask_db.session
        found = ledger.verify(session)
        moves = session.scalar(select(func.count()).select_from(StockMovement))
        total = session.scalar(select(func.coalesce(func.sum(StockBalance.qty), 0)))
        negative = session.scalar(
            select(func.count()).select_from(StockBalance).where(StockBalance.qty < 0)
        )
        flask_db.session.remove()
    _dispose(app)
    return found, moves, total, negative


def test_eight_processes_racing_for_a_hundred_units_take_exactly_a_hundred(committed_url):
    ids = _seed(committed_url, qty=100)
    args = [(committed_url, ids["location"], ids["batches"][0], 50)] * 8
    with SPAWN.Pool(8) as pool:
        results = pool.starmap(_take_one_at_a_time, args)
    assert sum(won for won, _ in results) == 100
    assert sum(lost for _, lost in results) == 8 * 50 - 100
    found, moves, total, negative = _verify(committed_url)
    assert found == [] and total == 0 and negative == 0
    assert moves == 1 + 100


def test_a_process_killed_mid_receipt_leaves_all_or_nothing(committed_url, tmp_path):
    ids = _seed(committed_url, lines=50, qty=0)
    marker = tmp_path / "half-way"
    child = SPAWN.Process(
        target=_post_receipt_then_hang,
        args=(committed_url, ids["location"], ids["batches"], str(marker), 25),
    )
    child.start()
    for _ in range(2400):  # a spawned child needs a while on a loaded machine
        if marker.exists():
            break
        time.sleep(0.05)
    assert marker.exists(), "the child never got half-way"
    os.kill(child.pid, signal.SIGKILL)
    child.join(10)
    found, moves, total, _ = _verify(committed_url)
    assert (moves, total) == (0, 0)
    assert found == []
    assert _receipt_status(committed_url) == "draft"
    # and the database is usable afterwards: the whole document posts
    done = SPAWN.Process(
        target=_post_receipt_then_hang,
        args=(committed_url, ids["location"], ids["batches"], str(marker), None),
    )
    done.start()
    done.join(60)
    assert done.exitcode == 0
    found, moves, total, _ = _verify(committed_url)
    assert (moves, total, found) == (50, 500, [])
    assert _receipt_status(committed_url) == "posted"


def _receipt_status(url):
    from reserve.receipts.models import Receipt

    app = test_app(url)
    with app.app_context():
        status = flask_db.session.scalar(select(Receipt.status))
        flask_db.session.remove()
    _dispose(app)
    return status


# A movement is reversed at most once, even by two reversals racing ---------------------------


def _reverse_at_the_barrier(url: str, movement_id: int, barrier, results) -> None:
    """Reverse the movement; both racers pass the "already reversed?" check, then meet at the
    barrier before inserting (on SQLite the write lock orders them: the first waits out a short
    barrier, shorter than the second's busy timeout, and commits)."""
    import contextlib
    import threading

    from reserve.errors import Conflict

    app = test_app(url)
    real_post = ledger.post_movement
    patience = 3 if url.startswith("sqlite") else 120

    def meet_then_post(*args, **kwargs):
        with contextlib.suppress(threading.BrokenBarrierError):
            barrier.wait(timeout=patience)
        return real_post(*args, **kwargs)

    ledger.post_movement = meet_then_post
    with app.app_context():
        try:
            with transaction() as s:
                ledger.reverse_movement(
                    s,
                    movement_id=movement_id,
                    actor=Actor.system(f"reverser-{os.getpid()}"),
                    reason="race",
                    document_date=date.today(),
                )
            results.put("won")
        except Conflict:
            results.put("lost")
    _dispose(app)


def test_two_processes_reversing_one_movement_reverse_it_once(committed_url):
    ids = _seed(committed_url, qty=100)
    app = test_app(committed_url)
    with app.app_context(), transaction() as s:
        issue_id = ledger.post_movement(
            s,
            kind=MovementKind.ISSUE,
            location_id=ids["location"],
            batch_id=ids["batches"][0],
            qty=-5,
            document=ledger.DocumentRef("race", None, None, date.today()),
            actor=Actor.system("seed"),
        ).id
    _dispose(app)
    barrier, results = SPAWN.Barrier(2), SPAWN.Queue()
    racers = [
        SPAWN.Process(
            target=_reverse_at_the_barrier, args=(committed_url, issue_id, barrier, results)
        )
        for _ in range(2)
    ]
    for racer in racers:
        racer.start()
    for racer in racers:
        racer.join(60)
    assert [racer.exitcode for racer in racers] == [0, 0]
    assert sorted(results.get(timeout=5) for _ in racers) == ["lost", "won"]
    found, moves, total, _ = _verify(committed_url)
    assert (found, moves, total) == ([], 3, 100)  # receipt, issue, ONE reversal


def _post_at_the_barrier(url: str, receipt_id: int, barrier, results) -> None:
    from reserve.receipts.service import post_receipt

    app = test_app(url)
    with app.app_context():
        barrier.wait()
        with transaction() as s:
            posted = post_receipt(s, receipt_id=receipt_id, actor=Actor.system("racer"))
            results.put(posted.lines[0].batch_id)
    _dispose(app)


def test_four_processes_receiving_one_new_batch_create_it_once(committed_url):
    """Four receipts of the same new batch number posted at once: the batch is inserted once
    (the others' inserts skip it and use it), every receipt posts, and the numbers differ."""
    from reserve.receipts.models import Receipt
    from reserve.receipts.service import ReceiptData, ReceiptLineData, create_receipt

    ids = _seed(committed_url, qty=0)
    app = test_app(committed_url)
    with app.app_context(), transaction() as s:
        material_id = s.get(Batch, ids["batches"][0]).material_id
        drafts = [
            create_receipt(
                s,
                actor=Actor.system("seed"),
                data=ReceiptData(
                    warehouse_id=s.get(Location, ids["location"]).warehouse_id,
                    source="purchase",
                    document_date=date.today(),
                    lines=(
                        ReceiptLineData(
                            material_id=material_id,
                            batch_no="NEW-1",
                            qty=10,
                            location_id=ids["location"],
                        ),
                    ),
                ),
            ).id
            for _ in range(4)
        ]
    _dispose(app)
    barrier, results = SPAWN.Barrier(4), SPAWN.Queue()
    racers = [
        SPAWN.Process(target=_post_at_the_barrier, args=(committed_url, rid, barrier, results))
        for rid in drafts
    ]
    for racer in racers:
        racer.start()
    for racer in racers:
        racer.join(60)
    assert [racer.exitcode for racer in racers] == [0, 0, 0, 0]
    batch_ids = {results.get(timeout=5) for _ in racers}
    app = test_app(committed_url)
    with app.app_context():
        session = flask_db.session
        new = session.scalars(select(Batch.id).where(Batch.batch_no == "NEW-1")).all()
        numbers = session.scalars(select(Receipt.no).where(Receipt.status == "posted")).all()
        flask_db.session.remove()
    _dispose(app)
    assert batch_ids == set(new) and len(new) == 1
    assert len(set(numbers)) == 4
    found, moves, total, negative = _verify(committed_url)
    assert (found, moves, total, negative) == ([], 4, 40, 0)


def _take_numbers(url: str, n: int, barrier) -> list[str]:
    from reserve.stock.numbering import next_document_no

    app = test_app(url)
    taken = []
    with app.app_context():
        barrier.wait()
        for _ in range(n):
            with transaction() as s:
                taken.append(next_document_no(s, "move", date(2026, 11, 24)))
    _dispose(app)
    return taken


def test_four_processes_taking_numbers_never_share_one(committed_url):
    """The day's counter is created by whichever process comes first, and every number after
    it is given once: 4 × 25 numbers, 0001 to 0100."""
    _seed(committed_url, qty=0)
    with SPAWN.Manager() as manager:
        barrier = manager.Barrier(4)
        with SPAWN.Pool(4) as pool:
            results = pool.starmap(_take_numbers, [(committed_url, 25, barrier)] * 4)
    numbers = sorted(no for taken in results for no in taken)
    assert numbers == [f"YK20261124-{i:04d}" for i in range(1, 101)]


# Month close and posting cannot race -------------------------------------------------------


def _last_month() -> date:
    return date.today().replace(day=1) - timedelta(days=1)


def _hold_until(marker: str, other: str) -> None:
    """Say we got there, wait until the other process is about to begin, then a moment more
    (enough for it to reach the lock)."""
    Path(marker).write_text("here")
    _wait_for(Path(other))
    time.sleep(1.0)


def _post_into_last_month(url, location_id, batch_id, marker, other, results) -> None:
    """Post into last month; with ``other``, hold the transaction open until the other
    process is at the door; without, say we are at the door first."""
    app = test_app(url)
    with app.app_context():
        if other is None:
            Path(marker).write_text("starting")
        try:
            with transaction() as s:
                ledger.post_movement(
                    s,
                    kind=MovementKind.RECEIPT,
                    location_id=location_id,
                    batch_id=batch_id,
                    qty=1,
                    document=ledger.DocumentRef("late", None, None, _last_month()),
                    actor=Actor.system("poster"),
                )
                if other is not None:
                    _hold_until(marker, other)
            results.put(("posted", time.time()))
        except ledger.PeriodClosed:
            results.put(("refused", time.time()))
    _dispose(app)


def _close_last_month(url, marker, other, results) -> None:
    from reserve.stock.periods import close_month

    app = test_app(url)
    with app.app_context():
        if other is None:
            Path(marker).write_text("starting")
        with transaction() as s:
            close_month(s, month=_last_month().strftime("%Y-%m"), actor=Actor.system("closer"))
            if other is not None:
                _hold_until(marker, other)
        results.put(("closed", time.time()))
    _dispose(app)


def _wait_for(marker: Path) -> None:
    for _ in range(2400):
        if marker.exists():
            return
        time.sleep(0.05)
    raise AssertionError("the first process never got there")


def test_a_close_waits_for_a_posting_in_flight(committed_url, tmp_path):
    ids = _seed(committed_url, qty=0)
    first, second, results = tmp_path / "posted", tmp_path / "closing", SPAWN.Queue()
    poster = SPAWN.Process(
        target=_post_into_last_month,
        args=(committed_url, ids["location"], ids["batches"][0], str(first), str(second), results),
    )
    poster.start()
    _wait_for(first)
    closer = SPAWN.Process(
        target=_close_last_month, args=(committed_url, str(second), None, results)
    )
    closer.start()
    poster.join(60)
    closer.join(60)
    assert (poster.exitcode, closer.exitcode) == (0, 0)
    outcome = dict(results.get(timeout=5) for _ in range(2))
    assert set(outcome) == {"posted", "closed"}
    assert outcome["closed"] >= outcome["posted"]  # the close committed after the posting
    found, moves, total, _ = _verify(committed_url)
    assert (found, moves, total) == ([], 1, 1)


def test_a_posting_waits_for_a_close_in_flight_and_is_refused(committed_url, tmp_path):
    ids = _seed(committed_url, qty=0)
    first, second, results = tmp_path / "closed", tmp_path / "posting", SPAWN.Queue()
    closer = SPAWN.Process(
        target=_close_last_month, args=(committed_url, str(first), str(second), results)
    )
    closer.start()
    _wait_for(first)
    poster = SPAWN.Process(
        target=_post_into_last_month,
        args=(committed_url, ids["location"], ids["batches"][0], str(second), None, results),
    )
    poster.start()
    closer.join(60)
    poster.join(60)
    assert (closer.exitcode, poster.exitcode) == (0, 0)
    outcome = dict(results.get(timeout=5) for _ in range(2))
    assert set(outcome) == {"closed", "refused"}
    found, moves, total, _ = _verify(committed_url)
    assert (found, moves, total) == ([], 0, 0)
