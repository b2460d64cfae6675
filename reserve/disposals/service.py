"""Rotation (轮换) and scrap (报废): the rules for taking stock out of the reserve other than by
an allocation. Both post through the ledger; neither reserves stock before posting."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from reserve.audit.service import record, snapshot
from reserve.auth.actor import Actor
from reserve.auth.models import Role
from reserve.catalog.models import Material, Tracking
from reserve.db import utcnow
from reserve.disposals.models import (
    Disposition,
    Rotation,
    RotationLine,
    RotationStatus,
    Scrap,
    ScrapLine,
    ScrapReason,
    ScrapStatus,
)
from reserve.disposals.queries import RECEIPT_CANCELLED, RECEIPTS
from reserve.errors import Conflict, Forbidden, NotFound, ReserveError, ValidationError
from reserve.stock import ledger
from reserve.stock.models import Batch, ItemStatus, MovementKind, SerialItem, StockBalance
from reserve.stock.numbering import next_document_no
from reserve.warehouses.models import Location, Warehouse

MAX_LINES = 200


@dataclass(frozen=True)
class DisposalLineData:
    """One line of a rotation or a scrap: a quantity of a batch at a location (serial-tracked
    materials name one serial number per unit)."""

    location_id: int
    batch_id: int
    qty: int
    serial_nos: tuple[str, ...] = ()


# Shared checks -------------------------------------------------------------------------------


def _text(value: str | None, column, field: str) -> str | None:
    value = (value or "").strip()
    if len(value) > column.type.length:
        raise ValidationError(
            _l("Too long: at most %(n)s characters.", n=column.type.length), field=field
        )
    return value or None


def _check_warehouse(session: Session, warehouse_id: int, actor: Actor) -> Warehouse:
    actor.require_keeps([warehouse_id])
    warehouse = session.get(Warehouse, warehouse_id)
    if warehouse is None:
        raise ValidationError(_l("No such warehouse."), field="warehouse_id")
    return warehouse


def _serial_items(
    session: Session,
    *,
    batch: Batch,
    material: Material,
    location: Location,
    serial_nos: Iterable[str],
    qty: int,
    error: type[ReserveError] = ValidationError,
) -> list[SerialItem]:
    """The serial items a line names: one per unit, each in stock at the line's location."""
    numbers = [s.strip() for s in serial_nos if s and s.strip()]
    if material.tracking != Tracking.SERIAL.value:
        if numbers:
            raise ValidationError(
                _l(
                    "%(material)s is not tracked by serial number; leave the serial numbers empty.",
                    material=material.name,
                ),
                field="serial_nos",
            )
        return []
    if len(numbers) != qty or len(set(numbers)) != len(numbers):
        raise ValidationError(
            _l(
                "%(material)s is tracked by serial number: give %(n)s different serial numbers, "
                "one per unit.",
                material=material.name,
                n=qty,
            ),
            field="serial_nos",
        )
    items = list(
        session.scalars(
            select(SerialItem).where(
                SerialItem.material_id == material.id,
                SerialItem.batch_id == batch.id,
                SerialItem.serial_no.in_(numbers),
                SerialItem.location_id == location.id,
                SerialItem.status == ItemStatus.IN_STOCK.value,
            )
        )
    )
    if len(items) != len(numbers):
        missing = sorted(set(numbers) - {item.serial_no for item in items})
        raise error(
            _l(
                "Not in stock at %(location)s (batch %(batch)s): %(serials)s.",
                location=location.code,
                batch=batch.batch_no,
                serials=", ".join(missing),
            ),
            field="serial_nos",
        )
    return items


