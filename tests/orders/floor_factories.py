"""Approved allocation orders for the floor's tests, built as approval will build them: the rows
of the contract (order, lines, sources), then ``ledger.reserve`` for each stock source and
``callups.call_up`` for each agreement source, the order moved to *approved* with its
attribution. At merge this points at ordcore's ``approve_order`` (and ``approve_emergency``).

``floor_site`` gives two bureau warehouses (a source with two locations, a destination),
materials (quilts by batch, returnable tents by batch, returnable pumps by serial number) and
stock posted through the ledger."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

import pytest

from reserve.agreements import callups, signing
from reserve.agreements.callups import CallUpData
from reserve.agreements.signing import AgreementData, LineData
from reserve.auth.actor import Actor
from reserve.auth.models import Role
from reserve.db import local_today, utcnow
from reserve.documents import stamp
from reserve.orders.floor_status import RESERVATION_TYPE
from reserve.orders.models import (
    AllocationOrder,
    OrderKind,
    OrderLine,
    OrderSource,
    OrderStatus,
    SourceKind,
)
from reserve.stock import ledger
from reserve.stock.ledger import DocumentRef
from reserve.stock.models import Batch, MovementKind
from reserve.warehouses.models import Location

TODAY = local_today()
DISPATCHER = Actor(user_id=None, username="调度员", roles=frozenset({Role.DISPATCHER}))


@dataclass
class FloorSite:
    source: object  # warehouse the stock comes from
    dest: object  # warehouse a transfer goes into
    a1: Location
    b2: Location
    quilt: object
    tent: object
    pump: object
    quilt_b1: Batch  # expires first
    quilt_b2: Batch  # expires later (a substitute)
    tent_b1: Batch
    pump_b1: Batch
    pumps: tuple[str, ...]
    numbers: dict = field(default_factory=dict)


def _batch(db, material, no, expiry=None):
    batch = Batch(material_id=material.id, batch_no=no, expiry_date=expiry, source="purchase")
    db.add(batch)
    db.flush()
    return batch


def stock_in(db, location, batch, qty, serial_nos=()):
    """Stock posted as a receipt would post it."""
    return ledger.post_movement(
        db,
        kind=MovementKind.RECEIPT,
        location_id=location.id,
        batch_id=batch.id,
        qty=qty,
        document=DocumentRef("test", None, "T-1", TODAY),
        actor=Actor.system(),
        serial_nos=serial_nos,
    )


@pytest.fixture
def floor_site(db, make_warehouse, make_material, make_category) -> FloorSite:
    source = make_warehouse(code="WH-SRC", name="市级综合储备库")
    dest = make_warehouse(code="WH-DST", name="平阴县储备库")
    a1 = db.query(Location).filter_by(warehouse_id=source.id, code="A-01-01").one()
    b2 = Location(warehouse_id=source.id, code="B-02-01")
    db.add(b2)
    db.flush()
    quilt = make_material("棉被", unit="床")
    tent = make_material("救灾帐篷", unit="顶", is_returnable=True)
    pump = make_material(
        "排涝泵",
        unit="台",
        tracking="serial",
        is_returnable=True,
        category=make_category("1020100"),
    )
    site = FloorSite(
        source,
        dest,
        a1,
        b2,
        quilt,
        tent,
        pump,
        _batch(db, quilt, "Q-2027", TODAY + timedelta(days=400)),
        _batch(db, quilt, "Q-2028", TODAY + timedelta(days=800)),
        _batch(db, tent, "T-2026", None),
        _batch(db, pump, "P-1", None),
        ("PUMP-001", "PUMP-002", "PUMP-003"),
    )
    stock_in(db, b2, site.quilt_b1, 100)
    stock_in(db, a1, site.quilt_b2, 100)
    stock_in(db, a1, site.tent_b1, 50)
    stock_in(db, a1, site.pump_b1, 3, site.pumps)
    return site


def make_order(
    db,
    *,
    kind: str = OrderKind.DISPATCH.value,
    destination=None,
    lines: list[tuple[object, list[tuple]]],
    emergency: bool = False,
    actor: Actor = DISPATCHER,
    no: str | None = None,
) -> AllocationOrder:
    """An approved order: ``lines`` is [(material, [sources])], a source being
    ("stock", location, batch, qty) or ("agreement", agreement_line, qty)."""
    count = db.query(AllocationOrder).count() + 1
    now = utcnow()
    order = AllocationOrder(
        no=no or f"DB-{TODAY:%Y%m}-{count:04d}",
        kind=kind,
        status=OrderStatus.SUBMITTED.value,
        is_emergency=emergency,
        requesting_unit="平阴县应急管理局",
        destination_warehouse_id=destination.id if kind == OrderKind.TRANSFER.value else None,
        site_address=None if kind == OrderKind.TRANSFER.value else "平阴县榆山街道安置点",
        contact_name="王主任",
        contact_phone="13800000000",
        needed_by=now + timedelta(hours=6),
        reason="防汛抢险",
        created_by_name=actor.username,
    )
    db.add(order)
    db.flush()
    for n, (material, sources) in enumerate(lines, start=1):
        line = OrderLine(
            order_id=order.id,
            line_no=n,
            material_id=material.id,
            requested_qty=sum(s[-1] for s in sources),
        )
        db.add(line)
        db.flush()
        for spec in sources:
            if spec[0] == "stock":
                _, location, batch, qty = spec
                reservation = ledger.reserve(
                    db,
                    location_id=location.id,
                    batch_id=batch.id,
                    qty=qty,
                    document=DocumentRef(RESERVATION_TYPE, order.id, order.no, TODAY),
                    line_id=line.id,
                    actor=actor,
                )
                db.add(
                    OrderSource(
                        order_id=order.id,
                        line_id=line.id,
                        kind=SourceKind.STOCK.value,
                        warehouse_id=location.warehouse_id,
                        location_id=location.id,
                        batch_id=batch.id,
                        qty=qty,
                        reservation_id=reservation.id,
                        expected_at=now + timedelta(hours=3),
                    )
                )
            else:
                _, agreement_line, qty = spec
                call = callups.call_up(
                    db,
                    data=CallUpData(
                        line_id=agreement_line.id,
                        qty=qty,
                        needed_by=order.needed_by,
                        destination=order.site_address or "平阴县储备库",
                        source=order.no,
                    ),
                    actor=actor,
                )
                db.add(
                    OrderSource(
                        order_id=order.id,
                        line_id=line.id,
                        kind=SourceKind.AGREEMENT.value,
                        agreement_line_id=agreement_line.id,
                        qty=qty,
                        call_up_id=call.id,
                        expected_at=now + timedelta(hours=12),
                    )
                )
    order.status = OrderStatus.APPROVED.value
    for key, value in stamp("approved", actor).items():
        setattr(order, key, value)
    db.flush()
    db.refresh(order)
    return order


def make_agreement_line(db, enterprise, material, qty: int = 1000):
    """An active agreement of the enterprise with one stock line of the material."""
    agreement = signing.create_agreement(
        db,
        data=AgreementData(
            no=f"XY-{material.id:04d}",
            enterprise_id=enterprise.id,
            signed_on=TODAY - timedelta(days=10),
            valid_from=TODAY - timedelta(days=10),
            valid_to=TODAY + timedelta(days=300),
            response_hours=12,
            storage_fee=None,
            lines=(LineData(material_id=material.id, kind="stock", committed_qty=qty),),
        ),
        actor=Actor.system(),
    )
    signing.activate_agreement(db, agreement_id=agreement.id, actor=Actor.system())
    db.flush()
    return agreement.lines[0]


def keeper_of(*warehouses, user_id: int | None = None) -> Actor:
    return Actor(
        user_id=user_id,
        username="保管员",
        roles=frozenset({Role.KEEPER}),
        warehouse_ids=frozenset(w.id for w in warehouses),
    )


def days(n: int) -> date:
    return TODAY + timedelta(days=n)
