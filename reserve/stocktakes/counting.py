"""盘点录入: recording counts — from the count sheet, the API and later the label scanner, all
through ``record_count`` — and the helpers the stocktake's other services share."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from reserve.audit.service import record
from reserve.auth.actor import Actor
from reserve.auth.models import Role
from reserve.catalog.models import Category, Material, Tracking
from reserve.catalog.service import significant_prefix
from reserve.db import normalise_code, utcnow
from reserve.documents import is_same_person, transition
from reserve.errors import Conflict, Forbidden, NotFound, ValidationError
from reserve.stock.ledger import MAX_QTY
from reserve.stock.models import Batch, SerialItem, StockBalance
from reserve.stocktakes.models import Stocktake, StocktakeItem, StocktakeLine, StocktakeStatus
from reserve.warehouses.models import Location

TEXT_MAX = 200
APPROVER_ROLES = (Role.APPROVER, Role.ADMIN)


def check_count(qty: object) -> int:
    """A counted quantity is a whole number from 0 (nothing there) to 10⁹."""
    if isinstance(qty, bool) or not isinstance(qty, int):
        raise ValidationError(_l("A counted quantity is a whole number."), field="counted_qty")
    if qty < 0:
        raise ValidationError(
            _l("A counted quantity cannot be negative; enter 0 when nothing is there."),
            field="counted_qty",
        )
    if qty > MAX_QTY:
        raise ValidationError(_l("The counted quantity is implausibly large."), field="counted_qty")
    return qty


def clean_text(value: str | None, field: str) -> str | None:
    value = (value or "").strip()
    if len(value) > TEXT_MAX:
        raise ValidationError(_l("Too long: at most %(n)s characters.", n=TEXT_MAX), field=field)
    return value or None


def shows_system_qty(stocktake: Stocktake, actor: Actor) -> bool:
    """A blind count hides the book quantity from the counter until it is submitted; approvers
    and administrators always see it."""
    if actor.has_role(*APPROVER_ROLES):
        return True
    return not (stocktake.is_blind and stocktake.status == StocktakeStatus.COUNTING)


def get_stocktake(session: Session, stocktake_id: int, *, actor: Actor | None = None) -> Stocktake:
    """盘点单: one stocktake; a keeper only sees those of the warehouses they keep."""
    stocktake = session.get(Stocktake, stocktake_id)
    if stocktake is None:
        raise NotFound(_l("No such stocktake."))
    if actor is not None and not actor.may_see(stocktake.warehouse_id):
        raise Forbidden(
            _l("Stocktake %(no)s belongs to a warehouse you do not keep.", no=stocktake.no)
        )
    return stocktake


def claim_stocktake(
    session: Session,
    stocktake_id: int,
    *,
    from_states: tuple[StocktakeStatus, ...],
    to_state: StocktakeStatus,
    values: dict | None = None,
) -> Stocktake:
    """The stocktake moved on by one conditional UPDATE (``reserve.documents.transition``): its
    state changes one at a time, so two approvers clicking at once post once, and a count
    cannot slip in after the submission."""
    return transition(
        session,
        Stocktake,
        stocktake_id,
        from_states=[s.value for s in from_states],
        to_state=to_state.value,
        values=values,
    )


def writable_stocktake(session: Session, stocktake_id: int, actor: Actor) -> Stocktake:
    """The stocktake, refused unless the actor keeps its warehouse."""
    stocktake = session.get(Stocktake, stocktake_id)
    if stocktake is None:
        raise NotFound(_l("No such stocktake."))
    actor.require_write(stocktake.warehouse_id)
    return stocktake


def row_of(code: str) -> str:
    """The row (排) of a location code: what comes before its first dash (``B`` of ``B-07-01``);
    a code without a dash is a row of its own."""
    return code.split("-", 1)[0]


def category_prefixes(categories) -> list[str]:
    return [significant_prefix(c.code) for c in categories]


# 盘点录入 ------------------------------------------------------------


def resolve_location(
    session: Session,
    *,
    warehouse_id: int,
    location_id: int | None = None,
    location_code: str | None = None,
) -> int:
    """A location given by id or by its code within the warehouse (as a label or a person
    gives it, in any letter case)."""
    if location_id:
        return location_id
    code = normalise_code(location_code or "")
    if not code:
        raise ValidationError(_l("Give the location."), field="location_code")
    found = session.scalar(
        select(Location.id).where(Location.warehouse_id == warehouse_id, Location.code == code)
    )
    if found is None:
        raise ValidationError(
            _l("There is no location %(code)s in this warehouse.", code=code), field="location_code"
        )
    return found


def resolve_batch(
    session: Session,
    *,
    batch_id: int | None = None,
    batch_no: str | None = None,
    material_code: str | None = None,
    serial_no: str | None = None,
    stocktake_id: int | None = None,
) -> int:
    """A batch given by id; by its batch number and its material's code; by its number alone
    when it is on the count sheet of ``stocktake_id``; or by a serial item's number (any
    letter case)."""
    if batch_id:
        return batch_id
    batch_no, material_code = normalise_code(batch_no or ""), normalise_code(material_code or "")
    serial_no = normalise_code(serial_no or "")
    material_id = None
    if material_code:
        material_id = session.scalar(select(Material.id).where(Material.code == material_code))
        if material_id is None:
            raise ValidationError(
                _l("There is no material %(code)s.", code=material_code), field="material_code"
            )
    if batch_no and material_id is not None:
        found = session.scalar(
            select(Batch.id).where(Batch.material_id == material_id, Batch.batch_no == batch_no)
        )
        if found is None:
            raise NotFound(
                _l(
                    "Batch %(batch)s of %(material)s is not on record: stock of an unknown "
                    "batch must be received first (post a receipt), then counted.",
                    batch=batch_no,
                    material=material_code,
                ),
                field="batch_no",
            )
        return found
    if batch_no and stocktake_id is not None:
        return _batch_on_sheet(session, stocktake_id, batch_no)
    if serial_no:
        return _batch_of_serial(session, serial_no, material_id)
    raise ValidationError(
        _l("Give the batch: its id, or its batch number and the material code."),
        field="batch_no",
    )


def _batch_on_sheet(session: Session, stocktake_id: int, batch_no: str) -> int:
    """A batch number alone names the batch of that number on the count sheet."""
    found = session.scalars(
        select(Batch.id)
        .join(StocktakeLine, StocktakeLine.batch_id == Batch.id)
        .where(StocktakeLine.stocktake_id == stocktake_id, Batch.batch_no == batch_no)
        .distinct()
        .limit(2)
    ).all()
    if not found:
        raise ValidationError(
            _l(
                "Batch %(batch)s is not on this count sheet. To count stock found here, give "
                "the material code with the batch number.",
                batch=batch_no,
            ),
            field="batch_no",
        )
    if len(found) > 1:
        raise ValidationError(
            _l(
                "Several materials on this sheet have batch %(batch)s: give the material code.",
                batch=batch_no,
            ),
            field="material_code",
        )
    return found[0]


def _batch_of_serial(session: Session, serial_no: str, material_id: int | None) -> int:
    """A serial number names its item's batch (with the material code when it is not unique)."""
    query = select(SerialItem.batch_id).where(SerialItem.serial_no == serial_no)
    if material_id is not None:
        query = query.where(SerialItem.material_id == material_id)
    found = session.scalars(query.limit(2)).all()
    if not found:
        raise NotFound(
            _l(
                "Serial number %(serial)s is not on record: receive it first (post a "
                "receipt), then count it.",
                serial=serial_no,
            ),
            field="serial_no",
        )
    if len(found) > 1:
        raise ValidationError(
            _l(
                "Serial number %(serial)s is used by several materials: give the material code.",
                serial=serial_no,
            ),
            field="material_code",
        )
    return found[0]


