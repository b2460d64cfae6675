"""代储协议 (custodian agreements): drafting, activating, terminating and renewing them.

One lifecycle (``reserve.documents.transition``): draft → active → terminated (with a reason);
an active agreement past its end date *reads* as expired (``models.effective_status``), no cron.
Activation refuses a second active agreement of the same enterprise for the same material over
overlapping dates: the check runs with the enterprise's row locked (``SELECT … FOR UPDATE`` on
PostgreSQL; SQLite's write transactions are serialised by ``BEGIN IMMEDIATE``), so two
activations racing for the same enterprise cannot both pass it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from reserve.agreements.models import (
    Agreement,
    AgreementLine,
    AgreementStatus,
    Enterprise,
    EnterpriseStatus,
    LineKind,
)
from reserve.audit.service import record, snapshot
from reserve.auth.actor import Actor
from reserve.auth.models import Role
from reserve.catalog.models import Material
from reserve.db import local_today
from reserve.documents import check_line_count, line_error, stamp, transition
from reserve.errors import Conflict, Forbidden, NotFound, ReserveError, ValidationError
from reserve.forms import MAX_INT
from reserve.texts import check_length, clean_text
from reserve.warehouses.models import Region

WRITERS = (Role.ADMIN, Role.DISPATCHER)
MAX_RESPONSE_HOURS = 24 * 30
MAX_MONEY = Decimal("9999999999.99")


@dataclass(frozen=True)
class LineData:
    """One line as the form and the API deliver it. Stock: ``committed_qty`` (协议储备数量) and
    ``unit_price``; capacity: ``daily_qty``, ``lead_hours`` and ``committed_qty`` as the maximum
    total."""

    material_id: int | None
    kind: str
    committed_qty: int | None
    unit_price: Decimal | None = None
    daily_qty: int | None = None
    lead_hours: int | None = None


@dataclass(frozen=True)
class AgreementData:
    no: str
    enterprise_id: int | None
    signed_on: date | None
    valid_from: date | None
    valid_to: date | None
    response_hours: int | None
    region_ids: tuple[int, ...] = ()
    rotation_duty: str | None = None
    storage_fee: Decimal | None = None
    compensation_note: str | None = None
    note: str | None = None
    lines: tuple[LineData, ...] = field(default_factory=tuple)


def _money(value: Decimal | None, name: str) -> None:
    if value is None:
        return
    if not value.is_finite() or value < 0 or value > MAX_MONEY:
        raise ValidationError(_l("Give an amount of money, 0 or more."), field=name)
    if value.as_tuple().exponent < -2:
        raise ValidationError(_l("Give the amount in yuan with at most 2 decimals."), field=name)


def _quantity(value: int | None, name: str, message) -> None:
    # at most 2³¹ − 1: a day's quantity times the hours of a horizon still fits a bigint
    if value is None or value <= 0 or value > MAX_INT:
        raise ValidationError(message, field=name)


def _check_line(session: Session, line: LineData) -> None:
    if line.kind not in {k.value for k in LineKind}:
        raise ValidationError(_l("Choose stock held or production capacity."), field="kind")
    material = session.get(Material, line.material_id) if line.material_id else None
    if material is None or not material.is_active:
        raise ValidationError(_l("Choose a material in use."), field="material_id")
    _money(line.unit_price, "unit_price")
    if line.kind == LineKind.STOCK.value:
        _quantity(
            line.committed_qty,
            "committed_qty",
            _l("The committed quantity must be a whole number above 0."),
        )
        if line.daily_qty is not None or line.lead_hours is not None:
            raise ValidationError(
                _l("Only a capacity line has a daily quantity and a lead time."),
                field="daily_qty" if line.daily_qty is not None else "lead_hours",
            )
        return
    _quantity(line.daily_qty, "daily_qty", _l("The daily quantity must be a whole number above 0."))
    if line.lead_hours is None or not 0 <= line.lead_hours <= MAX_RESPONSE_HOURS:
        raise ValidationError(
            _l("The lead time is 0 to %(n)s hours.", n=MAX_RESPONSE_HOURS), field="lead_hours"
        )
    _quantity(
        line.committed_qty,
        "committed_qty",
        _l("The maximum total must be a whole number above 0."),
    )
    if line.committed_qty < line.daily_qty:
        raise ValidationError(
            _l("The maximum total cannot be less than one day's quantity."),
            field="committed_qty",
        )


def _check(session: Session, data: AgreementData, agreement_id: int | None = None) -> str:
    no = (data.no or "").strip()
    if not no:
        raise ValidationError(_l("Give the agreement its number."), field="no")
    check_length(no, Agreement.no, "no")
    for value, column, name in (
        (data.rotation_duty, Agreement.rotation_duty, "rotation_duty"),
        (data.compensation_note, Agreement.compensation_note, "compensation_note"),
        (data.note, Agreement.note, "note"),
    ):
        check_length(clean_text(value), column, name)
    if data.enterprise_id is None or session.get(Enterprise, data.enterprise_id) is None:
        raise ValidationError(_l("Choose the enterprise."), field="enterprise_id")
    if data.signed_on is None:
        raise ValidationError(_l("Give the date it was signed."), field="signed_on")
    if data.valid_from is None:
        raise ValidationError(_l("Give the first day it is valid."), field="valid_from")
    if data.valid_to is None:
        raise ValidationError(_l("Give the last day it is valid."), field="valid_to")
    if data.valid_to < data.valid_from:
        raise ValidationError(_l("The agreement cannot end before it starts."), field="valid_to")
    if data.response_hours is None or not 1 <= data.response_hours <= MAX_RESPONSE_HOURS:
        raise ValidationError(
            _l("The response time is 1 to %(n)s hours.", n=MAX_RESPONSE_HOURS),
            field="response_hours",
        )
    _money(data.storage_fee, "storage_fee")
    regions = set(data.region_ids)
    if regions and len(session.scalars(select(Region.id).where(Region.id.in_(regions))).all()) != (
        len(regions)
    ):
        raise ValidationError(_l("Unknown region."), field="region_ids")
    check_line_count(data.lines, empty=_l("An agreement needs at least one line."))
    seen = set()
    for n, line in enumerate(data.lines, start=1):
        try:
            _check_line(session, line)
            if (line.material_id, line.kind) in seen:
                raise ValidationError(
                    _l("this material is already on another line of the same kind."),
                    field="material_id",
                )
        except ReserveError as error:  # "第 n 行：…", on the line's own field (lines-0-qty)
            raise line_error(n, error, field=f"lines-{n - 1}-{error.field}") from None
        seen.add((line.material_id, line.kind))
    clash = session.scalar(select(Agreement.id).where(Agreement.no == no))
    if clash is not None and clash != agreement_id:
        raise Conflict(_l("An agreement numbered %(no)s already exists.", no=no), field="no")
    return no


def _apply(session: Session, agreement: Agreement, data: AgreementData, no: str) -> None:
    agreement.no = no
    agreement.enterprise_id = data.enterprise_id
    agreement.signed_on = data.signed_on
    agreement.valid_from = data.valid_from
    agreement.valid_to = data.valid_to
    agreement.response_hours = data.response_hours
    agreement.rotation_duty = clean_text(data.rotation_duty)
    agreement.storage_fee = data.storage_fee
    agreement.compensation_note = clean_text(data.compensation_note)
    agreement.note = clean_text(data.note)
    agreement.regions = list(
        session.scalars(select(Region).where(Region.id.in_(set(data.region_ids))))
    )
    agreement.lines.clear()
    session.flush()  # the old lines go first: (agreement, line_no) stays unique
    agreement.lines.extend(
        AgreementLine(
            line_no=n,
            material_id=line.material_id,
            kind=line.kind,
            committed_qty=line.committed_qty,
            unit_price=line.unit_price,
            daily_qty=line.daily_qty if line.kind == LineKind.CAPACITY.value else None,
            lead_hours=line.lead_hours if line.kind == LineKind.CAPACITY.value else None,
        )
        for n, line in enumerate(data.lines, start=1)
    )


def _record(session: Session, agreement: Agreement) -> dict:
    return {
        **snapshot(agreement),
        "region_ids": [r.id for r in agreement.regions],
        "lines": [
            {
                "material_id": line.material_id,
                "kind": line.kind,
                "committed_qty": line.committed_qty,
                "unit_price": None if line.unit_price is None else str(line.unit_price),
                "daily_qty": line.daily_qty,
                "lead_hours": line.lead_hours,
            }
            for line in agreement.lines
        ],
    }


def create_agreement(session: Session, *, data: AgreementData, actor: Actor) -> Agreement:
    """起草代储协议：a draft agreement with its lines."""
    actor.require_role(*WRITERS)
    no = _check(session, data)
    agreement = Agreement(status=AgreementStatus.DRAFT.value, **stamp("created", actor))
    session.add(agreement)
    _apply(session, agreement, data, no)
    session.flush()
    record(
        session,
        actor=actor,
        action="create",
        obj=agreement,
        label=agreement.no,
        after=_record(session, agreement),
    )
    return agreement


def update_agreement(
    session: Session, *, agreement_id: int, data: AgreementData, actor: Actor
) -> Agreement:
    """修改协议草稿：only a draft changes (claimed, so an activation at the same moment wins or
    waits)."""
    actor.require_role(*WRITERS)
    agreement = get_agreement(session, agreement_id, actor=actor)
    before = _record(session, agreement)
    no = _check(session, data, agreement.id)
    transition(
        session,
        Agreement,
        agreement.id,
        from_states=(AgreementStatus.DRAFT.value,),
        to_state=AgreementStatus.DRAFT.value,
    )
    _apply(session, agreement, data, no)
    session.flush()
    after = _record(session, agreement)
    keys = [k for k in after if before.get(k) != after.get(k)]
    record(
        session,
        actor=actor,
        action="update",
        obj=agreement,
        label=agreement.no,
        before={k: before.get(k) for k in keys},
        after={k: after[k] for k in keys},
    )
    return agreement


def overlapping(session: Session, agreement: Agreement) -> list[tuple[str, str]]:
    """(agreement no, material name) of every other agreement in force of the same enterprise
    with a line for one of this agreement's materials over overlapping dates."""
    materials = {line.material_id for line in agreement.lines}
    rows = session.execute(
        select(Agreement.no, Material.name)
        .join(AgreementLine, AgreementLine.agreement_id == Agreement.id)
        .join(Material, Material.id == AgreementLine.material_id)
        .where(
            Agreement.enterprise_id == agreement.enterprise_id,
            Agreement.status == AgreementStatus.ACTIVE.value,
            Agreement.id != agreement.id,
            Agreement.valid_from <= agreement.valid_to,
            Agreement.valid_to >= agreement.valid_from,
            AgreementLine.material_id.in_(materials),
        )
        .order_by(Agreement.no, Material.name)
        .distinct()
    )
    return [(row.no, row.name) for row in rows]


