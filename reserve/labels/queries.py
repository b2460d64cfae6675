"""Read side of labels: the cards a sheet prints, and the labels of a warehouse (paged by key)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, case, func, select
from sqlalchemy.orm import Session, aliased

from reserve.auth.actor import Actor
from reserve.catalog.models import Material
from reserve.db import KeyPage, seek_page
from reserve.labels.codes import grouped, label_url, make_code
from reserve.labels.models import Label, LabelKind
from reserve.labels.pdf import LabelCard
from reserve.stock.models import Batch, SerialItem, StockBalance
from reserve.warehouses.models import Location, Warehouse


def _rows() -> Select:
    location = aliased(Location)
    place_id = case(
        (Label.kind == LabelKind.ITEM.value, SerialItem.location_id), else_=Label.location_id
    )
    return (
        select(
            Label.id,
            Label.kind,
            Label.qty_at_label,
            Label.print_count,
            Label.revoked_at,
            Label.first_printed_by_name,
            Label.last_printed_at,
            Label.revoke_reason,
            Warehouse.name.label("warehouse_name"),
            location.code.label("location_code"),
            location.name.label("location_name"),
            Material.name.label("material_name"),
            Material.spec,
            Material.unit,
            Batch.batch_no,
            Batch.expiry_date,
            SerialItem.serial_no,
        )
        .select_from(Label)
        .join(Warehouse, Warehouse.id == Label.warehouse_id)
        .outerjoin(SerialItem, SerialItem.id == Label.serial_item_id)
        .outerjoin(location, location.id == place_id)
        .outerjoin(Batch, Batch.id == Label.batch_id)
        .outerjoin(Material, Material.id == Batch.material_id)
    )


def label_cards(
    session: Session, label_ids: Sequence[int], *, key: bytes, base_url: str
) -> list[LabelCard]:
    """The cards of these labels, in the order given (one query, chunked for long sheets)."""
    found = {}
    ids = list(label_ids)
    for at in range(0, len(ids), 1000):
        for row in session.execute(_rows().where(Label.id.in_(ids[at : at + 1000]))):
            found[row.id] = row
    cards = []
    for label_id in ids:
        row = found[label_id]
        code = make_code(label_id, key=key)
        cards.append(
            LabelCard(
                kind=row.kind,
                url=label_url(base_url, code),
                code=grouped(code),
                warehouse_name=row.warehouse_name,
                location_code=row.location_code,
                location_name=row.location_name,
                material_name=row.material_name,
                spec=row.spec,
                unit=row.unit,
                batch_no=row.batch_no,
                expiry_date=row.expiry_date,
                serial_no=row.serial_no,
                qty=row.qty_at_label,
            )
        )
    return cards


@dataclass(frozen=True)
class LabelRow:
    id: int
    code: str
    kind: str
    location_code: str | None
    material_name: str | None
    batch_no: str | None
    serial_no: str | None
    qty_at_label: int | None
    print_count: int
    first_printed_by_name: str
    last_printed_at: datetime
    revoked_at: datetime | None
    revoke_reason: str | None

    @property
    def kind_label(self):
        return LabelKind(self.kind).label


def _label_row(row, key: bytes) -> LabelRow:
    return LabelRow(
        id=row.id,
        code=grouped(make_code(row.id, key=key)),
        kind=row.kind,
        location_code=row.location_code,
        material_name=row.material_name,
        batch_no=row.batch_no,
        serial_no=row.serial_no,
        qty_at_label=row.qty_at_label,
        print_count=row.print_count,
        first_printed_by_name=row.first_printed_by_name,
        last_printed_at=row.last_printed_at,
        revoked_at=row.revoked_at,
        revoke_reason=row.revoke_reason,
    )


def label_row(session: Session, label_id: int, *, key: bytes) -> LabelRow:
    return _label_row(session.execute(_rows().where(Label.id == label_id)).one(), key)


def warehouse_labels(
    session: Session,
    actor: Actor,
    *,
    warehouse_id: int,
    key: bytes,
    kind: str | None = None,
    after: str | None = None,
    per_page: int = 50,
) -> KeyPage:
    """标签列表: a warehouse's labels, newest first, paged by key."""
    actor.require_see(warehouse_id)
    stmt = _rows().where(Label.warehouse_id == warehouse_id)
    if kind:
        stmt = stmt.where(Label.kind == LabelKind(kind).value)
    page = seek_page(session, stmt, [(Label.id, True)], after=after, per_page=per_page)
    items = [_label_row(row, key) for row in page.items]
    return KeyPage(items, page.next_key)


