"""调用与补储 (call-ups and replenishment): the bureau calls on an agreement line, the enterprise
confirms the shipment, then reports the goods replenished (补储); a call-up not yet shipped can
be cancelled. The allocation orders to come make their call-ups through ``call_up`` too (its
``source`` names the order).

Agreement capacity has the stock ledger's discipline. Each step is the call-up's own status
change (``reserve.documents.transition``) and ONE conditional UPDATE of the line, in the same
transaction:

- call:      ``called_qty += n``            WHERE 可调用数量 (``AgreementLine.callable_expr``) >= n
             and the agreement is in force today;
- ship:      ``called_qty -= n - shipped, shipped_qty += shipped`` (the part not shipped is
             released at once);
- replenish: ``called_qty -= shipped, shipped_qty -= shipped``;
- cancel:    ``called_qty -= n``.

Of two call-ups racing for the last capacity one wins; the other is told the line (agreement
no., line no., material) and what is left. Nothing here reads a quantity and writes it back."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, select, update
from sqlalchemy.orm import Session

from reserve.agreements.callup_models import CallUp, CallUpStatus
from reserve.agreements.models import (
    Agreement,
    AgreementLine,
    AgreementStatus,
    Enterprise,
    EnterpriseStatus,
)
from reserve.audit.service import record, snapshot
from reserve.auth.actor import Actor
from reserve.auth.models import Role
from reserve.catalog.models import Material
from reserve.db import SHANGHAI, local_today, utcnow
from reserve.documents import stamp, transition
from reserve.errors import Conflict, Forbidden, NotFound, ValidationError
from reserve.forms import MAX_BIG_INT, normalise_phone
from reserve.orders.floor_status import call_up_shipped
from reserve.stock.numbering import next_yearly_document_no
from reserve.texts import checked_text
from reserve.warehouses.models import Warehouse

CALL_UP_REPLENISH_DAYS = 30
"""补储期限 by default: the days after shipment within which the enterprise replenishes."""

CALLERS = (Role.ADMIN, Role.DISPATCHER)  # the bureau: calls up and cancels
CONFIRMERS = (Role.ENTERPRISE, Role.ADMIN, Role.DISPATCHER)  # the enterprise (or on its word)
CLOCK_SKEW = timedelta(minutes=10)  # a shipped time this far ahead of the server is accepted
MAX_NEEDED_DAYS = 366

# 机动车号牌 (GA 36): province abbreviation, the issuing office's letter, then 5 characters, or
# 6 for a new-energy vehicle (新能源); I and O never follow the office letter.
PROVINCES = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"
_PLATE = re.compile(rf"[{PROVINCES}][A-Z][A-HJ-NP-Z0-9]{{5,6}}")


@dataclass(frozen=True)
class CallUpData:
    """调用: what the bureau asks for, as the form and the API deliver it."""

    line_id: int | None
    qty: int | None
    needed_by: datetime | None
    warehouse_id: int | None = None
    destination: str | None = None
    purpose: str | None = None
    note: str | None = None
    source: str | None = None


def normalise_plate(value: str | None, *, field: str = "vehicle_plate") -> str:
    """车牌号: full-width made ASCII, spaces, dots and dashes dropped, letters upper-cased;
    then a Chinese plate (鲁A12345, or 鲁AD12345 for a new-energy vehicle) or refused."""
    text = unicodedata.normalize("NFKC", value or "")
    plate = re.sub(r"[\s·.\-]", "", text).upper()
    if not plate:
        raise ValidationError(_l("Give the vehicle's plate number."), field=field)
    if not _PLATE.fullmatch(plate):
        raise ValidationError(
            _l(
                "Not a plate number: a province's character, a letter, then 5 letters or digits "
                "(鲁A12345), or 6 for a new-energy vehicle (鲁AD12345)."
            ),
            field=field,
        )
    return plate


def _quantity(value: int | None, field: str) -> int:
    if value is None or isinstance(value, bool) or value <= 0 or value > MAX_BIG_INT:
        raise ValidationError(_l("The quantity must be a whole number above 0."), field=field)
    return value


def _in_force(today: date):
    """The agreements in force today: active, and within their dates."""
    return and_(
        Agreement.status == AgreementStatus.ACTIVE.value,
        Agreement.valid_from <= today,
        Agreement.valid_to >= today,
    )


def _line_name(agreement: Agreement, line: AgreementLine, material: Material) -> dict:
    return {"no": agreement.no, "line": line.line_no, "material": material.name}


def _line(session: Session, line_id: int | None) -> tuple[AgreementLine, Agreement, Material]:
    line = session.get(AgreementLine, line_id) if line_id else None
    if line is None:
        raise ValidationError(_l("Choose the agreement line to call up."), field="line_id")
    return line, line.agreement, session.get(Material, line.material_id)


def _check_in_force(agreement: Agreement, today: date) -> None:
    if agreement.status == AgreementStatus.DRAFT.value:
        raise Conflict(
            _l(
                "Agreement %(no)s is a draft, not in force: nothing can be called up.",
                no=agreement.no,
            ),
            field="line_id",
        )
    if agreement.status == AgreementStatus.TERMINATED.value:
        raise Conflict(
            _l("Agreement %(no)s was terminated: nothing can be called up.", no=agreement.no),
            field="line_id",
        )
    if agreement.valid_to < today:
        raise Conflict(
            _l(
                "Agreement %(no)s ended on %(day)s: nothing can be called up.",
                no=agreement.no,
                day=agreement.valid_to.isoformat(),
            ),
            field="line_id",
        )
    if agreement.valid_from > today:
        raise Conflict(
            _l(
                "Agreement %(no)s is valid from %(day)s: it cannot be called up before.",
                no=agreement.no,
                day=agreement.valid_from.isoformat(),
            ),
            field="line_id",
        )


def _checked(session: Session, data: CallUpData) -> dict:
    qty = _quantity(data.qty, "qty")
    if data.needed_by is None:
        raise ValidationError(_l("Say by when the goods are needed."), field="needed_by")
    if data.needed_by.tzinfo is None:
        raise ValidationError(_l("Give the time with its time zone."), field="needed_by")
    now = utcnow()
    if data.needed_by < now - CLOCK_SKEW:
        raise ValidationError(_l("The time needed by has already passed."), field="needed_by")
    if data.needed_by > now + timedelta(days=MAX_NEEDED_DAYS):
        raise ValidationError(
            _l("The time needed by is at most %(n)s days ahead.", n=MAX_NEEDED_DAYS),
            field="needed_by",
        )
    destination = checked_text(data.destination, CallUp.destination, "destination")
    if data.warehouse_id is not None:
        warehouse = session.get(Warehouse, data.warehouse_id)
        if warehouse is None or not warehouse.is_active:
            raise ValidationError(_l("Choose a warehouse in use."), field="warehouse_id")
    elif destination is None:
        raise ValidationError(
            _l("Say where to deliver: a bureau warehouse or a destination."), field="destination"
        )
    return {
        "qty": qty,
        "needed_by": data.needed_by,
        "warehouse_id": data.warehouse_id,
        "destination": destination,
        "purpose": checked_text(data.purpose, CallUp.purpose, "purpose"),
        "note": checked_text(data.note, CallUp.note, "note"),
        "source": checked_text(data.source, CallUp.source, "source"),
    }


def _audit(call_up: CallUp) -> dict:
    return snapshot(call_up)


def call_up(session: Session, *, data: CallUpData, actor: Actor) -> CallUp:
    """调用：reserve ``qty`` of an agreement line in force for the bureau, by one conditional
    UPDATE of the line (the loser of a race is told what is left); the response deadline is
    the agreement's response time from now."""
    actor.require_role(*CALLERS)
    fields = _checked(session, data)
    line, agreement, material = _line(session, data.line_id)
    today = local_today()
    _check_in_force(agreement, today)
    enterprise = session.get(Enterprise, agreement.enterprise_id)
    if enterprise.status != EnterpriseStatus.ACTIVE.value:
        raise Conflict(
            _l("%(name)s is suspended: its agreements cannot be called up.", name=enterprise.name),
            field="line_id",
        )
    qty = fields["qty"]
    granted = session.execute(
        update(AgreementLine)
        .where(
            AgreementLine.id == line.id,
            AgreementLine.callable_expr() >= qty,
            AgreementLine.agreement_id.in_(select(Agreement.id).where(_in_force(today))),
        )
        .values(called_qty=AgreementLine.called_qty + qty)
        .execution_options(synchronize_session=False)
    ).rowcount
    if granted != 1:
        session.refresh(line)
        session.refresh(agreement)
        _check_in_force(agreement, today)  # terminated meanwhile
        raise Conflict(
            _l(
                "Agreement %(no)s line %(line)s (%(material)s): only %(left)s can still be called "
                "up, not %(qty)s.",
                left=line.callable_qty,
                qty=qty,
                **_line_name(agreement, line, material),
            ),
            field="qty",
            callable_qty=line.callable_qty,
        )
    now = utcnow()
    call = CallUp(
        no=next_yearly_document_no(session, "call_up", today.year),
        line_id=line.id,
        agreement_id=agreement.id,
        enterprise_id=agreement.enterprise_id,
        respond_by=now + timedelta(hours=agreement.response_hours),
        status=CallUpStatus.REQUESTED.value,
        **fields,
        **stamp("requested", actor, now),
    )
    session.add(call)
    session.flush()
    session.refresh(line)
    record(session, actor=actor, action="call_up", obj=call, label=call.no, after=_audit(call))
    record(
        session,
        actor=actor,
        action="call_up",
        obj=line,
        label=f"{agreement.no}#{line.line_no}",
        after={"called_qty": line.called_qty, "call_up": call.no},
    )
    return call


