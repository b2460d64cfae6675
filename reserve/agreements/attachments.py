"""协议附件: the signed scan of an agreement (PDF or images), under the shared rules of
``reserve.files`` (type by content, size limit, stored under the instance folder as
``agreements/<agreement id>/<attachment id>-<sha256 prefix>``).

Attaching is for the bureau's agreement writers, on any agreement not terminated (the signed
paper often comes after the draft); removing only from a draft. Seeing one needs sight of the
agreement (an enterprise user: its own enterprise's)."""

from __future__ import annotations

import hashlib
from pathlib import Path

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from reserve.agreements.models import Agreement, AgreementAttachment, AgreementStatus
from reserve.agreements.signing import WRITERS, get_agreement
from reserve.audit.service import record
from reserve.auth.actor import Actor
from reserve.documents import stamp, transition
from reserve.errors import Conflict, NotFound, ValidationError
from reserve.files import AttachmentStore, checked_upload, clean_filename

MAX_PER_AGREEMENT = 20


def add_attachment(
    session: Session,
    *,
    agreement_id: int,
    filename: str | None,
    content: bytes,
    actor: Actor,
    store: AttachmentStore,
) -> AgreementAttachment:
    """上传协议附件：keep the signed scan with an agreement."""
    actor.require_role(*WRITERS)
    agreement = get_agreement(session, agreement_id, actor=actor)
    if agreement.status == AgreementStatus.TERMINATED.value:
        raise Conflict(
            _l("Agreement %(no)s was terminated; it takes no attachments.", no=agreement.no),
            field="file",
        )
    kind = checked_upload(content, store.max_bytes)
    count = session.scalar(
        select(func.count())
        .select_from(AgreementAttachment)
        .where(AgreementAttachment.agreement_id == agreement.id)
    )
    if count >= MAX_PER_AGREEMENT:
        raise ValidationError(
            _l("An agreement has at most %(n)s attachments.", n=MAX_PER_AGREEMENT), field="file"
        )
    attachment = AgreementAttachment(
        agreement_id=agreement.id,
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
        obj=agreement,
        label=agreement.no,
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
    session: Session, *, agreement_id: int, attachment_id: int, actor: Actor
) -> AgreementAttachment:
    """协议附件: only for whoever sees the agreement."""
    agreement = get_agreement(session, agreement_id, actor=actor)
    attachment = session.get(AgreementAttachment, attachment_id)
    if attachment is None or attachment.agreement_id != agreement.id:
        raise NotFound(_l("No such attachment."))
    return attachment


def delete_attachment(
    session: Session, *, agreement_id: int, attachment_id: int, actor: Actor, store: AttachmentStore
) -> Path:
    """删除协议附件：only from a draft. Returns the file to unlink once committed."""
    actor.require_role(*WRITERS)
    attachment = get_attachment(
        session, agreement_id=agreement_id, attachment_id=attachment_id, actor=actor
    )
    agreement = transition(
        session,
        Agreement,
        agreement_id,
        from_states=(AgreementStatus.DRAFT.value,),
        to_state=AgreementStatus.DRAFT.value,
    )
    path = store.path_for(attachment)
    before = {"attachment_id": attachment.id, "filename": attachment.filename}
    session.delete(attachment)
    session.flush()
    record(session, actor=actor, action="detach", obj=agreement, label=agreement.no, before=before)
    return path