@dataclass(frozen=True)
class Choice:
    """One thing a label can be printed for, on the print page."""

    value: str  # "location_id:batch_id" for stock, else the id
    location_code: str | None
    title: str
    detail: str
    qty: int | None = None
    unit: str | None = None
    labels: int = 0  # live labels it has already


def print_choices(
    session: Session,
    actor: Actor,
    *,
    warehouse_id: int,
    kind: str,
    after: str | None = None,
    per_page: int = 100,
) -> KeyPage:
    """What may be labelled in a warehouse, paged by key: batches at locations holding stock
    (with their quantity), serial items in stock, or locations."""
    actor.require_see(warehouse_id)
    kind = LabelKind(kind)
    live = Label.revoked_at.is_(None)
    if kind is LabelKind.STOCK:
        labels = (
            select(func.count())
            .where(
                Label.kind == LabelKind.STOCK.value,
                Label.location_id == StockBalance.location_id,
                Label.batch_id == StockBalance.batch_id,
                live,
            )
            .scalar_subquery()
        )
        stmt = (
            select(
                StockBalance.id,
                StockBalance.location_id,
                StockBalance.batch_id,
                StockBalance.qty,
                Location.code.label("location_code"),
                Material.name,
                Material.spec,
                Material.unit,
                Batch.batch_no,
                Batch.expiry_date,
                labels.label("labels"),
            )
            .join(Location, Location.id == StockBalance.location_id)
            .join(Batch, Batch.id == StockBalance.batch_id)
            .join(Material, Material.id == Batch.material_id)
            .where(
                StockBalance.warehouse_id == warehouse_id,
                StockBalance.qty > 0,
                Material.tracking != "serial",
            )
        )
        page = seek_page(
            session,
            stmt,
            [(Location.code, False), (StockBalance.id, False)],
            after=after,
            per_page=per_page,
            key_of=lambda row: (row.location_code, row.id),
        )
        items = [
            Choice(
                f"{row.location_id}:{row.batch_id}",
                row.location_code,
                row.name,
                " · ".join(
                    p
                    for p in (
                        row.spec,
                        row.batch_no,
                        row.expiry_date.isoformat() if row.expiry_date else None,
                    )
                    if p
                ),
                row.qty,
                row.unit,
                row.labels,
            )
            for row in page.items
        ]
        return KeyPage(items, page.next_key)
    if kind is LabelKind.ITEM:
        labels = (
            select(func.count())
            .where(Label.kind == LabelKind.ITEM.value, Label.serial_item_id == SerialItem.id, live)
            .scalar_subquery()
        )
        stmt = (
            select(
                SerialItem.id,
                SerialItem.serial_no,
                Location.code.label("location_code"),
                Material.name,
                Batch.batch_no,
                labels.label("labels"),
            )
            .join(Location, Location.id == SerialItem.location_id)
            .join(Batch, Batch.id == SerialItem.batch_id)
            .join(Material, Material.id == SerialItem.material_id)
            .where(Location.warehouse_id == warehouse_id, SerialItem.status == "in_stock")
        )
        page = seek_page(
            session,
            stmt,
            [(SerialItem.serial_no, False), (SerialItem.id, False)],
            after=after,
            per_page=per_page,
        )
        items = [
            Choice(
                str(row.id),
                row.location_code,
                row.name,
                f"{row.serial_no} · {row.batch_no}",
                labels=row.labels,
            )
            for row in page.items
        ]
        return KeyPage(items, page.next_key)
    labels = (
        select(func.count())
        .where(Label.kind == LabelKind.LOCATION.value, Label.location_id == Location.id, live)
        .scalar_subquery()
    )
    stmt = select(Location.id, Location.code, Location.name, labels.label("labels")).where(
        Location.warehouse_id == warehouse_id, Location.is_active.is_(True)
    )
    page = seek_page(
        session,
        stmt,
        [(Location.code, False), (Location.id, False)],
        after=after,
        per_page=per_page,
    )
    items = [
        Choice(str(row.id), row.code, row.code, row.name or "", labels=row.labels)
        for row in page.items
    ]
    return KeyPage(items, page.next_key)
