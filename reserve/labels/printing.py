"""打印标签: making label rows for what a keeper prints — the lines of a posted receipt, batches
at a location, serial items, locations, all the stock of a warehouse — and reprinting and
revoking them. A location and a serial item have one live label each (a second print is a
reprint of it); a batch at a location has as many as there are cartons or pallets.

Every function checks the actor keeps the warehouse, flushes, and leaves the commit to the
caller; each call is one audit entry (not one per label: a sheet of 1,000 is one act)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, select, tuple_, update
from sqlalchemy.orm import Session

from reserve.audit.service import record
from reserve.auth.actor import Actor
from reserve.catalog.models import Material, Tracking
from reserve.db import utcnow
from reserve.documents import stamp
from reserve.errors import Conflict, NotFound, ValidationError
from reserve.labels.models import Label, LabelKind, LabelPrint
from reserve.labels.pdf import SHEETS, Layout
from reserve.receipts.models import Receipt, ReceiptLine, ReceiptStatus
from reserve.stock.models import Batch, ItemStatus, SerialItem, StockBalance
from reserve.warehouses.models import Location, Warehouse

MAX_COPIES = 200  # cartons of one line, or copies of one batch's label, in one request
MAX_LABELS = 5_000  # labels made by one request (a warehouse's sheet from the CLI included)
REASON_MAX = 200


@dataclass(frozen=True)
class StockLabelRequest:
    """Labels for one batch at one location: ``copies`` cartons, each with ``qty_each``."""

    location_id: int
    batch_id: int
    copies: int = 1
    qty_each: int | None = None


def check_copies(copies: object, *, field: str = "copies") -> int:
    if isinstance(copies, bool) or not isinstance(copies, int) or not 1 <= copies <= MAX_COPIES:
        raise ValidationError(
            _l("The number of labels is a whole number from 1 to %(n)s.", n=MAX_COPIES),
            field=field,
        )
    return copies


def _check_total(n: int) -> None:
    if n > MAX_LABELS:
        raise ValidationError(
            _l("At most %(n)s labels can be printed at once.", n=MAX_LABELS), field="copies"
        )


def _new(kind: LabelKind, actor: Actor, **targets) -> Label:
    now = utcnow()
    return Label(
        kind=kind.value,
        print_count=1,
        last_printed_at=now,
        **stamp("first_printed", actor, now),
        **targets,
    )


def _audit(session: Session, actor: Actor, action: str, labels: Sequence[Label], what) -> None:
    if not labels:
        return
    record(
        session,
        actor=actor,
        action=action,
        object_type="labels",
        object_id=labels[0].id,
        label=str(what)[:200],
        after={"labels": len(labels), "ids": [label.id for label in labels][:50]},
    )


def label_stock(
    session: Session,
    *,
    requests: Sequence[StockLabelRequest],
    actor: Actor,
    receipt_id: int | None = None,
) -> list[Label]:
    """打印货物标签：new labels for batches at locations (cartons, pallets), each with the
    quantity it holds when given."""
    if not requests:
        raise ValidationError(_l("Choose what to print labels for."), field="labels")
    _check_total(sum(check_copies(r.copies) for r in requests))
    places = {  # a label names stock that is there (or was: a balance row exists)
        (row.location_id, row.batch_id): row
        for row in session.execute(
            select(
                StockBalance.location_id, StockBalance.batch_id, StockBalance.warehouse_id
            ).where(
                tuple_(StockBalance.location_id, StockBalance.batch_id).in_(
                    sorted({(r.location_id, r.batch_id) for r in requests})
                )
            )
        )
    }
    labels = []
    for request in requests:
        place = places.get((request.location_id, request.batch_id))
        if place is None:
            raise NotFound(_l("No such batch or location."))
        actor.require_write(place.warehouse_id)
        qty = request.qty_each
        if qty is not None and (isinstance(qty, bool) or not isinstance(qty, int) or qty < 1):
            raise ValidationError(_l("The quantity on a label is a whole number above 0."))
        labels += [
            _new(
                LabelKind.STOCK,
                actor,
                warehouse_id=place.warehouse_id,
                location_id=place.location_id,
                batch_id=place.batch_id,
                qty_at_label=qty,
                receipt_id=receipt_id,
            )
            for _ in range(request.copies)
        ]
    session.add_all(labels)
    session.flush()
    _audit(session, actor, "print", labels, _l("%(n)s stock labels", n=len(labels)))
    return labels


def label_receipt(
    session: Session, *, receipt_id: int, cartons: dict[int, int], actor: Actor
) -> list[Label]:
    """入库贴标：labels for the lines of a posted receipt — ``cartons`` per line id (default
    one a line; 0 prints none for it), each carton's label with its share when the line divides
    evenly; a serial-tracked line gets one label per item instead."""
    receipt = session.get(Receipt, receipt_id)
    if receipt is None:
        raise NotFound(_l("No such receipt."))
    actor.require_write(receipt.warehouse_id)
    if receipt.status != ReceiptStatus.POSTED.value:
        raise Conflict(_l("Labels are printed for a posted receipt (its batches exist then)."))
    lines = list(
        session.execute(
            select(ReceiptLine, Material.tracking)
            .join(Material, Material.id == ReceiptLine.material_id)
            .where(ReceiptLine.receipt_id == receipt.id)
            .order_by(ReceiptLine.line_no)
        )
    )
    unknown = set(cartons) - {line.id for line, _tracking in lines}
    if unknown:
        raise ValidationError(_l("These lines are not on the receipt."), field="cartons")
    requests, item_lines = [], []
    for line, tracking in lines:
        n = cartons.get(line.id, 1)
        if n == 0:
            continue
        check_copies(n, field=f"cartons-{line.id}")
        if tracking == Tracking.SERIAL.value:
            item_lines.append(line)
            continue
        each = line.qty // n if line.qty % n == 0 else None
        requests.append(StockLabelRequest(line.location_id, line.batch_id, n, each))
    if not requests and not item_lines:
        raise ValidationError(_l("Choose at least one line to print labels for."), field="cartons")
    labels = (
        label_stock(session, requests=requests, actor=actor, receipt_id=receipt.id)
        if requests
        else []
    )
    if item_lines:
        items = session.scalars(
            select(SerialItem.id).where(
                SerialItem.batch_id.in_({line.batch_id for line in item_lines}),
                SerialItem.serial_no.in_({s for line in item_lines for s in line.serial_nos}),
            )
        ).all()
        labels += label_items(session, serial_item_ids=items, actor=actor)
    return labels


def _live(session: Session, kind: LabelKind, column, ids: Iterable[int]) -> dict[int, Label]:
    rows = session.scalars(
        select(Label).where(
            Label.kind == kind.value, column.in_(set(ids)), Label.revoked_at.is_(None)
        )
    )
    return {getattr(label, column.key): label for label in rows}


def _reprinted(labels: Sequence[Label]) -> None:
    now = utcnow()
    for label in labels:
        label.print_count += 1
        label.last_printed_at = now


def label_items(session: Session, *, serial_item_ids: Sequence[int], actor: Actor) -> list[Label]:
    """单品标签：one label per serial item (its live label reprinted if it has one)."""
    ids = list(dict.fromkeys(serial_item_ids))
    if not ids:
        raise ValidationError(_l("Choose the items to print labels for."), field="items")
    _check_total(len(ids))
    items = {
        row.id: row
        for row in session.execute(
            select(SerialItem.id, SerialItem.batch_id, SerialItem.status, Location.warehouse_id)
            .join(Location, Location.id == SerialItem.location_id)
            .where(SerialItem.id.in_(ids))
        )
    }
    missing = [i for i in ids if i not in items]
    if missing:
        raise NotFound(_l("No such item in stock at a location."))
    actor.require_write(*{row.warehouse_id for row in items.values()})
    live = _live(session, LabelKind.ITEM, Label.serial_item_id, ids)
    again = [live[i] for i in ids if i in live]
    _reprinted(again)
    new = [
        _new(
            LabelKind.ITEM,
            actor,
            warehouse_id=items[i].warehouse_id,
            serial_item_id=i,
            batch_id=items[i].batch_id,
        )
        for i in ids
        if i not in live
    ]
    session.add_all(new)
    session.flush()
    _audit(session, actor, "print", new, _l("%(n)s item labels", n=len(new)))
    _audit(session, actor, "reprint", again, _l("%(n)s item labels", n=len(again)))
    by_item = {label.serial_item_id: label for label in [*again, *new]}
    return [by_item[i] for i in ids]


def label_locations(session: Session, *, location_ids: Sequence[int], actor: Actor) -> list[Label]:
    """库位标签：one label per location (its live label reprinted if it has one)."""
    ids = list(dict.fromkeys(location_ids))
    if not ids:
        raise ValidationError(_l("Choose the locations to print labels for."), field="locations")
    _check_total(len(ids))
    places = {
        row.id: row.warehouse_id
        for row in session.execute(
            select(Location.id, Location.warehouse_id).where(Location.id.in_(ids))
        )
    }
    if len(places) != len(ids):
        raise NotFound(_l("No such location."))
    actor.require_write(*set(places.values()))
    live = _live(session, LabelKind.LOCATION, Label.location_id, ids)
    again = [live[i] for i in ids if i in live]
    _reprinted(again)
    new = [
        _new(LabelKind.LOCATION, actor, warehouse_id=places[i], location_id=i)
        for i in ids
        if i not in live
    ]
    session.add_all(new)
    session.flush()
    _audit(session, actor, "print", new, _l("%(n)s location labels", n=len(new)))
    _audit(session, actor, "reprint", again, _l("%(n)s location labels", n=len(again)))
    by_place = {label.location_id: label for label in [*again, *new]}
    return [by_place[i] for i in ids]


def keep_print(
    session: Session,
    *,
    labels: Sequence[Label],
    layout: str,
    start: int,
    actor: Actor,
    receipt_id: int | None = None,
) -> LabelPrint:
    """打印批次：keep what was just printed (or reprinted) as one sheet to fetch by its id —
    the page redirects to it, so that a refresh fetches the sheet again instead of printing
    again. The labels are of one warehouse (every print is)."""
    try:
        sheet = SHEETS[Layout(layout)]
    except ValueError:
        raise ValidationError(_l("Choose a layout from the list."), field="layout") from None
    if isinstance(start, bool) or not isinstance(start, int) or not 1 <= start <= sheet.per_page:
        raise ValidationError(
            _l("This layout has %(n)s labels a page.", n=sheet.per_page), field="start"
        )
    if not labels:
        raise ValidationError(_l("Choose what to print labels for."), field="labels")
    _check_total(len(labels))
    warehouses = {label.warehouse_id for label in labels}
    if len(warehouses) != 1:
        raise ValidationError(_l("Print the labels of one warehouse at a time."))
    (warehouse_id,) = warehouses
    actor.require_write(warehouse_id)
    kept = LabelPrint(
        warehouse_id=warehouse_id,
        receipt_id=receipt_id,
        layout=Layout(layout).value,
        start=start,
        label_ids=[label.id for label in labels],
        label_count=len(labels),
        **stamp("printed", actor),
    )
    session.add(kept)
    session.flush()
    record(
        session,
        actor=actor,
        action="create",
        obj=kept,
        label=str(_l("%(n)s labels", n=len(labels))),
        after={"layout": kept.layout, "start": start, "labels": len(labels)},
    )
    return kept


def get_print(session: Session, print_id: int, *, actor: Actor) -> LabelPrint:
    """A kept print, for who may print in its warehouse."""
    kept = session.get(LabelPrint, print_id)
    if kept is None:
        raise NotFound(_l("No such print."))
    actor.require_write(kept.warehouse_id)
    return kept


def get_label(session: Session, label_id: int, *, actor: Actor) -> Label:
    label = session.get(Label, label_id)
    if label is None:
        raise NotFound(_l("No such label."))
    actor.require_see(label.warehouse_id)
    return label


def label_ids(values: Sequence[str], *, field: str = "chosen") -> list[int]:
    """Ids ticked on a page (as strings): whole numbers, or a ValidationError."""
    try:
        ids = [int(v) for v in values]
    except (TypeError, ValueError):
        ids = [0]
    if any(not 1 <= i <= 2**31 - 1 for i in ids):
        raise ValidationError(_l("Choose from the list."), field=field)
    return ids


def reprint_labels(
    session: Session,
    *,
    label_ids: Sequence[int],
    actor: Actor,
    warehouse_id: int | None = None,
) -> list[Label]:
    """补打标签：print labels again (the same codes), counted and logged (of one warehouse,
    when given)."""
    ids = list(dict.fromkeys(label_ids))
    if not ids:
        raise ValidationError(_l("Choose the labels to reprint."), field="chosen")
    _check_total(len(ids))
    labels = {label.id: label for label in session.scalars(select(Label).where(Label.id.in_(ids)))}
    if len(labels) != len(ids) or (
        warehouse_id is not None and any(x.warehouse_id != warehouse_id for x in labels.values())
    ):
        raise NotFound(_l("No such label."))
    actor.require_write(*{label.warehouse_id for label in labels.values()})
    revoked = [label for label in labels.values() if label.is_revoked]
    if revoked:
        raise Conflict(_l("A revoked label cannot be reprinted: print a new one."))
    ordered = [labels[i] for i in ids]
    _reprinted(ordered)
    session.flush()
    _audit(session, actor, "reprint", ordered, _l("%(n)s labels", n=len(ordered)))
    return ordered


def revoke_label(session: Session, *, label_id: int, reason: str, actor: Actor) -> Label:
    """作废标签：a lost or damaged label no longer scans (one conditional UPDATE: revoked once)."""
    label = session.get(Label, label_id)
    if label is None:
        raise NotFound(_l("No such label."))
    actor.require_write(label.warehouse_id)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError(_l("Say why the label is revoked (lost, damaged …)."), field="reason")
    if len(reason) > REASON_MAX:
        raise ValidationError(
            _l("The reason is at most %(n)s characters.", n=REASON_MAX), field="reason"
        )
    done = session.execute(
        update(Label)
        .where(and_(Label.id == label_id, Label.revoked_at.is_(None)))
        .values(revoke_reason=reason, **stamp("revoked", actor))
        .execution_options(synchronize_session=False)
    )
    if done.rowcount != 1:
        raise Conflict(_l("This label was already revoked."))
    session.refresh(label)
    record(
        session,
        actor=actor,
        action="revoke",
        obj=label,
        label=f"#{label.id}",
        after={"reason": reason},
    )
    return label


def label_chosen(
    session: Session,
    *,
    warehouse_id: int,
    kind: str,
    chosen: Sequence[str],
    copies: int,
    actor: Actor,
) -> list[Label]:
    """打印标签 for what was ticked on a warehouse's label page: batches at locations
    (``"location_id:batch_id"``, ``copies`` each), serial items or locations (ids)."""
    actor.require_write(warehouse_id)
    if not chosen:
        raise ValidationError(_l("Choose what to print labels for."), field="chosen")
    kind = LabelKind(kind)
    if kind is LabelKind.STOCK:
        pairs = [value.partition(":")[::2] for value in chosen]
        requests = [
            StockLabelRequest(location, batch, check_copies(copies))
            for location, batch in zip(
                label_ids([p[0] for p in pairs]), label_ids([p[1] for p in pairs]), strict=True
            )
        ]
        labels = label_stock(session, requests=requests, actor=actor)
    elif kind is LabelKind.ITEM:
        labels = label_items(session, serial_item_ids=label_ids(chosen), actor=actor)
    else:
        labels = label_locations(session, location_ids=label_ids(chosen), actor=actor)
    if any(label.warehouse_id != warehouse_id for label in labels):
        raise NotFound(_l("No such batch or location."))
    return labels


def label_warehouse_stock(
    session: Session,
    *,
    actor: Actor,
    warehouse_id: int | None = None,
    warehouse_code: str | None = None,
) -> list[Label]:
    """整库贴标 (the CLI's ``labels sheet``): a label for every batch at every location of the
    warehouse (by id or code) that holds stock, and for every serial item in stock there;
    existing live labels are reprinted, missing ones made. In location, material, batch order."""
    warehouse = (
        session.get(Warehouse, warehouse_id)
        if warehouse_id is not None
        else session.scalar(select(Warehouse).where(Warehouse.code == (warehouse_code or "")))
    )
    if warehouse is None:
        raise NotFound(_l("No such warehouse."))
    actor.require_write(warehouse.id)
    places = session.execute(
        select(StockBalance.location_id, StockBalance.batch_id, Material.tracking)
        .join(Location, Location.id == StockBalance.location_id)
        .join(Batch, Batch.id == StockBalance.batch_id)
        .join(Material, Material.id == Batch.material_id)
        .where(StockBalance.warehouse_id == warehouse.id, StockBalance.qty > 0)
        .order_by(Location.code, Material.code, Batch.batch_no)
    ).all()
    batch_places = [(p.location_id, p.batch_id) for p in places if p.tracking != "serial"]
    _check_total(len(places))
    existing = {
        (label.location_id, label.batch_id): label
        for label in session.scalars(
            select(Label)
            .where(
                Label.kind == LabelKind.STOCK.value,
                Label.warehouse_id == warehouse.id,
                Label.revoked_at.is_(None),
            )
            .order_by(Label.id)
        )
    }
    missing = [p for p in batch_places if p not in existing]
    made = (
        label_stock(
            session, requests=[StockLabelRequest(loc, batch) for loc, batch in missing], actor=actor
        )
        if missing
        else []
    )
    again = [existing[p] for p in batch_places if p in existing]
    _reprinted(again)
    _audit(session, actor, "reprint", again, _l("%(n)s stock labels", n=len(again)))
    by_place = {(label.location_id, label.batch_id): label for label in [*again, *made]}
    labels = [by_place[p] for p in batch_places]
    serial_batches = [(p.location_id, p.batch_id) for p in places if p.tracking == "serial"]
    if serial_batches:
        items = session.scalars(
            select(SerialItem.id)
            .where(
                SerialItem.status == ItemStatus.IN_STOCK.value,
                SerialItem.location_id.in_({loc for loc, _b in serial_batches}),
                SerialItem.batch_id.in_({b for _loc, b in serial_batches}),
            )
            .order_by(SerialItem.serial_no)
        ).all()
        if items:
            labels += label_items(session, serial_item_ids=items, actor=actor)
    session.flush()
    return labels
