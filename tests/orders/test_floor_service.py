"""The floor through its services: pick (planned, wrong batch, over-pick, substitute), ship
(the movements and the ledger's sums), receive (partial, over-receive, a transfer landing in
its destination), return (good, repair, scrap), close (releases the rest), and the enterprise's
confirmation of an agreement source. Every refusal changes nothing."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from reserve.agreements import callups
from reserve.auth.actor import Actor
from reserve.auth.models import Role
from reserve.db import utcnow
from reserve.disposals.models import Scrap
from reserve.errors import Conflict, Forbidden, ReserveError, ValidationError
from reserve.orders import floor
from reserve.orders.floor_models import OrderPick, OrderReceipt, OrderReturn, OrderShipment
from reserve.orders.floor_returns import (
    ReceiveLineData,
    ReturnLineData,
    receive_order,
    return_goods,
)
from reserve.orders.models import AllocationOrder, OrderKind, OrderLog, OrderSource, OrderStatus
from reserve.stock import ledger
from reserve.stock.models import (
    ItemStatus,
    SerialItem,
    StockBalance,
    StockMovement,
    StockReservation,
)
from reserve.warehouses.models import Location
from tests.orders import floor_factories
from tests.orders.floor_factories import (
    DISPATCHER,
    keeper_of,
    make_agreement_line,
    make_order,
)

floor_site = floor_factories.floor_site  # the fixture
VEHICLE = dict(vehicle_plate="鲁A12345", driver_name="李师傅", driver_phone="13912345678")


def balance(db, location, batch) -> tuple[int, int]:
    row = db.execute(
        sa.select(StockBalance.qty, StockBalance.reserved).where(
            StockBalance.location_id == location.id, StockBalance.batch_id == batch.id
        )
    ).one_or_none()
    return (int(row.qty), int(row.reserved)) if row else (0, 0)


def rows(db) -> dict[str, int]:
    """What a refused step must leave as it was."""
    tables = (OrderPick, OrderShipment, OrderReceipt, OrderReturn, StockMovement, OrderLog)
    counts = {t.__tablename__: db.scalar(sa.select(sa.func.count()).select_from(t)) for t in tables}
    counts["picked"] = db.scalar(sa.select(sa.func.sum(OrderSource.picked_qty))) or 0
    counts["reserved"] = db.scalar(sa.select(sa.func.sum(StockBalance.reserved))) or 0
    return counts


def refused(db, error, call, **kwargs):
    before = rows(db)
    with pytest.raises(error) as info, db.begin_nested():
        call(db, **kwargs)
    db.expire_all()
    assert rows(db) == before
    return info.value


@pytest.fixture
def keeper(floor_site):
    return keeper_of(floor_site.source)


@pytest.fixture
def quilts(db, floor_site):
    """A dispatch of 30 quilts from batch Q-2027 at B-02-01."""
    s = floor_site
    return make_order(db, lines=[(s.quilt, [("stock", s.b2, s.quilt_b1, 30)])])


def source_of(order) -> OrderSource:
    return order.lines[0].sources[0]


def pick(db, source, keeper, qty, location=None, batch=None, **kw):
    return floor.record_pick(
        db,
        source_id=source.id,
        location_id=(location or source).id if location else source.location_id,
        batch_id=batch.id if batch else source.batch_id,
        qty=qty,
        actor=keeper,
        **kw,
    )


def test_a_pick_of_the_planned_batch_moves_the_order_to_picking(db, floor_site, quilts, keeper):
    source = source_of(quilts)
    made = pick(db, source, keeper, 10, label_code="7KQ2-M9XD-4T")
    db.refresh(quilts)
    assert quilts.status == OrderStatus.PICKING.value
    assert (source.picked_qty, made.qty, made.label_code) == (10, 10, "7KQ2-M9XD-4T")
    log = db.scalars(sa.select(OrderLog).where(OrderLog.order_id == quilts.id)).all()
    assert [(e.action, e.from_status, e.to_status) for e in log] == [
        ("pick", "approved", "picking")
    ]
    assert balance(db, floor_site.b2, floor_site.quilt_b1) == (100, 30)  # nothing moved yet


def test_a_wrong_batch_without_a_reason_is_refused_naming_the_planned_one(
    db, floor_site, quilts, keeper
):
    s = floor_site
    error = refused(
        db,
        floor.WrongBatch,
        floor.record_pick,
        source_id=source_of(quilts).id,
        location_id=s.a1.id,
        batch_id=s.quilt_b2.id,
        qty=5,
        actor=keeper,
    )
    assert "Q-2027" in str(error.message) and "B-02-01" in str(error.message)


def test_a_wrong_material_is_refused(db, floor_site, quilts, keeper):
    s = floor_site
    error = refused(
        db,
        floor.WrongBatch,
        floor.record_pick,
        source_id=source_of(quilts).id,
        location_id=s.a1.id,
        batch_id=s.tent_b1.id,
        qty=5,
        actor=keeper,
        substitute_reason="看错了",
    )
    assert "救灾帐篷" in str(error.message)


def test_an_over_pick_is_refused(db, floor_site, quilts, keeper):
    source = source_of(quilts)
    pick(db, source, keeper, 25)
    error = refused(
        db,
        floor.OverPick,
        floor.record_pick,
        source_id=source.id,
        location_id=source.location_id,
        batch_id=source.batch_id,
        qty=6,
        actor=keeper,
    )
    assert "5" in str(error.message)


def test_a_substitute_with_a_reason_moves_the_reservation(db, floor_site, quilts, keeper):
    s = floor_site
    source = source_of(quilts)
    made = floor.record_pick(
        db,
        source_id=source.id,
        location_id=s.a1.id,
        batch_id=s.quilt_b2.id,
        qty=10,
        actor=keeper,
        substitute_reason="B-02-01 货架被压，取不出",
    )
    db.refresh(source)
    stand_in = db.get(OrderSource, made.source_id)
    assert stand_in.id != source.id and made.replaced_source_id == source.id
    assert (source.qty, source.picked_qty) == (20, 0)
    assert (stand_in.qty, stand_in.picked_qty, stand_in.batch_id) == (10, 10, s.quilt_b2.id)
    assert balance(db, s.b2, s.quilt_b1) == (100, 20)  # 10 released
    assert balance(db, s.a1, s.quilt_b2) == (100, 10)  # 10 reserved on the substitute
    assert db.get(StockReservation, stand_in.reservation_id).line_id == source.line_id
    assert ledger.verify(db) == []


def test_substituting_a_whole_source_repoints_it(db, floor_site, quilts, keeper):
    s = floor_site
    source = source_of(quilts)
    made = floor.record_pick(
        db,
        source_id=source.id,
        location_id=s.a1.id,
        batch_id=s.quilt_b2.id,
        qty=30,
        actor=keeper,
        substitute_reason="整批替代",
    )
    assert made.source_id == source.id
    db.refresh(source)
    assert (source.batch_id, source.picked_qty, source.qty) == (s.quilt_b2.id, 30, 30)
    assert balance(db, s.b2, s.quilt_b1) == (100, 0)
    assert ledger.verify(db) == []


def test_a_substitute_expiring_earlier_is_refused(db, floor_site, keeper):
    s = floor_site
    order = make_order(db, lines=[(s.quilt, [("stock", s.a1, s.quilt_b2, 10)])])
    error = refused(
        db,
        floor.WrongBatch,
        floor.record_pick,
        source_id=source_of(order).id,
        location_id=s.b2.id,
        batch_id=s.quilt_b1.id,
        qty=5,
        actor=keeper,
        substitute_reason="近的那批",
    )
    assert "Q-2027" in str(error.message)


def test_a_substitute_beyond_what_is_available_is_refused(db, floor_site, keeper):
    s = floor_site
    order = make_order(db, lines=[(s.quilt, [("stock", s.b2, s.quilt_b1, 100)])])
    make_order(db, lines=[(s.quilt, [("stock", s.a1, s.quilt_b2, 95)])])
    refused(
        db,
        floor.WrongBatch,
        floor.record_pick,
        source_id=source_of(order).id,
        location_id=s.a1.id,
        batch_id=s.quilt_b2.id,
        qty=10,
        actor=keeper,
        substitute_reason="替代",
    )


@pytest.mark.parametrize(
    ("qty", "error"), [(0, ValidationError), (-3, ValidationError), ("5", ValidationError)]
)
def test_bad_pick_quantities_change_nothing(db, floor_site, quilts, keeper, qty, error):
    source = source_of(quilts)
    refused(
        db,
        error,
        floor.record_pick,
        source_id=source.id,
        location_id=source.location_id,
        batch_id=source.batch_id,
        qty=qty,
        actor=keeper,
    )


def test_a_keeper_of_another_warehouse_cannot_pick(db, floor_site, quilts):
    source = source_of(quilts)
    stranger = keeper_of(floor_site.dest)
    refused(
        db,
        (Forbidden, ReserveError),
        floor.record_pick,
        source_id=source.id,
        location_id=source.location_id,
        batch_id=source.batch_id,
        qty=1,
        actor=stranger,
    )


def test_shipping_posts_issue_from_the_reservation_and_the_ledger_sums(
    db, floor_site, quilts, keeper
):
    s = floor_site
    source = source_of(quilts)
    pick(db, source, keeper, 30)
    shipment = floor.ship_warehouse(
        db, order_id=quilts.id, warehouse_id=s.source.id, actor=keeper, **VEHICLE
    )
    db.refresh(quilts)
    db.refresh(source)
    assert quilts.status == OrderStatus.SHIPPED.value and quilts.shipped_at is not None
    assert shipment.no.startswith("CK") and source.shipped_qty == 30
    movements = db.scalars(
        sa.select(StockMovement).where(StockMovement.document_type == "order_shipment")
    ).all()
    assert [(m.kind, m.qty, m.document_no) for m in movements] == [("issue", -30, shipment.no)]
    assert balance(db, s.b2, s.quilt_b1) == (70, 0)
    assert db.get(StockReservation, source.reservation_id).status == "consumed"
    assert ledger.verify(db) == []


def test_a_partial_shipment_keeps_the_order_picking(db, floor_site, quilts, keeper):
    pick(db, source_of(quilts), keeper, 10)
    floor.ship_warehouse(
        db, order_id=quilts.id, warehouse_id=floor_site.source.id, actor=keeper, **VEHICLE
    )
    db.refresh(quilts)
    assert quilts.status == OrderStatus.PICKING.value
    assert balance(db, floor_site.b2, floor_site.quilt_b1) == (90, 20)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"vehicle_plate": "12345"}, "vehicle_plate"),
        ({"driver_name": " "}, "driver_name"),
        ({"driver_phone": "12"}, "driver_phone"),
    ],
)
def test_bad_vehicles_change_nothing(db, floor_site, quilts, keeper, changes, field):
    pick(db, source_of(quilts), keeper, 10)
    error = refused(
        db,
        ValidationError,
        floor.ship_warehouse,
        order_id=quilts.id,
        warehouse_id=floor_site.source.id,
        actor=keeper,
        **{**VEHICLE, **changes},
    )
    assert error.field == field


def test_nothing_picked_cannot_ship(db, floor_site, quilts, keeper):
    refused(
        db,
        Conflict,
        floor.ship_warehouse,
        order_id=quilts.id,
        warehouse_id=floor_site.source.id,
        actor=keeper,
        **VEHICLE,
    )


def test_serial_items_are_picked_by_number_and_carried(db, floor_site, keeper):
    s = floor_site
    order = make_order(db, lines=[(s.pump, [("stock", s.a1, s.pump_b1, 2)])])
    source = source_of(order)
    with pytest.raises(ValidationError), db.begin_nested():
        pick(db, source, keeper, 2)
    pick(db, source, keeper, 2, serial_nos=["PUMP-001", "PUMP-002"])
    floor.ship_warehouse(db, order_id=order.id, warehouse_id=s.source.id, actor=keeper, **VEHICLE)
    statuses = dict(db.execute(sa.select(SerialItem.serial_no, SerialItem.status)).all())
    assert statuses == {"PUMP-001": "issued", "PUMP-002": "issued", "PUMP-003": "in_stock"}
    assert ledger.verify(db) == []


def shipped(db, site, order, keeper):
    for line in order.lines:
        for source in line.sources:
            pick(db, source, keeper, source.qty - source.picked_qty, **_serials(site, source))
    floor.ship_warehouse(
        db, order_id=order.id, warehouse_id=site.source.id, actor=keeper, **VEHICLE
    )
    db.refresh(order)
    return order


def _serials(site, source):
    if source.batch_id == site.pump_b1.id:
        return {"serial_nos": list(site.pumps[: source.qty])}
    return {}


def test_a_partial_receipt_needs_a_reason_and_shows_the_shortfall(db, floor_site, quilts, keeper):
    shipped(db, floor_site, quilts, keeper)
    source = source_of(quilts)
    error = refused(
        db,
        ValidationError,
        receive_order,
        order_id=quilts.id,
        lines=[ReceiveLineData(source.id, 28)],
        actor=DISPATCHER,
    )
    assert error.field == "reason"
    receipt = receive_order(
        db,
        order_id=quilts.id,
        lines=[ReceiveLineData(source.id, 28, "途中淋湿 2 床，退回")],
        signed_by="王主任",
        actor=DISPATCHER,
    )
    db.refresh(quilts)
    db.refresh(source)
    assert receipt.no.startswith("QS")
    assert (source.received_qty, source.short_qty) == (28, 2)
    assert quilts.status == OrderStatus.RECEIVED.value  # everything shipped is signed for
    assert not db.scalars(
        sa.select(StockMovement).where(StockMovement.document_type == "order_receipt")
    ).all()  # a dispatch's receipt moves no stock of the bureau


def test_receiving_more_than_shipped_is_refused(db, floor_site, quilts, keeper):
    pick(db, source_of(quilts), keeper, 10)
    floor.ship_warehouse(
        db, order_id=quilts.id, warehouse_id=floor_site.source.id, actor=keeper, **VEHICLE
    )
    error = refused(
        db,
        ValidationError,
        receive_order,
        order_id=quilts.id,
        lines=[ReceiveLineData(source_of(quilts).id, 11)],
        actor=DISPATCHER,
    )
    assert "10" in str(error.message)


def test_only_the_office_signs_a_sites_paper(db, floor_site, quilts, keeper):
    shipped(db, floor_site, quilts, keeper)
    refused(
        db,
        Forbidden,
        receive_order,
        order_id=quilts.id,
        lines=[ReceiveLineData(source_of(quilts).id, 30)],
        actor=keeper,
    )


def test_a_transfer_lands_in_the_destinations_receiving_area(db, floor_site, keeper):
    s = floor_site
    order = make_order(
        db,
        kind=OrderKind.TRANSFER.value,
        destination=s.dest,
        lines=[
            (s.quilt, [("stock", s.b2, s.quilt_b1, 40)]),
            (s.pump, [("stock", s.a1, s.pump_b1, 1)]),
        ],
    )
    shipped(db, s, order, keeper)
    outs = db.scalars(
        sa.select(StockMovement.kind).where(StockMovement.document_type == "order_shipment")
    ).all()
    assert set(outs) == {"transfer_out"}
    receiver = keeper_of(s.dest)
    with pytest.raises(Forbidden), db.begin_nested():
        receive_order(
            db, order_id=order.id, lines=[ReceiveLineData(source_of(order).id, 40)], actor=keeper
        )
    receive_order(
        db,
        order_id=order.id,
        lines=[
            ReceiveLineData(order.lines[0].sources[0].id, 40),
            ReceiveLineData(order.lines[1].sources[0].id, 1),
        ],
        actor=receiver,
    )
    recv = db.scalar(
        sa.select(Location).where(Location.warehouse_id == s.dest.id, Location.is_receiving)
    )
    assert balance(db, recv, s.quilt_b1) == (40, 0)
    pump = db.scalar(sa.select(SerialItem).where(SerialItem.serial_no == "PUMP-001"))
    assert (pump.status, pump.location_id) == ("in_stock", recv.id)
    db.refresh(order)
    assert order.status == OrderStatus.RECEIVED.value
    assert ledger.verify(db) == []


def test_returns_good_repair_and_scrap(db, floor_site, keeper):
    s = floor_site
    order = make_order(
        db,
        lines=[
            (s.tent, [("stock", s.a1, s.tent_b1, 20)]),
            (s.pump, [("stock", s.a1, s.pump_b1, 3)]),
            (s.quilt, [("stock", s.b2, s.quilt_b1, 5)]),
        ],
    )
    shipped(db, s, order, keeper)
    receive_order(
        db,
        order_id=order.id,
        lines=[ReceiveLineData(line.sources[0].id, line.sources[0].qty) for line in order.lines],
        actor=DISPATCHER,
    )
    tent, pump, quilt = (line.sources[0] for line in order.lines)
    refused(  # quilts are not returnable
        db,
        ValidationError,
        return_goods,
        order_id=order.id,
        warehouse_id=s.source.id,
        lines=[ReturnLineData(quilt.id, "good", 5)],
        actor=keeper,
    )
    refused(  # more than received
        db,
        ValidationError,
        return_goods,
        order_id=order.id,
        warehouse_id=s.source.id,
        lines=[ReturnLineData(tent.id, "good", 15), ReturnLineData(tent.id, "scrap", 6)],
        actor=keeper,
    )
    refused(  # a quantity of tents cannot go to repair
        db,
        ValidationError,
        return_goods,
        order_id=order.id,
        warehouse_id=s.source.id,
        lines=[ReturnLineData(tent.id, "repair", 1)],
        actor=keeper,
    )
    back = return_goods(
        db,
        order_id=order.id,
        warehouse_id=s.source.id,
        lines=[
            ReturnLineData(tent.id, "good", 18),
            ReturnLineData(tent.id, "scrap", 2, note="撕裂"),
            ReturnLineData(pump.id, "good", 1, ("PUMP-001",)),
            ReturnLineData(pump.id, "repair", 1, ("PUMP-002",)),
            ReturnLineData(pump.id, "scrap", 1, ("PUMP-003",)),
        ],
        actor=keeper,
    )
    recv = db.scalar(
        sa.select(Location).where(Location.warehouse_id == s.source.id, Location.is_receiving)
    )
    assert back.no.startswith("GH")
    assert balance(db, recv, s.tent_b1) == (20, 0)  # 18 good + 2 awaiting their scrap
    statuses = dict(db.execute(sa.select(SerialItem.serial_no, SerialItem.status)).all())
    assert statuses == {
        "PUMP-001": ItemStatus.IN_STOCK.value,
        "PUMP-002": ItemStatus.REPAIR.value,
        "PUMP-003": ItemStatus.IN_STOCK.value,  # until its scrap is approved and posted
    }
    scrap = db.get(Scrap, back.scrap_id)
    assert scrap.status == "requested" and sorted(line.qty for line in scrap.lines) == [1, 2]
    db.refresh(tent)
    db.refresh(pump)
    assert (tent.returned_qty, pump.returned_qty) == (20, 3)
    kinds = db.scalars(
        sa.select(StockMovement.kind).where(StockMovement.document_type == "order_return")
    ).all()
    assert set(kinds) == {"receipt"}
    assert ledger.verify(db) == []


def test_close_is_refused_while_picking_and_a_short_pick_stays_reserved(db, floor_site, keeper):
    s = floor_site
    order = make_order(
        db,
        lines=[
            (s.quilt, [("stock", s.b2, s.quilt_b1, 30)]),
            (s.tent, [("stock", s.a1, s.tent_b1, 5)]),
        ],
    )
    pick(db, order.lines[1].sources[0], keeper, 5)
    floor.ship_warehouse(db, order_id=order.id, warehouse_id=s.source.id, actor=keeper, **VEHICLE)
    db.refresh(order)
    assert order.status == OrderStatus.PICKING.value
    refused(db, Conflict, floor.close_order, order_id=order.id, actor=DISPATCHER, reason="x")
    # the rest is picked and shipped short: 20 of 30 quilts
    pick(db, order.lines[0].sources[0], keeper, 20)
    floor.ship_warehouse(db, order_id=order.id, warehouse_id=s.source.id, actor=keeper, **VEHICLE)
    db.refresh(order)
    assert order.status == OrderStatus.PICKING.value  # 10 quilts still planned
    assert balance(db, s.b2, s.quilt_b1) == (80, 10)


def test_close_of_a_shipped_order_needs_a_reason_and_releases(db, floor_site, quilts, keeper):
    shipped(db, floor_site, quilts, keeper)
    refused(db, ValidationError, floor.close_order, order_id=quilts.id, actor=DISPATCHER)
    refused(db, Forbidden, floor.close_order, order_id=quilts.id, actor=keeper, reason="x")
    closed = floor.close_order(db, order_id=quilts.id, actor=DISPATCHER, reason="现场签收单未回")
    assert closed.status == OrderStatus.CLOSED.value and closed.closed_by_name == "调度员"


def test_close_of_a_received_order_leaves_nothing_reserved(db, floor_site, keeper):
    s = floor_site
    order = make_order(
        db,
        lines=[
            (s.quilt, [("stock", s.b2, s.quilt_b1, 30)]),
            (s.tent, [("stock", s.a1, s.tent_b1, 5)]),
        ],
    )
    shipped(db, s, order, keeper)
    db.refresh(order)
    assert order.status == OrderStatus.SHIPPED.value
    receive_order(
        db,
        order_id=order.id,
        lines=[ReceiveLineData(line.sources[0].id, line.sources[0].qty) for line in order.lines],
        actor=DISPATCHER,
    )
    floor.close_order(db, order_id=order.id, actor=DISPATCHER)
    assert db.scalar(sa.select(sa.func.sum(StockBalance.reserved))) == 0
    assert ledger.verify(db) == []


def test_a_substitute_and_a_short_pick_leave_only_the_rest_reserved(db, floor_site, quilts, keeper):
    s = floor_site
    source = source_of(quilts)
    floor.record_pick(
        db,
        source_id=source.id,
        location_id=s.a1.id,
        batch_id=s.quilt_b2.id,
        qty=10,
        actor=keeper,
        substitute_reason="取不出",
    )
    pick(db, source, keeper, 15)  # 5 of the planned 20 never picked
    floor.ship_warehouse(db, order_id=quilts.id, warehouse_id=s.source.id, actor=keeper, **VEHICLE)
    db.refresh(quilts)
    assert quilts.status == OrderStatus.PICKING.value
    # the order waits for its last 5 (picking): the lifecycle closes from shipped or received
    assert balance(db, s.b2, s.quilt_b1) == (85, 5)


def test_the_enterprises_confirmation_ships_the_agreement_source(
    db, floor_site, make_enterprise, keeper
):
    s = floor_site
    enterprise = make_enterprise()
    agreement_line = make_agreement_line(db, enterprise, s.quilt)
    order = make_order(
        db,
        lines=[(s.quilt, [("stock", s.b2, s.quilt_b1, 10), ("agreement", agreement_line, 50)])],
    )
    stock, called = order.lines[0].sources
    pick(db, stock, keeper, 10)
    floor.ship_warehouse(db, order_id=order.id, warehouse_id=s.source.id, actor=keeper, **VEHICLE)
    db.refresh(order)
    assert order.status == OrderStatus.PICKING.value  # the enterprise has not shipped yet
    company = Actor(
        user_id=None,
        username="企业",
        roles=frozenset({Role.ENTERPRISE}),
        enterprise_id=enterprise.id,
    )
    call = callups.confirm_shipped(
        db,
        call_up_id=called.call_up_id,
        shipped_qty=45,
        vehicle_plate="鲁A54321",
        driver_name="赵师傅",
        driver_phone="13800001111",
        shipped_at=utcnow(),
        actor=company,
    )
    db.refresh(order)
    db.refresh(called)
    assert call.replenish_due_on is not None  # the replenishment duty starts as before
    assert called.shipped_qty == 45 and order.status == OrderStatus.SHIPPED.value
    receive_order(
        db,
        order_id=order.id,
        lines=[ReceiveLineData(stock.id, 10), ReceiveLineData(called.id, 45)],
        actor=DISPATCHER,
    )
    db.refresh(order)
    assert order.status == OrderStatus.RECEIVED.value


def test_close_releases_what_a_source_still_holds(db, floor_site, keeper):
    """A shipped order whose source still holds part of its reservation (shipped before all of
    it was picked, as an emergency's first truck): closing releases that part."""
    s = floor_site
    order = make_order(db, lines=[(s.quilt, [("stock", s.b2, s.quilt_b1, 30)])], emergency=True)
    pick(db, source_of(order), keeper, 25)
    floor.ship_warehouse(db, order_id=order.id, warehouse_id=s.source.id, actor=keeper, **VEHICLE)
    db.execute(  # the state the shortfall was accepted in, written directly
        sa.update(AllocationOrder).where(AllocationOrder.id == order.id).values(status="shipped")
    )
    db.expire_all()
    assert balance(db, s.b2, s.quilt_b1) == (75, 5)
    floor.close_order(db, order_id=order.id, actor=DISPATCHER, reason="5 床缺货，不再补发")
    assert balance(db, s.b2, s.quilt_b1) == (75, 0)
    reservation = db.get(StockReservation, source_of(order).reservation_id)
    assert (reservation.consumed_qty, reservation.released_qty) == (25, 5)
    assert ledger.verify(db) == []
