"""The rules rotation (轮换) and scrap (报废) share: a disposal line — a quantity of one batch at
one location, with its serial items — checked against what is available, and taken out of stock
through the ledger when the document is posted. Neither document reserves stock before that."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from reserve.audit.service import record, snapshot
from reserve.auth.actor import Actor
from reserve.catalog.models import Material, Tracking
from reserve.documents import (
    all_or_nothing,
    check_line_count,
    clean_serials,
    for_line,
    stamp,
    transition,
)
from reserve.errors import Conflict, NotFound, ReserveError, ValidationError
from reserve.stock import ledger
from reserve.stock.models import Batch, ItemStatus, MovementKind, SerialItem, StockBalance
from reserve.warehouses.models import Location, Warehouse

D = TypeVar("D")


@dataclass(frozen=True)
class DisposalLineData:
    """One line of a rotation or a scrap: a quantity of a batch at a location (serial-tracked
    materials name one serial number per unit)."""

    location_id: int
    batch_id: int
    qty: int
    serial_nos: tuple[str, ...] = ()


def clean_text(value: str | None, column, field: str) -> str | None:
    """A header text, trimmed; longer than its column is an error."""
    value = (value or "").strip()
    if len(value) > column.type.length:
        raise ValidationError(
            _l("Too long: at most %(n)s characters.", n=column.type.length), field=field
        )
    return value or None


def check_warehouse(session: Session, warehouse_id: int, actor: Actor) -> Warehouse:
    """The warehouse a disposal takes stock out of: one the actor keeps."""
    actor.require_write(warehouse_id)
    warehouse = session.get(Warehouse, warehouse_id)
    if warehouse is None:
        raise ValidationError(_l("No such warehouse."), field="warehouse_id")
    return warehouse


def serial_items(
    session: Session,
    *,
    batch: Batch,
    material: Material,
    location: Location,
    serial_nos: Iterable[str],
    qty: int,
    error: type[ReserveError] = ValidationError,
) -> list[SerialItem]:
    """The serial items a line names: one per unit, each in stock at the line's location."""
    numbers = clean_serials(list(serial_nos))
    if material.tracking != Tracking.SERIAL.value:
        if numbers:
            raise ValidationError(
                _l(
                    "%(material)s is not tracked by serial number; leave the serial numbers empty.",
                    material=material.name,
                ),
                field="serial_nos",
            )
        return []
    if len(numbers) != qty or len(set(numbers)) != len(numbers):
        raise ValidationError(
            _l(
                "%(material)s is tracked by serial number: give %(n)s different serial numbers, "
                "one per unit.",
                material=material.name,
                n=qty,
            ),
            field="serial_nos",
        )
    items = list(
        session.scalars(
            select(SerialItem).where(
                SerialItem.material_id == material.id,
                SerialItem.batch_id == batch.id,
                SerialItem.serial_no.in_(numbers),
                SerialItem.location_id == location.id,
                SerialItem.status == ItemStatus.IN_STOCK.value,
            )
        )
    )
    if len(items) != len(numbers):
        missing = sorted(set(numbers) - {item.serial_no for item in items})
        raise error(
            _l(
                "Not in stock at %(location)s (batch %(batch)s): %(serials)s.",
                location=location.code,
                batch=batch.batch_no,
                serials=", ".join(missing),
            ),
            field="serial_nos",
        )
    return items


def _check_line(
    session: Session, warehouse_id: int, line: DisposalLineData, wanted: Counter
) -> DisposalLineData:
    ledger.check_qty(line.qty)
    location = session.get(Location, line.location_id) if line.location_id else None
    if location is None or location.warehouse_id != warehouse_id:
        raise ValidationError(_l("The location is not in this warehouse."), field="location_id")
    batch = session.get(Batch, line.batch_id) if line.batch_id else None
    if batch is None:
        raise ValidationError(_l("No such batch."), field="batch_id")
    material = batch.material
    available = session.scalar(
        select(StockBalance.qty - StockBalance.reserved).where(
            StockBalance.location_id == location.id, StockBalance.batch_id == batch.id
        )
    )
    if not available or available <= 0:
        raise ValidationError(
            _l(
                "%(material)s batch %(batch)s has no available stock at %(location)s.",
                material=material.name,
                batch=batch.batch_no,
                location=location.code,
            ),
            field="batch_id",
        )
    wanted[(location.id, batch.id)] += line.qty
    if wanted[(location.id, batch.id)] > available:
        raise ValidationError(
            _l(
                "Only %(available)s %(unit)s of %(material)s (batch %(batch)s) available at "
                "%(location)s; %(wanted)s %(unit)s asked for.",
                available=available,
                unit=material.unit,
                material=material.name,
                batch=batch.batch_no,
                location=location.code,
                wanted=wanted[(location.id, batch.id)],
            ),
            field="qty",
        )
    items = serial_items(
        session,
        batch=batch,
        material=material,
        location=location,
        serial_nos=line.serial_nos,
        qty=line.qty,
    )
    return DisposalLineData(
        location.id, batch.id, line.qty, tuple(sorted(item.serial_no for item in items))
    )


