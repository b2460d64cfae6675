"""核对: ``ledger.verify`` rebuilds every cache the ledger keeps and names each difference.

One pass over each table, side by side (UNION ALL) and grouped once per (location, batch):
the balance's quantity against the sum of its movements, its ``reserved`` against the open
remainders of its reservations, and, for serial-tracked materials, its quantity against the
serial items in stock there."""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import case, func, literal, select, tuple_, union_all
from sqlalchemy.orm import Session

from reserve.catalog.models import Material
from reserve.stock.models import (
    Batch,
    ItemStatus,
    ReservationStatus,
    SerialItem,
    StockBalance,
    StockMovement,
    StockReservation,
)
from reserve.warehouses.models import Location, Warehouse


class DiscrepancyKind(enum.StrEnum):
    QTY = "qty"  # the balance is not the sum of its movements
    RESERVED = "reserved"  # the reserved cache is not the sum of the open reservations
    SERIAL = "serial"  # the in-stock serial items there are not the balance


@dataclass(frozen=True)
class Discrepancy:
    """One difference between a cache and what it caches, at one (location, batch)."""

    kind: DiscrepancyKind
    location_id: int | None
    batch_id: int
    balance_qty: int
    ledger_qty: int
    reserved: int
    open_reserved: int
    serial_items: int

    def __str__(self) -> str:
        return (
            f"{self.kind.value}: location {self.location_id} batch {self.batch_id}: "
            f"balance {self.balance_qty}, movements {self.ledger_qty}, reserved {self.reserved}, "
            f"open reservations {self.open_reserved}, serial items in stock {self.serial_items}"
        )


def verify(session: Session) -> list[Discrepancy]:
    """核对：recompute every balance, reserved quantity and serial count; list each difference."""
    zero = literal(0)
    serial_tracked = case((Material.tracking == "serial", 1), else_=0)
    both = union_all(
        select(
            StockBalance.location_id,
            StockBalance.batch_id,
            StockBalance.qty.label("balance_qty"),
            zero.label("ledger_qty"),
            StockBalance.reserved.label("reserved"),
            zero.label("open_reserved"),
            zero.label("serial_items"),
            serial_tracked.label("tracked"),
        ).join(Material, Material.id == StockBalance.material_id),
        select(
            StockMovement.location_id, StockMovement.batch_id, zero, StockMovement.qty, zero, zero
        ).add_columns(zero, zero),
        select(
            StockReservation.location_id,
            StockReservation.batch_id,
            zero,
            zero,
            zero,
            StockReservation.qty - StockReservation.consumed_qty - StockReservation.released_qty,
            zero,
            zero,
        ).where(StockReservation.status == ReservationStatus.OPEN.value),
        select(
            SerialItem.location_id,
            SerialItem.batch_id,
            zero,
            zero,
            zero,
            zero,
            literal(1),
            literal(1),
        ).where(SerialItem.status == ItemStatus.IN_STOCK.value),
    ).subquery()
    balance_qty = func.sum(both.c.balance_qty)
    ledger_qty = func.sum(both.c.ledger_qty)
    reserved = func.sum(both.c.reserved)
    open_reserved = func.sum(both.c.open_reserved)
    serial_items = func.sum(both.c.serial_items)
    tracked = func.max(both.c.tracked)
    rows = session.execute(
        select(
            both.c.location_id,
            both.c.batch_id,
            balance_qty,
            ledger_qty,
            reserved,
            open_reserved,
            serial_items,
            tracked,
        )
        .group_by(both.c.location_id, both.c.batch_id)
        .having(
            (balance_qty != ledger_qty)
            | (reserved != open_reserved)
            | (reserved < 0)
            | (reserved > balance_qty)
            | ((tracked > 0) & (serial_items != balance_qty))
        )
        .order_by(both.c.location_id, both.c.batch_id)
    )
    found = []
    for loc, batch, qty, moved, cached, open_, items, is_tracked in rows:
        numbers = [int(v) for v in (qty, moved, cached, open_, items)]  # PG sums as numeric
        kinds = []
        if numbers[0] != numbers[1]:
            kinds.append(DiscrepancyKind.QTY)
        if numbers[2] != numbers[3] or numbers[2] < 0 or numbers[2] > numbers[0]:
            kinds.append(DiscrepancyKind.RESERVED)
        if is_tracked and numbers[4] != numbers[0]:
            kinds.append(DiscrepancyKind.SERIAL)
        found.extend(Discrepancy(kind, loc, batch, *numbers) for kind in kinds)
    return found


def describe(session: Session, found: Iterable[Discrepancy]) -> list[str]:
    """Each difference in words, in the reader's language (one query for all the names)."""
    found = list(found)
    keys = {(d.location_id, d.batch_id) for d in found if d.location_id is not None}
    names = {}
    if keys:
        names = {
            (row.location_id, row.batch_id): row
            for row in session.execute(
                select(
                    Location.id.label("location_id"),
                    Batch.id.label("batch_id"),
                    Location.code.label("location"),
                    Warehouse.name.label("warehouse"),
                    Batch.batch_no.label("batch"),
                    Material.name.label("material"),
                )
                .join(Warehouse, Warehouse.id == Location.warehouse_id)
                .join(Batch, tuple_(Location.id, Batch.id).in_(keys))
                .join(Material, Material.id == Batch.material_id)
            )
        }
    lines = []
    for d in found:
        row = names.get((d.location_id, d.batch_id))
        if row is not None:
            place = _(
                "%(warehouse)s %(location)s, %(material)s batch %(batch)s",
                warehouse=row.warehouse,
                location=row.location,
                material=row.material,
                batch=row.batch,
            )
        else:
            place = _("No location, batch id %(batch)s", batch=d.batch_id)
        if d.kind is DiscrepancyKind.QTY:
            what = _(
                "the balance holds %(balance)s but its movements sum to %(ledger)s",
                balance=d.balance_qty,
                ledger=d.ledger_qty,
            )
        elif d.kind is DiscrepancyKind.RESERVED:
            what = _(
                "%(reserved)s reserved in the balance, %(open)s in open reservations "
                "(on hand %(balance)s)",
                reserved=d.reserved,
                open=d.open_reserved,
                balance=d.balance_qty,
            )
        else:
            what = _(
                "the balance holds %(balance)s but %(items)s serial items are in stock there",
                balance=d.balance_qty,
                items=d.serial_items,
            )
        lines.append(f"{place}: {what}")
    return lines