def get_call_up(session: Session, call_up_id: int, *, actor: Actor | None = None) -> CallUp:
    """查看调用单：an enterprise user sees its own enterprise's call-ups only; another's, like
    an id that does not exist, is "no such call-up"."""
    if actor is not None and not actor.may_see_some_enterprise:
        raise Forbidden()
    call = session.get(CallUp, call_up_id)
    if call is None or (actor is not None and not actor.may_see_enterprise(call.enterprise_id)):
        raise NotFound(_l("No such call-up."))
    return call


def _move_line(session: Session, call: CallUp, *, called: int, shipped: int) -> AgreementLine:
    """The line's figures moved by ``called`` and ``shipped`` (negative: released), in one
    conditional UPDATE that never takes either below zero (the CHECKs hold the rest)."""
    line = session.get(AgreementLine, call.line_id)
    result = session.execute(
        update(AgreementLine)
        .where(
            AgreementLine.id == call.line_id,
            AgreementLine.called_qty + called >= 0,
            AgreementLine.shipped_qty + shipped >= 0,
        )
        .values(
            called_qty=AgreementLine.called_qty + called,
            shipped_qty=AgreementLine.shipped_qty + shipped,
        )
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # the line's figures no longer carry this call-up: never expected
        raise Conflict(
            _l(
                "The agreement line no longer holds call-up %(no)s; ask the administrator.",
                no=call.no,
            )
        )
    session.refresh(line)
    return line


def _line_record(session: Session, actor: Actor, action: str, call: CallUp, line) -> None:
    record(
        session,
        actor=actor,
        action=action,
        obj=line,
        label=f"{call.agreement.no}#{line.line_no}",
        after={"called_qty": line.called_qty, "shipped_qty": line.shipped_qty, "call_up": call.no},
    )


def _own(actor: Actor, call: CallUp, roles) -> None:
    actor.require_role(*roles)
    if not actor.may_see_enterprise(call.enterprise_id):
        raise NotFound(_l("No such call-up."))


def confirm_shipped(
    session: Session,
    *,
    call_up_id: int,
    shipped_qty: int | None,
    vehicle_plate: str | None,
    driver_name: str | None,
    driver_phone: str | None,
    shipped_at: datetime | None,
    actor: Actor,
    replenish_days: int = CALL_UP_REPLENISH_DAYS,
) -> CallUp:
    """发运确认：the enterprise confirms what it shipped (at most what was called; the rest is
    released at once), on which vehicle, with which driver, when; the replenishment falls due
    ``replenish_days`` after the day it shipped."""
    call = get_call_up(session, call_up_id, actor=actor)
    _own(actor, call, CONFIRMERS)
    shipped = _quantity(shipped_qty, "shipped_qty")
    if shipped > call.qty:
        raise ValidationError(
            _l(
                "At most %(qty)s were called up; %(shipped)s cannot have been shipped.",
                qty=call.qty,
                shipped=shipped,
            ),
            field="shipped_qty",
        )
    plate = normalise_plate(vehicle_plate)
    driver = checked_text(driver_name, CallUp.driver_name, "driver_name")
    if driver is None:
        raise ValidationError(_l("Give the driver's name."), field="driver_name")
    phone = normalise_phone(
        checked_text(driver_phone, CallUp.driver_phone, "driver_phone"), field="driver_phone"
    )
    if phone is None:
        raise ValidationError(_l("Give the driver's phone."), field="driver_phone")
    if shipped_at is None or shipped_at.tzinfo is None:
        raise ValidationError(_l("Give the time the goods left."), field="shipped_at")
    if shipped_at > utcnow() + CLOCK_SKEW:
        raise ValidationError(_l("The shipped time cannot be in the future."), field="shipped_at")
    if shipped_at < call.requested_at - CLOCK_SKEW:
        raise ValidationError(
            _l("The goods cannot have left before they were called up."), field="shipped_at"
        )
    due = shipped_at.astimezone(SHANGHAI).date() + timedelta(days=replenish_days)
    call = transition(
        session,
        CallUp,
        call.id,
        from_states=(CallUpStatus.REQUESTED.value,),
        to_state=CallUpStatus.SHIPPED.value,
        values={
            "shipped_qty": shipped,
            "vehicle_plate": plate,
            "driver_name": driver,
            "driver_phone": phone,
            "shipped_at": shipped_at,
            "replenish_due_on": due,
            **stamp("confirmed", actor),
        },
    )
    line = _move_line(session, call, called=-(call.qty - shipped), shipped=shipped)
    record(
        session,
        actor=actor,
        action="confirm_shipped",
        obj=call,
        label=call.no,
        before={"status": CallUpStatus.REQUESTED.value},
        after={
            "status": call.status,
            "shipped_qty": shipped,
            "released_qty": call.qty - shipped,
            "vehicle_plate": plate,
            "driver_name": driver,
            "driver_phone": phone,
            "shipped_at": shipped_at.isoformat(),
            "replenish_due_on": due.isoformat(),
        },
    )
    _line_record(session, actor, "confirm_shipped", call, line)
    call_up_shipped(session, call=call, actor=actor)  # an order's source has shipped too
    return call


def report_replenished(
    session: Session,
    *,
    call_up_id: int,
    replenished_qty: int | None,
    replenished_on: date | None,
    note: str | None = None,
    actor: Actor,
) -> CallUp:
    """补储：the enterprise reports what it shipped back on its shelves; the line's call-up and
    shipped figures are released and the duty ends. The whole shipped quantity is reported at
    once (a part back is not yet a replenishment)."""
    call = get_call_up(session, call_up_id, actor=actor)
    _own(actor, call, CONFIRMERS)
    if call.status == CallUpStatus.REQUESTED.value:
        raise Conflict(
            _l("Call-up %(no)s has not been shipped yet: confirm the shipment first.", no=call.no)
        )
    qty = _quantity(replenished_qty, "replenished_qty")
    if call.status == CallUpStatus.SHIPPED.value and qty != call.shipped_qty:
        raise ValidationError(
            _l(
                "%(shipped)s were shipped: report the replenishment when all %(shipped)s are back "
                "in stock (not %(qty)s).",
                shipped=call.shipped_qty,
                qty=qty,
            ),
            field="replenished_qty",
        )
    if replenished_on is None:
        raise ValidationError(_l("Give the day the stock was replenished."), field="replenished_on")
    if replenished_on > local_today():
        raise ValidationError(
            _l("The replenishment cannot be dated in the future."), field="replenished_on"
        )
    if call.shipped_at is not None and replenished_on < call.shipped_at.astimezone(SHANGHAI).date():
        raise ValidationError(
            _l("The stock cannot have been replenished before it was shipped."),
            field="replenished_on",
        )
    text = checked_text(note, CallUp.replenish_note, "note")
    call = transition(
        session,
        CallUp,
        call.id,
        from_states=(CallUpStatus.SHIPPED.value,),
        to_state=CallUpStatus.REPLENISHED.value,
        values={
            "replenished_qty": qty,
            "replenished_on": replenished_on,
            "replenish_note": text,
            **stamp("replenished", actor),
        },
    )
    line = _move_line(session, call, called=-call.shipped_qty, shipped=-call.shipped_qty)
    record(
        session,
        actor=actor,
        action="replenish",
        obj=call,
        label=call.no,
        before={"status": CallUpStatus.SHIPPED.value},
        after={
            "status": call.status,
            "replenished_qty": qty,
            "replenished_on": replenished_on.isoformat(),
            **({"replenish_note": text} if text else {}),
        },
    )
    _line_record(session, actor, "replenish", call, line)
    return call


def cancel_call_up(
    session: Session, *, call_up_id: int, reason: str | None, actor: Actor
) -> CallUp:
    """撤销调用：the bureau withdraws a call-up not yet shipped, with the reason; the line's
    capacity is released."""
    actor.require_role(*CALLERS)
    call = get_call_up(session, call_up_id, actor=actor)
    text = checked_text(reason, CallUp.cancel_reason, "reason")
    if text is None:
        raise ValidationError(_l("Say why the call-up is cancelled."), field="reason")
    call = transition(
        session,
        CallUp,
        call.id,
        from_states=(CallUpStatus.REQUESTED.value,),
        to_state=CallUpStatus.CANCELLED.value,
        values={"cancel_reason": text, **stamp("cancelled", actor)},
    )
    line = _move_line(session, call, called=-call.qty, shipped=0)
    record(
        session,
        actor=actor,
        action="cancel",
        obj=call,
        label=call.no,
        before={"status": CallUpStatus.REQUESTED.value},
        after={"status": call.status, "cancel_reason": text, "released_qty": call.qty},
    )
    _line_record(session, actor, "cancel", call, line)
    return call
