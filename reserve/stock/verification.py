"""核对: ``ledger.verify`` rebuilds every cache the ledger keeps and names each difference.

One pass over each table, side by side (UNION ALL) and grouped once per (location, batch):
the balance's quantity against the sum of its movements, its ``reserved`` against the open
remainders of its reservations, and, for serial-tracked materials, its quantity against the
serial items in stock there."""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from time import perf_counter

from flask_babel import gettext as _
from sqlalchemy import (
    BigInteger,
    case,
    cast,
    func,
    literal,
    select,
    tuple_,
    union,
    union_all,
)
from sqlalchemy.orm import Session

from reserve.catalog.models import Material
from reserve.db import transaction, utcnow
from reserve.stock.models import (
    Batch,
    ItemStatus,
    ReservationStatus,
    SerialItem,
    StockBalance,
    StockMovement,
    StockReservation,
    VerificationRun,
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


@dataclass(frozen=True)
class Since:
    """What ``verify --since`` starts from: the last clean run's highest movement id and the
    time it began (reservations opened or closed since then count as touching their place)."""

    movement_id: int
    at: datetime


# A movement takes its id when it is written and becomes visible when its transaction commits:
# one written just before a run began but committed after the run read the highest id has a
# lower id than the run's mark. Ledger transactions last milliseconds; what was posted in the
# quarter of an hour before a run is read again by the next incremental one.
IN_FLIGHT = timedelta(minutes=15)


def touched_places(since: Since):
    """The (location, batch) places with a movement after ``since.movement_id`` (or posted
    within ``IN_FLIGHT`` before the run began), or a reservation changed since ``since.at``
    (opened, part consumed or released, closed): a SELECT of (location_id, batch_id)."""
    return union(
        select(StockMovement.location_id, StockMovement.batch_id).where(
            StockMovement.id > since.movement_id
        ),
        select(StockMovement.location_id, StockMovement.batch_id).where(
            StockMovement.posted_at >= since.at - IN_FLIGHT
        ),
        select(StockReservation.location_id, StockReservation.batch_id).where(
            StockReservation.changed_at >= since.at
        ),
    )


def verify(session: Session, *, since: Since | None = None) -> list[Discrepancy]:
    """核对：recompute every balance, reserved quantity and serial count; list each difference.

    Each table is read once, side by side: every row adds what its cache says and subtracts
    what it accounts for, so a (location, batch) whose three sums are not all zero differs.
    (0 ≤ reserved ≤ qty needs no check here: the database's CHECK holds it.) Only the rare
    differing places are then read again for the figures. With ``since``, only the places
    touched since (``touched_places``) are read, each through its indexes, in full."""
    zero = cast(literal(0), BigInteger)
    if since is not None:
        places = touched_places(since).subquery()
        keys = select(places.c.location_id, places.c.batch_id)

        def at_places(stmt, model):
            return stmt.where(tuple_(model.location_id, model.batch_id).in_(keys))
    else:

        def at_places(stmt, _model):
            return stmt

    serial_tracked = select(Material.id).where(Material.tracking == "serial")
    both = union_all(
        at_places(
            select(
                StockBalance.location_id,
                StockBalance.batch_id,
                StockBalance.qty.label("qty_diff"),
                StockBalance.reserved.label("reserved_diff"),
                case(
                    (StockBalance.material_id.in_(serial_tracked), StockBalance.qty), else_=zero
                ).label("serial_diff"),
            ),
            StockBalance,
        ),
        at_places(
            select(
                StockMovement.location_id, StockMovement.batch_id, -StockMovement.qty, zero, zero
            ),
            StockMovement,
        ),
        at_places(
            select(
                StockReservation.location_id,
                StockReservation.batch_id,
                zero,
                StockReservation.consumed_qty
                + StockReservation.released_qty
                - StockReservation.qty,
                zero,
            ).where(StockReservation.status == ReservationStatus.OPEN.value),
            StockReservation,
        ),
        at_places(
            select(
                SerialItem.location_id,
                SerialItem.batch_id,
                zero,
                zero,
                cast(literal(-1), BigInteger),
            ).where(SerialItem.status == ItemStatus.IN_STOCK.value),
            SerialItem,
        ),
    ).subquery()
    qty_diff = func.sum(both.c.qty_diff)
    reserved_diff = func.sum(both.c.reserved_diff)
    serial_diff = func.sum(both.c.serial_diff)
    differing = session.execute(
        select(both.c.location_id, both.c.batch_id, qty_diff, reserved_diff, serial_diff)
        .group_by(both.c.location_id, both.c.batch_id)
        .having((qty_diff != 0) | (reserved_diff != 0) | (serial_diff != 0))
        .order_by(both.c.location_id, both.c.batch_id)
    ).all()
    if not differing:
        return []
    balances = _balances_at(session, [(row[0], row[1]) for row in differing])
    found = []
    for loc, batch, qty_d, reserved_d, serial_d in differing:
        qty, reserved, tracked = balances.get((loc, batch), (0, 0, False))
        qty_d, reserved_d, serial_d = int(qty_d), int(reserved_d), int(serial_d)  # PG: numeric
        figures = (qty, qty - qty_d, reserved, reserved - reserved_d, qty * tracked - serial_d)
        for kind, diff in (
            (DiscrepancyKind.QTY, qty_d),
            (DiscrepancyKind.RESERVED, reserved_d),
            (DiscrepancyKind.SERIAL, serial_d),
        ):
            if diff:
                found.append(Discrepancy(kind, loc, batch, *figures))
    return found


def _balances_at(session: Session, keys: list[tuple]) -> dict[tuple, tuple[int, int, bool]]:
    """qty, reserved and whether serial-tracked, of the balances at these places."""
    rows = {}
    known = [key for key in keys if key[0] is not None]
    for start in range(0, len(known), 500):
        chunk = known[start : start + 500]
        for loc, batch, qty, reserved, tracking in session.execute(
            select(
                StockBalance.location_id,
                StockBalance.batch_id,
                StockBalance.qty,
                StockBalance.reserved,
                Material.tracking,
            )
            .join(Material, Material.id == StockBalance.material_id)
            .where(tuple_(StockBalance.location_id, StockBalance.batch_id).in_(chunk))
        ):
            rows[(loc, batch)] = (int(qty), int(reserved), tracking == "serial")
    return rows


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


@dataclass(frozen=True)
class VerificationResult:
    found: list[Discrepancy]
    run: VerificationRun
    since_run: VerificationRun | None  # the clean run an incremental one started after


def run_verification(session: Session, *, since: bool = False) -> VerificationResult:
    """``flask stock verify [--since]``: verify everything, or (``since``) only the places
    touched after the last clean run — everything when no run is recorded — and record the
    run with the highest movement id it covered (read before it began: what is posted during
    the run is covered by the next). The record is committed on its own, after the reading."""
    started, clock = utcnow(), perf_counter()
    through = session.scalar(select(func.coalesce(func.max(StockMovement.id), 0)))
    last = None
    if since:
        last = session.scalar(
            select(VerificationRun)
            .where(VerificationRun.differences == 0)
            .order_by(VerificationRun.id.desc())
            .limit(1)
        )
    scope = Since(last.through_movement_id, last.started_at) if last is not None else None
    found = verify(session, since=scope)
    if scope is None:
        places = session.scalar(select(func.count()).select_from(StockBalance))
    else:
        places = session.scalar(select(func.count()).select_from(touched_places(scope).subquery()))
    run = VerificationRun(
        started_at=started,
        through_movement_id=int(through),
        incremental=scope is not None,
        since_run_id=last.id if last is not None else None,
        places=int(places or 0),
        differences=len(found),
        seconds=round(perf_counter() - clock, 3),
    )
    with transaction(session):
        session.add(run)
    return VerificationResult(found, run, last)