def _check_line(
    session: Session, warehouse_id: int, line: DisposalLineData, wanted: Counter
) -> DisposalLineData:
    ledger.check_qty(line.qty)
    location = session.get(Location, line.location_id) if line.location_id else None
    if location is None or location.warehouse_id != warehouse_id:
        raise ValidationError(_l("The location is not in this warehouse."), field="location_id")
    batch = session.get(Batch, line.batch_id) if line.batch_id else None
    if batch is None:
        raise ValidationError(_l("No such batch."), field="batch_id")
    material = batch.material
    available = session.scalar(
        select(StockBalance.qty - StockBalance.reserved).where(
            StockBalance.location_id == location.id, StockBalance.batch_id == batch.id
        )
    )
    if not available or available <= 0:
        raise ValidationError(
            _l(
                "%(material)s batch %(batch)s has no available stock at %(location)s.",
                material=material.name,
                batch=batch.batch_no,
                location=location.code,
            ),
            field="batch_id",
        )
    wanted[(location.id, batch.id)] += line.qty
    if wanted[(location.id, batch.id)] > available:
        raise ValidationError(
            _l(
                "Only %(available)s %(unit)s of %(material)s (batch %(batch)s) available at "
                "%(location)s; %(wanted)s %(unit)s asked for.",
                available=available,
                unit=material.unit,
                material=material.name,
                batch=batch.batch_no,
                location=location.code,
                wanted=wanted[(location.id, batch.id)],
            ),
            field="qty",
        )
    items = _serial_items(
        session,
        batch=batch,
        material=material,
        location=location,
        serial_nos=line.serial_nos,
        qty=line.qty,
    )
    return DisposalLineData(
        location.id, batch.id, line.qty, tuple(sorted(item.serial_no for item in items))
    )


def _check_lines(
    session: Session, *, warehouse_id: int, lines: Iterable[DisposalLineData]
) -> list[DisposalLineData]:
    """Every line valid at this moment, or a message naming the first bad line."""
    lines = list(lines or ())
    if not lines:
        raise ValidationError(_l("Add at least one line."), field="lines")
    if len(lines) > MAX_LINES:
        raise ValidationError(
            _l("At most %(n)s lines in one document.", n=MAX_LINES), field="lines"
        )
    wanted: Counter = Counter()
    checked = []
    for n, line in enumerate(lines, start=1):
        try:
            checked.append(_check_line(session, warehouse_id, line, wanted))
        except ReserveError as error:
            raise type(error)(
                _l("Line %(n)s: %(message)s", n=n, message=error.message),
                field=error.field,
                **error.details,
            ) from None
    serials = Counter(s for line in checked for s in line.serial_nos)
    repeated = sorted(s for s, count in serials.items() if count > 1)
    if repeated:
        raise ValidationError(
            _l("Serial numbers named twice: %(serials)s.", serials=", ".join(repeated)),
            field="serial_nos",
        )
    return checked


def _line_summary(lines) -> list[dict]:
    return [
        {
            "location_id": line.location_id,
            "batch_id": line.batch_id,
            "qty": line.qty,
            "serial_nos": list(line.serial_nos),
        }
        for line in lines
    ]