def check_lines(
    session: Session, *, warehouse_id: int, lines: Iterable[DisposalLineData]
) -> list[DisposalLineData]:
    """Every line valid at this moment, or a message naming the first bad line."""
    lines = list(lines or ())
    check_line_count(lines)
    wanted: Counter = Counter()
    checked = []
    for n, line in enumerate(lines, start=1):
        with for_line(n):
            checked.append(_check_line(session, warehouse_id, line, wanted))
    serials = Counter(s for line in checked for s in line.serial_nos)
    repeated = sorted(s for s, count in serials.items() if count > 1)
    if repeated:
        raise ValidationError(
            _l("Serial numbers named twice: %(serials)s.", serials=", ".join(repeated)),
            field="serial_nos",
        )
    return checked


def line_summary(lines) -> list[dict]:
    """The lines as the audit trail keeps them."""
    return [
        {
            "location_id": line.location_id,
            "batch_id": line.batch_id,
            "qty": line.qty,
            "serial_nos": list(line.serial_nos),
        }
        for line in lines
    ]


def take_out(
    session: Session,
    *,
    kind: MovementKind,
    lines,
    document: ledger.DocumentRef,
    actor: Actor,
    item_status: ItemStatus,
    note: str | None,
) -> None:
    """Post each line out of stock; the ledger refuses what is no longer available."""
    for n, line in enumerate(lines, start=1):
        with for_line(n):
            batch = session.get(Batch, line.batch_id)
            location = session.get(Location, line.location_id)
            items = serial_items(
                session,
                batch=batch,
                material=batch.material,
                location=location,
                serial_nos=line.serial_nos or (),
                qty=line.qty,
                error=Conflict,
            )
            ledger.post_movement(
                session,
                kind=kind,
                location_id=line.location_id,
                batch_id=line.batch_id,
                qty=-line.qty,
                document=document,
                actor=actor,
                note=note,
                serial_nos=[item.serial_no for item in items],
                serial_status=item_status,
            )


# The document around the lines (a rotation or a scrap) -----------------------------------------


def add_document(session: Session, document, line_model, checked, *, actor: Actor, action: str):
    """Give a new rotation or scrap its checked lines, store it and enter it in the audit trail."""
    document.lines = [
        line_model(
            location_id=line.location_id,
            batch_id=line.batch_id,
            qty=line.qty,
            serial_nos=list(line.serial_nos),
        )
        for line in checked
    ]
    session.add(document)
    session.flush()
    record(
        session,
        actor=actor,
        action=action,
        obj=document,
        label=document.no,
        after={**snapshot(document), "lines": line_summary(checked)},
    )
    return document


def get_document(
    session: Session, model: type[D], document_id: int, *, actor: Actor | None, missing: Any
) -> D:
    """A rotation or scrap: refused to a keeper who does not keep its warehouse."""
    document = session.get(model, document_id)
    if document is None:
        raise NotFound(missing)
    if actor is not None:
        actor.require_see(document.warehouse_id)
    return document


def post_document(
    session: Session,
    model: type[D],
    document_id: int,
    *,
    actor: Actor,
    document_type: str,
    from_state: str,
    to_state: str,
    kind: MovementKind,
    item_status: ItemStatus,
    note: Callable[[Any], str | None],
    missing: Any,
) -> D:
    """记账: claim the document (one conditional UPDATE), then take every line out of stock;
    the claim and the movements stand or fall together."""
    document = get_document(session, model, document_id, actor=actor, missing=missing)
    actor.require_write(document.warehouse_id)
    with all_or_nothing(session):
        document = transition(
            session,
            model,
            document.id,
            from_states=(from_state,),
            to_state=to_state,
            values=stamp("posted", actor),
        )
        take_out(
            session,
            kind=kind,
            lines=document.lines,
            document=ledger.DocumentRef(
                document_type, document.id, document.no, document.document_date
            ),
            actor=actor,
            item_status=item_status,
            note=note(document),
        )
    record(
        session,
        actor=actor,
        action="post",
        obj=document,
        label=document.no,
        before={"status": from_state},
        after={"status": to_state},
    )
    return document
