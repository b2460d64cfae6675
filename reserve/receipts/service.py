"""入库单: record what came into a warehouse, check every line, and post it to the stock ledger
(入库过账) in one transaction. Only ``reserve.stock.ledger`` changes quantities; this module
creates the batches (批次) and serial items (单品) the goods arrive as. Every status change is a
``reserve.documents.transition``: posting claims the draft before it writes any movement."""

from __future__ import annotations

import functools
from datetime import date
from typing import NamedTuple

from flask_babel import lazy_gettext as _l
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from reserve.audit.service import record, snapshot
from reserve.auth.actor import Actor
from reserve.db import local_today, normalise_code
from reserve.documents import MAX_LINES, all_or_nothing, stamp, transition
from reserve.errors import Conflict, NotFound
from reserve.receipts.checks import (
    CheckedLine,
    ReceiptData,
    ReceiptLineData,
    batch_clash,
    check_receipt,
    check_serials_free,
    existing_batches,
    header_texts,
)
from reserve.receipts.models import Receipt, ReceiptLine, ReceiptStatus
from reserve.stock import ledger
from reserve.stock.ledger import DocumentRef
from reserve.stock.models import Batch, MovementKind
from reserve.stock.numbering import next_document_no

__all__ = [
    "MAX_LINES",
    "ReceiptData",
    "ReceiptLineData",
    "cancel_receipt",
    "create_receipt",
    "get_receipt",
    "local_today",
    "post_receipt",
    "update_receipt",
]


def _apply(receipt: Receipt, data: ReceiptData, lines: list[CheckedLine]) -> None:
    receipt.warehouse_id = data.warehouse_id
    receipt.source = data.source
    receipt.call_up_id = data.call_up_id
    receipt.document_date = data.document_date
    receipt.supplier, receipt.funding_source, receipt.paper_no, receipt.note = header_texts(data)
    receipt.lines = [
        ReceiptLine(
            line_no=n,
            material_id=line.material.id,
            batch_no=line.batch_no,
            production_date=line.production_date,
            expiry_date=line.expiry_date,
            qty=line.qty,
            location_id=line.location_id,
            unit_cost=line.unit_cost,
            serial_nos=list(line.serials),
            expiry_reason=line.expiry_reason,
        )
        for n, line in enumerate(lines, start=1)
    ]


def _audit(receipt: Receipt) -> dict:
    summary = snapshot(receipt)
    summary["lines"] = [
        {
            "material_id": line.material_id,
            "batch_no": line.batch_no,
            "qty": line.qty,
            "location_id": line.location_id,
            **({"expiry_reason": line.expiry_reason} if line.expiry_reason else {}),
        }
        for line in receipt.lines
    ]
    return summary


def _expiry_confirmations(receipt: Receipt, lines: list[CheckedLine]) -> list[dict]:
    """过期/临期入库确认: the lines received past or near their expiry, with the reason."""
    return [
        {
            "line": stored.line_no,
            "batch_no": line.batch_no,
            "expiry_date": line.expiry_date.isoformat(),
            "state": str(line.expiry_state),
            "reason": line.expiry_reason,
        }
        for stored, line in zip(receipt.lines, lines, strict=True)
        if line.expiry_state is not None
    ]


def create_receipt(session: Session, *, data: ReceiptData, actor: Actor) -> Receipt:
    """新建入库单：a draft, checked now so the keeper sees mistakes before posting."""
    no = next_document_no(session, "receipt", local_today())
    _warehouse, lines = check_receipt(session, data, actor, receipt_no=no)
    receipt = Receipt(
        no=no,
        status=ReceiptStatus.DRAFT.value,
        **stamp("created", actor),
    )
    _apply(receipt, data, lines)
    session.add(receipt)
    session.flush()
    record(
        session, actor=actor, action="create", obj=receipt, label=receipt.no, after=_audit(receipt)
    )
    return receipt


def _claim(
    session: Session, receipt_id: int, actor: Actor, to_state: str, verb: str | None = None
) -> Receipt:
    """The draft, moved to ``to_state`` by one conditional UPDATE (claimed for an edit when it
    stays a draft): of two keepers posting at once, one wins and the other gets a Conflict."""
    receipt = session.get(Receipt, receipt_id)
    if receipt is None:
        raise NotFound(_l("No such receipt."))
    actor.require_write(receipt.warehouse_id)
    return transition(
        session,
        Receipt,
        receipt.id,
        from_states=(ReceiptStatus.DRAFT.value,),
        to_state=to_state,
        values=stamp(verb, actor) if verb else None,
    )


def update_receipt(
    session: Session, *, receipt_id: int, data: ReceiptData, actor: Actor
) -> Receipt:
    """修改入库单：replace the header and lines of a draft."""
    receipt = _claim(session, receipt_id, actor, ReceiptStatus.DRAFT.value)
    before = _audit(receipt)
    _warehouse, lines = check_receipt(session, data, actor, receipt_no=receipt.no)
    receipt.lines.clear()
    session.flush()  # delete the old lines before their line numbers are reused
    _apply(receipt, data, lines)
    session.flush()
    record(
        session,
        actor=actor,
        action="update",
        obj=receipt,
        label=receipt.no,
        before=before,
        after=_audit(receipt),
    )
    return receipt


def _stored_data(receipt: Receipt) -> ReceiptData:
    return ReceiptData(
        warehouse_id=receipt.warehouse_id,
        source=receipt.source,
        document_date=receipt.document_date,
        supplier=receipt.supplier,
        funding_source=receipt.funding_source,
        paper_no=receipt.paper_no,
        note=receipt.note,
        call_up_id=receipt.call_up_id,
        lines=tuple(
            ReceiptLineData(
                material_id=line.material_id,
                batch_no=line.batch_no,
                qty=line.qty,
                location_id=line.location_id,
                production_date=line.production_date,
                expiry_date=line.expiry_date,
                unit_cost=line.unit_cost,
                serials=tuple(line.serial_nos or ()),
                expiry_reason=line.expiry_reason,
            )
            for line in receipt.lines
        ),
    )


