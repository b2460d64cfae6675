"""The document lifecycle toolkit (reserve/documents.py): one conditional status change, one
attribution, one line limit and line prefix — and, with real processes on a committed database
(SQLite file or PostgreSQL), two people posting or approving the same document at once: exactly
one wins and the stock is posted once."""

import multiprocessing
import time
from datetime import date

import pytest
from sqlalchemy import func, select

from reserve.auth.actor import Actor
from reserve.auth.models import Role
from reserve.db import transaction
from reserve.documents import (
    MAX_LINES,
    check_line_count,
    for_line,
    is_same_person,
    line_error,
    stamp,
    transition,
)
from reserve.errors import Conflict, InsufficientStock, NotFound, ValidationError
from reserve.extensions import db as flask_db
from reserve.receipts.models import Receipt, ReceiptStatus
from reserve.stock import ledger
from reserve.stock.models import StockBalance, StockMovement
from tests.conftest import drop_database, make_database, test_app
from tests.stock.test_processes import _dispose, _seed

SPAWN = multiprocessing.get_context("spawn")


# The toolkit, in one session ------------------------------------------------------------------


def _draft(db, site_actor, no="RK-TEST-1"):
    receipt = Receipt(
        no=no,
        warehouse_id=site_actor["warehouse"].id,
        source="purchase",
        document_date=date(2026, 3, 1),
        status=ReceiptStatus.DRAFT.value,
        **stamp("created", site_actor["actor"]),
    )
    db.add(receipt)
    db.flush()
    return receipt


@pytest.fixture
def site(db, make_warehouse, make_user):
    user = make_user(Role.KEEPER)
    return {"warehouse": make_warehouse(), "actor": Actor.for_user(user), "user": user}


def test_stamp_sets_id_name_and_time_from_the_actor(db, site):
    receipt = _draft(db, site)
    assert receipt.created_by_id == site["user"].id
    assert receipt.created_by_name == site["user"].username
    assert receipt.created_at is not None and receipt.created_at.tzinfo is not None


def test_transition_leaves_only_the_named_states_and_says_who_won(db, site, english):
    receipt = _draft(db, site)
    posted = transition(
        db,
        Receipt,
        receipt.id,
        from_states=[ReceiptStatus.DRAFT.value],
        to_state=ReceiptStatus.POSTED.value,
        values=stamp("posted", site["actor"]),
    )
    assert posted is receipt and receipt.status == "posted"
    assert receipt.posted_by_name == site["user"].username
    with pytest.raises(Conflict, match=f"{receipt.no} has already been posted \\(by "):
        transition(
            db,
            Receipt,
            receipt.id,
            from_states=[ReceiptStatus.DRAFT.value],
            to_state=ReceiptStatus.CANCELLED.value,
        )
    db.refresh(receipt)
    assert receipt.status == "posted" and receipt.cancelled_at is None
    with pytest.raises(NotFound):
        transition(db, Receipt, 999_999, from_states=["draft"], to_state="posted")


def test_the_same_person_is_compared_by_id_and_the_system_by_name(db, site):
    receipt = _draft(db, site)
    same_name_other_user = Actor(user_id=site["user"].id + 1000, username=site["user"].username)
    assert is_same_person(site["actor"], receipt, "created")
    assert not is_same_person(same_name_other_user, receipt, "created")
    assert not is_same_person(Actor.system(site["user"].username), receipt, "created")
    system_made = _draft(
        db, {"warehouse": site["warehouse"], "actor": Actor.system("cli")}, no="RK-TEST-2"
    )
    assert is_same_person(Actor.system("cli"), system_made, "created")
    assert not is_same_person(Actor.system("demo"), system_made, "created")
    assert not is_same_person(site["actor"], system_made, "created")


@pytest.fixture
def english(app):
    from flask_babel import force_locale

    with app.test_request_context(), force_locale("en"):
        yield


