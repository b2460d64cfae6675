"""Order fixtures: two warehouses with stock of tents (two batches, FEFO), an agreement for
tents, users of every role, and a way to draft an order through the service.

Import the fixtures into a test module (``from tests.orders.factories import *``-free: name
them)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

import pytest

from reserve.agreements import signing
from reserve.auth.actor import Actor
from reserve.auth.models import Role
from reserve.db import utcnow
from reserve.orders import service
from reserve.orders.service import LineData, OrderData, SourceData
from reserve.stock import ledger
from reserve.stock.models import Batch, MovementKind
from reserve.warehouses.models import Location
from tests.agreements.conftest import TODAY, agreement_data, code

ROLES = (Role.ADMIN, Role.DISPATCHER, Role.APPROVER, Role.KEEPER, Role.ENTERPRISE, Role.VIEWER)


@dataclass
class Floor:
    near: object  # warehouse 10 km from the site
    far: object  # warehouse ~100 km away
    near_loc: Location
    far_loc: Location
    tent: object
    quilt: object
    early: Batch  # expires first (near)
    late: Batch  # expires later (near)
    far_batch: Batch
    expired: Batch
    agreement: object
    site: tuple
    actor: Actor


def _post(db, location, batch, qty, actor):
    ledger.post_movement(
        db,
        kind=MovementKind.RECEIPT,
        location_id=location.id,
        batch_id=batch.id,
        qty=qty,
        document=ledger.DocumentRef("test", None, "T-1", TODAY),
        actor=actor,
    )


def _batch(db, material, no, expiry):
    batch = Batch(material_id=material.id, batch_no=no, expiry_date=expiry, source="purchase")
    db.add(batch)
    db.flush()
    return batch


@pytest.fixture
def floor(db, make_warehouse, make_material, make_enterprise, system_actor) -> Floor:
    """平阴县 site at (36.29, 116.45); 'near' 平阴 warehouse ≈ 1 km, 'far' 济南 ≈ 70 km."""
    near = make_warehouse(
        code="WH-PY", name="平阴县储备库", lat=Decimal("36.30"), lng=Decimal("116.45")
    )
    far = make_warehouse(
        code="WH-JN", name="济南市储备库", lat=Decimal("36.67"), lng=Decimal("117.02")
    )
    near_loc = db.query(Location).filter_by(warehouse_id=near.id, code="A-01-01").one()
    far_loc = db.query(Location).filter_by(warehouse_id=far.id, code="A-01-01").one()
    tent = make_material("帐篷", code="1010100001", unit="顶")
    quilt = make_material("棉被", code="1010100002", unit="床")
    early = _batch(db, tent, "E1", TODAY + timedelta(days=30))
    late = _batch(db, tent, "L1", TODAY + timedelta(days=300))
    far_batch = _batch(db, tent, "F1", TODAY + timedelta(days=10))
    expired = _batch(db, tent, "X1", TODAY + timedelta(days=60))
    _post(db, near_loc, late, 100, system_actor)
    _post(db, near_loc, early, 50, system_actor)
    _post(db, far_loc, far_batch, 200, system_actor)
    _post(db, far_loc, expired, 500, system_actor)
    expired.expiry_date = TODAY - timedelta(days=1)  # expired since it came in
    db.flush()
    enterprise = make_enterprise("平阴帐篷制造有限公司", code("91370124MA3C4PYX8"))
    agreement = signing.create_agreement(
        db, data=agreement_data(enterprise.id, tent.id), actor=system_actor
    )
    signing.activate_agreement(db, agreement_id=agreement.id, actor=system_actor)
    db.flush()
    return Floor(
        near,
        far,
        near_loc,
        far_loc,
        tent,
        quilt,
        early,
        late,
        far_batch,
        expired,
        agreement,
        (Decimal("36.29"), Decimal("116.45")),
        system_actor,
    )


@pytest.fixture
def actors(db, make_user, floor) -> dict:
    """One actor per role (the keeper keeps the near warehouse)."""
    out = {}
    for role in ROLES:
        fields = {}
        if role is Role.KEEPER:
            fields["warehouse_ids"] = [floor.near.id]
        user = make_user(role, username=f"o_{role.value}")
        out[role] = Actor(
            user_id=user.id,
            username=user.username,
            roles=frozenset({role}),
            warehouse_ids=frozenset(fields.get("warehouse_ids", ())),
        )
    out["approver2"] = Actor(
        user_id=make_user(Role.APPROVER, username="o_approver2").id,
        username="o_approver2",
        roles=frozenset({Role.APPROVER}),
    )
    return out


def order_data(floor: Floor, lines=None, **changes) -> OrderData:
    """A dispatch of 120 tents to a 平阴县 site, 80 from the near warehouse's first-expiring
    batch... as given by ``lines`` (default: 60 tents, 50 from the early batch + 10 late)."""
    fields = dict(
        kind="dispatch",
        requesting_unit="平阴县应急管理局",
        needed_by=utcnow() + timedelta(hours=8),
        site_address="平阴县玫瑰镇",
        site_lat=floor.site[0],
        site_lng=floor.site[1],
        reason="汛期转移安置",
        lines=lines
        if lines is not None
        else (
            LineData(
                material_id=floor.tent.id,
                qty=60,
                sources=(
                    SourceData(
                        kind="stock", qty=50, location_id=floor.near_loc.id, batch_id=floor.early.id
                    ),
                    SourceData(
                        kind="stock", qty=10, location_id=floor.near_loc.id, batch_id=floor.late.id
                    ),
                ),
            ),
        ),
    )
    fields.update(changes)
    return OrderData(**fields)


def agreement_source(floor: Floor, qty: int) -> SourceData:
    return SourceData(kind="agreement", qty=qty, agreement_line_id=floor.agreement.lines[0].id)


def draft(db, floor: Floor, actor: Actor | None = None, **changes):
    return service.create_order(db, data=order_data(floor, **changes), actor=actor or floor.actor)
