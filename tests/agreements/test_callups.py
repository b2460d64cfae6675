"""调用与补储, the service: the lifecycle and the line's figures after each step, the cap, and
every bad input refused with a clear message and nothing changed."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from reserve.agreements import callups, signing
from reserve.agreements.callup_models import CallUp
from reserve.agreements.callups import CallUpData, normalise_plate
from reserve.agreements.models import AgreementLine
from reserve.audit.models import AuditEntry
from reserve.auth.actor import Actor
from reserve.auth.models import Role
from reserve.db import SHANGHAI, local_today, utcnow
from reserve.errors import Conflict, Forbidden, NotFound, ValidationError
from tests.agreements.conftest import capacity, days


@pytest.fixture
def dispatcher():
    return Actor(user_id=None, username="dispatcher", roles=frozenset({Role.DISPATCHER}))


@pytest.fixture
def line(db, make_agreement):
    agreement = make_agreement(activate=True)
    return agreement.lines[0]


def enterprise_actor(enterprise_id: int) -> Actor:
    return Actor(
        user_id=None,
        username="qiye",
        roles=frozenset({Role.ENTERPRISE}),
        enterprise_id=enterprise_id,
    )


def data(line_id: int, qty=100, **changes) -> CallUpData:
    fields = dict(
        line_id=line_id,
        qty=qty,
        needed_by=utcnow() + timedelta(hours=12),
        destination="历城区安置点",
        purpose="防汛",
    )
    fields.update(changes)
    return CallUpData(**fields)


def figures(db, line_id: int) -> tuple[int, int]:
    db.expire_all()
    line = db.get(AgreementLine, line_id)
    return line.called_qty, line.shipped_qty


def ship(db, call, actor, qty=None, **changes):
    fields = dict(
        call_up_id=call.id,
        shipped_qty=call.qty if qty is None else qty,
        vehicle_plate="鲁A12345",
        driver_name="张师傅",
        driver_phone="138 1234 5678",
        shipped_at=utcnow() - timedelta(minutes=5),
        actor=actor,
    )
    fields.update(changes)
    return callups.confirm_shipped(db, **fields)


def test_the_lifecycle_moves_the_line_figures(db, line, dispatcher, site):
    call = callups.call_up(db, data=data(line.id, 300), actor=dispatcher)
    assert call.no.startswith(f"DY{local_today().year}-")
    assert call.status == "requested"
    assert call.respond_by - call.requested_at == timedelta(hours=12)
    assert figures(db, line.id) == (300, 0)
    assert db.get(AgreementLine, line.id).callable_qty == 700

    call = ship(db, call, enterprise_actor(site.own.id), qty=250, vehicle_plate="鲁a·1234 5")
    assert (call.status, call.shipped_qty, call.vehicle_plate) == ("shipped", 250, "鲁A12345")
    assert call.driver_phone == "13812345678"
    shipped_day = call.shipped_at.astimezone(SHANGHAI).date()
    assert call.replenish_due_on == shipped_day + timedelta(days=30)
    assert figures(db, line.id) == (250, 250)  # the 50 not shipped are released at once

    call = callups.report_replenished(
        db,
        call_up_id=call.id,
        replenished_qty=250,
        replenished_on=local_today(),
        actor=enterprise_actor(site.own.id),
    )
    assert call.status == "replenished"
    assert figures(db, line.id) == (0, 0)
    actions = db.scalars(
        select(AuditEntry.action)
        .where(AuditEntry.object_type == "call_ups")
        .order_by(AuditEntry.id)
    ).all()
    assert actions == ["call_up", "confirm_shipped", "replenish"]


def test_cancelling_releases_the_capacity(db, line, dispatcher):
    call = callups.call_up(db, data=data(line.id, 400), actor=dispatcher)
    call = callups.cancel_call_up(db, call_up_id=call.id, reason="险情解除", actor=dispatcher)
    assert (call.status, call.cancel_reason) == ("cancelled", "险情解除")
    assert figures(db, line.id) == (0, 0)
    with pytest.raises(Conflict, match="cancelled"):
        callups.cancel_call_up(db, call_up_id=call.id, reason="again", actor=dispatcher)


def test_a_capacity_line_is_called_up_the_same_way(db, make_agreement, site, dispatcher):
    agreement = make_agreement(
        activate=True, lines=(capacity(site.quilt.id, daily=2000, lead=48, total=20000),)
    )
    cap_line = agreement.lines[0]
    callups.call_up(db, data=data(cap_line.id, 20000), actor=dispatcher)
    with pytest.raises(Conflict, match="only 0 can still be called up"):
        callups.call_up(db, data=data(cap_line.id, 1), actor=dispatcher)


def test_the_cap_set_by_a_report_is_respected(db, line, dispatcher):
    line.capped_qty = 600  # as a stock report below commitment would set it
    db.flush()
    callups.call_up(db, data=data(line.id, 500), actor=dispatcher)
    with pytest.raises(Conflict) as error:
        callups.call_up(db, data=data(line.id, 101), actor=dispatcher)
    message = str(error.value.message)
    assert "XY-2026-001" in message and "line 1" in message and "瓶装饮用水" in message
    assert "only 100" in message
    assert figures(db, line.id) == (500, 0)
    callups.call_up(db, data=data(line.id, 100), actor=dispatcher)
    assert figures(db, line.id) == (600, 0)


def _count(db) -> int:
    return db.scalar(select(func.count()).select_from(CallUp))


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"qty": 0}, "qty"),
        ({"qty": -5}, "qty"),
        ({"qty": None}, "qty"),
        ({"needed_by": None}, "needed_by"),
        ({"destination": None}, "destination"),
        ({"destination": "x" * 201}, "destination"),
        ({"line_id": 999999}, "line_id"),
        ({"warehouse_id": 999999}, "warehouse_id"),
    ],
)
def test_bad_call_ups_are_refused_and_change_nothing(db, line, dispatcher, changes, field):
    with pytest.raises(ValidationError) as error:
        callups.call_up(db, data=data(**{"line_id": line.id, **changes}), actor=dispatcher)
    assert error.value.field == field
    assert _count(db) == 0
    assert figures(db, line.id) == (0, 0)


def test_more_than_callable_is_refused_naming_what_is_left(db, line, dispatcher):
    callups.call_up(db, data=data(line.id, 900), actor=dispatcher)
    with pytest.raises(Conflict, match="only 100 can still be called up, not 101"):
        callups.call_up(db, data=data(line.id, 101), actor=dispatcher)
    assert _count(db) == 1
    assert figures(db, line.id) == (900, 0)


def test_agreements_not_in_force_cannot_be_called_up(
    db, make_agreement, system_actor, dispatcher, site
):
    draft = make_agreement(no="XY-DRAFT")
    with pytest.raises(Conflict, match="draft"):
        callups.call_up(db, data=data(draft.lines[0].id), actor=dispatcher)
    ended = make_agreement(
        no="XY-OLD",
        valid_from=days(-400),
        valid_to=days(-1),
        signed_on=days(-400),
        lines=(capacity(site.quilt.id),),
    )
    ended.status = "active"  # in force once, its end date now passed (expired at read time)
    db.flush()
    with pytest.raises(Conflict, match="ended on"):
        callups.call_up(db, data=data(ended.lines[0].id), actor=dispatcher)
    live = make_agreement(no="XY-LIVE", activate=True, lines=(capacity(site.water.id),))
    signing.terminate_agreement(db, agreement_id=live.id, reason="违约", actor=system_actor)
    with pytest.raises(Conflict, match="terminated"):
        callups.call_up(db, data=data(live.lines[0].id), actor=dispatcher)
    assert _count(db) == 0


def test_only_the_bureau_calls_up_and_cancels(db, line, site):
    for roles in ({Role.KEEPER}, {Role.VIEWER}, {Role.APPROVER}, {Role.ENTERPRISE}):
        actor = Actor(user_id=None, username="x", roles=frozenset(roles), enterprise_id=site.own.id)
        with pytest.raises((Forbidden, NotFound)):
            callups.call_up(db, data=data(line.id), actor=actor)
    assert _count(db) == 0


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"qty": 101}, "shipped_qty"),
        ({"qty": 0}, "shipped_qty"),
        ({"vehicle_plate": "AB12345"}, "vehicle_plate"),
        ({"vehicle_plate": "鲁A1234"}, "vehicle_plate"),
        ({"vehicle_plate": "鲁AI2345"}, "vehicle_plate"),
        ({"vehicle_plate": ""}, "vehicle_plate"),
        ({"driver_name": " "}, "driver_name"),
        ({"driver_phone": "12345"}, "driver_phone"),
        ({"shipped_at": None}, "shipped_at"),
    ],
)
def test_bad_confirmations_are_refused_and_change_nothing(
    db, line, dispatcher, site, changes, field
):
    call = callups.call_up(db, data=data(line.id, 100), actor=dispatcher)
    with pytest.raises(ValidationError) as error:
        ship(db, call, enterprise_actor(site.own.id), **changes)
    assert error.value.field == field
    db.expire_all()
    assert db.get(CallUp, call.id).status == "requested"
    assert figures(db, line.id) == (100, 0)


def test_a_shipment_in_the_future_is_refused(db, line, dispatcher, site):
    call = callups.call_up(db, data=data(line.id, 100), actor=dispatcher)
    with pytest.raises(ValidationError, match="future"):
        ship(db, call, enterprise_actor(site.own.id), shipped_at=utcnow() + timedelta(hours=2))


def test_another_enterprise_cannot_confirm_and_a_double_confirm_is_told_who(
    db, line, dispatcher, site
):
    call = callups.call_up(db, data=data(line.id, 100), actor=dispatcher)
    with pytest.raises(NotFound):
        ship(db, call, enterprise_actor(site.other.id))
    assert figures(db, line.id) == (100, 0)
    ship(db, call, enterprise_actor(site.own.id), qty=80)
    with pytest.raises(Conflict, match="already been confirmed as shipped .by qiye"):
        ship(db, call, enterprise_actor(site.own.id), qty=80)
    assert figures(db, line.id) == (80, 80)
    with pytest.raises(Conflict, match="already been confirmed"):
        callups.cancel_call_up(db, call_up_id=call.id, reason="晚了", actor=dispatcher)
    assert figures(db, line.id) == (80, 80)


def test_bad_replenishments_are_refused(db, line, dispatcher, site):
    own = enterprise_actor(site.own.id)
    call = callups.call_up(db, data=data(line.id, 100), actor=dispatcher)
    with pytest.raises(Conflict, match="not been shipped"):
        callups.report_replenished(
            db, call_up_id=call.id, replenished_qty=100, replenished_on=local_today(), actor=own
        )
    ship(db, call, own, qty=100)
    for qty, day, match in (
        (99, local_today(), "all 100"),
        (0, local_today(), "above 0"),
        (100, local_today() + timedelta(days=1), "future"),
        (100, local_today() - timedelta(days=3), "before it was shipped"),
        (100, None, "day"),
    ):
        with pytest.raises(ValidationError, match=match):
            callups.report_replenished(
                db, call_up_id=call.id, replenished_qty=qty, replenished_on=day, actor=own
            )
    with pytest.raises(NotFound):
        callups.report_replenished(
            db,
            call_up_id=call.id,
            replenished_qty=100,
            replenished_on=local_today(),
            actor=enterprise_actor(site.other.id),
        )
    db.expire_all()
    assert db.get(CallUp, call.id).status == "shipped"
    assert figures(db, line.id) == (100, 100)


def test_a_cancel_needs_a_reason(db, line, dispatcher):
    call = callups.call_up(db, data=data(line.id, 100), actor=dispatcher)
    with pytest.raises(ValidationError, match="why"):
        callups.cancel_call_up(db, call_up_id=call.id, reason="  ", actor=dispatcher)
    assert figures(db, line.id) == (100, 0)


@pytest.mark.parametrize(
    ("typed", "plate"),
    [
        ("鲁A12345", "鲁A12345"),
        ("京ad12345", "京AD12345"),
        ("粤B·D1234 5", "粤BD12345"),
        ("沪Ａ１２３４５", "沪A12345"),
    ],
)
def test_chinese_plates_are_read_in_their_forms(typed, plate):
    assert normalise_plate(typed) == plate


@pytest.mark.parametrize(
    "typed", ["A12345", "鲁12345", "鲁A123", "鲁A1234567", "鲁AO2345", "美A12345"]
)
def test_what_is_not_a_plate_is_refused(typed):
    with pytest.raises(ValidationError):
        normalise_plate(typed)
