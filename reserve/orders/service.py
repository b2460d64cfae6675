"""调拨单 services: events, drafting, and the approval side of the lifecycle.

Every write takes an ``Actor`` (no Flask request objects), checks the one table of
``reserve.orders.lifecycle`` for its action, claims the order with
``reserve.documents.transition`` (one conditional UPDATE; the loser of a race gets a message),
writes an ``OrderLog`` row and an audit entry — all in the caller's transaction, inside
``documents.all_or_nothing`` where stock or call-ups are touched, so a refusal changes nothing.

- Approval (审批) reserves every stock source through ``reserve.stock.ledger.reserve`` and calls
  up every agreement source through ``reserve.agreements.callups.call_up`` with the order's
  number as the call-up's ``source``. Any shortfall refuses the whole approval with a message
  naming the line ("第 n 行：…") and the source.
- 先调后补: ``approve_emergency`` lets the dispatcher approve alone (same writes, ``is_emergency``);
  ``sign_off`` (补批) is the approver's later signature, which changes no status.
- Cancelling releases every open reservation and cancels every call-up; refused once any source
  has shipped.
- Segregation of duties: the approver (and the signer-off) is not the order's submitter
  (``documents.is_same_person``).

Call-ups are the bureau's act and ``callups`` lets only dispatchers and admins make them. An
approver approving an order (or cancelling one) calls up on the order's authority: the call-up is
made as the approving user with the dispatcher's role added for that one call (``_on_behalf``), so
the call-up's attribution names the approver who caused it."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import Session

import reserve.documents as documents
from reserve.agreements import callups
from reserve.agreements.callup_models import CallUp, CallUpStatus
from reserve.agreements.models import AgreementLine
from reserve.audit.service import record, snapshot
from reserve.auth.actor import Actor
from reserve.auth.models import Role
from reserve.catalog.models import Material
from reserve.db import local_today, utcnow
from reserve.errors import Forbidden, NotFound, SeparationOfDuties, ValidationError
from reserve.orders import lifecycle
from reserve.orders.floor_queries import order_scope
from reserve.orders.floor_status import RESERVATION_TYPE
from reserve.orders.models import (
    AllocationOrder,
    Event,
    EventKind,
    EventLevel,
    OrderKind,
    OrderLine,
    OrderLog,
    OrderPriority,
    OrderSource,
    OrderStatus,
    SourceKind,
)
from reserve.stock import ledger
from reserve.stock.models import ReservationStatus, StockBalance, StockReservation
from reserve.stock.numbering import next_monthly_document_no
from reserve.texts import checked_text
from reserve.warehouses.models import Region, Warehouse

EVENT_WRITERS = (Role.ADMIN, Role.DISPATCHER)
OFFICE = (Role.ADMIN, Role.DISPATCHER, Role.APPROVER, Role.VIEWER)
MAX_NEEDED_DAYS = 365


# Events (事件) -------------------------------------------------------------------------------


@dataclass(frozen=True)
class EventData:
    """事件: as the form and the API deliver it."""

    name: str | None
    kind: str | None
    level: str | None
    region_id: int | None
    started_at: datetime | None
    note: str | None = None


def _checked_event(session: Session, data: EventData) -> dict:
    name = checked_text(data.name, Event.name, "name")
    if name is None:
        raise ValidationError(_l("Give the event a name."), field="name")
    if data.kind not in {k.value for k in EventKind}:
        raise ValidationError(_l("Choose the kind of event."), field="kind")
    if data.level not in {v.value for v in EventLevel}:
        raise ValidationError(_l("Choose the response level."), field="level")
    if data.region_id is None or session.get(Region, data.region_id) is None:
        raise ValidationError(_l("Choose the region."), field="region_id")
    if data.started_at is None or data.started_at.tzinfo is None:
        raise ValidationError(_l("Give the start time with its time zone."), field="started_at")
    if data.started_at > utcnow() + timedelta(minutes=10):
        raise ValidationError(_l("An event cannot start in the future."), field="started_at")
    return {
        "name": name,
        "kind": data.kind,
        "level": data.level,
        "region_id": data.region_id,
        "started_at": data.started_at,
        "note": checked_text(data.note, Event.note, "note"),
    }


def create_event(session: Session, *, data: EventData, actor: Actor) -> Event:
    """新建事件 (dispatcher, admin)."""
    actor.require_role(*EVENT_WRITERS)
    event = Event(
        **_checked_event(session, data),
        created_by_id=actor.user_id,
        created_by_name=actor.username,
    )
    session.add(event)
    session.flush()
    record(
        session, actor=actor, action="create", obj=event, label=event.name, after=snapshot(event)
    )
    return event


def get_event(session: Session, event_id: int, *, actor: Actor) -> Event:
    """An event, for the office roles (a keeper or an enterprise user gets 404)."""
    event = session.get(Event, event_id)
    if event is None or not actor.has_role(*OFFICE):
        raise NotFound(_l("No such event."))
    return event


def update_event(session: Session, *, event_id: int, data: EventData, actor: Actor) -> Event:
    """修改事件 (dispatcher, admin); an ended event must still end after its start."""
    actor.require_role(*EVENT_WRITERS)
    event = get_event(session, event_id, actor=actor)
    fields = _checked_event(session, data)
    if event.ended_at is not None and event.ended_at < fields["started_at"]:
        raise ValidationError(_l("The event cannot start after it ended."), field="started_at")
    before = snapshot(event)
    for key, value in fields.items():
        setattr(event, key, value)
    session.flush()
    record(
        session,
        actor=actor,
        action="update",
        obj=event,
        label=event.name,
        before=before,
        after=snapshot(event),
    )
    return event


def end_event(
    session: Session, *, event_id: int, ended_at: datetime | None = None, actor: Actor
) -> Event:
    """结束事件: the response is over (its orders go on to their end)."""
    actor.require_role(*EVENT_WRITERS)
    event = get_event(session, event_id, actor=actor)
    if event.ended_at is not None:
        raise ValidationError(_l("This event has already ended."))
    at = ended_at or utcnow()
    if at < event.started_at:
        raise ValidationError(_l("The event cannot end before it started."), field="ended_at")
    event.ended_at = at
    session.flush()
    record(
        session,
        actor=actor,
        action="end",
        obj=event,
        label=event.name,
        before={"ended_at": None},
        after={"ended_at": at.isoformat()},
    )
    return event


# Drafting (起草) ------------------------------------------------------------------------------


@dataclass(frozen=True)
class SourceData:
    """货源: a (location, batch) of a bureau warehouse, or an agreement line, and a quantity."""

    kind: str | None
    qty: int | None
    location_id: int | None = None
    batch_id: int | None = None
    agreement_line_id: int | None = None
    distance_km: Decimal | None = None
    expected_at: datetime | None = None


@dataclass(frozen=True)
class LineData:
    material_id: int | None
    qty: int | None
    note: str | None = None
    sources: tuple[SourceData, ...] = ()


@dataclass(frozen=True)
class OrderData:
    """调拨单: as the form and the API deliver it."""

    kind: str | None
    requesting_unit: str | None
    needed_by: datetime | None
    lines: tuple[LineData, ...]
    event_id: int | None = None
    destination_warehouse_id: int | None = None
    site_address: str | None = None
    site_region_id: int | None = None
    site_lat: Decimal | str | None = None
    site_lng: Decimal | str | None = None
    contact_name: str | None = None
    contact_phone: str | None = None
    priority: str | None = OrderPriority.NORMAL.value
    reason: str | None = None
    note: str | None = None
    extra: dict = field(default_factory=dict)


def _coordinate(value, field_name: str, limit: int) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        raise ValidationError(_l("Give the position in degrees."), field=field_name) from None
    if not number.is_finite() or abs(number) > limit:
        raise ValidationError(_l("Give the position in degrees."), field=field_name)
    return number.quantize(Decimal("0.000001"))


def _positive(value, field_name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ValidationError(_l("The quantity must be a whole number above 0."), field=field_name)
    return value


def _checked_header(session: Session, data: OrderData) -> dict:
    if data.kind not in {k.value for k in OrderKind}:
        raise ValidationError(_l("Choose dispatch to a site or transfer."), field="kind")
    unit = checked_text(data.requesting_unit, AllocationOrder.requesting_unit, "requesting_unit")
    if unit is None:
        raise ValidationError(_l("Say which unit asks for the materials."), field="requesting_unit")
    if data.needed_by is None or data.needed_by.tzinfo is None:
        raise ValidationError(_l("Say by when, with the time zone."), field="needed_by")
    now = utcnow()
    if data.needed_by < now - callups.CLOCK_SKEW:
        raise ValidationError(_l("The time needed by has already passed."), field="needed_by")
    if data.needed_by > now + timedelta(days=MAX_NEEDED_DAYS):
        raise ValidationError(
            _l("The time needed by is at most %(n)s days ahead.", n=MAX_NEEDED_DAYS),
            field="needed_by",
        )
    if data.priority not in {p.value for p in OrderPriority}:
        raise ValidationError(_l("Choose the priority."), field="priority")
    if data.event_id is not None and session.get(Event, data.event_id) is None:
        raise ValidationError(_l("Choose an event, or none."), field="event_id")
    values = {
        "kind": data.kind,
        "event_id": data.event_id,
        "requesting_unit": unit,
        "needed_by": data.needed_by,
        "priority": data.priority,
        "reason": checked_text(data.reason, AllocationOrder.reason, "reason"),
        "note": checked_text(data.note, AllocationOrder.note, "note"),
        "contact_name": checked_text(
            data.contact_name, AllocationOrder.contact_name, "contact_name"
        ),
        "contact_phone": checked_text(
            data.contact_phone, AllocationOrder.contact_phone, "contact_phone"
        ),
        "destination_warehouse_id": None,
        "site_address": None,
        "site_region_id": None,
        "site_lat": None,
        "site_lng": None,
    }
    if data.kind == OrderKind.TRANSFER.value:
        warehouse = (
            session.get(Warehouse, data.destination_warehouse_id)
            if data.destination_warehouse_id is not None
            else None
        )
        if warehouse is None or not warehouse.is_active:
            raise ValidationError(
                _l("Choose the warehouse in use that receives the transfer."),
                field="destination_warehouse_id",
            )
        values["destination_warehouse_id"] = warehouse.id
        return values
    address = checked_text(data.site_address, AllocationOrder.site_address, "site_address")
    if address is None:
        raise ValidationError(_l("Give the site's address."), field="site_address")
    if data.site_region_id is not None and session.get(Region, data.site_region_id) is None:
        raise ValidationError(_l("Choose the region."), field="site_region_id")
    lat = _coordinate(data.site_lat, "site_lat", 90)
    lng = _coordinate(data.site_lng, "site_lng", 180)
    if (lat is None) != (lng is None):
        raise ValidationError(_l("Give both latitude and longitude, or neither."), field="site_lat")
    values.update(
        site_address=address, site_region_id=data.site_region_id, site_lat=lat, site_lng=lng
    )
    return values


def _checked_lines(session: Session, data: OrderData, destination_id: int | None) -> list[dict]:
    documents.check_line_count(data.lines, empty=_l("Add at least one material."))
    material_ids = [line.material_id for line in data.lines]
    materials = {
        m.id: m
        for m in session.scalars(
            select(Material).where(Material.id.in_([i for i in material_ids if i is not None]))
        )
    }
    places = _places(session, data.lines)
    agreement_lines = _agreement_lines(session, data.lines)
    seen: set[int] = set()
    checked = []
    for n, line in enumerate(data.lines, start=1):
        with documents.for_line(n):
            material = materials.get(line.material_id)
            if material is None:
                raise ValidationError(_l("Choose a material."), field="material_id")
            if material.id in seen:
                raise ValidationError(
                    _l("%(name)s is on two lines; put it on one.", name=material.name),
                    field="material_id",
                )
            seen.add(material.id)
            qty = _positive(line.qty, "qty")
            sources = [
                _checked_source(s, material, destination_id, places, agreement_lines)
                for s in line.sources
            ]
            if sum(s["qty"] for s in sources) > qty:
                raise ValidationError(
                    _l("The sources give more than the %(qty)s asked for.", qty=qty), field="qty"
                )
            checked.append(
                {
                    "material_id": material.id,
                    "requested_qty": qty,
                    "note": checked_text(line.note, OrderLine.note, "note"),
                    "sources": sources,
                }
            )
    return checked


def _places(session: Session, lines: Sequence[LineData]) -> dict[tuple[int, int], tuple]:
    """(location, batch) → (warehouse id, material id, available), one statement."""
    keys = {
        (s.location_id, s.batch_id)
        for line in lines
        for s in line.sources
        if s.location_id is not None and s.batch_id is not None
    }
    if not keys:
        return {}
    rows = session.execute(
        select(
            StockBalance.location_id,
            StockBalance.batch_id,
            StockBalance.warehouse_id,
            StockBalance.material_id,
            StockBalance.qty - StockBalance.reserved,
        ).where(StockBalance.location_id.in_(sorted({k[0] for k in keys})))
    )
    return {(r[0], r[1]): (r[2], r[3], r[4]) for r in rows if (r[0], r[1]) in keys}


def _agreement_lines(session: Session, lines: Sequence[LineData]) -> dict[int, AgreementLine]:
    ids = {s.agreement_line_id for line in lines for s in line.sources if s.agreement_line_id}
    if not ids:
        return {}
    return {
        a.id: a for a in session.scalars(select(AgreementLine).where(AgreementLine.id.in_(ids)))
    }


def _checked_source(
    source: SourceData,
    material: Material,
    destination_id: int | None,
    places: dict,
    agreement_lines: dict[int, AgreementLine],
) -> dict:
    qty = _positive(source.qty, "source_qty")
    base = {"kind": source.kind, "qty": qty, "distance_km": source.distance_km}
    base["expected_at"] = source.expected_at
    if source.kind == SourceKind.STOCK.value:
        place = places.get((source.location_id, source.batch_id))
        if place is None or place[1] != material.id:
            raise ValidationError(
                _l("That place holds none of %(name)s.", name=material.name), field="sources"
            )
        warehouse_id, _material_id, available = place
        if warehouse_id == destination_id:
            raise ValidationError(
                _l("A transfer cannot take from the warehouse it goes to."), field="sources"
            )
        if qty > available:
            raise ValidationError(
                _l("Only %(left)s are available there, not %(qty)s.", left=available, qty=qty),
                field="source_qty",
            )
        return {
            **base,
            "warehouse_id": warehouse_id,
            "location_id": source.location_id,
            "batch_id": source.batch_id,
        }
    if source.kind == SourceKind.AGREEMENT.value:
        line = agreement_lines.get(source.agreement_line_id)
        if line is None or line.material_id != material.id:
            raise ValidationError(
                _l("That agreement line is not for %(name)s.", name=material.name),
                field="sources",
            )
        if qty > line.callable_qty:
            raise ValidationError(
                _l(
                    "Only %(left)s can still be called up from that agreement line, not %(qty)s.",
                    left=line.callable_qty,
                    qty=qty,
                ),
                field="source_qty",
            )
        return {**base, "agreement_line_id": line.id}
    raise ValidationError(_l("Choose warehouse stock or an agreement."), field="sources")


def _fill_lines(session: Session, order: AllocationOrder, lines: list[dict]) -> None:
    """Replace the order's lines (the old ones deleted first: line numbers and materials are
    unique per order)."""
    for old in list(order.lines):
        session.delete(old)
    session.flush()
    session.expire(order, ["lines"])
    for n, line in enumerate(lines, start=1):
        sources = line.pop("sources")
        row = OrderLine(order_id=order.id, line_no=n, **line)
        row.sources = [OrderSource(order_id=order.id, **s) for s in sources]
        session.add(row)
    session.flush()
    session.expire(order, ["lines"])


def _log(
    session: Session,
    order: AllocationOrder,
    *,
    action: str,
    from_status: str | None,
    actor: Actor,
    note: str | None = None,
) -> None:
    session.add(
        OrderLog(
            order_id=order.id,
            action=action,
            from_status=from_status,
            to_status=order.status,
            note=note,
            user_id=actor.user_id,
            username=actor.username,
        )
    )


def _check(action: str, order: AllocationOrder, actor: Actor) -> lifecycle.Transition:
    """The one table: refuse an action this actor may not take on an order in this state."""
    t = lifecycle.TRANSITIONS[action]
    if t.roles.isdisjoint(actor.roles):
        raise Forbidden(_l("Your role may not do this to an order."))
    if order.status not in t.sources:
        raise ValidationError(
            _l(
                "%(no)s is %(status)s: this cannot be done to it now.",
                no=order.no,
                status=order.status_label,
            )
        )
    return t


def create_order(session: Session, *, data: OrderData, actor: Actor) -> AllocationOrder:
    """起草调拨单 (dispatcher, admin): a draft numbered DB-YYYYMM-NNNN, with its lines and the
    sources chosen so far (nothing is reserved before approval)."""
    if lifecycle.TRANSITIONS["edit"].roles.isdisjoint(actor.roles):
        raise Forbidden(_l("Your role may not do this to an order."))
    header = _checked_header(session, data)
    lines = _checked_lines(session, data, header["destination_warehouse_id"])
    order = AllocationOrder(
        no=next_monthly_document_no(session, "order", local_today()),
        status=OrderStatus.DRAFT.value,
        **header,
        created_by_id=actor.user_id,
        created_by_name=actor.username,
    )
    session.add(order)
    session.flush()
    _fill_lines(session, order, lines)
    _log(session, order, action="create", from_status=None, actor=actor)
    record(session, actor=actor, action="create", obj=order, label=order.no, after=_audit(order))
    return order


def _audit(order: AllocationOrder) -> dict:
    return {
        **snapshot(order),
        "lines": [
            {
                "material_id": line.material_id,
                "requested_qty": line.requested_qty,
                "sources": [
                    {
                        "kind": s.kind,
                        "location_id": s.location_id,
                        "batch_id": s.batch_id,
                        "agreement_line_id": s.agreement_line_id,
                        "qty": s.qty,
                    }
                    for s in line.sources
                ],
            }
            for line in order.lines
        ],
    }


def update_order(
    session: Session, *, order_id: int, data: OrderData, actor: Actor
) -> AllocationOrder:
    """修改 a draft or rejected order: header, lines and sources replaced as given."""
    order = get_order(session, order_id, actor=actor)
    _check("edit", order, actor)
    header = _checked_header(session, data)
    lines = _checked_lines(session, data, header["destination_warehouse_id"])
    before = _audit(order)
    status = order.status
    order = documents.transition(
        session,
        AllocationOrder,
        order.id,
        from_states=lifecycle.TRANSITIONS["edit"].sources,
        to_state=status,
        values=header,
    )
    _fill_lines(session, order, lines)
    _log(session, order, action="edit", from_status=status, actor=actor)
    record(
        session,
        actor=actor,
        action="update",
        obj=order,
        label=order.no,
        before=before,
        after=_audit(order),
    )
    return order


def get_order(session: Session, order_id: int, *, actor: Actor) -> AllocationOrder:
    """An order this actor may see (office roles: all; a keeper: with a source in, or the
    destination at, a warehouse they keep; an enterprise user: none), else 404."""
    order = session.scalar(
        select(AllocationOrder).where(AllocationOrder.id == order_id, visible(actor))
    )
    if order is None:
        raise NotFound(_l("No such order."))
    return order


def visible(actor: Actor):
    """The WHERE clause of the orders this actor sees: the one order scope rule
    (``floor_queries.order_scope``, asked of the Actor)."""
    return order_scope(actor)


def _step(
    session: Session,
    order: AllocationOrder,
    action: str,
    *,
    actor: Actor,
    values: dict | None = None,
    to_state: str | None = None,
    note: str | None = None,
    audit_action: str | None = None,
) -> AllocationOrder:
    t = lifecycle.TRANSITIONS[action]
    before = order.status
    order = documents.transition(
        session,
        AllocationOrder,
        order.id,
        from_states=t.sources,
        to_state=to_state or t.target or before,
        values=values,
    )
    _log(session, order, action=action, from_status=before, actor=actor, note=note)
    record(
        session,
        actor=actor,
        action=audit_action or action,
        obj=order,
        label=order.no,
        before={"status": before},
        after={"status": order.status, **({"note": note} if note else {})},
    )
    return order


def submit_order(session: Session, *, order_id: int, actor: Actor) -> AllocationOrder:
    """提交审批: a draft (or a rejected order, amended) goes to the approver."""
    order = get_order(session, order_id, actor=actor)
    _check("submit", order, actor)
    values = {**documents.stamp("submitted", actor), "reject_reason": None}
    values.update(documents.unstamp("rejected"))
    return _step(session, order, "submit", actor=actor, values=values)


def _reason(value: str | None, column, message) -> str:
    text = checked_text(value, column, "reason")
    if text is None:
        raise ValidationError(message, field="reason")
    return text


def reject_order(
    session: Session, *, order_id: int, reason: str | None, actor: Actor
) -> AllocationOrder:
    """驳回 (approver), with the reason; the dispatcher amends and submits again."""
    order = get_order(session, order_id, actor=actor)
    _check("reject", order, actor)
    text = _reason(reason, AllocationOrder.reject_reason, _l("Say why the order is rejected."))
    _check_segregation(order, actor)
    values = {"reject_reason": text, **documents.stamp("rejected", actor)}
    return _step(session, order, "reject", actor=actor, values=values, note=text)


def _check_segregation(order: AllocationOrder, actor: Actor) -> None:
    if order.submitted_by_name is not None and documents.is_same_person(actor, order, "submitted"):
        raise SeparationOfDuties(_l("You submitted this order: another approver must decide it."))


def _on_behalf(actor: Actor) -> Actor:
    """The approver calls up on the order's authority (see the module's docstring)."""
    if actor.has_role(*callups.CALLERS):
        return actor
    return dataclasses.replace(actor, roles=actor.roles | {Role.DISPATCHER})


def _hold_sources(session: Session, order: AllocationOrder, actor: Actor) -> None:
    """Reserve every stock source and call up every agreement source (the approval's writes);
    the first shortfall raises, prefixed with its line."""
    document = ledger.DocumentRef(
        type=RESERVATION_TYPE, id=order.id, no=order.no, date=local_today()
    )
    caller = _on_behalf(actor)
    if not any(line.sources for line in order.lines):
        raise ValidationError(_l("Choose the sources before approving."), field="sources")
    for line in order.lines:
        with documents.for_line(line.line_no):
            for source in line.sources:
                if source.kind == SourceKind.STOCK.value:
                    reservation = ledger.reserve(
                        session,
                        location_id=source.location_id,
                        batch_id=source.batch_id,
                        qty=source.qty,
                        document=document,
                        line_id=line.id,
                        actor=actor,
                    )
                    source.reservation_id = reservation.id
                else:
                    call = callups.call_up(
                        session,
                        data=callups.CallUpData(
                            line_id=source.agreement_line_id,
                            qty=source.qty,
                            needed_by=order.needed_by,
                            warehouse_id=order.destination_warehouse_id,
                            destination=order.site_address,
                            purpose=order.reason,
                            source=order.no,
                        ),
                        actor=caller,
                    )
                    source.call_up_id = call.id
    session.flush()


def approve_order(session: Session, *, order_id: int, actor: Actor) -> AllocationOrder:
    """审批通过 (approver, not the submitter): in one transaction the order is claimed, every
    stock source reserved and every agreement source called up; any shortfall refuses it all."""
    order = get_order(session, order_id, actor=actor)
    _check("approve", order, actor)
    _check_segregation(order, actor)
    with documents.all_or_nothing(session):
        order = _step(
            session, order, "approve", actor=actor, values=documents.stamp("approved", actor)
        )
        _hold_sources(session, order, actor)
    return order


def approve_emergency(session: Session, *, order_id: int, actor: Actor) -> AllocationOrder:
    """先调后补 (dispatcher): approved at once with the same writes, awaiting sign-off."""
    order = get_order(session, order_id, actor=actor)
    _check("approve_emergency", order, actor)
    values = {"is_emergency": True, **documents.stamp("approved", actor)}
    if order.submitted_at is None:
        values.update(documents.stamp("submitted", actor))
    with documents.all_or_nothing(session):
        order = _step(session, order, "approve_emergency", actor=actor, values=values)
        _hold_sources(session, order, actor)
    return order


def sign_off_order(session: Session, *, order_id: int, actor: Actor) -> AllocationOrder:
    """补批 (approver, not the dispatcher who approved it in the emergency)."""
    order = get_order(session, order_id, actor=actor)
    _check("sign_off", order, actor)
    if not order.is_emergency:
        raise ValidationError(_l("Only an emergency order is signed off afterwards."))
    if order.signed_off_at is not None:
        raise ValidationError(_l("%(no)s has already been signed off.", no=order.no))
    if documents.is_same_person(actor, order, "approved"):
        raise SeparationOfDuties(_l("You approved this order: another approver must sign it off."))
    t = lifecycle.TRANSITIONS["sign_off"]
    before = order.status
    order = documents.transition(
        session,
        AllocationOrder,
        order.id,
        from_states=[before] if before in t.sources else [],
        to_state=before,
        values=documents.stamp("signed_off", actor),
    )
    _log(session, order, action="sign_off", from_status=before, actor=actor)
    record(
        session,
        actor=actor,
        action="sign_off",
        obj=order,
        label=order.no,
        before={"signed_off_at": None},
        after={"signed_off_by": actor.username},
    )
    return order


def cancel_order(
    session: Session, *, order_id: int, reason: str | None, actor: Actor
) -> AllocationOrder:
    """作废 (dispatcher, approver), with the reason: every open reservation released and every
    call-up cancelled; refused once anything has shipped."""
    order = get_order(session, order_id, actor=actor)
    _check("cancel", order, actor)
    text = _reason(reason, AllocationOrder.cancel_reason, _l("Say why the order is cancelled."))
    shipped = session.scalar(
        select(func.coalesce(func.sum(OrderSource.shipped_qty), 0)).where(
            OrderSource.order_id == order.id
        )
    )
    if shipped:
        raise ValidationError(
            _l("%(no)s has begun to ship: it can no longer be cancelled.", no=order.no)
        )
    values = {"cancel_reason": text, **documents.stamp("cancelled", actor)}
    with documents.all_or_nothing(session):
        order = _step(session, order, "cancel", actor=actor, values=values, note=text)
        _let_go(session, order, text, actor)
    return order


def _let_go(session: Session, order: AllocationOrder, reason: str, actor: Actor) -> None:
    sources = session.scalars(select(OrderSource).where(OrderSource.order_id == order.id)).all()
    reservation_ids = [s.reservation_id for s in sources if s.reservation_id is not None]
    call_up_ids = [s.call_up_id for s in sources if s.call_up_id is not None]
    if reservation_ids:
        open_ids = session.scalars(
            select(StockReservation.id).where(
                StockReservation.id.in_(reservation_ids),
                StockReservation.status == ReservationStatus.OPEN.value,
            )
        ).all()
        for reservation_id in open_ids:
            ledger.release(session, reservation_id=reservation_id, actor=actor)
    if call_up_ids:
        caller = _on_behalf(actor)
        requested = session.scalars(
            select(CallUp.id).where(
                CallUp.id.in_(call_up_ids), CallUp.status == CallUpStatus.REQUESTED.value
            )
        ).all()
        for call_up_id in requested:
            callups.cancel_call_up(session, call_up_id=call_up_id, reason=reason, actor=caller)
