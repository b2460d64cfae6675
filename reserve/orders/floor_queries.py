"""The floor's read side: the order scope, pick lists (by location route), a keeper's open pick
lists (paged by key), and an order's sources with their floor figures, shipments, receipts and
returns for the order page's floor panel. Aggregated in SQL; no lazy loads in loops."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import ColumnElement, and_, exists, func, or_, select
from sqlalchemy.orm import Session

from reserve.agreements.callup_models import CallUp
from reserve.agreements.models import Enterprise
from reserve.auth.actor import Actor
from reserve.catalog.models import Material
from reserve.db import KeyPage, seek_page, utcnow
from reserve.orders.floor_models import (
    OrderReceipt,
    OrderReceiptLine,
    OrderReturn,
    OrderShipment,
    OrderShipmentLine,
)
from reserve.orders.models import (
    AllocationOrder,
    Event,
    OrderKind,
    OrderLine,
    OrderSource,
    OrderStatus,
    SourceKind,
)
from reserve.orders.pdf import DeliveryNote, NoteLine, PickLine, PickListPaper
from reserve.stock.models import Batch
from reserve.warehouses.models import Location, Warehouse

PICKABLE = (OrderStatus.APPROVED.value, OrderStatus.PICKING.value)


def order_scope(actor: Actor) -> ColumnElement[bool]:
    """Which orders the actor sees: the office every one (``Actor.visible`` is true); a keeper
    those with a source in, or a destination at, a warehouse they keep; an enterprise none."""
    return or_(
        exists(
            select(OrderSource.id).where(
                OrderSource.order_id == AllocationOrder.id,
                actor.visible(OrderSource.warehouse_id),
            )
        ),
        actor.visible(AllocationOrder.destination_warehouse_id),
    )


@dataclass(frozen=True)
class PickRow:
    """One row of a pick list: take ``qty - picked`` of this batch from this location."""

    source_id: int
    location_id: int
    location_code: str
    batch_id: int
    batch_no: str
    expiry_date: date | None
    material_code: str
    material_name: str
    spec: str | None
    unit: str
    tracking: str
    qty: int
    picked: int
    shipped: int
    note: str | None

    @property
    def to_pick(self) -> int:
        return self.qty - self.picked


def pick_list(session: Session, *, order_id: int, warehouse_id: int) -> list[PickRow]:
    """拣货单: the stock sources of the order in one warehouse, in location route order (库位
    编码), then material and batch."""
    rows = session.execute(
        select(
            OrderSource.id,
            Location.id,
            Location.code,
            Batch.id,
            Batch.batch_no,
            Batch.expiry_date,
            Material.code,
            Material.name,
            Material.spec,
            Material.unit,
            Material.tracking,
            OrderSource.qty,
            OrderSource.picked_qty,
            OrderSource.shipped_qty,
            OrderSource.note,
        )
        .join(Location, Location.id == OrderSource.location_id)
        .join(Batch, Batch.id == OrderSource.batch_id)
        .join(OrderLine, OrderLine.id == OrderSource.line_id)
        .join(Material, Material.id == OrderLine.material_id)
        .where(
            OrderSource.order_id == order_id,
            OrderSource.warehouse_id == warehouse_id,
            OrderSource.kind == SourceKind.STOCK.value,
        )
        .order_by(Location.code, Material.code, Batch.batch_no, OrderSource.id)
    ).all()
    return [PickRow(*row) for row in rows]


def source_warehouses(session: Session, order_id: int) -> list[tuple[int, str, str]]:
    """The warehouses the order's stock comes from: (id, code, name), by code."""
    return [
        tuple(row)
        for row in session.execute(
            select(Warehouse.id, Warehouse.code, Warehouse.name)
            .where(
                exists(
                    select(OrderSource.id).where(
                        OrderSource.order_id == order_id,
                        OrderSource.warehouse_id == Warehouse.id,
                    )
                )
            )
            .order_by(Warehouse.code)
        )
    ]