def test_one_line_limit_and_one_line_prefix(english):
    check_line_count(range(MAX_LINES))
    with pytest.raises(ValidationError, match="at least one line"):
        check_line_count([])
    with pytest.raises(ValidationError, match=f"at most {MAX_LINES} lines"):
        check_line_count(range(MAX_LINES + 1))
    error = line_error(3, InsufficientStock("Not enough.", field="qty", available=2))
    assert isinstance(error, InsufficientStock)
    assert str(error.message) == "Line 3: Not enough."
    assert error.field == "qty" and error.details == {"available": 2, "line": 3}
    with pytest.raises(ValidationError) as caught, for_line(7):
        raise ValidationError("bad", field="batch_id")
    assert str(caught.value.message) == "Line 7: bad" and caught.value.details["line"] == 7
    with pytest.raises(ValidationError) as caught, for_line(2), for_line(9):
        raise ValidationError("once")
    assert str(caught.value.message) == "Line 9: once"  # the inner line, prefixed once


def test_the_prefix_is_chinese_in_chinese(app):
    from flask_babel import force_locale

    with app.test_request_context(), force_locale("zh"):
        assert str(line_error(2, "数量必须大于零。").message) == "第 2 行：数量必须大于零。"


# Two people at once, in separate processes ---------------------------------------------------


@pytest.fixture
def committed_url(tmp_path, worker_id, request):
    url = make_database(f"doc_{worker_id}_{request.node.name[:16]}", tmp_path)
    yield url
    drop_database(url)


def _slow_ledger(delay: float):
    """Hold the winner's transaction open while it posts, so the other racer arrives meanwhile."""
    real = ledger.post_movement

    def slow(*args, **kwargs):
        movement = real(*args, **kwargs)
        time.sleep(delay)
        return movement

    ledger.post_movement = slow


def _race(target, url: str, document_id: int, names: list[str]) -> list[str]:
    start = SPAWN.Event()
    results = SPAWN.Queue()
    racers = [
        SPAWN.Process(target=target, args=(url, document_id, name, start, results))
        for name in names
    ]
    for racer in racers:
        racer.start()
    time.sleep(3)  # let every racer import, connect and wait at the start line
    start.set()
    outcomes = [results.get(timeout=120) for _ in racers]
    for racer in racers:
        racer.join(30)
        assert racer.exitcode == 0
    return outcomes


def _post_receipt_racer(url: str, receipt_id: int, name: str, start, results) -> None:
    from reserve.receipts.service import post_receipt

    app = test_app(url)
    _slow_ledger(0.5)
    actor = Actor.system(name)
    with app.app_context():
        flask_db.session.execute(select(1))  # connected before the start
        flask_db.session.rollback()
        start.wait(60)
        try:
            with transaction() as s:
                post_receipt(s, receipt_id=receipt_id, actor=actor)
            results.put(f"won {name}")
        except Conflict as error:
            results.put(f"lost {error.message}")
    _dispose(app)


def _draft_receipt(url: str, ids: dict) -> int:
    from reserve.receipts.service import ReceiptData, ReceiptLineData, create_receipt
    from reserve.stock.models import Batch
    from reserve.warehouses.models import Location

    app = test_app(url)
    with app.app_context(), transaction() as s:
        material_id = s.get(Batch, ids["batches"][0]).material_id
        receipt_id = create_receipt(
            s,
            actor=Actor.system("clerk"),
            data=ReceiptData(
                warehouse_id=s.get(Location, ids["location"]).warehouse_id,
                source="purchase",
                document_date=date.today(),
                lines=(
                    ReceiptLineData(
                        material_id=material_id, batch_no="R1", qty=10, location_id=ids["location"]
                    ),
                ),
            ),
        ).id
    _dispose(app)
    return receipt_id


def _stock(url: str) -> tuple[int, int, list]:
    app = test_app(url)
    with app.app_context():
        s = flask_db.session
        moves = s.scalar(select(func.count()).select_from(StockMovement))
        total = s.scalar(select(func.coalesce(func.sum(StockBalance.qty), 0)))
        found = ledger.verify(s)
        s.remove()
    _dispose(app)
    return moves, total, found


