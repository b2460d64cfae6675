"""扫码操作: what a keeper does with a scanned label — move it (移库) or count it (盘点录入) —
sent by the scan page (online, or replayed from its offline queue) and by PDA apps through the
API, each under the client's own operation id.

How an operation is applied at most once: the id is claimed first, by inserting its
``ScanOperation`` row in the same transaction as the move or count (inside a savepoint, so a
lost race leaves the transaction usable). A second process sending the same id waits on the
unique index (PostgreSQL) or on SQLite's single writer, then finds the row and gets the first
answer back, marked ``replayed``. A failure rolls back the work and the claim together: nothing
was done, so the same id may be sent again (the keeper's "retry").

A replay that no longer fits the world (the stock moved meanwhile, the stocktake closed, the
label was revoked, someone counted the line since the keeper looked) is a ``ScanConflict``
(409) saying what changed: the keeper retries or discards it, nothing is overwritten silently.
The same id sent for a different operation is a conflict too.

Why not ``reserve.api.idempotency`` alone: it keys responses by (API token user, header) and
forgets them after 24 hours, and the scan page signs in with a session, not a token. A queued
operation carries its id in its body, from the moment it is queued, whichever way it is sent;
the API routes still honour an ``Idempotency-Key`` on top (every API write does)."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from reserve.auth.actor import Actor
from reserve.db import normalise_code
from reserve.errors import Conflict, Forbidden, InsufficientStock, ValidationError
from reserve.forms import text_problem
from reserve.labels.codes import BadCode, parse_code
from reserve.labels.models import LabelKind
from reserve.labels.scan_models import ScanOperation, ScanOperationKind
from reserve.labels.service import LabelRevoked, ScanTarget, UnreadableCode, resolve
from reserve.stock import ledger
from reserve.stock.models import StockBalance
from reserve.stock.service import move_stock
from reserve.stocktakes.counting import (
    check_count,
    claim_stocktake,
    record_count_by_codes,
    writable_stocktake,
)
from reserve.stocktakes.models import StocktakeLine, StocktakeStatus
from reserve.warehouses.models import Location

MAX_SCAN_TEXT = 300  # a label's full URL is far shorter; a 10 kB paste is refused unread
_OPERATION_ID = re.compile(r"[A-Za-z0-9_-]{8,64}")  # a UUID (crypto.randomUUID) or a ULID


class ScanConflict(Conflict):
    """The operation no longer fits: the stock, the stocktake or the label changed since."""

    code = "scan_conflict"
    default_message = _l("This operation no longer fits what is in the warehouse.")


class OutOfScope(Forbidden):
    """A label of a warehouse the keeper does not keep: said where they scanned it (it names
    nothing they could not see: only that it is not theirs)."""

    shown_where_acted = True
    default_message = _l("This label belongs to a warehouse you do not keep. Nothing was done.")


@dataclass(frozen=True)
class Applied:
    """A scan operation's answer: what was done, and whether this is the stored first answer."""

    operation_id: str
    kind: str
    replayed: bool
    result: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return {
            "operation_id": self.operation_id,
            "kind": self.kind,
            "replayed": self.replayed,
            **self.result,
        }


# Checks shared by the page, the API and the services ------------------------------------------


def check_operation_id(value: object) -> str:
    """A client operation id: 8 to 64 letters, digits, ``-`` or ``_`` (a UUID fits)."""
    if not isinstance(value, str) or not _OPERATION_ID.fullmatch(value):
        raise ValidationError(
            _l("The operation id is 8 to 64 letters, digits, hyphens or underscores (a UUID)."),
            field="operation_id",
        )
    return value


def check_scan_text(value: object, field: str = "code") -> str:
    """What was scanned or typed: not empty, not a paste of a whole page, printable."""
    text = value.strip() if isinstance(value, str) else ""
    if not text:
        raise ValidationError(
            _l("Nothing was scanned: scan a label or type its code."), field=field
        )
    if len(text) > MAX_SCAN_TEXT:
        raise ValidationError(
            _l(
                "That is %(n)s characters long: not a label. Scan one label at a time.",
                n=len(text),
            ),
            field=field,
        )
    problem = text_problem(text)
    if problem is not None:
        raise ValidationError(problem, field=field)
    return text


def scan_target(session: Session, actor: Actor, text: str, *, key: bytes) -> ScanTarget:
    """The thing a scanned text names for an operation, or a clear refusal: a text that is not
    our label is ``UnreadableCode`` (422), a revoked label a ``ScanConflict`` (the operation no
    longer fits), one of a warehouse the keeper does not keep ``OutOfScope``."""
    text = check_scan_text(text)
    try:
        return resolve(session, actor, text, key=key)
    except LabelRevoked as revoked:
        raise ScanConflict(revoked.message, field="code") from revoked
    except OutOfScope:
        raise
    except Forbidden as refused:
        raise OutOfScope(field="code") from refused


