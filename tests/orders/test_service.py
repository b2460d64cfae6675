"""Drafting, approval, emergency approval, sign-off and cancelling through the services: the
writes they make (reservations, call-ups, timeline, audit), and every bad input refused with a
message and nothing changed."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from reserve.agreements.callup_models import CallUp
from reserve.auth.models import Role
from reserve.db import utcnow
from reserve.errors import ReserveError, SeparationOfDuties
from reserve.orders import service
from reserve.orders.models import AllocationOrder, Event, OrderLog, OrderSource
from reserve.orders.service import EventData, LineData, SourceData
from reserve.stock.models import StockBalance, StockReservation
from tests.orders.factories import agreement_source, draft, order_data


def _counts(db):
    return tuple(
        db.scalar(sa.select(sa.func.count()).select_from(m))
        for m in (AllocationOrder, OrderSource, OrderLog, StockReservation, CallUp, Event)
    ) + (db.scalar(sa.select(sa.func.sum(StockBalance.reserved))),)


def _refused(db, call, match):
    before = _counts(db)
    with pytest.raises(ReserveError) as error:
        call()
    db.expire_all()
    assert re.search(match, str(error.value.message)), error.value.message
    assert _counts(db) == before
    return error.value


def test_a_draft_is_numbered_by_month(db, floor, actors):
    order = draft(db, floor, actors[Role.DISPATCHER])
    other = draft(db, floor, actors[Role.DISPATCHER])
    assert re.fullmatch(r"DB-\d{6}-0001", order.no)
    assert other.no.endswith("-0002") and other.no[:9] == order.no[:9]
    assert order.status == "draft" and len(order.lines) == 1
    assert [s.qty for s in order.lines[0].sources] == [50, 10]
    assert db.scalar(sa.select(sa.func.sum(StockBalance.reserved))) == 0  # nothing held yet


def test_approval_reserves_and_calls_up_in_one_go(db, floor, actors):
    lines = (
        LineData(
            material_id=floor.tent.id,
            qty=100,
            sources=(
                SourceData(
                    kind="stock", qty=50, location_id=floor.near_loc.id, batch_id=floor.early.id
                ),
                agreement_source(floor, 50),
            ),
        ),
    )
    order = draft(db, floor, actors[Role.DISPATCHER], lines=lines)
    service.submit_order(db, order_id=order.id, actor=actors[Role.DISPATCHER])
    order = service.approve_order(db, order_id=order.id, actor=actors[Role.APPROVER])
    assert order.status == "approved" and order.approved_by_name == "o_approver"
    stock, agreement = order.lines[0].sources
    reservation = db.get(StockReservation, stock.reservation_id)
    assert (reservation.qty, reservation.document_no) == (50, order.no)
    call = db.get(CallUp, agreement.call_up_id)
    assert (call.qty, call.source, call.status) == (50, order.no, "requested")
    assert [
        r.action for r in db.scalars(sa.select(OrderLog).where(OrderLog.order_id == order.id))
    ] == [
        "create",
        "submit",
        "approve",
    ]


def test_a_shortfall_refuses_the_whole_approval_naming_the_line(db, floor, actors):
    lines = (
        LineData(material_id=floor.quilt.id, qty=5),
        LineData(
            material_id=floor.tent.id,
            qty=50,
            sources=(
                SourceData(
                    kind="stock", qty=50, location_id=floor.near_loc.id, batch_id=floor.early.id
                ),
            ),
        ),
    )
    order = draft(db, floor, actors[Role.DISPATCHER], lines=lines)
    rival = draft(db, floor, actors[Role.DISPATCHER], lines=lines[1:])
    service.submit_order(db, order_id=order.id, actor=actors[Role.DISPATCHER])
    service.approve_emergency(db, order_id=rival.id, actor=actors[Role.DISPATCHER])
    error = _refused(
        db,
        lambda: service.approve_order(db, order_id=order.id, actor=actors[Role.APPROVER]),
        r"^Line 2: ",
    )
    assert error.details["line"] == 2
    assert db.get(AllocationOrder, order.id).status == "submitted"


def test_segregation_the_submitter_does_not_approve(db, floor, make_user):
    from reserve.auth.actor import Actor

    both = make_user(Role.DISPATCHER, Role.APPROVER, username="both")
    actor = Actor(
        user_id=both.id, username="both", roles=frozenset({Role.DISPATCHER, Role.APPROVER})
    )
    order = draft(db, floor, actor)
    service.submit_order(db, order_id=order.id, actor=actor)
    error = _refused(
        db,
        lambda: service.approve_order(db, order_id=order.id, actor=actor),
        "submitted this order",
    )
    assert isinstance(error, SeparationOfDuties)


def test_emergency_then_sign_off_by_another(db, floor, actors):
    order = draft(db, floor, actors[Role.DISPATCHER])
    order = service.approve_emergency(db, order_id=order.id, actor=actors[Role.DISPATCHER])
    assert order.is_emergency and order.awaits_sign_off and order.status == "approved"
    assert db.scalar(sa.select(sa.func.sum(StockBalance.reserved))) == 60
    order = service.sign_off_order(db, order_id=order.id, actor=actors[Role.APPROVER])
    assert not order.awaits_sign_off and order.signed_off_by_name == "o_approver"
    _refused(
        db,
        lambda: service.sign_off_order(db, order_id=order.id, actor=actors["approver2"]),
        "already been signed off",
    )


def test_cancel_releases_reservations_and_call_ups(db, floor, actors):
    lines = (
        LineData(
            material_id=floor.tent.id,
            qty=80,
            sources=(
                SourceData(
                    kind="stock", qty=50, location_id=floor.near_loc.id, batch_id=floor.early.id
                ),
                agreement_source(floor, 30),
            ),
        ),
    )
    order = draft(db, floor, actors[Role.DISPATCHER], lines=lines)
    service.submit_order(db, order_id=order.id, actor=actors[Role.DISPATCHER])
    service.approve_order(db, order_id=order.id, actor=actors[Role.APPROVER])
    order = service.cancel_order(
        db, order_id=order.id, reason="灾情缓解", actor=actors[Role.APPROVER]
    )
    assert order.status == "cancelled" and order.cancel_reason == "灾情缓解"
    assert db.scalar(sa.select(sa.func.sum(StockBalance.reserved))) == 0
    assert {c.status for c in db.scalars(sa.select(CallUp))} == {"cancelled"}
    assert floor.agreement.lines[0].callable_qty == 1000


def test_cancelling_a_shipped_order_is_refused(db, floor, actors):
    order = draft(db, floor, actors[Role.DISPATCHER])
    service.approve_emergency(db, order_id=order.id, actor=actors[Role.DISPATCHER])
    source = order.lines[0].sources[0]
    db.execute(
        sa.update(OrderSource)
        .where(OrderSource.id == source.id)
        .values(picked_qty=5, shipped_qty=5)
    )
    db.expire_all()
    _refused(
        db,
        lambda: service.cancel_order(
            db, order_id=order.id, reason="x", actor=actors[Role.DISPATCHER]
        ),
        "begun to ship",
    )


def _line(floor, qty=10, **source):
    src = dict(kind="stock", qty=qty, location_id=floor.near_loc.id, batch_id=floor.early.id)
    src.update(source)
    return (LineData(material_id=floor.tent.id, qty=max(qty, 1), sources=(SourceData(**src),)),)


@pytest.mark.parametrize(
    "changes, match",
    [
        (dict(needed_by=utcnow() - timedelta(hours=2)), "already passed"),
        (dict(needed_by=None), "by when"),
        (dict(kind="airlift"), "dispatch to a site or transfer"),
        (dict(requesting_unit="  "), "which unit"),
        (dict(site_address=None), "site's address"),
        (dict(site_lat="91", site_lng="116"), "degrees"),
        (dict(site_lat="36", site_lng=None), "both latitude"),
        (dict(priority="whenever"), "priority"),
        (dict(lines=()), "at least one material"),
        ("qty0", "whole number above 0"),
        ("too_much", "Only 50 are available there"),
        ("wrong_material", "holds none of"),
        ("own_source", "cannot take from the warehouse it goes to"),
        ("over_agreement", "can still be called up"),
        ("two_lines", "on two lines"),
        ("sources_over", "more than the"),
    ],
)
def test_bad_input_is_refused_and_nothing_changes(db, floor, actors, changes, match):
    if changes == "qty0":
        changes = dict(lines=(LineData(material_id=floor.tent.id, qty=0),))
    elif changes == "too_much":
        changes = dict(lines=_line(floor, 51))
    elif changes == "wrong_material":
        changes = dict(
            lines=(LineData(material_id=floor.quilt.id, qty=5, sources=_line(floor, 5)[0].sources),)
        )
    elif changes == "own_source":
        changes = dict(
            kind="transfer", destination_warehouse_id=floor.near.id, lines=_line(floor, 5)
        )
    elif changes == "over_agreement":
        changes = dict(
            lines=(
                LineData(
                    material_id=floor.tent.id, qty=2000, sources=(agreement_source(floor, 1001),)
                ),
            )
        )
    elif changes == "two_lines":
        changes = dict(lines=(LineData(material_id=floor.tent.id, qty=1),) * 2)
    elif changes == "sources_over":
        changes = dict(
            lines=(LineData(material_id=floor.tent.id, qty=5, sources=_line(floor, 6)[0].sources),)
        )
    _refused(
        db,
        lambda: service.create_order(
            db, data=order_data(floor, **changes), actor=actors[Role.DISPATCHER]
        ),
        match,
    )


def test_reject_needs_a_reason_and_the_order_returns_to_the_dispatcher(db, floor, actors):
    order = draft(db, floor, actors[Role.DISPATCHER])
    service.submit_order(db, order_id=order.id, actor=actors[Role.DISPATCHER])
    _refused(
        db,
        lambda: service.reject_order(
            db, order_id=order.id, reason=" ", actor=actors[Role.APPROVER]
        ),
        "Say why",
    )
    order = service.reject_order(
        db, order_id=order.id, reason="数量过大", actor=actors[Role.APPROVER]
    )
    assert order.status == "rejected"
    order = service.update_order(
        db,
        order_id=order.id,
        data=order_data(floor, lines=_line(floor, 20)),
        actor=actors[Role.DISPATCHER],
    )
    assert [line.requested_qty for line in order.lines] == [20]
    order = service.submit_order(db, order_id=order.id, actor=actors[Role.DISPATCHER])
    assert order.status == "submitted" and order.reject_reason is None


def test_scope_an_enterprise_user_sees_no_order_a_keeper_only_theirs(db, floor, actors):
    from reserve.auth.actor import Actor
    from reserve.errors import NotFound

    order = draft(db, floor, actors[Role.DISPATCHER])
    assert service.get_order(db, order.id, actor=actors[Role.KEEPER]).id == order.id
    other_keeper = Actor(
        user_id=None,
        username="k2",
        roles=frozenset({Role.KEEPER}),
        warehouse_ids=frozenset({floor.far.id}),
    )
    for actor in (actors[Role.ENTERPRISE], other_keeper):
        with pytest.raises(NotFound):
            service.get_order(db, order.id, actor=actor)


def test_events_create_edit_end(db, floor, actors, make_region):
    region = db.scalar(sa.select(Event.region.property.mapper.class_).limit(1))
    data = EventData(
        name="2026年平阴县夏季洪涝",
        kind="flood",
        level="3",
        region_id=region.id,
        started_at=utcnow() - timedelta(days=1),
    )
    event = service.create_event(db, data=data, actor=actors[Role.DISPATCHER])
    assert event.is_open
    event = service.update_event(
        db,
        event_id=event.id,
        data=EventData(**{**data.__dict__, "level": "2"}),
        actor=actors[Role.ADMIN],
    )
    assert event.level == "2"
    service.end_event(db, event_id=event.id, actor=actors[Role.DISPATCHER])
    assert not event.is_open
    _refused(
        db,
        lambda: service.end_event(db, event_id=event.id, actor=actors[Role.DISPATCHER]),
        "already ended",
    )
    _refused(
        db, lambda: service.create_event(db, data=data, actor=actors[Role.APPROVER]), "permission"
    )
    _refused(
        db,
        lambda: service.create_event(
            db,
            data=EventData(**{**data.__dict__, "started_at": utcnow() + timedelta(days=2)}),
            actor=actors[Role.ADMIN],
        ),
        "future",
    )