def test_two_keepers_posting_one_receipt_at_once_post_it_once(committed_url):
    ids = _seed(committed_url, qty=0)
    receipt_id = _draft_receipt(committed_url, ids)
    outcomes = _race(_post_receipt_racer, committed_url, receipt_id, ["keeper-a", "keeper-b"])
    won = [o for o in outcomes if o.startswith("won")]
    lost = [o for o in outcomes if o.startswith("lost")]
    assert len(won) == 1 and len(lost) == 1, outcomes
    winner = won[0].removeprefix("won ")
    assert winner in lost[0]  # the loser is told who posted it (in the default language)
    assert _stock(committed_url) == (1, 10, [])
    app = test_app(committed_url)
    with app.app_context():
        receipt = flask_db.session.get(Receipt, receipt_id)
        assert (receipt.status, receipt.posted_by_name) == ("posted", winner)
        flask_db.session.remove()
    _dispose(app)


def _approve_stocktake_racer(url: str, stocktake_id: int, name: str, start, results) -> None:
    from reserve.stocktakes.service import approve_stocktake

    app = test_app(url)
    _slow_ledger(0.5)
    actor = Actor(user_id=None, username=name, roles=frozenset({Role.APPROVER}))
    with app.app_context():
        flask_db.session.execute(select(1))
        flask_db.session.rollback()
        start.wait(60)
        try:
            with transaction() as s:
                approve_stocktake(s, stocktake_id=stocktake_id, actor=actor)
            results.put(f"won {name}")
        except Conflict as error:
            results.put(f"lost {error.message}")
    _dispose(app)


def _submitted_stocktake(url: str, ids: dict) -> int:
    from reserve.stocktakes import service
    from reserve.warehouses.models import Location

    app = test_app(url)
    keeper = Actor.system("keeper")
    with app.app_context(), transaction() as s:
        warehouse_id = s.get(Location, ids["location"]).warehouse_id
        stocktake = service.open_stocktake(s, warehouse_id=warehouse_id, actor=keeper)
        service.record_count(
            s,
            stocktake_id=stocktake.id,
            location_id=ids["location"],
            batch_id=ids["batches"][0],
            counted_qty=90,
            reason="受潮损坏",
            actor=keeper,
        )
        service.submit_stocktake(s, stocktake_id=stocktake.id, actor=keeper)
        stocktake_id = stocktake.id
    _dispose(app)
    return stocktake_id


def test_two_approvers_approving_one_stocktake_at_once_post_its_difference_once(committed_url):
    ids = _seed(committed_url, qty=100)
    stocktake_id = _submitted_stocktake(committed_url, ids)
    outcomes = _race(
        _approve_stocktake_racer, committed_url, stocktake_id, ["approver-a", "approver-b"]
    )
    won = [o for o in outcomes if o.startswith("won")]
    lost = [o for o in outcomes if o.startswith("lost")]
    assert len(won) == 1 and len(lost) == 1, outcomes
    assert won[0].removeprefix("won ") in lost[0]  # told who approved it
    assert _stock(committed_url) == (2, 90, [])  # the seed, and one loss of 10


def _post_scrap_racer(url: str, scrap_id: int, name: str, start, results) -> None:
    from reserve.disposals.scraps import post_scrap

    app = test_app(url)
    _slow_ledger(0.5)
    actor = Actor.system(name)
    with app.app_context():
        flask_db.session.execute(select(1))
        flask_db.session.rollback()
        start.wait(60)
        try:
            with transaction() as s:
                post_scrap(s, scrap_id=scrap_id, actor=actor)
            results.put(f"won {name}")
        except Conflict as error:
            results.put(f"lost {error.message}")
    _dispose(app)


