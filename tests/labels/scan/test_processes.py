"""At most once, with real processes on a committed database (SQLite file or PostgreSQL): the
same scan operation replayed by two processes at once — a phone's queue sent from two tabs, or
a resend while the first send is still running — moves the stock once."""

from __future__ import annotations

import time
from datetime import date

import pytest
from sqlalchemy import func, select

from reserve.auth.actor import Actor
from reserve.db import transaction
from reserve.extensions import db as flask_db
from reserve.labels.scan_models import ScanOperation
from reserve.stock.models import StockBalance, StockMovement
from tests.conftest import drop_database, make_database, test_app
from tests.stock.test_processes import SPAWN, _dispose, _schema

OP = "3d2c1b0a-9f8e-4d7c-b6a5-443322110000"


def _seed(url: str) -> dict:
    from reserve.auth.models import Role, User, UserRole
    from reserve.catalog.models import Category, Material
    from reserve.labels.codes import label_key, make_code
    from reserve.labels.models import Label, LabelKind
    from reserve.stock import ledger
    from reserve.stock.models import Batch, MovementKind
    from reserve.warehouses.models import Location, Region, Warehouse

    app = test_app(url)
    _schema(app)
    key = label_key(app.config["SECRET_KEY"])
    with app.app_context(), transaction() as s:
        region = Region(code="370100", name="济南市", level="city")
        category = Category(code="1000000", name="基本生活保障物资", level=1)
        s.add_all([region, category])
        s.flush()
        warehouse = Warehouse(code="SCAN", name="扫码库", level="city", region_id=region.id)
        s.add(warehouse)
        s.flush()
        shelf = Location(warehouse_id=warehouse.id, code="A-01-01")
        target = Location(warehouse_id=warehouse.id, code="A-01-02")
        material = Material(code="M001", name="帐篷", unit="顶", category_id=category.id)
        s.add_all([shelf, target, material])
        s.flush()
        batch = Batch(material_id=material.id, batch_no="B1", source="purchase")
        s.add(batch)
        s.flush()
        ledger.post_movement(
            s,
            kind=MovementKind.RECEIPT,
            location_id=shelf.id,
            batch_id=batch.id,
            qty=100,
            document=ledger.DocumentRef("seed", None, None, date.today()),
            actor=Actor.system("seed"),
        )
        keeper = User(username="keeper", full_name="保管员", password_hash="-")
        keeper.role_rows = [UserRole(role=Role.KEEPER.value)]
        keeper.warehouses = [warehouse]
        stock = Label(
            kind=LabelKind.STOCK.value,
            warehouse_id=warehouse.id,
            location_id=shelf.id,
            batch_id=batch.id,
            first_printed_by_name="seed",
        )
        s.add_all([keeper, stock])
        s.flush()
        ids = {
            "user": keeper.id,
            "code": make_code(stock.id, key=key),
            "target": target.id,
            "batch": batch.id,
        }
    _dispose(app)
    return ids


def _replay(url: str, ids: dict, start_at: float, hold: float) -> bool:
    """Send the operation at ``start_at``; hold the transaction open ``hold`` seconds after the
    move (the first sender still running when the second arrives). Returns ``replayed``."""
    import reserve.labels.operations as operations
    from reserve.auth.models import User
    from reserve.labels.codes import label_key

    app = test_app(url)
    real_move = operations.move_stock

    def move_then_hold(*args, **kwargs):
        move = real_move(*args, **kwargs)
        time.sleep(hold)
        return move

    operations.move_stock = move_then_hold
    with app.app_context():
        actor = Actor.for_user(flask_db.session.get(User, ids["user"]))
        flask_db.session.remove()
        time.sleep(max(0.0, start_at - time.time()))
        with transaction() as s:
            applied = operations.scan_move(
                s,
                actor=actor,
                operation_id=OP,
                code=ids["code"],
                to="A-01-02",
                qty=7,
                key=label_key(app.config["SECRET_KEY"]),
            )
    _dispose(app)
    return applied.replayed


@pytest.fixture
def committed_url(tmp_path, worker_id):
    url = make_database(f"scanproc_{worker_id}", tmp_path)
    yield url
    drop_database(url)


def test_two_processes_replaying_one_operation_id_at_once_apply_it_once(committed_url, monkeypatch):
    monkeypatch.setenv("SECRET_KEY", "scan-processes")  # one label key for seed and children
    ids = _seed(committed_url)
    start_at = time.time() + 8  # both spawned children are ready by then, on a busy machine
    with SPAWN.Pool(2) as pool:
        first = pool.apply_async(_replay, (committed_url, ids, start_at, 1.5))
        second = pool.apply_async(_replay, (committed_url, ids, start_at + 0.3, 0.0))
        replayed = sorted([first.get(60), second.get(60)])
    assert replayed == [False, True]  # one applied it, the other got its first answer
    app = test_app(committed_url)
    with app.app_context():
        session = flask_db.session
        moves = session.scalar(select(func.count()).select_from(StockMovement))
        operations = session.scalar(select(func.count()).select_from(ScanOperation))
        at_target = session.scalar(
            select(StockBalance.qty).where(
                StockBalance.location_id == ids["target"], StockBalance.batch_id == ids["batch"]
            )
        )
        flask_db.session.remove()
    _dispose(app)
    assert (moves, operations, at_target) == (1 + 2, 1, 7)
