"""Stock fixtures: a warehouse with locations, materials, batches and a way to post stock."""

from dataclasses import dataclass
from datetime import date

import pytest

from reserve.auth.actor import Actor
from reserve.stock import ledger
from reserve.stock.models import Batch, MovementKind
from reserve.warehouses.models import Location

TODAY = date.today()


@dataclass
class Place:
    warehouse: object
    recv: Location
    a1: Location
    a2: Location
    material: object
    batch: Batch
    batch2: Batch
    actor: Actor


@pytest.fixture
def make_batch(db):
    def make(material, batch_no="B1", expiry=None, production=None, source="purchase"):
        batch = Batch(
            material_id=material.id,
            batch_no=batch_no,
            expiry_date=expiry,
            production_date=production,
            source=source,
        )
        db.add(batch)
        db.flush()
        return batch

    return make


@pytest.fixture
def place(db, make_warehouse, make_material, make_batch, system_actor) -> Place:
    warehouse = make_warehouse(code="WH-S", name="测试库")
    recv, a1 = sorted(warehouse_locations(db, warehouse.id), key=lambda loc: loc.code)[::-1]
    a2 = Location(warehouse_id=warehouse.id, code="A-01-02")
    db.add(a2)
    db.flush()
    material = make_material("单帐篷", code="TENT")
    return Place(
        warehouse,
        recv,
        a1,
        a2,
        material,
        make_batch(material, "B1"),
        make_batch(material, "B2"),
        system_actor,
    )


def warehouse_locations(db, warehouse_id):
    return db.query(Location).filter_by(warehouse_id=warehouse_id).all()


def post(
    db,
    place: Place,
    qty: int,
    *,
    kind=None,
    location=None,
    batch=None,
    doc_date=TODAY,
    actor=None,
    **kwargs,
):
    kind = kind or (MovementKind.RECEIPT if qty > 0 else MovementKind.ISSUE)
    return ledger.post_movement(
        db,
        kind=kind,
        location_id=(location or place.a1).id,
        batch_id=(batch or place.batch).id,
        qty=qty,
        document=ledger.DocumentRef("test", None, "T-1", doc_date),
        actor=actor or place.actor,
        **kwargs,
    )


def reserve(db, place: Place, qty: int, *, location=None, batch=None, line_id=None, actor=None):
    return ledger.reserve(
        db,
        location_id=(location or place.a1).id,
        batch_id=(batch or place.batch).id,
        qty=qty,
        document=ledger.DocumentRef("test", None, "T-1", TODAY),
        line_id=line_id,
        actor=actor or place.actor,
    )