def _approved_scrap(url: str, ids: dict) -> int:
    from reserve.disposals.lines import DisposalLineData
    from reserve.disposals.scraps import approve_scrap, request_scrap
    from reserve.warehouses.models import Location

    app = test_app(url)
    approver = Actor(user_id=None, username="approver", roles=frozenset({Role.APPROVER}))
    with app.app_context(), transaction() as s:
        scrap = request_scrap(
            s,
            warehouse_id=s.get(Location, ids["location"]).warehouse_id,
            reason="damaged",
            document_date=date.today(),
            lines=(DisposalLineData(ids["location"], ids["batches"][0], 10),),
            actor=Actor.system("keeper"),
        )
        approve_scrap(s, scrap_id=scrap.id, actor=approver)
        scrap_id = scrap.id
    _dispose(app)
    return scrap_id


def test_two_keepers_posting_one_scrap_at_once_take_it_out_once(committed_url):
    ids = _seed(committed_url, qty=100)
    scrap_id = _approved_scrap(committed_url, ids)
    outcomes = _race(_post_scrap_racer, committed_url, scrap_id, ["keeper-a", "keeper-b"])
    won = [o for o in outcomes if o.startswith("won")]
    lost = [o for o in outcomes if o.startswith("lost")]
    assert len(won) == 1 and len(lost) == 1, outcomes
    assert won[0].removeprefix("won ") in lost[0]
    assert _stock(committed_url) == (2, 90, [])  # the seed, and one scrap of 10


# The migration carries the old attribution over ------------------------------------------------

T0 = "2026-03-01 08:00:00"


def _old_world(conn) -> None:
    """Rows as the schema before life0001 kept them (names only, ids only, text serials)."""
    rows = [
        "INSERT INTO users (id, username, full_name, password_hash, is_enabled, "
        "must_change_password, created_at) VALUES "
        f"(1, 'keeper1', '张三', 'x', true, false, '{T0}'), "
        f"(2, 'approver1', '李四', 'x', true, false, '{T0}')",
        "INSERT INTO regions (id, code, name, level) VALUES (1, '370100', '济南市', 'city')",
        "INSERT INTO warehouses (id, code, name, level, region_id, is_active, created_at) "
        f"VALUES (1, 'W1', '一号库', 'city', 1, true, '{T0}')",
        "INSERT INTO locations (id, warehouse_id, code, is_receiving, is_active) VALUES "
        "(1, 1, 'A-01', false, true), (2, 1, 'A-02', false, true)",
        "INSERT INTO categories (id, code, name, level, is_local) "
        "VALUES (1, '1000000', '基本生活', 1, false)",
        "INSERT INTO materials (id, code, name, unit, category_id, tracking, near_expiry_days, "
        f"pinyin_initials, is_active, created_at) VALUES (1, 'M1', '水泵', '台', 1, 'serial', 30, "
        f"'SB', true, '{T0}')",
        "INSERT INTO batches (id, material_id, batch_no, source, received_at) "
        f"VALUES (1, 1, 'B1', 'purchase', '{T0}')",
        "INSERT INTO receipts (id, no, warehouse_id, source, document_date, status, created_at, "
        "created_by_id, created_by, posted_at, posted_by_id, posted_by, cancelled_at, cancelled_by)"
        f" VALUES (1, 'RK1', 1, 'purchase', '2026-03-01', 'posted', '{T0}', 1, 'keeper1', '{T0}',"
        " 1, 'keeper1', NULL, NULL), "
        f"(2, 'RK2', 1, 'purchase', '2026-03-01', 'cancelled', '{T0}', NULL, 'system', NULL, "
        f"NULL, NULL, '{T0}', 'keeper1')",
        "INSERT INTO receipt_lines (id, receipt_id, line_no, material_id, batch_no, qty, "
        "location_id, serials) VALUES (1, 1, 1, 1, 'B1', 2, 1, 'SN-1\nSN-2'), "
        "(2, 2, 1, 1, 'B1', 1, 1, NULL)",
        "INSERT INTO stocktakes (id, no, warehouse_id, is_blind, status, created_at, "
        "created_by_id, submitted_by_id, approved_by_id) "
        f"VALUES (1, 'PD1', 1, false, 'posted', '{T0}', 1, 1, 2)",
        "INSERT INTO rotations (id, no, warehouse_id, disposition, document_date, status, "
        "created_by_id, created_by, created_at, posted_by, posted_at) VALUES "
        f"(1, 'LH1', 1, 'sold', '2026-03-01', 'posted', 1, 'keeper1', '{T0}', 'keeper1', '{T0}')",
        "INSERT INTO scraps (id, no, warehouse_id, reason, document_date, status, "
        "requested_by_id, requested_by, requested_at, decided_by, decided_at, posted_by) VALUES "
        f"(1, 'BF1', 1, 'expired', '2026-03-01', 'posted', 1, 'keeper1', '{T0}', 'approver1', "
        f"'{T0}', 'keeper1'), "
        f"(2, 'BF2', 1, 'damaged', '2026-03-01', 'rejected', 1, 'keeper1', '{T0}', 'approver1', "
        f"'{T0}', NULL)",
        "INSERT INTO stock_moves (id, no, warehouse_id, from_location_id, to_location_id, "
        "batch_id, qty, document_date, moved_by, moved_at) "
        f"VALUES (1, 'YK1', 1, 1, 2, 1, 1, '2026-03-01', 'keeper1', '{T0}')",
    ]
    for statement in rows:
        conn.exec_driver_sql(statement)