def _location_in_scope(session: Session, stocktake: Stocktake, location_id: object) -> Location:
    location = session.get(Location, location_id) if isinstance(location_id, int) else None
    if location is None or location.warehouse_id != stocktake.warehouse_id:
        raise ValidationError(
            _l("That location is not in the warehouse of stocktake %(no)s.", no=stocktake.no),
            field="location_id",
        )
    if stocktake.locations and location.id not in {loc.id for loc in stocktake.locations}:
        raise ValidationError(
            _l(
                "Location %(code)s is outside the scope of stocktake %(no)s.",
                code=location.code,
                no=stocktake.no,
            ),
            field="location_id",
        )
    return location


def _batch_in_scope(session: Session, stocktake: Stocktake, batch_id: object) -> Batch:
    batch = session.get(Batch, batch_id) if isinstance(batch_id, int) else None
    if batch is None:
        raise NotFound(
            _l(
                "That batch is not on record: stock of an unknown batch must be "
                "received first (post a receipt), then counted."
            ),
            field="batch_id",
        )
    prefixes = category_prefixes(stocktake.categories)
    if prefixes and not any(batch.material.category.code.startswith(p) for p in prefixes):
        raise ValidationError(
            _l(
                "%(material)s is outside the categories of stocktake %(no)s.",
                material=batch.material.name,
                no=stocktake.no,
            ),
            field="batch_id",
        )
    return batch


