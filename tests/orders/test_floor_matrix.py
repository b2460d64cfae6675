"""Every floor action × every role × every state, through the services, from the lifecycle's
one table: allowed where ``lifecycle.allowed`` says so (the action then runs), refused
otherwise — 403 for a role the table does not name, a conflict naming the state for a state it
does not start from — and a refusal changes nothing."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from reserve.auth.actor import Actor
from reserve.auth.models import Role
from reserve.documents import stamp
from reserve.errors import Conflict, Forbidden, NotFound
from reserve.orders import floor, lifecycle
from reserve.orders.floor_returns import (
    ReceiveLineData,
    ReturnLineData,
    receive_order,
    return_goods,
)
from reserve.orders.models import AllocationOrder, OrderLog, OrderSource, OrderStatus
from reserve.stock.models import StockMovement
from tests.orders import floor_factories
from tests.orders.floor_factories import make_order

floor_site = floor_factories.floor_site  # the fixture
FLOOR_ACTIONS = ("pick", "ship", "receive", "return", "close")
VEHICLE = dict(vehicle_plate="鲁A12345", driver_name="李师傅", driver_phone="13912345678")


def actor_for(role: Role, site) -> Actor:
    """A user of one role; a keeper keeps both the source and the destination warehouse."""
    return Actor(
        user_id=None,
        username=f"{role.value}-user",
        roles=frozenset({role}),
        warehouse_ids=frozenset({site.source.id, site.dest.id})
        if role is Role.KEEPER
        else frozenset(),
    )


def put_in_state(db, order, status: str, action: str, site) -> None:
    """The source as far as the state says (picked, shipped, received), then the state itself
    written directly: the matrix tests the floor's gate, not the way there. A picking order
    being received has shipped part; one being shipped has its pick waiting."""
    source = order.lines[0].sources[0]
    source.picked_qty = 0 if status == "approved" and action != "ship" else 4
    shipped = status in ("shipped", "received", "closed")
    source.shipped_qty = 4 if shipped or (status == "picking" and action == "receive") else 0
    source.received_qty = 4 if status in ("received", "closed") else 0
    order.status = status
    order.reject_reason = "x" if status == "rejected" else None
    order.cancel_reason = "x" if status == "cancelled" else None
    if status in ("draft", "submitted", "rejected", "cancelled"):
        for key in stamp("approved", actor_for(Role.ADMIN, site)):
            setattr(order, key, None)
    db.flush()


def attempt(db, action: str, order, actor: Actor, site):
    source = order.lines[0].sources[0]
    if action == "pick":
        return floor.record_pick(
            db,
            source_id=source.id,
            location_id=source.location_id,
            batch_id=source.batch_id,
            qty=1,
            actor=actor,
        )
    if action == "ship":
        return floor.ship_warehouse(
            db, order_id=order.id, warehouse_id=site.source.id, actor=actor, **VEHICLE
        )
    if action == "receive":
        return receive_order(
            db, order_id=order.id, lines=[ReceiveLineData(source.id, 4)], actor=actor
        )
    if action == "return":
        return return_goods(
            db,
            order_id=order.id,
            warehouse_id=site.source.id,
            lines=[ReturnLineData(source.id, "good", 1)],
            actor=actor,
        )
    return floor.close_order(db, order_id=order.id, actor=actor, reason="差额确认")


def snapshot(db):
    return (
        db.scalar(sa.select(sa.func.count()).select_from(StockMovement)),
        db.scalar(sa.select(sa.func.count()).select_from(OrderLog)),
        db.execute(
            sa.select(
                OrderSource.picked_qty,
                OrderSource.shipped_qty,
                OrderSource.received_qty,
                OrderSource.returned_qty,
            )
        ).all(),
        db.scalars(sa.select(AllocationOrder.status)).all(),
    )


@pytest.mark.parametrize("status", [s.value for s in OrderStatus])
@pytest.mark.parametrize("role", list(Role))
@pytest.mark.parametrize("action", FLOOR_ACTIONS)
def test_every_floor_action_role_and_state(db, floor_site, action, role, status):
    s = floor_site
    order = make_order(db, lines=[(s.tent, [("stock", s.a1, s.tent_b1, 10)])])
    if action == "ship":
        floor.record_pick(
            db,
            source_id=order.lines[0].sources[0].id,
            location_id=s.a1.id,
            batch_id=s.tent_b1.id,
            qty=4,
            actor=actor_for(Role.ADMIN, s),
        )
    put_in_state(db, order, status, action, s)
    actor = actor_for(role, s)
    allowed = lifecycle.allowed(action, status, actor.roles)
    if role is Role.ENTERPRISE:
        expected = NotFound  # it sees no order at all
    elif not lifecycle.TRANSITIONS[action].roles.intersection(actor.roles):
        expected = Forbidden
    elif not allowed:
        expected = Conflict
    elif action == "receive" and role is Role.KEEPER:
        allowed, expected = False, Forbidden  # a site's paper is signed in by the office
    if allowed:
        attempt(db, action, order, actor, s)
        return
    before = snapshot(db)
    with pytest.raises(expected), db.begin_nested():
        attempt(db, action, order, actor, s)
    db.expire_all()
    assert snapshot(db) == before


def test_the_matrix_covers_every_floor_action_of_the_table():
    assert set(FLOOR_ACTIONS) <= set(lifecycle.TRANSITIONS)
    for action in FLOOR_ACTIONS:
        assert lifecycle.TRANSITIONS[action].roles