def activate_agreement(session: Session, *, agreement_id: int, actor: Actor) -> Agreement:
    """协议生效：a draft comes into force, unless the enterprise is suspended, the agreement has
    already ended, or another agreement in force covers one of its materials over the same
    dates."""
    actor.require_role(*WRITERS)
    agreement = get_agreement(session, agreement_id, actor=actor)
    # Lock the enterprise: activations of its agreements run one at a time.
    enterprise = session.execute(
        select(Enterprise.name, Enterprise.status)
        .where(Enterprise.id == agreement.enterprise_id)
        .with_for_update()
    ).one()
    if enterprise.status != EnterpriseStatus.ACTIVE.value:
        raise Conflict(
            _l(
                "%(name)s is suspended; its agreements cannot come into force.",
                name=enterprise.name,
            )
        )
    if agreement.is_draft and agreement.valid_to < local_today():
        raise Conflict(
            _l(
                "Agreement %(no)s ended on %(day)s; renew it instead.",
                no=agreement.no,
                day=agreement.valid_to.isoformat(),
            )
        )
    if agreement.is_draft and (clash := overlapping(session, agreement)):
        no, material = clash[0]
        raise Conflict(
            _l(
                "Agreement %(other)s of the same enterprise is already in force for %(material)s "
                "over these dates; terminate it, or change the dates.",
                other=no,
                material=material,
            )
        )
    agreement = transition(
        session,
        Agreement,
        agreement.id,
        from_states=(AgreementStatus.DRAFT.value,),
        to_state=AgreementStatus.ACTIVE.value,
        values=stamp("activated", actor),
    )
    record(session, actor=actor, action="activate", obj=agreement, label=agreement.no)
    return agreement