def my_pick_lists(
    session: Session, *, actor: Actor, after: str | None = None, per_page: int = 50
) -> KeyPage:
    """我的拣货单: (order, warehouse) pairs of approved or picking orders with stock still to
    ship from a warehouse this actor writes in, neediest first (needed-by, then id), by key."""
    left = func.sum(OrderSource.qty - OrderSource.shipped_qty)
    stmt = (
        select(
            AllocationOrder.id.label("order_id"),
            AllocationOrder.no,
            AllocationOrder.needed_by,
            AllocationOrder.priority,
            AllocationOrder.is_emergency,
            AllocationOrder.status,
            Warehouse.id.label("warehouse_id"),
            Warehouse.name.label("warehouse_name"),
            func.count(OrderSource.id).label("sources"),
            func.sum(OrderSource.qty - OrderSource.picked_qty).label("to_pick"),
            left.label("to_ship"),
        )
        .join(OrderSource, OrderSource.order_id == AllocationOrder.id)
        .join(Warehouse, Warehouse.id == OrderSource.warehouse_id)
        .where(
            AllocationOrder.status.in_(PICKABLE),
            OrderSource.kind == SourceKind.STOCK.value,
            actor.writable(OrderSource.warehouse_id),
        )
        .group_by(
            AllocationOrder.id,
            AllocationOrder.no,
            AllocationOrder.needed_by,
            AllocationOrder.priority,
            AllocationOrder.is_emergency,
            AllocationOrder.status,
            Warehouse.id,
            Warehouse.name,
        )
        .having(left > 0)
    )
    return seek_page(
        session,
        stmt,
        [(AllocationOrder.needed_by, False), (AllocationOrder.id, False), (Warehouse.id, False)],
        after=after,
        per_page=per_page,
        key_of=lambda row: (row.needed_by, row.order_id, row.warehouse_id),
    )


def open_picks_for(
    session: Session, *, actor: Actor, material_id: int, warehouse_id: int
) -> list[dict]:
    """What a scanned stock label may be picked for: the open stock sources of that material in
    that warehouse (approved or picking orders), with their planned location and batch."""
    if not actor.may_write(warehouse_id):
        return []
    rows = session.execute(
        select(
            OrderSource.id,
            AllocationOrder.no,
            AllocationOrder.id.label("order_id"),
            Location.code,
            Batch.id.label("batch_id"),
            Batch.batch_no,
            OrderSource.location_id,
            (OrderSource.qty - OrderSource.picked_qty).label("to_pick"),
        )
        .join(AllocationOrder, AllocationOrder.id == OrderSource.order_id)
        .join(OrderLine, OrderLine.id == OrderSource.line_id)
        .join(Location, Location.id == OrderSource.location_id)
        .join(Batch, Batch.id == OrderSource.batch_id)
        .where(
            OrderLine.material_id == material_id,
            OrderSource.warehouse_id == warehouse_id,
            OrderSource.kind == SourceKind.STOCK.value,
            OrderSource.picked_qty < OrderSource.qty,
            AllocationOrder.status.in_(PICKABLE),
        )
        .order_by(AllocationOrder.needed_by, AllocationOrder.id, Location.code)
        .limit(20)
    ).all()
    return [
        {
            "source_id": r.id,
            "order_id": r.order_id,
            "order_no": r.no,
            "location_id": r.location_id,
            "location_code": r.code,
            "batch_id": r.batch_id,
            "batch_no": r.batch_no,
            "to_pick": int(r.to_pick),
        }
        for r in rows
    ]


def has_open_picks(session: Session, *, actor: Actor, material_id: int, warehouse_id: int) -> bool:
    """Whether the scan page should offer "pick for order" for stock of this material here."""
    if not actor.may_write(warehouse_id):
        return False
    return (
        session.scalar(
            select(OrderSource.id)
            .join(AllocationOrder, AllocationOrder.id == OrderSource.order_id)
            .join(OrderLine, OrderLine.id == OrderSource.line_id)
            .where(
                OrderLine.material_id == material_id,
                OrderSource.warehouse_id == warehouse_id,
                OrderSource.kind == SourceKind.STOCK.value,
                OrderSource.picked_qty < OrderSource.qty,
                AllocationOrder.status.in_(PICKABLE),
            )
            .limit(1)
        )
        is not None
    )