def _advance(session: Session, document, from_status: str, **values) -> None:
    """Move a document on from one state, with one conditional UPDATE: of two people posting
    the same document at once, one wins and the other gets a clear error."""
    model = type(document)
    session.flush()
    result = session.execute(
        update(model)
        .where(model.id == document.id, model.status == from_status)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        raise Conflict(
            _l("%(no)s has just been changed by someone else; reload the page.", no=document.no)
        )
    for key, value in values.items():
        set_committed_value(document, key, value)


def _take_out(
    session: Session,
    *,
    kind: MovementKind,
    lines,
    document: ledger.DocumentRef,
    actor: Actor,
    item_status: ItemStatus,
    note: str | None,
) -> None:
    """Post each line out of stock; the ledger refuses what is no longer available."""
    for line in lines:
        batch = session.get(Batch, line.batch_id)
        location = session.get(Location, line.location_id)
        items = _serial_items(
            session,
            batch=batch,
            material=batch.material,
            location=location,
            serial_nos=line.serial_nos or (),
            qty=line.qty,
            error=Conflict,
        )
        ledger.post_movement(
            session,
            kind=kind,
            location_id=line.location_id,
            batch_id=line.batch_id,
            qty=-line.qty,
            document=document,
            actor=actor,
            note=note,
            serial_nos=[item.serial_no for item in items],
            serial_status=item_status,
        )


# Rotation (轮换) ------------------------------------------------------------------------------


def _check_receipt(session: Session, receipt_id: int, warehouse_id: int) -> str:
    row = session.execute(
        select(RECEIPTS.c.warehouse_id, RECEIPTS.c.no, RECEIPTS.c.status).where(
            RECEIPTS.c.id == receipt_id
        )
    ).first()
    if row is None:
        raise ValidationError(_l("No such receipt."), field="replacement_receipt_id")
    if row.warehouse_id != warehouse_id:
        raise ValidationError(
            _l(
                "Receipt %(no)s is for another warehouse; the replacement must come into the "
                "warehouse the stock was rotated out of.",
                no=row.no,
            ),
            field="replacement_receipt_id",
        )
    if row.status == RECEIPT_CANCELLED:
        raise ValidationError(
            _l(
                "Receipt %(no)s is cancelled; link the receipt that brought the replacement in.",
                no=row.no,
            ),
            field="replacement_receipt_id",
        )
    return row.no


def create_rotation(
    session: Session,
    *,
    warehouse_id: int,
    disposition: str,
    document_date: date,
    lines: tuple[DisposalLineData, ...],
    actor: Actor,
    counterparty: str | None = None,
    note: str | None = None,
    replacement_receipt_id: int | None = None,
) -> Rotation:
    """轮换出库单：a draft rotation of near-expiry stock, checked against what is available."""
    _check_warehouse(session, warehouse_id, actor)
    if disposition not in {d.value for d in Disposition}:
        raise ValidationError(_l("Choose where the stock goes."), field="disposition")
    counterparty = _text(counterparty, Rotation.counterparty, "counterparty")
    note = _text(note, Rotation.note, "note")
    ledger.check_document_date(session, document_date)
    checked = _check_lines(session, warehouse_id=warehouse_id, lines=lines)
    if replacement_receipt_id is not None:
        _check_receipt(session, replacement_receipt_id, warehouse_id)
    rotation = Rotation(
        no=next_document_no(session, "rotation", document_date),
        warehouse_id=warehouse_id,
        disposition=disposition,
        counterparty=counterparty,
        document_date=document_date,
        note=note,
        status=RotationStatus.DRAFT.value,
        replacement_receipt_id=replacement_receipt_id,
        created_by_id=actor.user_id,
        created_by=actor.username,
        lines=[
            RotationLine(
                location_id=line.location_id,
                batch_id=line.batch_id,
                qty=line.qty,
                serial_nos=list(line.serial_nos),
            )
            for line in checked
        ],
    )
    session.add(rotation)
    session.flush()
    record(
        session,
        actor=actor,
        action="create",
        obj=rotation,
        label=rotation.no,
        after={**snapshot(rotation), "lines": _line_summary(checked)},
    )
    return rotation


def get_rotation(session: Session, rotation_id: int, *, actor: Actor | None = None) -> Rotation:
    """轮换单: refused to a keeper who does not keep its warehouse."""
    rotation = session.get(Rotation, rotation_id)
    if rotation is None:
        raise NotFound(_l("No such rotation."))
    visible = actor.visible_warehouse_ids() if actor is not None else None
    if visible is not None and rotation.warehouse_id not in visible:
        raise Forbidden(_l("You do not keep this warehouse."))
    return rotation


def post_rotation(session: Session, *, rotation_id: int, actor: Actor) -> Rotation:
    """轮换出库记账：ROTATE_OUT movements for every line; serial items become issued."""
    rotation = get_rotation(session, rotation_id, actor=actor)
    actor.require_keeps([rotation.warehouse_id])
    if rotation.status != RotationStatus.DRAFT.value:
        raise Conflict(_l("Rotation %(no)s is already posted.", no=rotation.no))
    _advance(
        session,
        rotation,
        RotationStatus.DRAFT.value,
        status=RotationStatus.POSTED.value,
        posted_by=actor.username,
        posted_at=utcnow(),
    )
    document = ledger.DocumentRef("rotation", rotation.id, rotation.no, rotation.document_date)
    _take_out(
        session,
        kind=MovementKind.ROTATE_OUT,
        lines=rotation.lines,
        document=document,
        actor=actor,
        item_status=ItemStatus.ISSUED,
        note=rotation.counterparty,
    )
    record(
        session,
        actor=actor,
        action="post",
        obj=rotation,
        label=rotation.no,
        before={"status": RotationStatus.DRAFT.value},
        after={"status": RotationStatus.POSTED.value},
    )
    return rotation


def link_replacement(
    session: Session, *, rotation_id: int, receipt_id: int, actor: Actor
) -> Rotation:
    """关联补库入库单：the receipt that replaced the rotated stock like for like (等量替换)."""
    rotation = get_rotation(session, rotation_id, actor=actor)
    actor.require_keeps([rotation.warehouse_id])
    receipt_no = _check_receipt(session, receipt_id, rotation.warehouse_id)
    before = rotation.replacement_receipt_id
    rotation.replacement_receipt_id = receipt_id
    session.flush()
    record(
        session,
        actor=actor,
        action="link_replacement",
        obj=rotation,
        label=rotation.no,
        before={"replacement_receipt_id": before},
        after={"replacement_receipt_id": receipt_id, "receipt_no": receipt_no},
    )
    return rotation


# Scrap (报废) ---------------------------------------------------------------------------------


def request_scrap(
    session: Session,
    *,
    warehouse_id: int,
    reason: str,
    document_date: date,
    lines: tuple[DisposalLineData, ...],
    actor: Actor,
    note: str | None = None,
    reason_text: str | None = None,
) -> Scrap:
    """报废申请：a keeper asks to scrap damaged, expired or failed stock (nothing is reserved)."""
    _check_warehouse(session, warehouse_id, actor)
    if reason not in {r.value for r in ScrapReason}:
        raise ValidationError(_l("Choose the reason for the scrap."), field="reason")
    reason_text = _text(reason_text, Scrap.reason_text, "reason_text")
    note = _text(note, Scrap.note, "note")
    if reason == ScrapReason.OTHER.value and not (reason_text or note):
        raise ValidationError(_l("Describe the reason when it is “other”."), field="reason_text")
    ledger.check_document_date(session, document_date)
    checked = _check_lines(session, warehouse_id=warehouse_id, lines=lines)
    scrap = Scrap(
        no=next_document_no(session, "scrap", document_date),
        warehouse_id=warehouse_id,
        reason=reason,
        reason_text=reason_text,
        document_date=document_date,
        note=note,
        status=ScrapStatus.REQUESTED.value,
        requested_by_id=actor.user_id,
        requested_by=actor.username,
        lines=[
            ScrapLine(
                location_id=line.location_id,
                batch_id=line.batch_id,
                qty=line.qty,
                serial_nos=list(line.serial_nos),
            )
            for line in checked
        ],
    )
    session.add(scrap)
    session.flush()
    record(
        session,
        actor=actor,
        action="request",
        obj=scrap,
        label=scrap.no,
        after={**snapshot(scrap), "lines": _line_summary(checked)},
    )
    return scrap


def get_scrap(session: Session, scrap_id: int, *, actor: Actor | None = None) -> Scrap:
    """报废单: refused to a keeper who does not keep its warehouse."""
    scrap = session.get(Scrap, scrap_id)
    if scrap is None:
        raise NotFound(_l("No such scrap request."))
    visible = actor.visible_warehouse_ids() if actor is not None else None
    if visible is not None and scrap.warehouse_id not in visible:
        raise Forbidden(_l("You do not keep this warehouse."))
    return scrap


def is_requester(actor: Actor, scrap: Scrap) -> bool:
    if actor.user_id is not None and scrap.requested_by_id is not None:
        return actor.user_id == scrap.requested_by_id
    return actor.username == scrap.requested_by


def _require_requested(scrap: Scrap) -> None:
    if scrap.status != ScrapStatus.REQUESTED.value:
        raise Conflict(
            _l(
                "Scrap %(no)s is no longer awaiting approval (%(status)s).",
                no=scrap.no,
                status=scrap.status_label,
            )
        )


def approve_scrap(
    session: Session, *, scrap_id: int, actor: Actor, note: str | None = None
) -> Scrap:
    """报废审批：an approver other than the requester agrees (segregation of duties)."""
    actor.require_role(Role.APPROVER, Role.ADMIN)
    scrap = get_scrap(session, scrap_id)
    _require_requested(scrap)
    if is_requester(actor, scrap):
        raise Forbidden(
            _l("You requested scrap %(no)s yourself; another person must approve it.", no=scrap.no)
        )
    note = _text(note, Scrap.decision_note, "note")
    _advance(
        session,
        scrap,
        ScrapStatus.REQUESTED.value,
        status=ScrapStatus.APPROVED.value,
        decided_by=actor.username,
        decided_at=utcnow(),
        decision_note=note,
    )
    record(
        session,
        actor=actor,
        action="approve",
        obj=scrap,
        label=scrap.no,
        before={"status": ScrapStatus.REQUESTED.value},
        after={"status": ScrapStatus.APPROVED.value, "note": note},
    )
    return scrap


def reject_scrap(session: Session, *, scrap_id: int, reason: str, actor: Actor) -> Scrap:
    """驳回报废申请：with the reason, for the keeper to read."""
    actor.require_role(Role.APPROVER, Role.ADMIN)
    scrap = get_scrap(session, scrap_id)
    _require_requested(scrap)
    reason = _text(reason, Scrap.decision_note, "reason")
    if not reason:
        raise ValidationError(_l("Give the reason for the rejection."), field="reason")
    _advance(
        session,
        scrap,
        ScrapStatus.REQUESTED.value,
        status=ScrapStatus.REJECTED.value,
        decided_by=actor.username,
        decided_at=utcnow(),
        decision_note=reason,
    )
    record(
        session,
        actor=actor,
        action="reject",
        obj=scrap,
        label=scrap.no,
        before={"status": ScrapStatus.REQUESTED.value},
        after={"status": ScrapStatus.REJECTED.value, "reason": reason},
    )
    return scrap


def post_scrap(session: Session, *, scrap_id: int, actor: Actor) -> Scrap:
    """报废出库记账：SCRAP movements for an approved scrap; serial items become scrapped."""
    scrap = get_scrap(session, scrap_id, actor=actor)
    actor.require_keeps([scrap.warehouse_id])
    if scrap.status == ScrapStatus.POSTED.value:
        raise Conflict(_l("Scrap %(no)s is already posted.", no=scrap.no))
    if scrap.status != ScrapStatus.APPROVED.value:
        raise Conflict(
            _l(
                "Scrap %(no)s can be posted only once approved (it is %(status)s).",
                no=scrap.no,
                status=scrap.status_label,
            )
        )
    _advance(
        session,
        scrap,
        ScrapStatus.APPROVED.value,
        status=ScrapStatus.POSTED.value,
        posted_by=actor.username,
        posted_at=utcnow(),
    )
    document = ledger.DocumentRef("scrap", scrap.id, scrap.no, scrap.document_date)
    _take_out(
        session,
        kind=MovementKind.SCRAP,
        lines=scrap.lines,
        document=document,
        actor=actor,
        item_status=ItemStatus.SCRAPPED,
        note=scrap.reason_text or scrap.reason,
    )
    record(
        session,
        actor=actor,
        action="post",
        obj=scrap,
        label=scrap.no,
        before={"status": ScrapStatus.APPROVED.value},
        after={"status": ScrapStatus.POSTED.value},
    )
    return scrap
