"""The stock card as an Excel workbook, written by the shared safe writer (``reserve.export``):
a keeper's batch number or note is text in the sheet, never a formula, and a stray control
character cannot make the export fail."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from reserve.db import SHANGHAI
from reserve.export import XlsxWriter


@dataclass(frozen=True)
class CardSheet:
    """What the sheet's heading says; the rows come as ``CardRow`` from the queries."""

    title: str
    material: str
    unit: str
    scope: str
    headers: tuple[str, ...]
    kind_labels: dict[str, str]


def stock_card_workbook(sheet: CardSheet, rows: Iterable) -> bytes:
    writer = XlsxWriter()
    ws = writer.sheet(sheet.title)
    ws.heading([sheet.title])
    ws.append([sheet.material, sheet.unit, sheet.scope])
    ws.heading(sheet.headers)
    for row in rows:
        posted: datetime = row.posted_at.astimezone(SHANGHAI).replace(tzinfo=None)
        ws.append(
            [
                posted,
                row.document_date,
                sheet.kind_labels.get(row.kind, row.kind),
                row.document_no or "",
                row.warehouse_name,
                row.location_code,
                row.batch_no,
                row.qty if row.qty > 0 else None,
                -row.qty if row.qty < 0 else None,
                row.balance,
                row.username,
                row.note or "",
            ]
        )
    return writer.to_bytes()


@dataclass(frozen=True)
class StockSheet:
    """The stock list's sheet: its title, the filter it was made with, the column headers."""

    title: str
    scope: str
    headers: tuple[str, ...]


def stock_list_workbook(sheet: StockSheet, rows: Iterable) -> bytes:
    """库存导出: one row per material (``StockRow``), the warehouses holding it by name."""
    writer = XlsxWriter()
    ws = writer.sheet(sheet.title)
    ws.heading([sheet.title])
    ws.append([sheet.scope])
    ws.heading(sheet.headers)
    for row in rows:
        held_in = "、".join(h.name for h in row.holders)
        if row.more_holders:
            held_in += f" +{row.more_holders}"
        ws.append(
            [
                row.code,
                row.name,
                row.spec or "",
                row.category,
                row.unit,
                row.qty,
                row.reserved,
                row.available,
                row.expired_qty,
                row.near_expiry_qty,
                row.nearest_expiry,
                row.warehouses,
                held_in,
            ]
        )
    return writer.to_bytes()
