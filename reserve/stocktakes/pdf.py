"""盘点表 PDF (the count sheet for counting on paper): a plain dataclass in, bytes out (reportlab,
the embedded font of ``reserve.pdf_fonts``, no Flask). Lines walk the warehouse in location code
order (排-列-层), with blank count and note columns; a blind stocktake prints no book quantity;
expired and near-expiry batches are flagged (``reserve.stock.expiry``). The paper is the
bureau's, so it is printed in Chinese whatever the reader's language."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from io import BytesIO

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import SimpleDocTemplate, Spacer, Table, TableStyle

from reserve.db import SHANGHAI, local_today
from reserve.pdf_fonts import paper_styles, paragraph, pdf_font, signature_row
from reserve.stock.expiry import ExpiryState, expiry_state

STATUS_NAMES = {
    "counting": "盘点中",
    "submitted": "待审核",
    "posted": "已审核过账",
    "cancelled": "已作废",
}
FLAG_NAMES = {ExpiryState.EXPIRED: "过期", ExpiryState.NEAR: "临期"}
# (header, width in mm); the book column is left out of a blind count sheet. 267 mm in all.
COLUMNS = (
    ("序号", 10),
    ("库位", 20),
    ("物资编码", 24),
    ("名称", 32),
    ("规格", 34),
    ("单位", 11),
    ("批号", 26),
    ("有效期", 28),
    ("账面数量", 20),
    ("实盘数量", 24),
    ("备注", 38),
)
BOOK = "账面数量"


@dataclass(frozen=True)
class CountSheetLine:
    location: str
    code: str
    name: str
    spec: str
    unit: str
    batch_no: str
    expiry_date: date | None
    near_expiry_days: int
    book_qty: int


@dataclass(frozen=True)
class CountSheet:
    no: str
    warehouse: str
    status: str
    is_blind: bool
    scope: str
    created_at: datetime | None = None
    created_by: str | None = None
    note: str | None = None
    printed_on: date | None = None  # the day expiry flags are judged on (default: today)
    lines: list[CountSheetLine] = field(default_factory=list)


def _columns(sheet: CountSheet) -> list[tuple[str, float]]:
    columns = [(name, width) for name, width in COLUMNS if not (sheet.is_blind and name == BOOK)]
    if sheet.is_blind:  # the book column's width goes to the note
        name, width = columns[-1]
        columns[-1] = (name, width + dict(COLUMNS)[BOOK])
    return columns


def _header(sheet: CountSheet, s: dict[str, ParagraphStyle]) -> Table:
    opened = (
        sheet.created_at.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M") if sheet.created_at else ""
    )
    kind = "盲盘（不打印账面数量）" if sheet.is_blind else "明盘"
    rows = [
        ("盘点单号", sheet.no, "储备库", sheet.warehouse),
        ("范围", sheet.scope, "盘点方式", kind),
        (
            "开单",
            f"{opened} {sheet.created_by or ''}".strip(),
            "状态",
            STATUS_NAMES.get(sheet.status, sheet.status),
        ),
    ]
    if sheet.note:
        rows.append(("备注", sheet.note, "", ""))
    table = Table(
        [[paragraph(cell, s["base"]) for cell in row] for row in rows],
        colWidths=[22 * mm, 110 * mm, 22 * mm, 113 * mm],
    )
    table.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
                ("TOPPADDING", (0, 0), (-1, -1), 2),
            ]
        )
    )
    return table


def _expiry(line: CountSheetLine, today: date) -> tuple[str, ExpiryState | None]:
    state = expiry_state(line.expiry_date, line.near_expiry_days, today)
    text = line.expiry_date.isoformat() if line.expiry_date else ""
    return (f"{text} {FLAG_NAMES[state]}" if state else text), state


def _lines(sheet: CountSheet, s: dict[str, ParagraphStyle]) -> Table:
    columns = _columns(sheet)
    cell = s["cell"]
    today = sheet.printed_on or local_today()
    data: list[list] = [[paragraph(name, cell) for name, _width in columns]]
    style = [
        ("FONTNAME", (0, 0), (-1, -1), pdf_font()),
        ("FONTSIZE", (0, 0), (-1, -1), 8),
        ("GRID", (0, 0), (-1, -1), 0.5, colors.black),
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e9ecef")),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("TOPPADDING", (0, 1), (-1, -1), 5),
        ("BOTTOMPADDING", (0, 1), (-1, -1), 5),
    ]
    previous = None
    for n, line in enumerate(sheet.lines, start=1):
        expiry, state = _expiry(line, today)
        row = [
            str(n),
            paragraph(line.location, cell),
            paragraph(line.code, cell),
            paragraph(line.name, cell),
            paragraph(line.spec, cell),
            paragraph(line.unit, cell),
            paragraph(line.batch_no, cell),
            paragraph(expiry, cell),
        ]
        if not sheet.is_blind:
            row.append(f"{line.book_qty:,}")
        row += ["", ""]  # 实盘数量 and 备注: written on paper
        data.append(row)
        if state is not None:
            tint = "#f8d7da" if state == ExpiryState.EXPIRED else "#fff3cd"
            style.append(("BACKGROUND", (7, n), (7, n), colors.HexColor(tint)))
        if previous is not None and line.location != previous:  # a new place on the route
            style.append(("LINEABOVE", (0, n), (-1, n), 1.5, colors.black))
        previous = line.location
    if not sheet.is_blind:
        style.append(("ALIGN", (8, 1), (8, -1), "RIGHT"))
    if not sheet.lines:
        data.append([paragraph("（无盘点明细）", cell)] + [""] * (len(columns) - 1))
        style.append(("SPAN", (0, 1), (-1, 1)))
    table = Table(data, colWidths=[w * mm for _name, w in columns], repeatRows=1)
    table.setStyle(TableStyle(style))
    return table


def _signatures(s: dict[str, ParagraphStyle]) -> Table:
    return signature_row(("盘点人", "复核人", "监盘人"), s["base"], 89 * mm)


def _numbered_canvas(no: str):
    """A canvas that prints 盘点单号 and 第 n 页 共 m 页 on every page (m known at the end)."""

    class NumberedCanvas(Canvas):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self._pages: list[dict] = []

        def showPage(self):  # noqa: N802  (reportlab's name)
            self._pages.append(dict(self.__dict__))
            self._startPage()

        def save(self):
            total = len(self._pages)
            for state in self._pages:
                self.__dict__.update(state)
                self._footer(total)
                super().showPage()
            super().save()

        def _footer(self, total: int) -> None:
            width = self._pagesize[0]
            self.saveState()
            self.setFont(pdf_font(), 8)
            self.drawString(15 * mm, 8 * mm, f"盘点单号：{no}")
            self.drawRightString(width - 15 * mm, 8 * mm, f"第 {self._pageNumber} 页 共 {total} 页")
            self.restoreState()

    return NumberedCanvas


def count_sheet_pdf(sheet: CountSheet) -> bytes:
    """盘点表: the header, the lines by location route with blank count columns, the legend
    of the expiry flags and the signature lines; 盘点单号 and the page number on each page."""
    s = paper_styles()
    story: list = [
        paragraph("盘点表", s["title"]),
        Spacer(1, 4 * mm),
        _header(sheet, s),
        Spacer(1, 3 * mm),
        _lines(sheet, s),
        Spacer(1, 3 * mm),
        paragraph(
            f"共 {len(sheet.lines)} 行。有效期栏：“过期”为已过有效期，“临期”为临近有效期。"
            "实盘数量请如实填写，无货填 0；与账面不符时在备注中写明原因。",
            s["base"],
        ),
        Spacer(1, 12 * mm),
        _signatures(s),
    ]
    buffer = BytesIO()
    template = SimpleDocTemplate(
        buffer,
        pagesize=landscape(A4),
        leftMargin=15 * mm,
        rightMargin=15 * mm,
        topMargin=12 * mm,
        bottomMargin=14 * mm,
        title=f"盘点表 {sheet.no}",
        author="Reserve",
    )
    template.build(story, canvasmaker=_numbered_canvas(sheet.no))
    return buffer.getvalue()
