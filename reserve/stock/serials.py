"""单品 in the ledger: serial items move and change status with the quantity that carries them.

Called only by ``reserve.stock.ledger.post_movement``, inside its guarded writes; each change is
one conditional UPDATE over the named items, so two documents racing for the same generator
cannot both take it."""

from __future__ import annotations

from collections.abc import Sequence

from flask_babel import lazy_gettext as _l
from sqlalchemy import insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from reserve.errors import Conflict, ValidationError
from reserve.stock.models import ItemStatus, MovementKind, SerialItem

# What a serial item becomes when a decrease takes it out of stock (a MOVE_OUT keeps it in
# stock, at no location until its MOVE_IN); other kinds must say (``serial_status``).
SERIAL_STATUS_OUT = {
    MovementKind.ISSUE: ItemStatus.ISSUED,
    MovementKind.TRANSFER_OUT: ItemStatus.ISSUED,
    MovementKind.ROTATE_OUT: ItemStatus.ISSUED,
    MovementKind.SCRAP: ItemStatus.SCRAPPED,
    MovementKind.LOSS: ItemStatus.LOST,
}


def numbers_for(place, qty: int, serial_nos: Sequence[str]) -> list[str]:
    """The serial numbers a posting carries: one per unit for a serial-tracked material (its
    items must move with the quantity, or ``verify`` would find them apart), none otherwise."""
    numbers = [s.strip() for s in serial_nos if s and s.strip()]
    if not numbers:
        if place.tracking == "serial":
            raise ValidationError(
                _l("Give one serial number per unit moved (%(n)s).", n=abs(qty)),
                field="serial_nos",
            )
        return []
    if place.tracking != "serial":
        raise ValidationError(
            _l("This material is not tracked by serial number."), field="serial_nos"
        )
    if len(numbers) != abs(qty) or len(set(numbers)) != len(numbers):
        raise ValidationError(
            _l("Give one serial number per unit moved (%(n)s).", n=abs(qty)), field="serial_nos"
        )
    return numbers


def take_out(
    session: Session,
    place,
    kind: MovementKind,
    location_id: int,
    batch_id: int,
    numbers: list[str],
    serial_status: ItemStatus | None,
) -> None:
    """The named items leave stock here: one conditional UPDATE over all of them."""
    if kind is MovementKind.MOVE_OUT and serial_status is None:
        values = {"location_id": None}  # in stock, on its way to the MOVE_IN's location
    else:
        status = serial_status or SERIAL_STATUS_OUT.get(kind)
        if status is None:
            raise ValidationError(_l("Say what the serial items become."), field="serial_nos")
        values = {"status": ItemStatus(status).value}
    moved = session.execute(
        update(SerialItem)
        .where(
            SerialItem.material_id == place.material_id,
            SerialItem.batch_id == batch_id,
            SerialItem.serial_no.in_(numbers),
            SerialItem.location_id == location_id,
            SerialItem.status == ItemStatus.IN_STOCK.value,
        )
        .values(**values)
        .returning(SerialItem.serial_no)
        .execution_options(synchronize_session="fetch")
    ).scalars()
    missing = sorted(set(numbers) - set(moved))
    if missing:
        raise Conflict(
            _l(
                "Not in stock at %(location)s (batch %(batch)s): %(serials)s.",
                location=place.location_code,
                batch=place.batch_no,
                serials=", ".join(missing),
            ),
            field="serial_nos",
        )


def take_in(session: Session, place, location_id: int, batch_id: int, numbers: list[str]) -> None:
    """The named items come into stock here: known ones return (from issue, repair, a move),
    new ones are created. An item already in stock at a location is refused."""
    known = dict(
        session.execute(
            select(SerialItem.serial_no, SerialItem.id).where(
                SerialItem.material_id == place.material_id, SerialItem.serial_no.in_(numbers)
            )
        ).all()
    )
    if known:
        returned = session.execute(
            update(SerialItem)
            .where(
                SerialItem.id.in_(known.values()),
                or_(
                    SerialItem.status != ItemStatus.IN_STOCK.value,
                    SerialItem.location_id.is_(None),
                ),
            )
            .values(batch_id=batch_id, status=ItemStatus.IN_STOCK.value, location_id=location_id)
            .returning(SerialItem.serial_no)
            .execution_options(synchronize_session="fetch")
        ).scalars()
        clash = sorted(set(known) - set(returned))
        if clash:
            raise Conflict(
                _l("Already in stock: %(serials)s.", serials=", ".join(clash)),
                field="serial_nos",
            )
    new = [n for n in numbers if n not in known]
    if not new:
        return
    try:
        with session.begin_nested():
            session.execute(
                insert(SerialItem),
                [
                    {
                        "material_id": place.material_id,
                        "batch_id": batch_id,
                        "serial_no": number,
                        "status": ItemStatus.IN_STOCK.value,
                        "location_id": location_id,
                    }
                    for number in new
                ],
            )
    except IntegrityError:  # another document created one of these numbers a moment ago
        raise Conflict(
            _l(
                "Another document has just taken the serial numbers %(serials)s.",
                serials=", ".join(new),
            ),
            field="serial_nos",
        ) from None
