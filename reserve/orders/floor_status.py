"""What every floor step of an allocation order shares (``reserve.orders.floor`` and
``floor_returns``): the order as the actor may see it, the lifecycle's check, the claim of the
order (one conditional UPDATE), the timeline and audit entry, and whether everything has
shipped. The call-up's hook (``call_up_shipped``) lives here too: ``reserve.agreements.callups``
calls it, and nothing here imports the call-up services."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, exists, func, or_, select, update
from sqlalchemy.orm import Session

from reserve.agreements.callup_models import CallUp, CallUpStatus
from reserve.audit.service import record
from reserve.auth.actor import Actor
from reserve.db import utcnow
from reserve.documents import transition
from reserve.errors import Conflict, Forbidden, NotFound
from reserve.orders import lifecycle
from reserve.orders.floor_queries import order_scope
from reserve.orders.models import (
    AllocationOrder,
    OrderLog,
    OrderSource,
    OrderStatus,
    SourceKind,
)

RESERVATION_TYPE = "order"
"""The reservations of an order's stock sources carry this document type (and the order line)."""

S = OrderStatus


# The order, its scope and its timeline ---------------------------------------------------------


def get_order(session: Session, order_id: int, *, actor: Actor) -> AllocationOrder:
    """调拨单 as this actor may see it: office roles every one, a keeper those with a source in,
    or a destination at, a warehouse they keep; anyone else "no such order"."""
    order = session.scalar(
        select(AllocationOrder).where(AllocationOrder.id == order_id, order_scope(actor))
    )
    if order is None:
        raise NotFound(_l("No such allocation order."))
    return order


def check_action(action: str, order: AllocationOrder, actor: Actor) -> None:
    """The lifecycle's table: the actor's roles (403), then the order's state (a conflict
    naming it)."""
    rule = lifecycle.TRANSITIONS[action]
    if rule.roles.isdisjoint(actor.roles):
        raise Forbidden()
    if not lifecycle.allowed(action, order.status, actor.roles):
        raise Conflict(
            _l(
                "Order %(no)s is %(status)s: this cannot be done now.",
                no=order.no,
                status=order.status_label,
            )
        )


def claim(
    session: Session,
    order: AllocationOrder,
    action: str,
    *,
    to_state: str | None = None,
    values: dict | None = None,
) -> AllocationOrder:
    """Claim the order for a step of ``action`` (one conditional UPDATE from the states the
    table allows), moving it to ``to_state`` (default: where it is)."""
    return transition(
        session,
        AllocationOrder,
        order.id,
        from_states=lifecycle.TRANSITIONS[action].sources,
        to_state=to_state or order.status,
        values=values,
    )


def log_step(
    session: Session,
    order: AllocationOrder,
    *,
    action: str,
    from_status: str,
    actor: Actor,
    note: str | None = None,
    audit: dict | None = None,
) -> None:
    """流转记录 and 审计 of one floor step, in the step's transaction."""
    session.add(
        OrderLog(
            order_id=order.id,
            action=action,
            from_status=from_status,
            to_status=order.status,
            note=(note or "")[:500] or None,
            user_id=actor.user_id,
            username=actor.username,
        )
    )
    record(
        session,
        actor=actor,
        action=f"order_{action}",
        obj=order,
        label=order.no,
        before={"status": from_status},
        after={"status": order.status, **(audit or {})},
    )


def source_for(session: Session, source_id: int | None, actor: Actor) -> OrderSource:
    source = session.get(OrderSource, source_id, populate_existing=True) if source_id else None
    if source is None:
        raise NotFound(_l("No such source of an order."))
    get_order(session, source.order_id, actor=actor)  # scope: "no such" to whom may not see it
    return source


def all_shipped(session: Session, order_id: int) -> bool:
    """Has every source shipped? A stock source all it plans, an agreement source once its
    enterprise confirmed the call-up (it may ship less: the rest was released)."""
    confirmed = exists(
        select(CallUp.id).where(
            CallUp.id == OrderSource.call_up_id,
            CallUp.status.in_([CallUpStatus.SHIPPED.value, CallUpStatus.REPLENISHED.value]),
        )
    )
    pending = session.scalar(
        select(func.count(OrderSource.id)).where(
            OrderSource.order_id == order_id,
            or_(
                and_(
                    OrderSource.kind == SourceKind.STOCK.value,
                    OrderSource.shipped_qty < OrderSource.qty,
                ),
                and_(OrderSource.kind == SourceKind.AGREEMENT.value, ~confirmed),
            ),
        )
    )
    return not pending


def after_shipment(session: Session, order: AllocationOrder) -> AllocationOrder:
    """*shipped* once every source has, else *picking* (a first partial shipment)."""
    if all_shipped(session, order.id):
        return transition(
            session,
            AllocationOrder,
            order.id,
            from_states=(S.APPROVED.value, S.PICKING.value),
            to_state=S.SHIPPED.value,
            values={"shipped_at": utcnow()},
        )
    if order.status == S.APPROVED.value:
        return transition(
            session,
            AllocationOrder,
            order.id,
            from_states=(S.APPROVED.value,),
            to_state=S.PICKING.value,
        )
    return order


def call_up_shipped(session: Session, *, call: CallUp, actor: Actor) -> None:
    """The hook of ``callups.confirm_shipped``: the enterprise's confirmation is the shipment of
    the order source that made the call-up (``shipped_qty``, in the same transaction); the
    order is shipped when every source has."""
    source = session.scalar(select(OrderSource).where(OrderSource.call_up_id == call.id))
    if source is None:
        return
    session.execute(
        update(OrderSource)
        .where(OrderSource.id == source.id)
        .values(picked_qty=call.shipped_qty, shipped_qty=call.shipped_qty)
        .execution_options(synchronize_session=False)
    )
    order = session.get(AllocationOrder, source.order_id)
    if order.status not in (S.APPROVED.value, S.PICKING.value):
        return
    from_status = order.status
    order = after_shipment(session, order)
    log_step(
        session,
        order,
        action="ship",
        from_status=from_status,
        actor=actor,
        note=f"{call.no} {call.vehicle_plate} {call.driver_name} × {call.shipped_qty}",
        audit={"call_up": call.no, "shipped_qty": call.shipped_qty},
    )
