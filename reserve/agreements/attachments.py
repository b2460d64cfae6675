"""协议附件: the signed scan of an agreement (PDF or images), under the shared rules of
``reserve.files`` (type by content, size limit, stored under the instance folder as
``agreements/<agreement id>/<attachment id>-<sha256 prefix>``).

Attaching is for the bureau's agreement writers, on any agreement not terminated (the signed
paper often comes after the draft); removing only from a draft. Seeing one needs sight of the
agreement (an enterprise user: its own enterprise's)."""

from __future__ import annotations

from pathlib import Path

from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from reserve.agreements.models import Agreement, AgreementAttachment, AgreementStatus
from reserve.agreements.signing import WRITERS, get_agreement
from reserve.audit.service import record
from reserve.auth.actor import Actor
from reserve.documents import transition
from reserve.errors import Conflict, NotFound
from reserve.files import AttachmentStore, keep_attachment

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
    return keep_attachment(
        session,
        model=AgreementAttachment,
        owner_column=AgreementAttachment.agreement_id,
        owner=agreement,
        filename=filename,
        content=content,
        actor=actor,
        store=store,
        max_count=MAX_PER_AGREEMENT,
        too_many=_l("An agreement has at most %(n)s attachments.", n=MAX_PER_AGREEMENT),
    )


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
