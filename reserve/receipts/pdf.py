"""入库单 PDF: a plain dataclass in, bytes out (reportlab, the embedded font of
``reserve.pdf_fonts``, no Flask). The paper is the bureau's, so it is printed in Chinese
whatever the reader's language."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from io import BytesIO

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import SimpleDocTemplate, Spacer, Table, TableStyle

from reserve.db import SHANGHAI
from reserve.pdf_fonts import paper_styles, paragraph, pdf_font, signature_row

SOURCE_NAMES = {
    "purchase": "采购",
    "donation": "捐赠",
    "transfer_in": "调入",
    "higher_allocation": "上级调拨",
    "return": "回收",
    "agreement_call_up": "协议调用",
}
STATUS_NAMES = {"draft": "草稿（未过账）", "posted": "已过账", "cancelled": "已作废"}
HEADERS = (
    "序号",
    "物资编码",
    "名称",
    "规格",
    "单位",
    "批号",
    "生产日期",
    "有效期",
    "库位",
    "数量",
    "单价",
    "金额",
)
COLUMN_MM = (10, 26, 30, 40, 11, 26, 21, 21, 19, 18, 20, 25)  # 267 mm


@dataclass(frozen=True)
class ReceiptDocumentLine:
    code: str
    name: str
    spec: str
    unit: str
    batch_no: str
    production_date: date | None
    expiry_date: date | None
    location: str
    qty: int
    unit_cost: Decimal | None = None
    serials: tuple[str, ...] = ()
    expiry_reason: str | None = None  # 过期/临期入库的确认理由

    @property
    def value(self) -> Decimal | None:
        return None if self.unit_cost is None else self.unit_cost * self.qty


@dataclass(frozen=True)
class ReceiptDocument:
    no: str
    status: str
    warehouse: str
    source: str
    document_date: date
    supplier: str | None = None
    funding_source: str | None = None
    paper_no: str | None = None
    posted_at: datetime | None = None
    created_by: str | None = None  # 制单人, by name (赵保管), not the login
    posted_by: str | None = None  # 过账人, by name
    note: str | None = None
    lines: list[ReceiptDocumentLine] = field(default_factory=list)


def _day(value: date | None) -> str:
    return value.isoformat() if value else ""


def _money(value: Decimal | None) -> str:
    return "" if value is None else f"{value:,.2f}"


def _header(doc: ReceiptDocument, s: dict[str, ParagraphStyle]) -> Table:
    posted = (
        doc.posted_at.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")
        if doc.posted_at
        else STATUS_NAMES.get(doc.status, doc.status)
    )
    rows = [
        ("单号", doc.no, "储备库", doc.warehouse),
        ("入库类型", doc.source, "供应商/来源", doc.supplier),
        ("资金来源", doc.funding_source, "文号/合同号", doc.paper_no),
        ("单据日期", _day(doc.document_date), "过账时间", posted),
        ("制单人", doc.created_by, "过账人", doc.posted_by or "—"),
    ]
    if doc.note:
        rows.append(("备注", doc.note, "", ""))
    table = Table(
        [
            [
                paragraph(a, s["base"]),
                paragraph(b, s["base"]),
                paragraph(c, s["base"]),
                paragraph(d, s["base"]),
            ]
            for a, b, c, d in rows
        ],
        colWidths=[24 * mm, 100 * mm, 28 * mm, 100 * mm],
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


def _lines(doc: ReceiptDocument, s: dict[str, ParagraphStyle]) -> Table:
    cell = s["cell"]
    data: list[list] = [[paragraph(h, cell) for h in HEADERS]]
    for n, line in enumerate(doc.lines, start=1):
        data.append(
            [
                str(n),
                paragraph(line.code, cell),
                paragraph(line.name, cell),
                paragraph(line.spec, cell),
                paragraph(line.unit, cell),
                paragraph(line.batch_no, cell),
                _day(line.production_date),
                _day(line.expiry_date),
                paragraph(line.location, cell),
                f"{line.qty:,}",
                _money(line.unit_cost),
                _money(line.value),
            ]
        )
    values = [line.value for line in doc.lines if line.value is not None]
    total_value = sum(values, Decimal(0)) if values else None
    data.append(
        [
            paragraph("合计", cell),
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            f"{sum(line.qty for line in doc.lines):,}",
            "",
            _money(total_value),
        ]
    )
    table = Table(data, colWidths=[w * mm for w in COLUMN_MM], repeatRows=1)
    table.setStyle(
        TableStyle(
            [
                ("FONTNAME", (0, 0), (-1, -1), pdf_font()),
                ("FONTSIZE", (0, 0), (-1, -1), 8),
                ("GRID", (0, 0), (-1, -1), 0.5, colors.black),
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e9ecef")),
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                ("ALIGN", (9, 1), (-1, -1), "RIGHT"),
                ("SPAN", (0, -1), (8, -1)),
            ]
        )
    )
    return table


def _signatures(s: dict[str, ParagraphStyle]) -> Table:
    return signature_row(("验收人", "保管员", "审核人"), s["base"], 84 * mm)


def _footer(canvas, template) -> None:
    canvas.saveState()
    canvas.setFont(pdf_font(), 8)
    canvas.drawRightString(
        template.pagesize[0] - 15 * mm, 8 * mm, f"第 {canvas.getPageNumber()} 页"
    )
    canvas.restoreState()


def receipt_pdf(doc: ReceiptDocument) -> bytes:
    """入库单: header, the lines with totals, serial numbers, and the signature lines."""
    s = paper_styles()
    story: list = [
        paragraph("入库单", s["title"]),
        Spacer(1, 4 * mm),
        _header(doc, s),
        Spacer(1, 4 * mm),
        _lines(doc, s),
    ]
    serial_lines = [(n, line) for n, line in enumerate(doc.lines, start=1) if line.serials]
    if serial_lines:
        story.append(Spacer(1, 3 * mm))
        story.append(paragraph("单品序列号", s["base"]))
        for n, line in serial_lines:
            story.append(paragraph(f"第 {n} 行 {line.name}：{'、'.join(line.serials)}", s["small"]))
    confirmed = [(n, line) for n, line in enumerate(doc.lines, start=1) if line.expiry_reason]
    if confirmed:
        story.append(Spacer(1, 3 * mm))
        story.append(paragraph("过期/临期批次入库确认", s["base"]))
        for n, line in confirmed:
            story.append(
                paragraph(
                    f"第 {n} 行 {line.name} 批号 {line.batch_no}（有效期 "
                    f"{_day(line.expiry_date)}）：{line.expiry_reason}",
                    s["small"],
                )
            )
    story += [Spacer(1, 12 * mm), _signatures(s)]
    buffer = BytesIO()
    template = SimpleDocTemplate(
        buffer,
        pagesize=landscape(A4),
        leftMargin=15 * mm,
        rightMargin=15 * mm,
        topMargin=12 * mm,
        bottomMargin=14 * mm,
        title=f"入库单 {doc.no}",
        author="Reserve",
    )
    template.build(story, onFirstPage=_footer, onLaterPages=_footer)
    return buffer.getvalue()