class _LineBatch(NamedTuple):
    """The batch a posted line goes into: its id and the dates on the books."""

    id: int
    production_date: date | None
    expiry_date: date | None


@functools.cache
def _insert_batches(dialect: str):
    """``INSERT INTO batches … ON CONFLICT DO NOTHING RETURNING …``, built once per dialect."""
    table = Batch.__table__
    stmt = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)
    return stmt.on_conflict_do_nothing().returning(
        table.c.id,
        table.c.material_id,
        table.c.batch_no,
        table.c.production_date,
        table.c.expiry_date,
    )


def _batches_for(session: Session, receipt: Receipt, lines: list[CheckedLine]) -> list[_LineBatch]:
    """Each line's batch: those on the books the checks found, the new ones inserted in one
    statement (``ON CONFLICT DO NOTHING``). A number a concurrent receipt created a moment ago
    is then read and used, or, when its dates differ from the line's, named as a clash."""
    keys = [(line.material.id, normalise_code(line.batch_no)) for line in lines]
    batches: dict[tuple[int, str], _LineBatch] = {}
    new: dict[tuple[int, str], dict] = {}
    for key, line in zip(keys, lines, strict=True):
        if line.batch_id is not None:
            batches[key] = _LineBatch(line.batch_id, line.production_date, line.expiry_date)
        elif key not in new:
            new[key] = {
                "material_id": line.material.id,
                "batch_no": line.batch_no,
                "production_date": line.production_date,
                "expiry_date": line.expiry_date,
                "source": receipt.source,
                "supplier": receipt.supplier,
                "funding_source": receipt.funding_source,
                "unit_cost": line.unit_cost,
            }
    if new:
        inserted = session.connection().execute(
            _insert_batches(session.get_bind().dialect.name), list(new.values())
        )
        for row in inserted:
            batches[(row.material_id, row.batch_no)] = _LineBatch(
                row.id, row.production_date, row.expiry_date
            )
    if raced := [key for key in new if key not in batches]:
        for key, batch in existing_batches(session, raced).items():
            batches[key] = _LineBatch(batch.id, batch.production_date, batch.expiry_date)
        for index, (key, line) in enumerate(zip(keys, lines, strict=True)):
            batch = batches.get(key)
            if batch is None:
                raise NotFound(_l("No such batch."))
            if (batch.production_date, batch.expiry_date) != (
                line.production_date,
                line.expiry_date,
            ):
                raise batch_clash(
                    index, line.batch_no, line.material, batch.production_date, batch.expiry_date
                )
    return [batches[key] for key in keys]


def post_receipt(session: Session, *, receipt_id: int, actor: Actor) -> Receipt:
    """入库过账：claim the draft, then create the batches and serial items and post a RECEIPT
    movement per line (a failure on any line rolls the claim back with the rest). The cost
    does not grow per line in statements: lookups, batches and movements go in bulk."""
    with all_or_nothing(session):  # the claim and the movements stand or fall together
        receipt = _claim(session, receipt_id, actor, ReceiptStatus.POSTED.value, "posted")
        _warehouse, lines = check_receipt(
            session, _stored_data(receipt), actor, receipt_no=receipt.no, posting=True
        )
        document = DocumentRef("receipt", receipt.id, receipt.no, receipt.document_date)
        batches = _batches_for(session, receipt, lines)
        for stored, batch in zip(receipt.lines, batches, strict=True):
            stored.batch_id = batch.id
            stored.production_date, stored.expiry_date = batch.production_date, batch.expiry_date
        postings = [
            ledger.Posting(
                kind=MovementKind.RECEIPT,
                location_id=line.location_id,
                batch_id=batch.id,
                qty=line.qty,
                serial_nos=line.serials,
            )
            for line, batch in zip(lines, batches, strict=True)
        ]
        try:  # new serial items are created, returning ones come back, by the ledger
            ledger.post_movements(session, postings=postings, document=document, actor=actor)
        except Conflict:  # another receipt took one of these numbers just now: say which
            for index, line in enumerate(lines):
                check_serials_free(session, index, line.material, line.serials)
            raise
    session.flush()
    confirmed = _expiry_confirmations(receipt, lines)
    record(
        session,
        actor=actor,
        action="post",
        obj=receipt,
        label=receipt.no,
        after={
            "status": receipt.status,
            "lines": len(receipt.lines),
            "qty": sum(line.qty for line in lines),
            **({"expiry_confirmed": confirmed} if confirmed else {}),
        },
    )
    return receipt


def cancel_receipt(session: Session, *, receipt_id: int, actor: Actor) -> Receipt:
    """作废入库单：a draft that will not be posted."""
    receipt = _claim(session, receipt_id, actor, ReceiptStatus.CANCELLED.value, "cancelled")
    record(
        session,
        actor=actor,
        action="cancel",
        obj=receipt,
        label=receipt.no,
        before={"status": ReceiptStatus.DRAFT.value},
        after={"status": receipt.status},
    )
    return receipt


def get_receipt(session: Session, receipt_id: int, *, actor: Actor | None = None) -> Receipt:
    """入库单: refused to a keeper who does not keep its warehouse."""
    receipt = session.get(Receipt, receipt_id)
    if receipt is None:
        raise NotFound(_l("No such receipt."))
    if actor is not None:
        actor.require_see(receipt.warehouse_id)
    return receipt
