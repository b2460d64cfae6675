"""报废: damaged, expired or failed stock written off. A keeper requests, an approver who is not
the requester approves or rejects (职责分离), a keeper posts through the ledger."""

from __future__ import annotations

from datetime import date

from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from reserve.audit.service import record
from reserve.auth.actor import Actor
from reserve.auth.models import Role
from reserve.disposals.lines import (
    DisposalLineData,
    add_document,
    check_lines,
    check_warehouse,
    clean_text,
    get_document,
    post_document,
)
from reserve.disposals.models import Scrap, ScrapLine, ScrapReason, ScrapStatus
from reserve.documents import is_same_person, stamp, transition
from reserve.errors import SeparationOfDuties, ValidationError
from reserve.stock import ledger
from reserve.stock.models import ItemStatus, MovementKind
from reserve.stock.numbering import next_document_no

__all__ = [
    "DisposalLineData",
    "approve_scrap",
    "get_scrap",
    "is_requester",
    "post_scrap",
    "reject_scrap",
    "request_scrap",
]


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
    check_warehouse(session, warehouse_id, actor)
    if reason not in {r.value for r in ScrapReason}:
        raise ValidationError(_l("Choose the reason for the scrap."), field="reason")
    reason_text = clean_text(reason_text, Scrap.reason_text, "reason_text")
    note = clean_text(note, Scrap.note, "note")
    if reason == ScrapReason.OTHER.value and not (reason_text or note):
        raise ValidationError(_l("Describe the reason when it is “other”."), field="reason_text")
    ledger.check_document_date(session, document_date)
    checked = check_lines(session, warehouse_id=warehouse_id, lines=lines)
    scrap = Scrap(
        no=next_document_no(session, "scrap", document_date),
        warehouse_id=warehouse_id,
        reason=reason,
        reason_text=reason_text,
        document_date=document_date,
        note=note,
        status=ScrapStatus.REQUESTED.value,
        **stamp("requested", actor),
    )
    return add_document(session, scrap, ScrapLine, checked, actor=actor, action="request")


def get_scrap(session: Session, scrap_id: int, *, actor: Actor | None = None) -> Scrap:
    """报废单: refused to a keeper who does not keep its warehouse."""
    return get_document(session, Scrap, scrap_id, actor=actor, missing=_l("No such scrap request."))


def is_requester(actor: Actor, scrap: Scrap) -> bool:
    """Whether the actor requested this scrap (and so may not approve it)."""
    return is_same_person(actor, scrap, "requested")


def _decide(
    session: Session, scrap_id: int, actor: Actor, to_state: ScrapStatus, verb: str, note
) -> Scrap:
    actor.require_role(Role.APPROVER, Role.ADMIN)
    scrap = get_scrap(session, scrap_id)
    if is_requester(actor, scrap):
        raise SeparationOfDuties(
            _l("You requested scrap %(no)s yourself; another person must approve it.", no=scrap.no)
        )
    return transition(
        session,
        Scrap,
        scrap.id,
        from_states=(ScrapStatus.REQUESTED.value,),
        to_state=to_state.value,
        values={**stamp(verb, actor), "decision_note": note},
    )


def approve_scrap(
    session: Session, *, scrap_id: int, actor: Actor, note: str | None = None
) -> Scrap:
    """报废审批：an approver other than the requester agrees (segregation of duties)."""
    note = clean_text(note, Scrap.decision_note, "note")
    scrap = _decide(session, scrap_id, actor, ScrapStatus.APPROVED, "approved", note)
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
    reason = clean_text(reason, Scrap.decision_note, "reason")
    if not reason:
        raise ValidationError(_l("Give the reason for the rejection."), field="reason")
    scrap = _decide(session, scrap_id, actor, ScrapStatus.REJECTED, "rejected", reason)
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
    """报废出库记账：claim the approved scrap, then SCRAP movements; serial items become
    scrapped."""
    return post_document(
        session,
        Scrap,
        scrap_id,
        actor=actor,
        document_type="scrap",
        from_state=ScrapStatus.APPROVED.value,
        to_state=ScrapStatus.POSTED.value,
        kind=MovementKind.SCRAP,
        item_status=ItemStatus.SCRAPPED,
        note=lambda scrap: scrap.reason_text or scrap.reason,
        missing=_l("No such scrap request."),
    )