def terminate_agreement(
    session: Session, *, agreement_id: int, reason: str | None, actor: Actor
) -> Agreement:
    """协议终止：an agreement in force (or expired) ends early, with the reason."""
    actor.require_role(*WRITERS)
    agreement = get_agreement(session, agreement_id, actor=actor)
    reason = clean_text(reason)
    if not reason:
        raise ValidationError(_l("Say why the agreement is terminated."), field="reason")
    check_length(reason, Agreement.termination_reason, "reason")
    agreement = transition(
        session,
        Agreement,
        agreement.id,
        from_states=(AgreementStatus.ACTIVE.value,),
        to_state=AgreementStatus.TERMINATED.value,
        values={**stamp("terminated", actor), "termination_reason": reason},
    )
    record(
        session,
        actor=actor,
        action="terminate",
        obj=agreement,
        label=agreement.no,
        after={"termination_reason": reason},
    )
    return agreement


def renewal_of(agreement: Agreement, *, no: str, today: date | None = None) -> AgreementData:
    """续签: the agreement's terms and lines for a new draft that starts the day after it ends
    (or today, if that is later) and runs as long."""
    start = max(agreement.valid_to + timedelta(days=1), today or local_today())
    length = agreement.valid_to - agreement.valid_from
    return AgreementData(
        no=no,
        enterprise_id=agreement.enterprise_id,
        signed_on=today or local_today(),
        valid_from=start,
        valid_to=start + length,
        response_hours=agreement.response_hours,
        region_ids=tuple(r.id for r in agreement.regions),
        rotation_duty=agreement.rotation_duty,
        storage_fee=agreement.storage_fee,
        compensation_note=agreement.compensation_note,
        note=agreement.note,
        lines=tuple(
            LineData(
                material_id=line.material_id,
                kind=line.kind,
                committed_qty=line.committed_qty,
                unit_price=line.unit_price,
                daily_qty=line.daily_qty,
                lead_hours=line.lead_hours,
            )
            for line in agreement.lines
        ),
    )


