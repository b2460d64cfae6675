"""轮换: near-expiry stock rotated out (sold, donated, used in a drill or returned), to be replaced
like for like (等量替换) by a later receipt. A draft is posted once, through the ledger."""

from __future__ import annotations

from datetime import date

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from reserve.audit.service import record
from reserve.auth.actor import Actor
from reserve.disposals.lines import (
    DisposalLineData,
    add_document,
    check_lines,
    check_warehouse,
    clean_text,
    get_document,
    post_document,
)
from reserve.disposals.models import Disposition, Rotation, RotationLine, RotationStatus
from reserve.disposals.queries import RECEIPT_CANCELLED, RECEIPTS
from reserve.documents import stamp
from reserve.errors import ValidationError
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
    )
    return add_document(session, rotation, RotationLine, checked, actor=actor, action="create")


def get_rotation(session: Session, rotation_id: int, *, actor: Actor | None = None) -> Rotation:
    """轮换单: refused to a keeper who does not keep its warehouse."""
    return get_document(
        session, Rotation, rotation_id, actor=actor, missing=_l("No such rotation.")
    )


def post_rotation(session: Session, *, rotation_id: int, actor: Actor) -> Rotation:
    """轮换出库记账：claim the draft, then ROTATE_OUT movements for every line; serial items
    become issued."""
    return post_document(
        session,
        Rotation,
        rotation_id,
        actor=actor,
        document_type="rotation",
        from_state=RotationStatus.DRAFT.value,
        to_state=RotationStatus.POSTED.value,
        kind=MovementKind.ROTATE_OUT,
        item_status=ItemStatus.ISSUED,
        note=lambda rotation: rotation.counterparty,
        missing=_l("No such rotation."),
    )


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
