"""协议调用: the receipt that brings a call-up's goods into a bureau warehouse. Its source is
``agreement_call_up`` exactly when it links a call-up (a CHECK holds that in the database too);
the call-up has shipped; every line is the call-up's material; and the receipts of a call-up
never bring in more than it shipped, in total.

That total counts the drafts as well as the posted receipts when a draft is saved (so the
keeper hears of it at once), and the posted ones when a receipt is posted, with the call-up's
row locked (``SELECT … FOR UPDATE``; SQLite's write transactions run one at a time), so two
receipts posted at once cannot together pass it."""

from __future__ import annotations

from collections.abc import Sequence

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from reserve.agreements.callup_models import CallUp, CallUpStatus
from reserve.agreements.callup_queries import received_qty
from reserve.agreements.models import AgreementLine
from reserve.catalog.models import Material
from reserve.documents import line_error
from reserve.errors import ValidationError
from reserve.receipts.models import ReceiptStatus
from reserve.stock.models import BatchSource

RECEIVABLE = (CallUpStatus.SHIPPED.value, CallUpStatus.REPLENISHED.value)


def check_call_up_link(
    session: Session,
    *,
    source: str,
    call_up_id: int | None,
    lines: Sequence[tuple[int | None, int | None]],
    receipt_no: str | None,
    posting: bool,
) -> None:
    """入库来源·协议调用: the receipt's link to a call-up, checked (``lines`` are its
    (material id, quantity) pairs)."""
    if source != BatchSource.AGREEMENT_CALL_UP.value:
        if call_up_id is not None:
            raise ValidationError(
                _l("Only a receipt whose source is an agreement call-up links a call-up."),
                field="call_up_id",
            )
        return
    if call_up_id is None:
        raise ValidationError(_l("Choose the call-up whose goods these are."), field="call_up_id")
    call = session.execute(
        select(CallUp).where(CallUp.id == call_up_id).with_for_update()
    ).scalar_one_or_none()
    if call is None:
        raise ValidationError(_l("No such call-up."), field="call_up_id")
    if call.status not in RECEIVABLE:
        raise ValidationError(
            _l(
                "Call-up %(no)s has not been shipped: its goods cannot be received yet.",
                no=call.no,
            ),
            field="call_up_id",
        )
    material_id = session.scalar(
        select(AgreementLine.material_id).where(AgreementLine.id == call.line_id)
    )
    for n, (line_material, _qty) in enumerate(lines, start=1):
        if line_material is not None and line_material != material_id:
            material = session.get(Material, material_id)
            raise line_error(
                n,
                _l(
                    "call-up %(no)s is for %(material)s; receive other goods on another receipt.",
                    no=call.no,
                    material=material.name,
                ),
                field=f"lines-{n - 1}-material_id",
            )
    statuses = (
        (ReceiptStatus.POSTED.value,)
        if posting
        else (ReceiptStatus.DRAFT.value, ReceiptStatus.POSTED.value)
    )
    before = received_qty(session, call.id, statuses=statuses, except_no=receipt_no)
    total = sum(qty for _material, qty in lines if isinstance(qty, int))
    if before + total > call.shipped_qty:
        raise ValidationError(
            _l(
                "Call-up %(no)s shipped %(shipped)s; %(before)s are already on its receipts, so "
                "at most %(left)s more can be received, not %(qty)s.",
                no=call.no,
                shipped=call.shipped_qty,
                before=before,
                left=max(0, call.shipped_qty - before),
                qty=total,
            ),
            field="call_up_id",
        )
