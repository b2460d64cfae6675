"""Moving stock between locations of a warehouse (移库). Receipts, stocktakes, rotation and scrap
are documents of their own features; all of them change quantities through the ledger."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from reserve.audit.service import record, snapshot
from reserve.auth.actor import Actor
from reserve.db import local_today
from reserve.documents import clean_serials, stamp
from reserve.errors import NotFound, ValidationError
from reserve.labels.follow import follow_move
from reserve.stock import ledger
from reserve.stock.models import (
    ItemStatus,
    MovementKind,
    SerialItem,
    StockMove,
)


def _location(
    location: ledger.PlaceLocation | None, warehouse_id: int, field: str
) -> ledger.PlaceLocation:
    if location is None or location.warehouse_id != warehouse_id:
        raise ValidationError(_l("The location is not in this warehouse."), field=field)
    if not location.is_active:
        raise ValidationError(
            _l("The location %(code)s is not in use.", code=location.code), field=field
        )
    return location


def _serials_at(
    session: Session,
    batch: ledger.PlaceBatch,
    location_id: int,
    serial_nos: Iterable[str],
    qty: int,
) -> list[SerialItem]:
    numbers = clean_serials(list(serial_nos))
    if batch.tracking != "serial":
        if numbers:
            raise ValidationError(
                _l("This material is not tracked by serial number."), field="serial_nos"
            )
        return []
    if len(numbers) != qty or len(set(numbers)) != len(numbers):
        raise ValidationError(
            _l("Give one serial number per unit moved (%(n)s).", n=qty), field="serial_nos"
        )
    items = list(
        session.scalars(
            select(SerialItem).where(
                SerialItem.material_id == batch.material_id,
                SerialItem.batch_id == batch.id,
                SerialItem.serial_no.in_(numbers),
                SerialItem.location_id == location_id,
                SerialItem.status == ItemStatus.IN_STOCK.value,
            )
        )
    )
    if len(items) != len(numbers):
        missing = sorted(set(numbers) - {i.serial_no for i in items})
        raise ValidationError(
            _l("Not in stock at that location: %(serials)s.", serials=", ".join(missing)),
            field="serial_nos",
        )
    return items


def move_stock(
    session: Session,
    *,
    warehouse_id: int,
    from_location_id: int,
    to_location_id: int,
    batch_id: int,
    qty: int,
    actor: Actor,
    serial_nos: Iterable[str] = (),
    document_date: date | None = None,
    note: str | None = None,
) -> StockMove:
    """移库：move a quantity of one batch from one location to another in the same warehouse."""
    actor.require_write(warehouse_id)
    ledger.check_qty(qty)
    document_date = ledger.check_document_date(
        session, document_date or local_today(), period=False
    )
    # the two locations and the batch read once, as plain rows, in one statement that also
    # takes the month's lock (PostgreSQL); the posting reuses them
    locations, batch = ledger.read_move_places(
        session,
        location_ids=(from_location_id, to_location_id),
        batch_id=batch_id,
        lock_period_of=None if ledger.period_checked(session, document_date) else document_date,
    )
    source = _location(locations.get(from_location_id), warehouse_id, "from_location_id")
    target = _location(locations.get(to_location_id), warehouse_id, "to_location_id")
    if source.id == target.id:
        raise ValidationError(_l("Choose two different locations."), field="to_location_id")
    if batch is None:
        raise NotFound(_l("No such batch."))
    serials = [item.serial_no for item in _serials_at(session, batch, source.id, serial_nos, qty)]
    move = StockMove(  # the month checked open (before anything is written) with the number
        no=ledger.number_in_open_month(session, kind="move", document_date=document_date),
        warehouse_id=warehouse_id,
        from_location_id=source.id,
        to_location_id=target.id,
        batch_id=batch.id,
        qty=qty,
        document_date=document_date,
        note=(note or "").strip()[:200] or None,
        **stamp("moved", actor),
    )
    session.add(move)
    session.flush()
    document = ledger.DocumentRef("move", move.id, move.no, document_date)
    moved = [  # out of the source, into the target: one call, its lookups shared
        ledger.Posting(
            kind=kind,
            location_id=location_id,
            batch_id=batch.id,
            qty=signed,
            note=note,
            serial_nos=serials,
        )
        for kind, location_id, signed in (
            (MovementKind.MOVE_OUT, source.id, -qty),
            (MovementKind.MOVE_IN, target.id, qty),
        )
    ]
    places = ledger.places_of(
        ((source.id, batch.id), (target.id, batch.id)), locations, {batch.id: batch}
    )
    out, _in = ledger.post_movements(
        session, postings=moved, document=document, actor=actor, places=places
    )
    record(session, actor=actor, action="create", obj=move, label=move.no, after=snapshot(move))
    if out.balance_after == 0:  # all of it went: so did its carton labels (标签随货)
        follow_move(session, move=move, actor=actor)
    return move
