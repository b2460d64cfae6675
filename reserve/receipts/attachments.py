"""入库单附件: the scanned paper (the supplier's delivery note, 送货单) kept with a receipt.

- What a file is comes from its first bytes (PDF, JPEG, PNG), never from its name or the
  content type the browser claims; anything else, an empty file or one over the size limit is
  refused with the reason, and nothing is written.
- The file lives under the instance folder (``ATTACHMENTS_DIR``, default
  ``instance/attachments``, which the backup carries), as ``receipts/<receipt id>/<attachment
  id>-<sha256 prefix>``: nothing the uploader typed reaches the file system. The row keeps the
  name shown, the type, size, SHA-256, who and when.
- Adding is allowed on drafts and on posted receipts (the paper often arrives after the goods);
  removing only on drafts (a posted receipt's papers are part of its record). Seeing one needs
  sight of the receipt's warehouse (``actor.require_see``).
- The file is written after its row is flushed, inside the caller's transaction; a transaction
  that then rolls back leaves an unreferenced file behind (harmless: no row serves it, and the
  next attachment to take its id overwrites it). A removed attachment's file is unlinked by the
  edge once the transaction has committed (``AttachmentStore.discard``)."""

from __future__ import annotations

import hashlib
import os
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from reserve.audit.service import record
from reserve.auth.actor import Actor
from reserve.documents import stamp, transition
from reserve.errors import Conflict, NotFound, ValidationError
from reserve.receipts.models import AttachmentType, Receipt, ReceiptAttachment, ReceiptStatus

MAX_PER_RECEIPT = 20
MAX_NAME = ReceiptAttachment.filename.type.length
DEFAULT_MAX_BYTES = 10 * 1024 * 1024
MAGIC: tuple[tuple[bytes, AttachmentType], ...] = (
    (b"%PDF-", AttachmentType.PDF),
    (b"\xff\xd8\xff", AttachmentType.JPEG),
    (b"\x89PNG\r\n\x1a\n", AttachmentType.PNG),
)
EXTENSIONS = {AttachmentType.PDF: ".pdf", AttachmentType.JPEG: ".jpg", AttachmentType.PNG: ".png"}


@dataclass(frozen=True)
class AttachmentStore:
    """Where attachment files are kept, and how large one may be."""

    root: Path
    max_bytes: int = DEFAULT_MAX_BYTES

    def path_for(self, attachment: ReceiptAttachment) -> Path:
        return self.root / "receipts" / str(attachment.receipt_id) / attachment.stored_name

    def write(self, attachment: ReceiptAttachment, content: bytes) -> None:
        path = self.path_for(attachment)
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(path.name + ".part")
        partial.write_bytes(content)
        os.replace(partial, path)  # a reader never sees half a file

    def discard(self, path: Path | None) -> None:
        if path is not None:
            path.unlink(missing_ok=True)


def sniff(content: bytes) -> AttachmentType | None:
    """The type a file's first bytes say it is, or None."""
    for magic, kind in MAGIC:
        if content.startswith(magic):
            return kind
    return None


def _size(n: int) -> str:
    return f"{n / (1024 * 1024):.1f} MB" if n >= 1024 * 1024 else f"{max(1, n // 1024)} KB"


def clean_filename(name: str | None, kind: AttachmentType) -> str:
    """The name shown and offered on download: the last part of what was sent, printable, at
    most 200 characters, ending in the extension of what the file is (a PNG sent as scan.pdf
    becomes scan.pdf.png)."""
    name = re.split(r"[\\/]", name or "")[-1]
    name = "".join(
        c for c in unicodedata.normalize("NFC", name) if not unicodedata.category(c).startswith("C")
    )
    name = " ".join(name.split()).strip(" .") or "attachment"
    lower = name.lower()
    if not (
        lower.endswith(EXTENSIONS[kind])
        or (kind is AttachmentType.JPEG and lower.endswith(".jpeg"))
    ):
        name += EXTENSIONS[kind]
    if len(name) > MAX_NAME:
        stem, _dot, suffix = name.rpartition(".")
        name = stem[: MAX_NAME - len(suffix) - 1] + "." + suffix
    return name


def store_for(config: dict, instance_path: str) -> AttachmentStore:
    """The store an app's configuration names: ``ATTACHMENTS_DIR`` (default
    ``<instance>/attachments``, as the backup), ``RECEIPT_ATTACHMENT_MAX_BYTES``."""
    root = config.get("ATTACHMENTS_DIR") or os.path.join(instance_path, "attachments")
    return AttachmentStore(
        Path(root), int(config.get("RECEIPT_ATTACHMENT_MAX_BYTES") or DEFAULT_MAX_BYTES)
    )


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
    if not content:
        raise ValidationError(_l("Choose the file to attach; it must not be empty."), field="file")
    if len(content) > store.max_bytes:
        raise ValidationError(
            _l(
                "The file is too large (%(size)s); an attachment is at most %(max)s.",
                size=_size(len(content)),
                max=_size(store.max_bytes),
            ),
            field="file",
        )
    kind = sniff(content)
    if kind is None:
        raise ValidationError(
            _l(
                "Only PDF, JPEG or PNG files can be attached (a scan or a photo of the paper); "
                "this file is none of them, whatever its name says."
            ),
            field="file",
        )
    count = session.scalar(
        select(func.count())
        .select_from(ReceiptAttachment)
        .where(ReceiptAttachment.receipt_id == receipt.id)
    )
    if count >= MAX_PER_RECEIPT:
        raise ValidationError(
            _l("A receipt has at most %(n)s attachments.", n=MAX_PER_RECEIPT), field="file"
        )
    attachment = ReceiptAttachment(
        receipt_id=receipt.id,
        filename=clean_filename(filename, kind),
        content_type=kind.value,
        size_bytes=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
        **stamp("uploaded", actor),
    )
    session.add(attachment)
    session.flush()
    store.write(attachment, content)
    record(
        session,
        actor=actor,
        action="attach",
        obj=receipt,
        label=receipt.no,
        after={
            "attachment_id": attachment.id,
            "filename": attachment.filename,
            "content_type": attachment.content_type,
            "size_bytes": attachment.size_bytes,
            "sha256": attachment.sha256,
        },
    )
    return attachment


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
