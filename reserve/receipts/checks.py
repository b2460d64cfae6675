"""入库单 checks: every rule a receipt's header and lines must keep, applied when the draft is
saved (so the keeper sees mistakes early) and again when it is posted. A header error stops at
once; the lines are all checked, and every bad field of every line is reported together
(``ValidationErrors``), each on its own field.

Two rules of the lines in the bureau's words:

- 批号 is required where the material has a shelf life (the batch is what expires). For a
  material without one, and for serial-tracked equipment, it may be left empty: the line then
  gets ``<receipt no>-<line no>`` (unique per material, since receipt numbers are unique).
- 过期/临期入库须确认: a batch whose expiry date is before today, or within the material's
  near-expiry days (``reserve.stock.expiry``), is received only with a reason on its line. It is
  asked both when the draft is saved and when it is posted: a draft saved in good time may be
  near expiry by the day it is posted, and the posting refuses it until the draft carries the
  reason. The reason is kept on the line and in the audit entries of the saving and posting."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from reserve.agreements.callup_receipts import check_call_up_link
from reserve.auth.actor import Actor
from reserve.catalog.models import Material, Tracking
from reserve.db import local_today, normalise_code
from reserve.documents import check_line_count, line_error
from reserve.errors import ValidationError, ValidationErrors
from reserve.receipts.models import Receipt, ReceiptLine
from reserve.stock import ledger
from reserve.stock.expiry import ExpiryState, expiry_state
from reserve.stock.models import Batch, BatchSource, ItemStatus, SerialItem
from reserve.warehouses.models import Location, Warehouse

MAX_UNIT_COST = Decimal("9999999999.99")  # Numeric(12, 2)


@dataclass(frozen=True)
class ReceiptLineData:
    """One line as the form, the API or the demo loader delivers it."""

    material_id: int
    batch_no: str
    qty: int
    location_id: int | None = None
    production_date: date | None = None
    expiry_date: date | None = None
    unit_cost: Decimal | None = None
    serials: tuple[str, ...] = ()
    expiry_reason: str | None = None  # why an expired or near-expiry batch is received anyway


@dataclass(frozen=True)
class ReceiptData:
    """The header and lines of a receipt."""

    warehouse_id: int
    source: str
    document_date: date
    supplier: str | None = None
    funding_source: str | None = None
    paper_no: str | None = None
    note: str | None = None
    lines: tuple[ReceiptLineData, ...] = ()
    call_up_id: int | None = None  # 协议调用: the call-up whose goods these are


@dataclass(frozen=True)
class CheckedLine:
    """A line after checking: the material found, the location and dates resolved."""

    material: Material
    batch_no: str
    qty: int
    location_id: int
    production_date: date | None
    expiry_date: date | None
    unit_cost: Decimal | None
    serials: tuple[str, ...]
    expiry_reason: str | None = None
    expiry_state: ExpiryState | None = None
    batch_id: int | None = None  # the batch already on the books under this number, if any


def _line_error(index: int, field: str, message) -> ValidationError:
    return line_error(index + 1, message, field=f"lines-{index}-{field}")


def _text(value: str | None, column, field: str, label) -> str | None:
    value = (value or "").strip() or None
    if value and len(value) > column.type.length:
        raise ValidationError(
            _l(
                "%(label)s is too long: at most %(n)s characters.",
                label=label,
                n=column.type.length,
            ),
            field=field,
        )
    return value


def header_texts(data: ReceiptData) -> tuple[str | None, ...]:
    """Supplier, funding source, paper number and note, trimmed; too long is an error."""
    return (
        _text(data.supplier, Receipt.supplier, "supplier", _l("Supplier")),
        _text(data.funding_source, Receipt.funding_source, "funding_source", _l("Funding source")),
        _text(data.paper_no, Receipt.paper_no, "paper_no", _l("Document / contract no.")),
        _text(data.note, Receipt.note, "note", _l("Note")),
    )


def _check_header(session: Session, data: ReceiptData, actor: Actor) -> Warehouse:
    warehouse = session.get(Warehouse, data.warehouse_id) if data.warehouse_id else None
    if warehouse is None:
        raise ValidationError(_l("Choose the warehouse the goods came into."), field="warehouse_id")
    actor.require_write(warehouse.id)
    if not warehouse.is_active:
        raise ValidationError(
            _l("The warehouse %(name)s is not in use.", name=warehouse.name), field="warehouse_id"
        )
    if data.source not in {s.value for s in BatchSource}:
        raise ValidationError(
            _l(
                "Choose where the goods came from (purchase, donation, "
                "transfer in, allocated from above, return or agreement call-up)."
            ),
            field="source",
        )
    ledger.check_document_date(session, data.document_date)
    header_texts(data)
    check_line_count(data.lines, empty=_l("A receipt needs at least one line."))
    return warehouse


def _receiving_area(session: Session, warehouse: Warehouse) -> int | None:
    return session.scalar(
        select(Location.id)
        .where(Location.warehouse_id == warehouse.id, Location.is_receiving, Location.is_active)
        .order_by(Location.id)
        .limit(1)
    )


def _location(
    session: Session,
    index: int,
    line: ReceiptLineData,
    warehouse: Warehouse,
    receiving_id: int | None,
) -> int:
    if line.location_id is None:
        if receiving_id is None:
            raise _line_error(
                index,
                "location_id",
                _l("the warehouse has no receiving area in use; choose a location."),
            )
        return receiving_id
    location = session.get(Location, line.location_id)
    if location is None or location.warehouse_id != warehouse.id:
        raise _line_error(
            index,
            "location_id",
            _l("the location is not in the warehouse %(name)s.", name=warehouse.name),
        )
    if not location.is_active:
        raise _line_error(
            index, "location_id", _l("the location %(code)s is not in use.", code=location.code)
        )
    return location.id


def _material(session: Session, index: int, line: ReceiptLineData) -> Material:
    material = session.get(Material, line.material_id) if line.material_id else None
    if material is None:
        raise _line_error(index, "material_id", _l("choose the material."))
    if not material.is_active:
        raise _line_error(
            index,
            "material_id",
            _l(
                "the material %(code)s %(name)s is not in use.",
                code=material.code,
                name=material.name,
            ),
        )
    return material


def _qty(index: int, qty: object) -> int:
    try:
        return ledger.check_qty(qty)
    except ValidationError as error:
        raise _line_error(index, "qty", error.message) from None


def _unit_cost(index: int, cost: Decimal | None) -> Decimal | None:
    if cost is None:
        return None
    if not isinstance(cost, Decimal) or not cost.is_finite():
        raise _line_error(index, "unit_cost", _l("the unit cost is not a number."))
    if cost < 0 or cost > MAX_UNIT_COST:
        raise _line_error(
            index, "unit_cost", _l("the unit cost must not be negative or absurdly large.")
        )
    if cost != cost.quantize(Decimal("0.01")):
        raise _line_error(index, "unit_cost", _l("the unit cost has at most 2 decimals."))
    return cost.quantize(Decimal("0.01"))


def batch_clash(
    index: int, batch_no: str, material: Material, production: date | None, expiry: date | None
) -> ValidationError:
    return _line_error(
        index,
        "batch_no",
        _l(
            "batch %(batch)s of %(material)s already exists with production date "
            "%(production)s and expiry date %(expiry)s; use those dates or another batch "
            "number.",
            batch=batch_no,
            material=material.name,
            production=production or "—",
            expiry=expiry or "—",
        ),
    )


def _dates(
    index: int,
    line: ReceiptLineData,
    material: Material,
    known: tuple[date | None, date | None] | None,
) -> tuple[date | None, date | None]:
    """The production and expiry dates: those given, else the existing batch's, else the expiry
    computed from the shelf life; a clash with an existing batch is an error."""
    production, expiry = line.production_date, line.expiry_date
    if production is not None and production > local_today():
        raise _line_error(
            index,
            "production_date",
            _l("the production date %(date)s is in the future.", date=production.isoformat()),
        )
    if known is not None:
        known_production, known_expiry = known
        if (production is not None and production != known_production) or (
            expiry is not None and expiry != known_expiry
        ):
            raise batch_clash(
                index, line.batch_no.strip(), material, known_production, known_expiry
            )
        return known_production, known_expiry
    if expiry is None and production is not None and material.shelf_life_days:
        expiry = production + timedelta(days=material.shelf_life_days)
    if expiry is not None and production is not None and expiry < production:
        raise _line_error(
            index,
            "expiry_date",
            _l(
                "the expiry date %(expiry)s is before the production date %(production)s.",
                expiry=expiry.isoformat(),
                production=production.isoformat(),
            ),
        )
    return production, expiry


def _serials(index: int, line: ReceiptLineData, material: Material, qty: int) -> tuple[str, ...]:
    numbers = tuple(normalise_code(s) for s in line.serials if s and s.strip())
    if material.tracking != Tracking.SERIAL.value:
        if numbers:
            raise _line_error(
                index,
                "serials",
                _l(
                    "%(material)s is tracked by batch, not by serial number; leave the serial "
                    "numbers empty.",
                    material=material.name,
                ),
            )
        return ()
    if len(numbers) != qty:
        raise _line_error(
            index,
            "serials",
            _l(
                "%(material)s is tracked by serial number: give one per unit, %(qty)s in all "
                "(%(n)s given).",
                material=material.name,
                qty=qty,
                n=len(numbers),
            ),
        )
    limit = SerialItem.serial_no.type.length
    for number in numbers:
        if len(number) > limit:
            raise _line_error(
                index,
                "serials",
                _l(
                    "the serial number %(serial)s is too long: at most %(n)s characters.",
                    serial=number[:20] + "…",
                    n=limit,
                ),
            )
    return numbers


def check_serials_free(
    session: Session, index: int, material: Material, numbers: tuple[str, ...]
) -> None:
    if not numbers:
        return
    taken = session.execute(
        select(SerialItem.serial_no, SerialItem.status)
        .where(
            SerialItem.material_id == material.id,
            SerialItem.serial_no.in_(numbers),
            SerialItem.status.in_([ItemStatus.IN_STOCK.value, ItemStatus.SCRAPPED.value]),
        )
        .order_by(SerialItem.serial_no)
    ).first()
    if taken is None:
        return
    if taken.status == ItemStatus.SCRAPPED.value:
        raise _line_error(
            index,
            "serials",
            _l(
                "%(material)s serial number %(serial)s was scrapped; it cannot be received again.",
                material=material.name,
                serial=taken.serial_no,
            ),
        )
    raise _line_error(
        index,
        "serials",
        _l(
            "%(material)s serial number %(serial)s is already in stock.",
            material=material.name,
            serial=taken.serial_no,
        ),
    )


def existing_batch(session: Session, material_id: int, batch_no: str) -> Batch | None:
    return session.scalar(
        select(Batch).where(Batch.material_id == material_id, Batch.batch_no == batch_no)
    )


def _batch_no(index: int, line: ReceiptLineData, material: Material, receipt_no: str | None):
    """The batch number given, or ``<receipt no>-<line no>`` where it may be left empty."""
    batch_no = (line.batch_no or "").strip()
    if not batch_no:
        if material.shelf_life_days and material.tracking != Tracking.SERIAL.value:
            raise _line_error(
                index,
                "batch_no",
                _l(
                    "give the batch number: %(material)s has a shelf life, and the batch is "
                    "what expires.",
                    material=material.name,
                ),
            )
        if receipt_no is None:  # never: every caller passes the number of the receipt
            raise _line_error(index, "batch_no", _l("give the batch number."))
        return f"{receipt_no}-{index + 1}"
    if len(batch_no) > Batch.batch_no.type.length:
        raise _line_error(
            index,
            "batch_no",
            _l(
                "the batch number is too long: at most %(n)s characters.",
                n=Batch.batch_no.type.length,
            ),
        )
    return batch_no


def _expiry_reason(
    index: int,
    line: ReceiptLineData,
    material: Material,
    batch_no: str,
    expiry: date | None,
    posting: bool,
) -> tuple[ExpiryState | None, str | None]:
    """过期/临期入库: the batch's state and the reason it is received anyway (required then)."""
    state = expiry_state(expiry, material.near_expiry_days)
    reason = " ".join((line.expiry_reason or "").split()) or None
    if state is None:
        return None, None  # a reason for a batch in date confirms nothing: it is not kept
    if reason is not None and len(reason) > ReceiptLine.expiry_reason.type.length:
        raise _line_error(
            index,
            "expiry_reason",
            _l(
                "the reason is too long: at most %(n)s characters.",
                n=ReceiptLine.expiry_reason.type.length,
            ),
        )
    if reason is None:
        if state is ExpiryState.EXPIRED:
            why = _l(
                "batch %(batch)s expired on %(date)s (expired).",
                batch=batch_no,
                date=expiry.isoformat(),
            )
        else:
            why = _l(
                "batch %(batch)s expires on %(date)s, within the %(days)s days' warning of "
                "%(material)s (near expiry).",
                batch=batch_no,
                date=expiry.isoformat(),
                days=material.near_expiry_days,
                material=material.name,
            )
        ask = (
            _l("Edit the draft and give the reason for receiving it anyway.")
            if posting
            else _l("To receive it anyway, confirm with the reason.")
        )
        raise _line_error(index, "expiry_reason", _l("%(why)s %(ask)s", why=why, ask=ask))
    return state, reason


