"""The state machine from ONE table (reserve.orders.lifecycle.TRANSITIONS): every action ×
every role × every state, for the table itself and through the services for the approval side's
actions — an action the table refuses is refused with a message and changes nothing."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from reserve.audit.models import AuditEntry
from reserve.auth.models import Role
from reserve.db import utcnow
from reserve.errors import ReserveError
from reserve.orders import lifecycle, service
from reserve.orders.models import AllocationOrder, OrderLog, OrderStatus
from tests.orders.factories import ROLES, draft, order_data

# Who may do what, written out by hand from issue 13 (not read from the table under test).
EXPECTED_ROLES = {
    "edit": {Role.DISPATCHER, Role.ADMIN},
    "submit": {Role.DISPATCHER, Role.ADMIN},
    "reject": {Role.APPROVER, Role.ADMIN},
    "approve": {Role.APPROVER, Role.ADMIN},
    "approve_emergency": {Role.DISPATCHER, Role.ADMIN},
    "sign_off": {Role.APPROVER, Role.ADMIN},
    "cancel": {Role.DISPATCHER, Role.APPROVER, Role.ADMIN},
}
EXPECTED_FROM = {
    "edit": {"draft", "rejected"},
    "submit": {"draft", "rejected"},
    "reject": {"submitted"},
    "approve": {"submitted"},
    "approve_emergency": {"draft", "submitted", "rejected"},
    "sign_off": {"approved", "picking", "shipped", "received", "closed"},
    "cancel": {"draft", "submitted", "rejected", "approved", "picking"},
}
STATES = [s.value for s in OrderStatus]


@pytest.mark.parametrize("action", sorted(EXPECTED_ROLES))
@pytest.mark.parametrize("status", STATES)
@pytest.mark.parametrize("role", ROLES, ids=lambda r: r.value)
def test_table(action, status, role):
    expected = status in EXPECTED_FROM[action] and role in EXPECTED_ROLES[action]
    assert lifecycle.allowed(action, status, {role.value}) is expected
    assert (action in lifecycle.actions_for(status, {role.value})) is expected


def _force(db, order, status, actors):
    """Put the order in ``status`` as the path there would have left it (CHECKs hold)."""
    values = {"status": status}
    dispatcher = actors[Role.DISPATCHER]
    values.update(submitted_by_id=dispatcher.user_id, submitted_by_name=dispatcher.username)
    values["submitted_at"] = utcnow()
    if status == "draft":
        values.update(submitted_by_id=None, submitted_by_name=None, submitted_at=None)
    if status == "rejected":
        values["reject_reason"] = "数量不符"
    if status == "cancelled":
        values["cancel_reason"] = "重复申请"
    if status not in {"draft", "submitted", "rejected", "cancelled"}:
        values.update(
            approved_at=utcnow(),
            approved_by_id=dispatcher.user_id,
            approved_by_name=dispatcher.username,
            is_emergency=True,
        )
    db.execute(sa.update(AllocationOrder).where(AllocationOrder.id == order.id).values(**values))
    db.expire_all()


def _call(db, action, order_id, actor, floor):
    if action == "edit":
        return service.update_order(db, order_id=order_id, data=order_data(floor), actor=actor)
    if action in {"reject", "cancel"}:
        fn = getattr(service, f"{action}_order")
        return fn(db, order_id=order_id, reason="理由", actor=actor)
    fn = {
        "submit": service.submit_order,
        "approve": service.approve_order,
        "approve_emergency": service.approve_emergency,
        "sign_off": service.sign_off_order,
    }[action]
    return fn(db, order_id=order_id, actor=actor)


def _state(db, order_id):
    db.expire_all()
    order = db.get(AllocationOrder, order_id)
    return (
        order.status,
        order.signed_off_at,
        db.scalar(sa.select(sa.func.count()).select_from(OrderLog)),
        db.scalar(sa.select(sa.func.count()).select_from(AuditEntry)),
    )


@pytest.mark.parametrize("action", sorted(EXPECTED_ROLES))
@pytest.mark.parametrize("status", STATES)
def test_through_the_services(db, floor, actors, action, status):
    order = draft(db, floor, actors[Role.DISPATCHER])
    _force(db, order, status, actors)
    for role in ROLES:
        actor = actors[role]
        expected = lifecycle.allowed(action, status, {role.value})
        savepoint = db.begin_nested()
        before = _state(db, order.id)
        if expected:
            result = _call(db, action, order.id, actor, floor)
            target = lifecycle.TRANSITIONS[action].target or status
            assert result.status == target, (role, action, status)
            assert _state(db, order.id)[2] == before[2] + 1  # one timeline row
        else:
            with pytest.raises(ReserveError) as refused:
                _call(db, action, order.id, actor, floor)
            assert str(refused.value.message), (role, action, status)
            assert _state(db, order.id) == before, (role, action, status)
        savepoint.rollback()
        db.expire_all()
