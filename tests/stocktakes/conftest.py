"""Stock to count: batches received through the ledger into a fresh warehouse, and the people
who count and approve."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from sqlalchemy import select

from reserve.auth.actor import Actor
from reserve.auth.models import Role
from reserve.stock.ledger import DocumentRef, post_movement
from reserve.stock.models import Batch, MovementKind
from reserve.stocktakes.service import local_today
from reserve.warehouses.models import Location


@pytest.fixture
def make_batch(db):
    counter = iter(range(1, 10_000))

    def make(material, batch_no: str | None = None, **fields) -> Batch:
        batch = Batch(
            material_id=material.id,
            batch_no=batch_no or f"B{next(counter):04d}",
            source="purchase",
            **fields,
        )
        db.add(batch)
        db.flush()
        return batch

    return make


@pytest.fixture
def move(db, system_actor):
    """Post one movement through the ledger (the only writer of stock)."""

    def post(location, batch, qty: int, kind: MovementKind = MovementKind.RECEIPT, serial_nos=()):
        return post_movement(
            db,
            kind=kind,
            location_id=location.id,
            batch_id=batch.id,
            qty=qty,
            document=DocumentRef("test", None, "TEST", local_today()),
            actor=system_actor,
            serial_nos=serial_nos,
        )

    return post


@pytest.fixture
def stocked(db, make_warehouse, make_material, make_category, make_batch, move, make_user):
    """A warehouse holding tents (10 at A-01-01) and quilts (5 at A-01-01, 3 at RECV), a keeper
    who keeps it, and an approver."""
    warehouse = make_warehouse(name="测试综合储备库")
    shelf = db.scalar(
        select(Location).where(Location.warehouse_id == warehouse.id, Location.code == "A-01-01")
    )
    recv = db.scalar(
        select(Location).where(Location.warehouse_id == warehouse.id, Location.code == "RECV")
    )
    tent = make_material("单帐篷", unit="顶", category=make_category("1010100", "帐篷"))
    quilt = make_material("棉被", unit="床", category=make_category("1010200", "被服"))
    tent_batch = make_batch(tent, "T-2026-01")
    quilt_batch = make_batch(quilt, "Q-2026-01")
    move(shelf, tent_batch, 10)
    move(shelf, quilt_batch, 5)
    move(recv, quilt_batch, 3)
    keeper = make_user(Role.KEEPER, warehouses=[warehouse])
    approver = make_user(Role.APPROVER)
    return SimpleNamespace(
        warehouse=warehouse,
        shelf=shelf,
        recv=recv,
        tent=tent,
        quilt=quilt,
        tent_batch=tent_batch,
        quilt_batch=quilt_batch,
        keeper=keeper,
        approver=approver,
        keeper_actor=Actor.for_user(keeper),
        approver_actor=Actor.for_user(approver),
    )