class _Collect:
    """Run a line's checks one after another, keeping every ValidationError they raise."""

    def __init__(self) -> None:
        self.errors: list[ValidationError] = []

    def __call__(self, check, *args):
        try:
            return check(*args), True
        except ValidationError as error:
            self.errors.append(error)
            return None, False


def existing_batches(
    session: Session, keys: Iterable[tuple[int, str]]
) -> dict[tuple[int, str], Batch]:
    """The batches that already exist of these (material, batch number) pairs, by pair with
    the number normalised: one query however many lines."""
    wanted = {(material_id, normalise_code(batch_no)) for material_id, batch_no in keys}
    if not wanted:
        return {}
    found = session.scalars(
        select(Batch).where(
            Batch.material_id.in_({material_id for material_id, _no in wanted}),
            Batch.batch_no.in_({batch_no for _material, batch_no in wanted}),
        )
    )
    return {
        (batch.material_id, batch.batch_no): batch
        for batch in found
        if (batch.material_id, batch.batch_no) in wanted
    }


def _preload(session: Session, data: ReceiptData) -> list:
    """The lines' materials and locations in one query each: the per-line ``session.get``
    calls then find them in the identity map. Returned to keep them referenced while the
    lines are checked (the identity map holds its objects weakly)."""
    material_ids = {line.material_id for line in data.lines if line.material_id}
    location_ids = {line.location_id for line in data.lines if line.location_id}
    loaded: list = []
    if material_ids:
        loaded += session.scalars(select(Material).where(Material.id.in_(material_ids))).all()
    if location_ids:
        loaded += session.scalars(select(Location).where(Location.id.in_(location_ids))).all()
    return loaded


