"""轮换: near-expiry stock rotated out (sold, donated, used in a drill or returned), to be replaced
like for like (等量替换) by a later receipt. A draft is posted once, through the ledger."""

from __future__ import annotations

from datetime import date

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from reserve.audit.service import record, snapshot
from reserve.auth.actor import Actor
from reserve.disposals.lines import (
    DisposalLineData,
    check_lines,
    check_warehouse,
    clean_text,
    line_summary,
    take_out,
)
from reserve.disposals.models import Disposition, Rotation, RotationLine, RotationStatus
from reserve.disposals.queries import RECEIPT_CANCELLED, RECEIPTS
from reserve.documents import all_or_nothing, stamp, transition
from reserve.errors import Forbidden, NotFound, ValidationError
from reserve.stock import ledger
from reserve.stock.models import ItemStatus, MovementKind
from reserve.stock.numbering import next_document_no

__all__ = [
    "DisposalLineData",
    "create_rotation",
    "get_rotation",
    "link_replacement",
    "post_rotation",
]


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
    check_warehouse(session, warehouse_id, actor)
    if disposition not in {d.value for d in Disposition}:
        raise ValidationError(_l("Choose where the stock goes."), field="disposition")
    counterparty = clean_text(counterparty, Rotation.counterparty, "counterparty")
    note = clean_text(note, Rotation.note, "note")
    ledger.check_document_date(session, document_date)
    checked = check_lines(session, warehouse_id=warehouse_id, lines=lines)
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
        **stamp("created", actor),
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
        after={**snapshot(rotation), "lines": line_summary(checked)},
    )
    return rotation


def get_rotation(session: Session, rotation_id: int, *, actor: Actor | None = None) -> Rotation:
    """轮换单: refused to a keeper who does not keep its warehouse."""
    rotation = session.get(Rotation, rotation_id)
    if rotation is None:
        raise NotFound(_l("No such rotation."))
    if actor is not None and not actor.may_see(rotation.warehouse_id):
        raise Forbidden(_l("You do not keep this warehouse."))
    return rotation


def post_rotation(session: Session, *, rotation_id: int, actor: Actor) -> Rotation:
    """轮换出库记账：claim the draft, then ROTATE_OUT movements for every line; serial items
    become issued."""
    rotation = get_rotation(session, rotation_id, actor=actor)
    actor.require_write(rotation.warehouse_id)
    with all_or_nothing(session):  # the claim and the movements stand or fall together
        rotation = transition(
            session,
            Rotation,
            rotation.id,
            from_states=(RotationStatus.DRAFT.value,),
            to_state=RotationStatus.POSTED.value,
            values=stamp("posted", actor),
        )
        document = ledger.DocumentRef("rotation", rotation.id, rotation.no, rotation.document_date)
        take_out(
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
    actor.require_write(rotation.warehouse_id)
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
