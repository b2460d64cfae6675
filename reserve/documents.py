"""单据生命周期 — what every stock document (receipts, stocktakes, rotations, scraps, moves and
the orders to come) shares, written once:

- ``transition``: a status change that is ONE conditional UPDATE (the state it leaves is part of
  the WHERE, checked by rowcount), so of two people approving or posting the same document at
  once exactly one wins and the other gets a clear ``Conflict``. A service claims the document
  this way *before* it writes movements; the caller's transaction rolls both back together.
- ``stamp`` / ``is_same_person``: attribution as ``<verb>_by_id`` (FK to users), ``<verb>_by_name``
  (the username kept for the record) and ``<verb>_at`` (UTC), and segregation of duties that
  compares user ids (the system actor, which has no id, by name).
- ``MAX_LINES`` and ``for_line`` / ``line_error``: one line limit, one "第 n 行：" prefix.

It is shared like ``db.py``: a rule every document feature keeps, so no feature owns it."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator, Mapping, Sized
from contextlib import contextmanager
from datetime import datetime
from typing import Any, TypeVar

from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from reserve.auth.actor import Actor
from reserve.db import utcnow
from reserve.errors import Conflict, NotFound, ReserveError, ValidationError

MAX_LINES = 200
"""The most lines one document may have (a longer paper is split in two)."""

D = TypeVar("D")

# A model may say, per status, which verb's attribution tells who put it there and what to tell
# the loser of a race: ``state_notes = {"posted": ("posted", lambda no, name: _l(...))}``.
StateNotes = Mapping[str, tuple[str | None, Callable[[str, str], Any]]]


# Attribution (经办人) ----------------------------------------------------------------------------


def stamp(verb: str, actor: Actor, at: datetime | None = None) -> dict[str, Any]:
    """经办留痕：the ``<verb>_by_id`` / ``<verb>_by_name`` / ``<verb>_at`` values for this actor."""
    return {
        f"{verb}_by_id": actor.user_id,
        f"{verb}_by_name": actor.username,
        f"{verb}_at": at or utcnow(),
    }


def unstamp(verb: str) -> dict[str, None]:
    """Clear a verb's attribution (a stocktake sent back is no longer submitted by anyone)."""
    return {f"{verb}_by_id": None, f"{verb}_by_name": None, f"{verb}_at": None}


def is_same_person(actor: Actor, document: object, verb: str) -> bool:
    """职责分离: did this actor do ``verb`` on the document? Users compare by id; the system
    actor (no id) compares by the name it acted under."""
    user_id = getattr(document, f"{verb}_by_id")
    if actor.user_id is not None or user_id is not None:
        return actor.user_id is not None and actor.user_id == user_id
    return actor.username == getattr(document, f"{verb}_by_name")


# Status transitions (状态流转) -------------------------------------------------------------------


def _conflict(session: Session, model: type, doc_id: int) -> ReserveError:
    """The loser's message: what the document is now, and who made it so."""
    row = session.execute(
        select(model).where(model.id == doc_id).execution_options(populate_existing=True)
    ).scalar_one_or_none()
    if row is None:
        return NotFound(_l("This document no longer exists."))
    notes: StateNotes = getattr(model, "state_notes", {})
    verb, message = notes.get(row.status, (None, None))
    name = (getattr(row, f"{verb}_by_name", None) if verb else None) or "—"
    if message is not None:
        return Conflict(message(row.no, name))
    return Conflict(
        _l("%(no)s has just been changed by someone else; reload the page.", no=row.no),
        status=row.status,
    )


def transition(
    session: Session,
    model: type[D],
    doc_id: int,
    *,
    from_states: Collection[str],
    to_state: str,
    values: Mapping[str, Any] | None = None,
) -> D:
    """状态流转：``UPDATE … SET status = :to WHERE id = :id AND status IN (:from)``, checked by
    rowcount; raises ``Conflict`` (who changed it meanwhile) when the document has left
    ``from_states``. ``to_state`` may equal the state left: that claims a draft for an edit.
    Returns the document, refreshed from the row."""
    session.flush()  # pending changes first: the UPDATE must see and keep them
    result = session.execute(
        update(model)
        .where(model.id == doc_id, model.status.in_(list(from_states)))
        .values(status=to_state, **dict(values or {}))
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        raise _conflict(session, model, doc_id)
    document = session.execute(
        select(model).where(model.id == doc_id).execution_options(populate_existing=True)
    ).scalar_one()
    return document


@contextmanager
def all_or_nothing(session: Session) -> Iterator[None]:
    """A savepoint around a claim and the work it guards (the movements of a posting): on any
    error both are undone and what was read inside is expired, so the session shows the state
    before, even to a caller that goes on after the error."""
    try:
        with session.begin_nested():
            yield
    except BaseException:
        session.expire_all()
        raise


# Lines (明细) ---------------------------------------------------------------------------------


def check_line_count(lines: Sized, *, field: str = "lines", empty: Any = None) -> None:
    """At least one line (``empty`` says so in the document's words) and at most ``MAX_LINES``."""
    if not len(lines):
        raise ValidationError(empty or _l("Add at least one line."), field=field)
    if len(lines) > MAX_LINES:
        raise ValidationError(
            _l("A document has at most %(n)s lines; split it in two.", n=MAX_LINES), field=field
        )


def line_message(n: int, message: Any, *, label: Any = None) -> Any:
    """ "第 n 行：…" / "Line n: …" (with the field's label when a form names it)."""
    if label is not None:
        return _l("Line %(n)s, %(label)s: %(message)s", n=n, label=label, message=message)
    return _l("Line %(n)s: %(message)s", n=n, message=message)


def line_error(n: int, error: ReserveError | Any, *, field: str | None = None) -> ReserveError:
    """The error of line ``n`` (counted from 1), prefixed "第 n 行：" / "Line n: ". Given a
    ``ReserveError`` it keeps its class, field and details; given a message, a ValidationError."""
    if isinstance(error, ReserveError):
        kind, message = type(error), error.message
        field = field or error.field
        details = {**error.details, "line": n}
    else:
        kind, message, details = ValidationError, error, {"line": n}
    return kind(line_message(n, message), field=field, **details)


@contextmanager
def for_line(n: int, *, field: str | None = None) -> Iterator[None]:
    """Run the checks of line ``n``: any ``ReserveError`` comes out prefixed with its line."""
    try:
        yield
    except ReserveError as error:
        if error.details.get("line") is not None:
            raise
        raise line_error(n, error, field=field) from None


def clean_serials(serial_nos: Collection[str] | None) -> list[str]:
    """序列号: the serial numbers of one line, trimmed, empty entries dropped, order kept."""
    return [s.strip() for s in serial_nos or () if s and s.strip()]