def _book_qty(session: Session, location_id: int, batch_id: int) -> int:
    return (
        session.scalar(
            select(StockBalance.qty).where(
                StockBalance.location_id == location_id, StockBalance.batch_id == batch_id
            )
        )
        or 0
    )


def _items_on(session: Session, line_id: int) -> int:
    return session.scalar(select(func.count()).where(StocktakeItem.line_id == line_id)) or 0


def _serial_item(session: Session, batch: Batch, serial_no: str, qty: int) -> SerialItem:
    """The serial item a scan names: on record, of this batch, counted as 1 or 0."""
    if batch.material.tracking != Tracking.SERIAL.value:
        raise ValidationError(
            _l(
                "%(material)s is counted by quantity, not by serial number.",
                material=batch.material.name,
            ),
            field="serial_no",
        )
    item = session.scalars(
        select(SerialItem).where(
            SerialItem.material_id == batch.material_id, SerialItem.serial_no == serial_no
        )
    ).first()
    if item is None:
        raise NotFound(
            _l(
                "Serial number %(serial)s of %(material)s is not on record: receive "
                "it first (post a receipt), then count it.",
                serial=serial_no,
                material=batch.material.name,
            ),
            field="serial_no",
        )
    if item.batch_id != batch.id:
        raise ValidationError(
            _l(
                "Serial number %(serial)s belongs to another batch of %(material)s.",
                serial=serial_no,
                material=batch.material.name,
            ),
            field="serial_no",
        )
    if qty not in (0, 1):
        raise ValidationError(
            _l("A scanned item counts as 1 (it is here) or 0 (it is not)."), field="counted_qty"
        )
    return item


def _place_item(
    session: Session,
    stocktake: Stocktake,
    line: StocktakeLine,
    item: SerialItem,
    qty: int,
    actor: Actor,
) -> int:
    """A scanned serial item counts once, on the line of the place it was last scanned at;
    returns how many items the line now holds."""
    scanned = session.scalars(
        select(StocktakeItem).where(
            StocktakeItem.stocktake_id == stocktake.id, StocktakeItem.serial_item_id == item.id
        )
    ).first()
    moved_from = None
    if qty == 1 and scanned is None:
        session.add(
            StocktakeItem(
                stocktake_id=stocktake.id,
                line_id=line.id,
                serial_item_id=item.id,
                scanned_by_id=actor.user_id,
            )
        )
    elif qty == 1 and scanned.line_id != line.id:
        moved_from, scanned.line_id = scanned.line_id, line.id
    elif qty == 0 and scanned is not None and scanned.line_id == line.id:
        session.delete(scanned)
    session.flush()
    if moved_from is not None:  # it was scanned elsewhere before: it is no longer counted there
        other = session.get(StocktakeLine, moved_from)
        other.counted_qty = _items_on(session, other.id)
        other.variance = other.counted_qty - other.system_qty
    return _items_on(session, line.id)


def record_count(
    session: Session,
    *,
    stocktake_id: int,
    location_id: int,
    batch_id: int,
    counted_qty: int,
    actor: Actor,
    serial_no: str | None = None,
    reason: str | None = None,
) -> StocktakeLine:
    """盘点录入：the counted quantity of a batch at a location (a later count replaces it; a
    scanned serial item counts that item). ``reason`` None keeps the reason already given."""
    writable_stocktake(session, stocktake_id, actor)
    stocktake = claim_stocktake(  # held in counting until this count commits
        session,
        stocktake_id,
        from_states=(StocktakeStatus.COUNTING,),
        to_state=StocktakeStatus.COUNTING,
    )
    qty = check_count(counted_qty)
    keep_reason = reason is None
    reason = None if keep_reason else clean_text(reason, "reason")
    location = _location_in_scope(session, stocktake, location_id)
    batch = _batch_in_scope(session, stocktake, batch_id)
    serial_no = normalise_code(serial_no or "") or None
    item = _serial_item(session, batch, serial_no, qty) if serial_no else None
    system_qty = _book_qty(session, location.id, batch.id)
    line = session.scalars(
        select(StocktakeLine).where(
            StocktakeLine.stocktake_id == stocktake.id,
            StocktakeLine.location_id == location.id,
            StocktakeLine.batch_id == batch.id,
        )
    ).first()
    if line is None:  # found stock: not in the snapshot, but the batch is on record
        line = StocktakeLine(
            stocktake_id=stocktake.id,
            location_id=location.id,
            batch_id=batch.id,
            material_id=batch.material_id,
            is_found=True,
            system_qty=system_qty,
        )
        session.add(line)
        session.flush()
    if item is not None:
        qty = _place_item(session, stocktake, line, item, qty, actor)
    else:  # a count by number replaces any items scanned onto the line: the last count wins
        session.execute(delete(StocktakeItem).where(StocktakeItem.line_id == line.id))
    line.system_qty = system_qty
    line.counted_qty = qty
    line.variance = qty - system_qty
    if not keep_reason:
        line.reason = reason
    line.counted_by_id = actor.user_id
    line.counted_at = utcnow()
    record(
        session,
        actor=actor,
        action="count",
        obj=line,
        label=f"{stocktake.no} {location.code} {batch.material.code} {batch.batch_no}",
        after={
            "counted_qty": qty,
            "system_qty": system_qty,
            "reason": line.reason,
            "serial_no": serial_no,
        },
    )
    return line


