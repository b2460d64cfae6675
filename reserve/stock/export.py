"""The stock card as an Excel workbook (openpyxl, write-only: fine for 100,000 rows)."""

from __future__ import annotations

import io
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from openpyxl import Workbook
from openpyxl.styles import Font

from reserve.db import SHANGHAI


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
    workbook = Workbook(write_only=True)
    ws = workbook.create_sheet(sheet.title[:31])
    bold = Font(bold=True)
    from openpyxl.cell import WriteOnlyCell

    def heading(text: str):
        cell = WriteOnlyCell(ws, value=text)
        cell.font = bold
        return cell

    ws.append([heading(sheet.title)])
    ws.append([sheet.material, sheet.unit, sheet.scope])
    ws.append([heading(h) for h in sheet.headers])
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
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