def _check_line(
    session: Session,
    index: int,
    line: ReceiptLineData,
    *,
    warehouse: Warehouse,
    receiving_id: int | None,
    batches: dict[tuple[int, str], tuple[date | None, date | None]],
    serials_seen: dict[tuple[int, str], int],
    receipt_no: str | None,
    posting: bool,
    collect: _Collect,
    known: dict[tuple[int, str], Batch | None],
) -> CheckedLine | None:
    """One line's rules; every broken one goes to ``collect``. None when any was broken."""
    before = len(collect.errors)
    material, _ok = collect(_material, session, index, line)
    qty, qty_ok = collect(_qty, index, line.qty)
    location_id, _ok = collect(_location, session, index, line, warehouse, receiving_id)
    unit_cost, _ok = collect(_unit_cost, index, line.unit_cost)
    if material is None:
        return None
    batch_no, _ok = collect(_batch_no, index, line, material, receipt_no)
    production = expiry = state = reason = batch_id = None
    if batch_no is not None:
        key = (material.id, batch_no)
        found = (material.id, normalise_code(batch_no))
        if key not in batches:
            if found not in known:  # a generated number: not among the looked-up ones
                known[found] = existing_batch(session, material.id, batch_no)
            batch = known[found]
            if batch is not None:
                batches[key] = (batch.production_date, batch.expiry_date)
        if (on_books := known.get(found)) is not None:
            batch_id = on_books.id
        dates, dates_ok = collect(_dates, index, line, material, batches.get(key))
        if dates_ok:
            production, expiry = dates
            batches[key] = dates
            confirmed, _ok = collect(
                _expiry_reason, index, line, material, batch_no, expiry, posting
            )
            state, reason = confirmed or (None, None)
    numbers: tuple[str, ...] = ()
    if qty_ok:
        numbers, serials_ok = collect(_serials, index, line, material, qty)
        if serials_ok:
            collect(_serials_once, index, material, numbers, serials_seen)
            collect(check_serials_free, session, index, material, numbers)
    if len(collect.errors) > before:
        return None
    return CheckedLine(
        material,
        batch_no,
        qty,
        location_id,
        production,
        expiry,
        unit_cost,
        numbers,
        expiry_reason=reason,
        expiry_state=state,
        batch_id=batch_id,
    )