def _require_counting(stocktake: Stocktake) -> None:
    """Refuse early (before the codes are looked up); ``record_count`` claims it for real."""
    if stocktake.status != StocktakeStatus.COUNTING.value:
        raise Conflict(
            _l(
                "Stocktake %(no)s is %(status)s: counts are recorded only while counting.",
                no=stocktake.no,
                status=stocktake.status_label,
            )
        )


def record_count_by_codes(
    session: Session,
    *,
    stocktake_id: int,
    counted_qty: object,
    reason: str | None,
    actor: Actor,
    location_code: str | None = None,
    location_id: int | None = None,
    batch_no: str | None = None,
    material_code: str | None = None,
    batch_id: int | None = None,
    serial_no: str | None = None,
) -> StocktakeLine:
    """盘点录入（按编码）：a count as a keeper gives it — the place by code (or the sheet's id),
    the batch by number (with the material code, or alone when it is on the sheet; or the sheet's
    id) or a serial item by its number — codes in any letter case; then ``record_count``.
    The count sheet, the API and the label scanner all call this. One rule for ``reason``:
    None (not given) keeps the reason already recorded; a text replaces it, and an empty text
    clears it."""
    stocktake = writable_stocktake(session, stocktake_id, actor)
    _require_counting(stocktake)  # before the codes: a closed sheet says so, whatever was typed
    return record_count(
        session,
        stocktake_id=stocktake.id,
        location_id=resolve_location(
            session,
            warehouse_id=stocktake.warehouse_id,
            location_id=location_id,
            location_code=location_code,
        ),
        batch_id=resolve_batch(
            session,
            batch_id=batch_id,
            batch_no=batch_no,
            material_code=material_code,
            serial_no=serial_no,
            stocktake_id=stocktake.id,
        ),
        counted_qty=counted_qty,
        serial_no=serial_no,
        reason=reason,
        actor=actor,
    )


def find_open_stocktake(
    session: Session, *, location_id: int, material_id: int
) -> Stocktake | None:
    """The stocktake being counted whose scope covers this place and material (for a scan)."""
    row = session.execute(
        select(Location.warehouse_id, Category.code)
        .select_from(Location)
        .join(Material, Material.id == material_id)
        .join(Category, Category.id == Material.category_id)
        .where(Location.id == location_id)
    ).first()
    if row is None:
        return None
    candidates = session.scalars(
        select(Stocktake)
        .where(
            Stocktake.warehouse_id == row.warehouse_id,
            Stocktake.status == StocktakeStatus.COUNTING.value,
        )
        .order_by(Stocktake.id)
    )
    for stocktake in candidates:
        if stocktake.locations and location_id not in {loc.id for loc in stocktake.locations}:
            continue
        prefixes = category_prefixes(stocktake.categories)
        if prefixes and not any(row.code.startswith(p) for p in prefixes):
            continue
        return stocktake
    return None


def may_count(actor: Actor, stocktake: Stocktake) -> bool:
    """Whether the actor keeps the stocktake's warehouse (so may count, submit or cancel it)."""
    return actor.may_write(stocktake.warehouse_id)


def may_approve(actor: Actor, stocktake: Stocktake) -> bool:
    """Whether the actor may approve or reject it: an approver who did not submit it."""
    return actor.has_role(*APPROVER_ROLES) and not is_same_person(actor, stocktake, "submitted")
