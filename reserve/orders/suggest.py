"""货源建议: for each line of an order, where its quantity can come from.

Per line, in this order:
1. physical stock of the bureau's warehouses, nearest warehouse first (great-circle distance ×
   ``road_factor``), and within a warehouse first expiry first (``reserve.stock.queries``'
   FEFO rule: an expired batch is never offered); a transfer's own destination warehouse is never
   a source;
2. then agreement lines that can still be called up (``AgreementLine.callable_expr()``, of
   agreements in force, active enterprises), shortest response time first.

Each proposal carries the quantity it gives, what is available there, the distance and the
expected arrival (loading hours + distance / truck speed, or the enterprise's response hours). A
line that cannot be filled says by how much (``short``). The whole order takes two statements:
one for the stock of every material, one for the agreement lines.

``standard_warnings`` is the hook of the reserve standards (issue 14): what the takes would push
below a warehouse's or region's reserve standard (``reserve.standards.shortfall``)."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import case, select
from sqlalchemy.orm import Session, aliased

from reserve.agreements.models import (
    Agreement,
    AgreementLine,
    AgreementStatus,
    Enterprise,
    EnterpriseStatus,
)
from reserve.db import local_today, utcnow
from reserve.standards.shortfall import warnings_for_lines, warnings_for_takes
from reserve.stock.models import Batch, StockBalance
from reserve.stock.queries import _usable
from reserve.warehouses.models import Location, Warehouse

EARTH_KM = 6371.0


@dataclass(frozen=True)
class Proposal:
    """One source proposed for a line."""

    kind: str  # "stock" | "agreement"
    qty: int
    available: int
    distance_km: Decimal | None
    expected_at: datetime | None
    warehouse_id: int | None = None
    warehouse_name: str | None = None
    location_id: int | None = None
    location_code: str | None = None
    batch_id: int | None = None
    batch_no: str | None = None
    expiry_date: date | None = None
    agreement_line_id: int | None = None
    agreement_no: str | None = None
    enterprise_name: str | None = None
    response_hours: int | None = None


@dataclass
class LineSuggestion:
    material_id: int
    requested: int
    proposals: list[Proposal] = field(default_factory=list)
    warnings: list = field(default_factory=list)

    @property
    def covered(self) -> int:
        return sum(p.qty for p in self.proposals)

    @property
    def short(self) -> int:
        """How much of the line no source can give."""
        return max(self.requested - self.covered, 0)


def great_circle_km(lat1, lng1, lat2, lng2) -> float:
    """The haversine distance between two points, in kilometres."""
    p1, p2 = math.radians(float(lat1)), math.radians(float(lat2))
    dp, dl = p2 - p1, math.radians(float(lng2) - float(lng1))
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_KM * math.asin(min(1.0, math.sqrt(a)))


def standard_warnings(session: Session, *, material_id: int, takes: dict[int, int]) -> list:
    """The reserve standards' warnings (issue 14): ``takes`` maps a warehouse id to the quantity
    of ``material_id`` the suggestion takes from it; the result lists each standard of those
    warehouses, or of the regions above them, whose shortfall (or physical shortfall) the takes
    would open or deepen (``reserve.standards.shortfall.StandardWarning``, shown under the
    line); two statements."""
    return warnings_for_takes(session, material_id=material_id, takes=takes)


def _stock_rows(session: Session, material_ids: Sequence[int], today: date):
    """The available (location, batch) quantities of every material, one statement, FEFO."""
    batch = aliased(Batch)
    return session.execute(
        select(
            StockBalance.material_id,
            StockBalance.warehouse_id,
            Location.id,
            Location.code,
            batch.id,
            batch.batch_no,
            batch.expiry_date,
            (StockBalance.qty - StockBalance.reserved).label("available"),
        )
        .join(Location, Location.id == StockBalance.location_id)
        .join(batch, batch.id == StockBalance.batch_id)
        .where(
            StockBalance.material_id.in_(list(material_ids)),
            # the batch's own material (the same): lets the planner read the batches of these
            # materials by ix_batches_material_expiry instead of hashing every batch
            batch.material_id.in_(list(material_ids)),
            StockBalance.qty - StockBalance.reserved > 0,
            _usable(batch.expiry_date, today),
        )
        .order_by(
            case((batch.expiry_date.is_(None), 1), else_=0),
            batch.expiry_date,
            batch.received_at,
            batch.id,
            Location.code,
        )
    ).all()


def _agreement_rows(session: Session, material_ids: Sequence[int], today: date):
    return session.execute(
        select(
            AgreementLine.material_id,
            AgreementLine.id,
            AgreementLine.callable_expr().label("callable"),
            Agreement.no,
            Agreement.response_hours,
            Enterprise.name,
        )
        .join(Agreement, Agreement.id == AgreementLine.agreement_id)
        .join(Enterprise, Enterprise.id == Agreement.enterprise_id)
        .where(
            AgreementLine.material_id.in_(list(material_ids)),
            Agreement.status == AgreementStatus.ACTIVE.value,
            Agreement.valid_from <= today,
            Agreement.valid_to >= today,
            Enterprise.status == EnterpriseStatus.ACTIVE.value,
            AgreementLine.callable_expr() > 0,
        )
        .order_by(Agreement.response_hours, Agreement.no, AgreementLine.id)
    ).all()


def suggest(
    session: Session,
    *,
    lines: Iterable[tuple[int, int]],
    destination: tuple | None,
    destination_warehouse_id: int | None = None,
    road_factor: float = 1.3,
    truck_kmh: float = 60,
    loading_hours: float = 2,
    today: date | None = None,
) -> list[LineSuggestion]:
    """The proposals for ``lines`` ((material id, quantity) pairs) going to ``destination``
    ((lat, lng) or None: distances unknown, warehouses then by name)."""
    today = today or local_today()
    now = utcnow()
    wanted = list(lines)
    material_ids = sorted({m for m, _ in wanted})
    # the warehouses' columns only (no ORM objects), and each one's sort key computed once
    warehouses = {
        w.id: w
        for w in session.execute(
            select(Warehouse.id, Warehouse.name, Warehouse.lat, Warehouse.lng).where(
                Warehouse.is_active.is_(True)
            )
        )
        if w.id != destination_warehouse_id
    }
    distance: dict[int, float | None] = {}
    for w in warehouses.values():
        if destination is None or w.lat is None:
            distance[w.id] = None
        else:
            distance[w.id] = great_circle_km(destination[0], destination[1], w.lat, w.lng) * (
                road_factor
            )
    rank = {wid: (d is None, d or 0.0, warehouses[wid].name) for wid, d in distance.items()}
    by_material: dict[int, list] = defaultdict(list)
    for row in _stock_rows(session, material_ids, today):
        if row[1] in rank:
            by_material[row[0]].append(row)
    agreements: dict[int, list] = defaultdict(list)
    for row in _agreement_rows(session, material_ids, today):
        agreements[row.material_id].append(row)

    def warehouse_key(row):
        return rank[row[1]]

    result = []
    for material_id, qty in wanted:
        line = LineSuggestion(material_id=material_id, requested=qty)
        left = qty
        # stable sort: FEFO order kept within each warehouse
        for row in sorted(by_material[material_id], key=warehouse_key):
            if left <= 0:
                break
            take = min(left, row.available)
            d = distance[row.warehouse_id]
            line.proposals.append(
                Proposal(
                    kind="stock",
                    qty=take,
                    available=row.available,
                    distance_km=None if d is None else Decimal(f"{d:.1f}"),
                    expected_at=now + timedelta(hours=loading_hours + (d or 0) / truck_kmh),
                    warehouse_id=row.warehouse_id,
                    warehouse_name=warehouses[row.warehouse_id].name,
                    location_id=row[2],
                    location_code=row.code,
                    batch_id=row[4],
                    batch_no=row.batch_no,
                    expiry_date=row.expiry_date,
                )
            )
            left -= take
        for row in agreements[material_id]:
            if left <= 0:
                break
            take = min(left, row.callable)
            line.proposals.append(
                Proposal(
                    kind="agreement",
                    qty=take,
                    available=row.callable,
                    distance_km=None,
                    expected_at=now + timedelta(hours=row.response_hours),
                    agreement_line_id=row[1],
                    agreement_no=row.no,
                    enterprise_name=row.name,
                    response_hours=row.response_hours,
                )
            )
            left -= take
        result.append(line)
    _warn(session, result)
    return result


def _warn(session: Session, lines: list[LineSuggestion]) -> None:
    """Each line's ``standard_warnings``, for every line at once (the same rule, batched: the
    standards' statements are run once per order, not once per line)."""
    takes: dict[int, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    for line in lines:
        for p in line.proposals:
            if p.warehouse_id is not None:
                takes[line.material_id][p.warehouse_id] += p.qty
    found = warnings_for_lines(session, takes={m: dict(t) for m, t in takes.items()})
    for line in lines:
        line.warnings = list(found.get(line.material_id, []))


def for_order(session: Session, order, **config) -> list[LineSuggestion]:
    """The proposals for an order's lines, to its destination (a site's position, or the
    destination warehouse's)."""
    if order.destination_warehouse_id is not None:
        w = session.get(Warehouse, order.destination_warehouse_id)
        point = (w.lat, w.lng) if w.lat is not None else None
    else:
        point = (order.site_lat, order.site_lng) if order.site_lat is not None else None
    return suggest(
        session,
        lines=[(line.material_id, line.requested_qty) for line in order.lines],
        destination=point,
        destination_warehouse_id=order.destination_warehouse_id,
        **config,
    )
