"""附件 (attachments), the part every document with scanned papers shares: receipts (the
delivery note) and agreements (the signed scan).

- What a file is comes from its first bytes (PDF, JPEG, PNG), never from its name or the
  content type the browser claims; anything else, an empty file or one over the size limit is
  refused with the reason (``checked_upload``), and nothing is written.
- Files live under the instance folder (``ATTACHMENTS_DIR``, default
  ``instance/attachments``, which the backup carries), as ``<storage_dir>/<attachment id>-<sha256
  prefix>``: an attachment row says its folder (``receipts/<receipt id>``, ``agreements/<id>``)
  and nothing the uploader typed reaches the file system.
- A file written for a transaction that then rolls back is removed with it (the rows are gone,
  so nothing would ever point at it); one whose transaction commits stays.
- The edges read an upload within its limit (``uploaded_file``) and send a stored file back as a
  download no browser will sniff or render in the page (``send_attachment``).

Shared like ``db.py``: no feature owns it."""

from __future__ import annotations

import enum
import hashlib
import os
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from flask import current_app, request, send_file
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from reserve.audit.service import record
from reserve.auth.actor import Actor
from reserve.documents import stamp
from reserve.errors import NotFound, ValidationError

DEFAULT_MAX_BYTES = 10 * 1024 * 1024
MAX_NAME = 200


class AttachmentType(enum.StrEnum):
    """What an attachment may be, decided by its first bytes (never by its name)."""

    PDF = "application/pdf"
    JPEG = "image/jpeg"
    PNG = "image/png"


MAGIC: tuple[tuple[bytes, AttachmentType], ...] = (
    (b"%PDF-", AttachmentType.PDF),
    (b"\xff\xd8\xff", AttachmentType.JPEG),
    (b"\x89PNG\r\n\x1a\n", AttachmentType.PNG),
)
EXTENSIONS = {AttachmentType.PDF: ".pdf", AttachmentType.JPEG: ".jpg", AttachmentType.PNG: ".png"}


class StoredFile(Protocol):
    """An attachment row: where its file lives and under which name."""

    @property
    def storage_dir(self) -> str: ...

    @property
    def stored_name(self) -> str: ...


@dataclass(frozen=True)
class AttachmentStore:
    """Where attachment files are kept, and how large one may be."""

    root: Path
    max_bytes: int = DEFAULT_MAX_BYTES

    def path_for(self, attachment: StoredFile) -> Path:
        return self.root / attachment.storage_dir / attachment.stored_name

    def write(self, attachment: StoredFile, content: bytes) -> None:
        path = self.path_for(attachment)
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(path.name + ".part")
        partial.write_bytes(content)
        os.replace(partial, path)  # a reader never sees half a file

    def discard(self, path: Path | None) -> None:
        if path is not None:
            path.unlink(missing_ok=True)


_WRITTEN = "reserve.files.written"


def _written_in(session: Session) -> list[Path]:
    """The files this session's open transaction wrote."""
    return session.info.setdefault(_WRITTEN, [])


@event.listens_for(Session, "after_commit")
def _keep_written(session: Session) -> None:
    session.info.pop(_WRITTEN, None)


@event.listens_for(Session, "after_rollback")
def _discard_written(session: Session) -> None:
    for path in session.info.pop(_WRITTEN, ()):
        path.unlink(missing_ok=True)


def sniff(content: bytes) -> AttachmentType | None:
    """The type a file's first bytes say it is, or None."""
    for magic, kind in MAGIC:
        if content.startswith(magic):
            return kind
    return None


def size_text(n: int) -> str:
    return f"{n / (1024 * 1024):.1f} MB" if n >= 1024 * 1024 else f"{max(1, n // 1024)} KB"


def checked_upload(content: bytes, max_bytes: int) -> AttachmentType:
    """The type of an uploaded file, or the reason it is refused: empty, too large, or not a
    PDF, JPEG or PNG by its content."""
    if not content:
        raise ValidationError(_l("Choose the file to attach; it must not be empty."), field="file")
    if len(content) > max_bytes:
        raise ValidationError(
            _l(
                "The file is too large (%(size)s); an attachment is at most %(max)s.",
                size=size_text(len(content)),
                max=size_text(max_bytes),
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
    return kind


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


def keep_attachment(
    session: Session,
    *,
    model: type,
    owner_column,
    owner,
    filename: str | None,
    content: bytes,
    actor: Actor,
    store: AttachmentStore,
    max_count: int,
    too_many,
):
    """附件: a checked upload kept with its document (``owner``, whose id ``owner_column`` of
    ``model`` holds): at most ``max_count`` a document (``too_many`` says so otherwise), the row
    with its size and SHA-256, the file written, the document's audit entry. The caller has
    checked who may attach and whether the document still takes files."""
    kind = checked_upload(content, store.max_bytes)
    count = session.scalar(select(func.count()).select_from(model).where(owner_column == owner.id))
    if count >= max_count:
        raise ValidationError(too_many, field="file")
    attachment = model(
        filename=clean_filename(filename, kind),
        content_type=kind.value,
        size_bytes=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
        **{owner_column.key: owner.id},
        **stamp("uploaded", actor),
    )
    session.add(attachment)
    session.flush()
    store.write(attachment, content)
    _written_in(session).append(store.path_for(attachment))
    record(
        session,
        actor=actor,
        action="attach",
        obj=owner,
        label=owner.no,
        after={
            "attachment_id": attachment.id,
            "filename": attachment.filename,
            "content_type": attachment.content_type,
            "size_bytes": attachment.size_bytes,
            "sha256": attachment.sha256,
        },
    )
    return attachment


def attachment_json(row, owner_key: str) -> dict:
    """An attachment as the API shows it (``owner_key``: the document's id field)."""
    return {
        "id": row.id,
        owner_key: getattr(row, owner_key),
        "filename": row.filename,
        "content_type": row.content_type,
        "size_bytes": row.size_bytes,
        "sha256": row.sha256,
        "uploaded_by": row.uploaded_by,
        "uploaded_by_name": row.uploaded_by_full_name,
        "uploaded_at": row.uploaded_at.isoformat(),
    }


def store_for(config: dict, instance_path: str) -> AttachmentStore:
    """The store an app's configuration names: ``ATTACHMENTS_DIR`` (default
    ``<instance>/attachments``, as the backup), ``RECEIPT_ATTACHMENT_MAX_BYTES`` (the one limit
    for every attachment, whatever its document)."""
    root = config.get("ATTACHMENTS_DIR") or os.path.join(instance_path, "attachments")
    return AttachmentStore(
        Path(root), int(config.get("RECEIPT_ATTACHMENT_MAX_BYTES") or DEFAULT_MAX_BYTES)
    )


# The edges (pages and API alike) --------------------------------------------------------------


def store() -> AttachmentStore:
    return store_for(current_app.config, current_app.instance_path)


def uploaded_file() -> tuple[str | None, bytes]:
    """The file sent as ``file`` (name, bytes), read to one byte past the limit at most."""
    upload = request.files.get("file")
    if upload is None:
        return None, b""
    return upload.filename, upload.stream.read(store().max_bytes + 1)


def send_attachment(attachment, path: Path):
    """The file as a download, its type the one its content was checked to be."""
    if not path.is_file():
        raise NotFound(_("The file of this attachment is missing from the server."))
    response = send_file(
        path,
        mimetype=attachment.content_type,
        as_attachment=True,
        download_name=attachment.filename,
        conditional=True,
        etag=attachment.sha256,
        max_age=0,
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    return response