def refused_code(
    session: Session, actor: Actor, *, code: str, to: str | None = None, key: bytes
) -> UnreadableCode | None:
    """The refusal of a scanned ``code`` (or a ``to`` that looks like a label but fails its MAC)
    that is not a label of ours, its bad-MAC audit entry added to the session; or None. The
    edges call it in a transaction of its own, committed, before the operation's: a refused
    scan changes nothing else, but the forgery attempt stays on record."""
    for text, field in ((code, "code"), (to, "to")):
        if not isinstance(text, str) or not text.strip() or len(text) > MAX_SCAN_TEXT:
            continue  # the operation refuses these itself, with their own message
        try:
            parse_code(text, key=key)
        except BadCode as bad:
            if field == "to" and bad.reason != "mac":
                continue  # a location code typed (A-01-02), not a label
            try:
                resolve(session, actor, text, key=key)
            except UnreadableCode as refused:
                refused.field = field
                return refused
    return None


# Applied at most once -----------------------------------------------------------------------


def fingerprint(kind: str, **fields: Any) -> str:
    """What makes two sends the same operation: its kind and its fields."""
    canonical = json.dumps({"kind": kind, **fields}, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _stored(session: Session, operation_id: str) -> ScanOperation | None:
    return session.scalar(select(ScanOperation).where(ScanOperation.operation_id == operation_id))


def _replay(stored: ScanOperation, *, kind: str, print_: str, actor: Actor) -> Applied:
    if stored.user_id != actor.user_id or stored.kind != kind or stored.fingerprint != print_:
        raise ScanConflict(
            _l(
                "This operation id was already used for a different operation. "
                "Nothing was done; discard it and scan again."
            ),
            field="operation_id",
        )
    return Applied(stored.operation_id, stored.kind, True, json.loads(stored.result))


def _claim(
    session: Session, *, operation_id: str, kind: str, print_: str, actor: Actor
) -> ScanOperation | Applied:
    """The operation's row, claimed for this transaction; or the first answer if it was
    applied already (by this request's earlier send, or by a process that got there first)."""
    stored = _stored(session, operation_id)
    if stored is not None:
        return _replay(stored, kind=kind, print_=print_, actor=actor)
    claim = ScanOperation(
        operation_id=operation_id, kind=kind, user_id=actor.user_id, fingerprint=print_
    )
    try:
        with session.begin_nested():
            session.add(claim)
            session.flush()  # waits here while another process holds the same id
    except IntegrityError:
        stored = _stored(session, operation_id)
        if stored is None:
            raise
        return _replay(stored, kind=kind, print_=print_, actor=actor)
    return claim


def _done(claim: ScanOperation, result: dict[str, Any], session: Session) -> Applied:
    claim.result = json.dumps(result, ensure_ascii=False)
    session.flush()
    return Applied(claim.operation_id, claim.kind, False, result)


# 移库（扫码） ----------------------------------------------------------------------------------


def scan_move(
    session: Session,
    *,
    actor: Actor,
    operation_id: str,
    code: str,
    to: str,
    qty: object,
    key: bytes,
    seen_at: str | None = None,
) -> Applied:
    """移库（扫码）：move ``qty`` of the scanned stock (a batch at a location, or one serial item)
    to the location scanned or typed as ``to``, once per operation id.

    ``seen_at``: the location code the keeper saw the stock at when scanning (the scan page
    sends it with every queued move). When the stock is elsewhere by the time the move arrives
    (its carton label followed a move made meanwhile, 标签随货), the move is a conflict the
    keeper sees, not a move from a place they never saw."""
    operation_id = check_operation_id(operation_id)
    code, to = check_scan_text(code), check_scan_text(to, field="to")
    qty = ledger.check_qty(qty)
    seen = check_scan_text(seen_at, field="seen_at").upper() if seen_at else None
    print_ = fingerprint(
        ScanOperationKind.MOVE, code=code, to=to, qty=qty, **({"seen_at": seen} if seen else {})
    )
    claim = _claim(
        session, operation_id=operation_id, kind=ScanOperationKind.MOVE, print_=print_, actor=actor
    )
    if isinstance(claim, Applied):
        return claim
    target = scan_target(session, actor, code, key=key)
    if target.kind == LabelKind.LOCATION:
        raise ValidationError(
            _l("That is a location label: first scan the stock to move, then the location."),
            field="code",
        )
    if "move" not in target.actions:
        raise Forbidden(_l("You may not move this stock."), field="code")
    if target.kind == LabelKind.ITEM and qty != 1:
        raise ValidationError(_l("A serial item moves as one unit."), field="qty")
    if target.location_id is None:
        raise ScanConflict(_l("This item is not at a location now: nothing to move."), field="code")
    if seen is not None and seen != (target.location_code or "").upper():
        raise ScanConflict(
            _l(
                "This stock was at %(seen)s when it was scanned and is at %(now)s now (it moved "
                "meanwhile): scan it again where it is. Nothing was moved.",
                seen=seen,
                now=target.location_code,
            ),
            field="code",
        )
    destination = _destination(session, actor, target, to, key=key)
    try:
        move = move_stock(
            session,
            warehouse_id=target.warehouse_id,
            from_location_id=target.location_id,
            to_location_id=destination.id,
            batch_id=target.batch_id,
            qty=qty,
            actor=actor,
            serial_nos=(target.serial_no,) if target.kind == LabelKind.ITEM else (),
            note=str(_l("Scanned move")),
        )
    except InsufficientStock as short:
        raise ScanConflict(
            _l(
                "Only %(qty)s %(unit)s of batch %(batch)s are at %(location)s now (the stock "
                "moved meanwhile): %(asked)s cannot be moved. Nothing was moved.",
                qty=_on_hand(session, target),
                unit=target.unit,
                batch=target.batch_no,
                location=target.location_code,
                asked=qty,
            ),
            field="qty",
        ) from short
    message = _l(
        "Moved %(qty)s %(unit)s of %(material)s, batch %(batch)s, from %(source)s to "
        "%(target)s (%(no)s).",
        qty=qty,
        unit=target.unit,
        material=target.material_name,
        batch=target.batch_no,
        source=target.location_code,
        target=destination.code,
        no=move.no,
    )
    claim.stock_move_id = move.id
    return _done(
        claim,
        {
            "message": str(message),
            "move": {
                "id": move.id,
                "no": move.no,
                "qty": qty,
                "unit": target.unit,
                "material_name": target.material_name,
                "batch_no": target.batch_no,
                "serial_no": target.serial_no,
                "from_location_code": target.location_code,
                "to_location_code": destination.code,
            },
        },
        session,
    )


def _on_hand(session: Session, target: ScanTarget) -> int:
    return (
        session.scalar(
            select(StockBalance.qty).where(
                StockBalance.location_id == target.location_id,
                StockBalance.batch_id == target.batch_id,
            )
        )
        or 0
    )


def _destination(
    session: Session, actor: Actor, target: ScanTarget, text: str, *, key: bytes
) -> Location:
    """The target location: its label scanned, or its code typed (``A-01-02``), in the same
    warehouse as the stock."""
    try:
        parse_code(text, key=key)
    except BadCode as bad:
        if bad.reason == "mac":  # the shape of a label, but mistyped or forged
            scan_target(session, actor, text, key=key)  # refuses it
        code = normalise_code(text)
        location = session.scalar(
            select(Location).where(
                Location.warehouse_id == target.warehouse_id, Location.code == code
            )
        )
        if location is None:
            raise ValidationError(
                _l(
                    "%(text)s is neither a location label nor a location of %(warehouse)s.",
                    text=text[:40],
                    warehouse=target.warehouse_name,
                ),
                field="to",
            ) from bad
        return location
    place = scan_target(session, actor, text, key=key)
    if place.kind != LabelKind.LOCATION:
        raise ValidationError(
            _l("Scan the label of the location to move to, not another stock label."), field="to"
        )
    if place.warehouse_id != target.warehouse_id:
        raise ValidationError(
            _l(
                "Location %(code)s is in %(other)s; stock moves within %(warehouse)s only.",
                code=place.location_code,
                other=place.warehouse_name,
                warehouse=target.warehouse_name,
            ),
            field="to",
        )
    return session.get(Location, place.location_id)


# 盘点录入（扫码） -----------------------------------------------------------------------------

NOT_COUNTED = "none"  # ``replaces``: the line was not counted when the keeper looked


def check_replaces(value: object) -> int | str | None:
    """What a count replaces, as the keeper saw it: a number, ``none`` (not yet counted), or
    absent (None: the last count wins, as on the count sheet)."""
    if value is None or value == "":
        return None
    if isinstance(value, str) and value.strip().lower() == NOT_COUNTED:
        return NOT_COUNTED
    if isinstance(value, int) and not isinstance(value, bool):
        return check_count(value)
    if isinstance(value, str) and value.strip().isdigit():
        return check_count(int(value.strip()))
    raise ValidationError(
        _l("replaces is the counted quantity the keeper saw, or none."), field="replaces"
    )


def scan_count(
    session: Session,
    *,
    actor: Actor,
    operation_id: str,
    code: str,
    counted_qty: object,
    key: bytes,
    stocktake_id: int | None = None,
    replaces: object = None,
) -> Applied:
    """盘点录入（扫码）：record the counted quantity of the scanned stock (or 1/0 for a scanned
    serial item) in the open stocktake covering it, once per operation id, through
    ``record_count_by_codes``. ``stocktake_id`` is the stocktake the keeper saw (a closed one is
    a conflict); ``replaces`` what they saw counted (a later count by someone else is one too)."""
    operation_id = check_operation_id(operation_id)
    code = check_scan_text(code)
    counted_qty = check_count(counted_qty)
    replaces = check_replaces(replaces)
    if stocktake_id is not None and (isinstance(stocktake_id, bool) or stocktake_id < 1):
        raise ValidationError(_l("No such stocktake."), field="stocktake_id")
    print_ = fingerprint(
        ScanOperationKind.COUNT,
        code=code,
        counted_qty=counted_qty,
        stocktake_id=stocktake_id,
        replaces=replaces,
    )
    claim = _claim(
        session, operation_id=operation_id, kind=ScanOperationKind.COUNT, print_=print_, actor=actor
    )
    if isinstance(claim, Applied):
        return claim
    target = scan_target(session, actor, code, key=key)
    if target.kind == LabelKind.LOCATION or target.location_id is None:
        raise ValidationError(
            _l("Scan the label of the stock or the item to count, not a location label."),
            field="code",
        )
    stocktake_id = stocktake_id or target.stocktake_id  # the open one covering it, if any
    if stocktake_id is None:
        raise ScanConflict(
            _l(
                "No stocktake of %(warehouse)s is being counted that covers %(location)s "
                "and this material.",
                warehouse=target.warehouse_name,
                location=target.location_code,
            ),
            field="code",
        )
    stocktake = writable_stocktake(session, stocktake_id, actor)
    if stocktake.warehouse_id != target.warehouse_id:
        raise ValidationError(
            _l("This stock is not in the warehouse of stocktake %(no)s.", no=stocktake.no),
            field="stocktake_id",
        )
    if stocktake.status != StocktakeStatus.COUNTING.value:
        raise ScanConflict(
            _l(
                "Stocktake %(no)s is %(status)s now: the count was not recorded.",
                no=stocktake.no,
                status=stocktake.status_label,
            ),
            field="stocktake_id",
        )
    claim_stocktake(  # held in counting, and counts of it one at a time, until this commits
        session,
        stocktake.id,
        from_states=(StocktakeStatus.COUNTING,),
        to_state=StocktakeStatus.COUNTING,
    )
    if replaces is not None and target.kind != LabelKind.ITEM:
        _check_not_counted_since(session, stocktake.id, target, replaces)
    line = record_count_by_codes(
        session,
        stocktake_id=stocktake.id,
        counted_qty=1 if target.kind == LabelKind.ITEM and counted_qty else counted_qty,
        reason=None,
        actor=actor,
        location_id=target.location_id,
        batch_id=target.batch_id,
        serial_no=target.serial_no if target.kind == LabelKind.ITEM else None,
    )
    claim.stocktake_line_id = line.id
    message = _l(
        "Counted %(qty)s %(unit)s of %(material)s, batch %(batch)s, at %(location)s in "
        "stocktake %(no)s.",
        qty=line.counted_qty,
        unit=target.unit,
        material=target.material_name,
        batch=target.batch_no,
        location=target.location_code,
        no=stocktake.no,
    )
    return _done(
        claim,
        {
            "message": str(message),
            "count": {
                "stocktake_id": stocktake.id,
                "stocktake_no": stocktake.no,
                "line_id": line.id,
                "counted_qty": line.counted_qty,
                "unit": target.unit,
                "material_name": target.material_name,
                "batch_no": target.batch_no,
                "serial_no": target.serial_no,
                "location_code": target.location_code,
            },
        },
        session,
    )


def counted_line(session: Session, stocktake_id: int, target: ScanTarget) -> StocktakeLine | None:
    """The stocktake's line of the scanned stock, if it has one."""
    return session.scalar(
        select(StocktakeLine).where(
            StocktakeLine.stocktake_id == stocktake_id,
            StocktakeLine.location_id == target.location_id,
            StocktakeLine.batch_id == target.batch_id,
        )
    )


def _check_not_counted_since(
    session: Session, stocktake_id: int, target: ScanTarget, replaces: int | str
) -> None:
    line = counted_line(session, stocktake_id, target)
    now = line.counted_qty if line is not None else None
    seen = None if replaces == NOT_COUNTED else replaces
    if now == seen:
        return
    raise ScanConflict(
        _l(
            "Counted meanwhile as %(now)s %(unit)s: retry to replace it with this count, "
            "or discard this one.",
            now=now,
            unit=target.unit,
        )
        if now is not None
        else _l("The count you saw was cleared meanwhile: retry to record this count."),
        field="counted_qty",
        counted_qty=now,
    )
