"""A warehouse to scan in (shared by the scan tests): tents at A-01-01 with a stock label,
location labels for A-01-02 and B-01-01, another warehouse with a label of its own, and the
keeper who keeps the first one. The helpers at the end count what changed."""

from __future__ import annotations

from datetime import date
from types import SimpleNamespace

import pytest
import sqlalchemy as sa

from reserve.auth.actor import Actor
from reserve.auth.models import Role
from reserve.labels.codes import label_key, make_code
from reserve.labels.models import Label, LabelKind
from reserve.stock import ledger
from reserve.stock.models import Batch, MovementKind, StockMovement
from reserve.warehouses.models import Location


@pytest.fixture
def scan_key(app) -> bytes:
    return label_key(app.config["SECRET_KEY"])


def _label(db, kind: LabelKind, location: Location, batch: Batch | None = None) -> Label:
    label = Label(
        kind=kind.value,
        warehouse_id=location.warehouse_id,
        location_id=location.id,
        batch_id=batch.id if batch else None,
        first_printed_by_name="test",
    )
    db.add(label)
    db.flush()
    return label


@pytest.fixture
def scan_world(db, scan_key, make_warehouse, make_material, make_user, system_actor):
    warehouse = make_warehouse(code="WH-SCAN", name="扫码测试库")
    other = make_warehouse(code="WH-FAR", name="别的储备库")

    def location(wh, code):
        found = db.scalar(
            sa.select(Location).where(Location.warehouse_id == wh.id, Location.code == code)
        )
        if found is None:
            found = Location(warehouse_id=wh.id, code=code)
            db.add(found)
            db.flush()
        return found

    a1, a2, b1 = (location(warehouse, code) for code in ("A-01-01", "A-01-02", "B-01-01"))
    far = location(other, "A-01-01")
    tent = make_material("单帐篷", unit="顶")
    batch = Batch(material_id=tent.id, batch_no="T-2026-01", source="purchase")
    far_batch = Batch(material_id=tent.id, batch_no="T-FAR-01", source="purchase")
    db.add_all([batch, far_batch])
    db.flush()
    for place, lot, qty in ((a1, batch, 10), (far, far_batch, 4)):
        ledger.post_movement(
            db,
            kind=MovementKind.RECEIPT,
            location_id=place.id,
            batch_id=lot.id,
            qty=qty,
            document=ledger.DocumentRef("test", None, "TEST", date.today()),
            actor=system_actor,
        )
    stock = _label(db, LabelKind.STOCK, a1, batch)
    keeper = make_user(Role.KEEPER, warehouses=[warehouse])
    code = lambda label: make_code(label.id, key=scan_key)  # noqa: E731
    return SimpleNamespace(
        warehouse=warehouse,
        other=other,
        a1=a1,
        a2=a2,
        b1=b1,
        far=far,
        tent=tent,
        batch=batch,
        stock=stock,
        stock_code=code(stock),
        a2_code=code(_label(db, LabelKind.LOCATION, a2)),
        b1_code=code(_label(db, LabelKind.LOCATION, b1)),
        far_code=code(_label(db, LabelKind.STOCK, far, far_batch)),
        far_location_code=code(_label(db, LabelKind.LOCATION, far)),
        keeper=keeper,
        actor=Actor.for_user(keeper),
        code=code,
    )


def movements(db) -> int:
    return db.scalar(sa.select(sa.func.count()).select_from(StockMovement))


def on_hand(db, location, batch) -> int:
    from reserve.stock.models import StockBalance

    return (
        db.scalar(
            sa.select(StockBalance.qty).where(
                StockBalance.location_id == location.id, StockBalance.batch_id == batch.id
            )
        )
        or 0
    )