@dataclass(frozen=True)
class SourceFigures:
    """One source on the floor panel: where from, and how far it has got."""

    id: int
    kind: str
    line_no: int
    material_name: str
    unit: str
    is_returnable: bool
    tracking: str
    place: str  # warehouse · location · batch, or the agreement's enterprise
    warehouse_id: int | None
    qty: int
    picked: int
    shipped: int
    received: int
    short: int
    returned: int
    expected_at: datetime | None
    note: str | None

    @property
    def waiting(self) -> int:
        """Shipped and not yet signed for."""
        return self.shipped - self.received - self.short

    @property
    def is_late(self) -> bool:
        return self.expected_at is not None and self.expected_at < utcnow() and self.waiting_any

    @property
    def waiting_any(self) -> bool:
        return self.received + self.short < self.qty


def source_figures(session: Session, order_id: int) -> list[SourceFigures]:
    """The order's sources with their floor figures (one query)."""
    rows = session.execute(
        select(
            OrderSource,
            OrderLine.line_no,
            Material.name,
            Material.unit,
            Material.is_returnable,
            Material.tracking,
            Warehouse.name.label("warehouse_name"),
            Location.code.label("location_code"),
            Batch.batch_no,
            Enterprise.name.label("enterprise_name"),
        )
        .join(OrderLine, OrderLine.id == OrderSource.line_id)
        .join(Material, Material.id == OrderLine.material_id)
        .outerjoin(Warehouse, Warehouse.id == OrderSource.warehouse_id)
        .outerjoin(Location, Location.id == OrderSource.location_id)
        .outerjoin(Batch, Batch.id == OrderSource.batch_id)
        .outerjoin(CallUp, CallUp.id == OrderSource.call_up_id)
        .outerjoin(Enterprise, Enterprise.id == CallUp.enterprise_id)
        .where(OrderSource.order_id == order_id)
        .order_by(OrderLine.line_no, OrderSource.id)
    ).all()
    result = []
    for r in rows:
        s = r.OrderSource
        place = (
            f"{r.warehouse_name} · {r.location_code} · {r.batch_no}"
            if s.kind == SourceKind.STOCK.value
            else (r.enterprise_name or "—")
        )
        result.append(
            SourceFigures(
                s.id,
                s.kind,
                r.line_no,
                r.name,
                r.unit,
                r.is_returnable,
                r.tracking,
                place,
                s.warehouse_id,
                s.qty,
                s.picked_qty,
                s.shipped_qty,
                s.received_qty,
                s.short_qty,
                s.returned_qty,
                s.expected_at,
                s.note,
            )  # fmt: skip
        )
    return result


def floor_documents(session: Session, order_id: int) -> dict[str, list]:
    """The order's shipments, receipts and returns, oldest first (three small queries)."""
    shipments = session.execute(
        select(OrderShipment, Warehouse.name)
        .join(Warehouse, Warehouse.id == OrderShipment.warehouse_id)
        .where(OrderShipment.order_id == order_id)
        .order_by(OrderShipment.id)
    ).all()
    receipts = session.scalars(
        select(OrderReceipt).where(OrderReceipt.order_id == order_id).order_by(OrderReceipt.id)
    ).all()
    returns = session.scalars(
        select(OrderReturn).where(OrderReturn.order_id == order_id).order_by(OrderReturn.id)
    ).all()
    return {"shipments": shipments, "receipts": receipts, "returns": returns}