def renew_agreement(
    session: Session, *, agreement_id: int, no: str | None, actor: Actor
) -> Agreement:
    """续签协议：copy an agreement into a new draft (number given, or ``<no>-R<n>``)."""
    actor.require_role(*WRITERS)
    agreement = get_agreement(session, agreement_id, actor=actor)
    no = clean_text(no)
    if no is None:
        n = 1
        while session.scalar(select(Agreement.id).where(Agreement.no == f"{agreement.no}-R{n}")):
            n += 1
        no = f"{agreement.no}-R{n}"
    data = renewal_of(agreement, no=no)
    renewed = create_agreement(session, data=data, actor=actor)
    renewed.renewed_from_id = agreement.id
    session.flush()
    record(
        session,
        actor=actor,
        action="renew",
        obj=agreement,
        label=agreement.no,
        after={"renewal_id": renewed.id, "renewal_no": renewed.no},
    )
    return renewed


def get_agreement(session: Session, agreement_id: int, *, actor: Actor | None = None) -> Agreement:
    """查看代储协议：an enterprise user sees its own enterprise's agreements only; another's,
    like an id that does not exist, is "no such agreement"."""
    if actor is not None and not actor.may_see_some_enterprise:
        raise Forbidden()
    agreement = session.get(Agreement, agreement_id)
    if agreement is None or (
        actor is not None and not actor.may_see_enterprise(agreement.enterprise_id)
    ):
        raise NotFound(_l("No such agreement."))
    return agreement