def _serials_once(
    index: int,
    material: Material,
    numbers: tuple[str, ...],
    serials_seen: dict[tuple[int, str], int],
) -> None:
    for number in numbers:
        first = serials_seen.setdefault((material.id, number), index)
        if first != index:
            raise _line_error(
                index,
                "serials",
                _l(
                    "the serial number %(serial)s is given twice (lines %(a)s and %(b)s).",
                    serial=number,
                    a=first + 1,
                    b=index + 1,
                ),
            )
    if len(set(numbers)) != len(numbers):
        twice = next(n for n in numbers if numbers.count(n) > 1)
        raise _line_error(
            index,
            "serials",
            _l("the serial number %(serial)s is given twice on this line.", serial=twice),
        )


def check_receipt(
    session: Session,
    data: ReceiptData,
    actor: Actor,
    *,
    receipt_no: str | None = None,
    posting: bool = False,
) -> tuple[Warehouse, list[CheckedLine]]:
    """Every rule of a receipt: the header (raises on the first broken rule), then every line,
    all checked, their errors raised together (one error as itself, several as
    ``ValidationErrors``). ``receipt_no`` names the generated batch numbers; ``posting`` words
    the expiry confirmation for a draft being posted."""
    warehouse = _check_header(session, data, actor)
    receiving_id = _receiving_area(session, warehouse)
    batches: dict[tuple[int, str], tuple[date | None, date | None]] = {}
    serials_seen: dict[tuple[int, str], int] = {}
    collect = _Collect()
    checked: list[CheckedLine] = []
    _loaded = _preload(session, data)  # noqa: F841 (kept referenced while the lines are checked)
    # the given batch numbers looked up in one query: absent from the books is None
    wanted = [
        (line.material_id, normalise_code(line.batch_no.strip()))
        for line in data.lines
        if isinstance(line.material_id, int) and line.batch_no and line.batch_no.strip()
    ]
    known: dict[tuple[int, str], Batch | None] = dict.fromkeys(wanted)
    known.update(existing_batches(session, wanted))
    for index, line in enumerate(data.lines):
        result = _check_line(
            session,
            index,
            line,
            warehouse=warehouse,
            receiving_id=receiving_id,
            batches=batches,
            serials_seen=serials_seen,
            receipt_no=receipt_no,
            posting=posting,
            collect=collect,
            known=known,
        )
        if result is not None:
            checked.append(result)
    if len(collect.errors) == 1:
        raise collect.errors[0]
    if collect.errors:
        raise ValidationErrors(collect.errors)
    check_call_up_link(
        session,
        source=data.source,
        call_up_id=data.call_up_id,
        lines=[(line.material.id, line.qty) for line in checked],
        receipt_no=receipt_no,
        posting=posting,
    )
    return warehouse, checked