def test_the_lifecycle_migration_copies_the_old_attribution_and_serials(tmp_path, worker_id):
    from flask_migrate import downgrade, upgrade

    url = make_database(f"mig_{worker_id}", tmp_path)
    app = test_app(url)
    try:
        with app.app_context():
            upgrade(revision="0318f8539acf")
            with flask_db.engine.begin() as conn:
                _old_world(conn)
            upgrade(revision="life0001")
            with flask_db.engine.connect() as conn:
                one = conn.exec_driver_sql
                assert one(
                    "SELECT created_by_id, created_by_name, posted_by_id, posted_by_name, "
                    "cancelled_by_id, cancelled_by_name FROM receipts ORDER BY id"
                ).all() == [
                    (1, "keeper1", 1, "keeper1", None, None),
                    (None, "system", None, None, 1, "keeper1"),
                ]
                serials = [
                    json_list(v) for (v,) in one("SELECT serial_nos FROM receipt_lines ORDER BY id")
                ]
                assert serials == [["SN-1", "SN-2"], []]
                assert one(
                    "SELECT created_by_name, submitted_by_name, approved_by_name, "
                    "rejected_by_name FROM stocktakes"
                ).one() == ("keeper1", "keeper1", "approver1", None)
                assert one(
                    "SELECT created_by_name, posted_by_id, posted_by_name FROM rotations"
                ).one() == ("keeper1", 1, "keeper1")
                assert one(
                    "SELECT requested_by_name, approved_by_id, approved_by_name, "
                    "rejected_by_id, rejected_by_name, posted_by_id FROM scraps ORDER BY id"
                ).all() == [
                    ("keeper1", 2, "approver1", None, None, 1),
                    ("keeper1", None, None, 2, "approver1", None),
                ]
                assert one("SELECT moved_by_id, moved_by_name FROM stock_moves").one() == (
                    1,
                    "keeper1",
                )
            downgrade(revision="0318f8539acf")
            with flask_db.engine.connect() as conn:
                assert conn.exec_driver_sql(
                    "SELECT serials FROM receipt_lines ORDER BY id"
                ).scalars().all() == ["SN-1\nSN-2", None]
                assert conn.exec_driver_sql(
                    "SELECT decided_by FROM scraps ORDER BY id"
                ).scalars().all() == ["approver1", "approver1"]
            flask_db.engine.dispose()
    finally:
        drop_database(url)


def json_list(value) -> list:
    import json

    return json.loads(value) if isinstance(value, str) else list(value)