def shortfalls(session: Session, order_id: int) -> list[tuple[str, int, str]]:
    """签收差异: (material, missing quantity, reason) of every receipt line short."""
    return [
        tuple(row)
        for row in session.execute(
            select(Material.name, OrderReceiptLine.short_qty, OrderReceiptLine.reason)
            .join(OrderSource, OrderSource.id == OrderReceiptLine.source_id)
            .join(OrderLine, OrderLine.id == OrderSource.line_id)
            .join(Material, Material.id == OrderLine.material_id)
            .where(OrderSource.order_id == order_id, OrderReceiptLine.short_qty > 0)
            .order_by(OrderReceiptLine.id)
        )
    ]


def unshipped_in(session: Session, order_id: int, warehouse_id: int) -> int:
    """Picked and not yet shipped in one warehouse (the ship form's "ready to load")."""
    return int(
        session.scalar(
            select(
                func.coalesce(func.sum(OrderSource.picked_qty - OrderSource.shipped_qty), 0)
            ).where(
                and_(OrderSource.order_id == order_id, OrderSource.warehouse_id == warehouse_id)
            )
        )
        or 0
    )


def pick_list_paper(session: Session, order: AllocationOrder, warehouse_id: int):
    """The pick list's paper (``reserve.orders.pdf.PickListPaper``) of one warehouse."""
    warehouse = session.get(Warehouse, warehouse_id)
    return PickListPaper(
        order_no=order.no,
        warehouse=warehouse.name,
        destination=destination_text(session, order),
        needed_by=order.needed_by,
        is_emergency=order.is_emergency,
        printed_at=utcnow(),
        lines=tuple(
            PickLine(
                r.location_code,
                r.material_code,
                r.material_name,
                r.spec,
                r.batch_no,
                r.expiry_date,
                r.qty,
                r.picked,
                r.unit,
            )  # fmt: skip
            for r in pick_list(session, order_id=order.id, warehouse_id=warehouse_id)
        ),
    )


def destination_text(session: Session, order: AllocationOrder) -> str:
    """目的地 as a paper prints it: the warehouse, or the site's address."""
    if order.destination_warehouse_id:
        return session.get(Warehouse, order.destination_warehouse_id).name
    return order.site_address or ""


def delivery_note(session: Session, shipment: OrderShipment, *, receive_url: str):
    """The delivery note's paper (``reserve.orders.pdf.DeliveryNote``) of one shipment."""
    order = session.get(AllocationOrder, shipment.order_id)
    event = session.get(Event, order.event_id) if order.event_id else None
    rows = session.execute(
        select(
            Material.code,
            Material.name,
            Material.spec,
            Batch.batch_no,
            OrderShipmentLine.qty,
            Material.unit,
            OrderShipmentLine.serial_nos,
        )
        .join(OrderSource, OrderSource.id == OrderShipmentLine.source_id)
        .join(OrderLine, OrderLine.id == OrderSource.line_id)
        .join(Material, Material.id == OrderLine.material_id)
        .join(Batch, Batch.id == OrderSource.batch_id)
        .where(OrderShipmentLine.shipment_id == shipment.id)
        .order_by(OrderLine.line_no, OrderShipmentLine.id)
    ).all()
    contact = " ".join(filter(None, [order.contact_name, order.contact_phone]))
    return DeliveryNote(
        is_transfer=order.kind == OrderKind.TRANSFER.value,
        order_no=order.no,
        shipment_no=shipment.no,
        from_warehouse=session.get(Warehouse, shipment.warehouse_id).name,
        destination=destination_text(session, order),
        requesting_unit=order.requesting_unit,
        contact=contact or "—",
        event=event.name if event else None,
        vehicle_plate=shipment.vehicle_plate,
        driver_name=shipment.driver_name,
        driver_phone=shipment.driver_phone,
        shipped_at=shipment.shipped_at,
        shipped_by=shipment.shipped_by_name,
        receive_url=receive_url,
        lines=tuple(
            NoteLine(r[0], r[1], r[2], r[3], int(r[4]), r[5], tuple(r[6] or ())) for r in rows
        ),
    )
