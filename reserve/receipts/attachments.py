"""入库单附件: the scanned paper (the supplier's delivery note, 送货单) kept with a receipt.

- What a file is, its size limit and where it is kept are the shared rules of ``reserve.files``
  (``receipts/<receipt id>/<attachment id>-<sha256 prefix>`` under the instance folder). The
  row keeps the name shown, the type, size, SHA-256, who and when.
- Adding is allowed on drafts and on posted receipts (the paper often arrives after the goods);
  removing only on drafts (a posted receipt's papers are part of its record). Seeing one needs
  sight of the receipt's warehouse (``actor.require_see``).
- The file is written after its row is flushed, inside the caller's transaction; a transaction
  that then rolls back leaves an unreferenced file behind (harmless: no row serves it, and the
  next attachment to take its id overwrites it). A removed attachment's file is unlinked by the
  edge once the transaction has committed (``AttachmentStore.discard``)."""

from __future__ import annotations

from pathlib import Path

from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from reserve.audit.service import record
from reserve.auth.actor import Actor
from reserve.documents import transition
from reserve.errors import Conflict, NotFound
from reserve.files import AttachmentStore, keep_attachment
from reserve.receipts.models import Receipt, ReceiptAttachment, ReceiptStatus

MAX_PER_RECEIPT = 20


def _receipt(session: Session, receipt_id: int) -> Receipt:
    receipt = session.get(Receipt, receipt_id)
    if receipt is None:
        raise NotFound(_l("No such receipt."))
    return receipt


def add_attachment(
    session: Session,
    *,
    receipt_id: int,
    filename: str | None,
    content: bytes,
    actor: Actor,
    store: AttachmentStore,
) -> ReceiptAttachment:
    """上传附件：keep a scanned paper with a draft or posted receipt."""
    receipt = _receipt(session, receipt_id)
    actor.require_write(receipt.warehouse_id)
    if receipt.status == ReceiptStatus.CANCELLED.value:
        raise Conflict(
            _l("Receipt %(no)s was cancelled; it takes no attachments.", no=receipt.no),
            field="file",
        )
    return keep_attachment(
        session,
        model=ReceiptAttachment,
        owner_column=ReceiptAttachment.receipt_id,
        owner=receipt,
        filename=filename,
        content=content,
        actor=actor,
        store=store,
        max_count=MAX_PER_RECEIPT,
        too_many=_l("A receipt has at most %(n)s attachments.", n=MAX_PER_RECEIPT),
    )


def get_attachment(
    session: Session, *, receipt_id: int, attachment_id: int, actor: Actor
) -> ReceiptAttachment:
    """附件: refused to whoever may not see the receipt's warehouse."""
    receipt = _receipt(session, receipt_id)
    actor.require_see(receipt.warehouse_id)
    attachment = session.get(ReceiptAttachment, attachment_id)
    if attachment is None or attachment.receipt_id != receipt.id:
        raise NotFound(_l("No such attachment."))
    return attachment


def delete_attachment(
    session: Session, *, receipt_id: int, attachment_id: int, actor: Actor, store: AttachmentStore
) -> Path:
    """删除附件：only from a draft (claimed, so a posting at the same moment wins or waits).
    Returns the file to unlink once the transaction has committed."""
    receipt = _receipt(session, receipt_id)
    actor.require_write(receipt.warehouse_id)
    attachment = get_attachment(
        session, receipt_id=receipt_id, attachment_id=attachment_id, actor=actor
    )
    transition(
        session,
        Receipt,
        receipt.id,
        from_states=(ReceiptStatus.DRAFT.value,),
        to_state=ReceiptStatus.DRAFT.value,
    )
    path = store.path_for(attachment)
    before = {
        "attachment_id": attachment.id,
        "filename": attachment.filename,
        "size_bytes": attachment.size_bytes,
        "sha256": attachment.sha256,
    }
    session.delete(attachment)
    session.flush()
    record(session, actor=actor, action="detach", obj=receipt, label=receipt.no, before=before)
    return path
