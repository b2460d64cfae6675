"""Receipt fixtures: a kept warehouse, a keeper, three materials (by batch, with a shelf life,
by serial number), and helpers to count what a receipt writes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from reserve.audit.models import AuditEntry
from reserve.auth.actor import Actor
from reserve.auth.models import Role
from reserve.receipts.models import Receipt, ReceiptLine
from reserve.receipts.service import ReceiptData, ReceiptLineData, local_today
from reserve.stock.models import Batch, SerialItem, StockBalance, StockMovement
from reserve.warehouses.models import RECEIVING_CODE, Location

TODAY = local_today()
LAST_MONTH = TODAY - timedelta(days=30)


@dataclass
class Site:
    warehouse: object
    recv: Location
    a1: Location
    keeper: Actor
    tent: object  # by batch, no shelf life
    water: object  # by batch, 730 days shelf life
    pump: object  # by serial number


@pytest.fixture
def site(db, make_warehouse, make_material, make_user) -> Site:
    warehouse = make_warehouse(code="WH-R", name="入库测试库")
    locations = {
        loc.code: loc
        for loc in db.scalars(select(Location).where(Location.warehouse_id == warehouse.id))
    }
    user = make_user(Role.KEEPER, warehouses=[warehouse])
    return Site(
        warehouse=warehouse,
        recv=locations[RECEIVING_CODE],
        a1=locations["A-01-01"],
        keeper=Actor.for_user(user),
        tent=make_material("单帐篷", code="TENT-1", unit="顶"),
        water=make_material("瓶装水", code="WATER-1", unit="箱", shelf_life_days=730),
        pump=make_material("排水泵", code="PUMP-1", unit="台", tracking="serial"),
    )


def line(material, batch_no="B1", qty=10, **fields) -> ReceiptLineData:
    return ReceiptLineData(material_id=material.id, batch_no=batch_no, qty=qty, **fields)


def receipt_data(site: Site, *lines: ReceiptLineData, **fields) -> ReceiptData:
    values = dict(
        warehouse_id=site.warehouse.id,
        source="purchase",
        document_date=TODAY,
        supplier="济南鲁锦家纺有限公司",
        funding_source="市级财政",
        paper_no="JNCG-2026-018",
        lines=lines or (line(site.tent),),
    )
    values.update(fields)
    return ReceiptData(**values)


def counts(db) -> dict[str, int]:
    return {
        model.__name__: db.scalar(select(func.count()).select_from(model))
        for model in (
            Receipt,
            ReceiptLine,
            Batch,
            SerialItem,
            StockBalance,
            StockMovement,
            AuditEntry,
        )
    }


def balance(db, location, batch_id) -> int | None:
    return db.scalar(
        select(StockBalance.qty).where(
            StockBalance.location_id == location.id, StockBalance.batch_id == batch_id
        )
    )
