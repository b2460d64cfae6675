"""调用通知单 (the call-up notice) as a PDF: a plain dataclass in, bytes out (reportlab, the
font of ``reserve.pdf_fonts``, no Flask). The paper goes to the enterprise, so it is printed in
Chinese whatever the reader's language."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from io import BytesIO

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.platypus import SimpleDocTemplate, Spacer, Table, TableStyle

from reserve.db import SHANGHAI
from reserve.pdf_fonts import paper_styles, paragraph, signature_row

STATUS_NAMES = {
    "requested": "待企业确认",
    "shipped": "已发运，待补储",
    "replenished": "已补储",
    "cancelled": "已撤销",
}
KIND_NAMES = {"stock": "实物代储", "capacity": "产能储备"}


@dataclass(frozen=True)
class CallUpNotice:
    no: str
    status: str
    enterprise: str
    agreement_no: str
    line_no: int
    kind: str
    material_code: str
    material_name: str
    unit: str
    qty: int
    needed_by: datetime
    respond_by: datetime
    deliver_to: str
    purpose: str | None
    source: str | None
    requested_by: str
    requested_at: datetime
    shipped_qty: int | None = None
    vehicle: str | None = None
    replenish_due_on: date | None = None


def _time(value: datetime | None) -> str:
    return value.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M") if value else ""


def call_up_notice_pdf(doc: CallUpNotice) -> bytes:
    """调用通知单: who is called on for what, how much, by when and where to, and the
    signature lines of the bureau and the enterprise."""
    s = paper_styles()
    rows = [
        ("通知单号", doc.no, "状态", STATUS_NAMES.get(doc.status, doc.status)),
        ("代储企业", doc.enterprise, "协议编号", f"{doc.agreement_no} 第 {doc.line_no} 行"),
        ("物资", f"{doc.material_code} {doc.material_name}", "储备方式", KIND_NAMES[doc.kind]),
        ("调用数量", f"{doc.qty:,} {doc.unit}", "需求时间", _time(doc.needed_by)),
        ("送达地点", doc.deliver_to, "响应期限", _time(doc.respond_by)),
        ("用途", doc.purpose or "", "来源单据", doc.source or ""),
        ("调用人", doc.requested_by, "调用时间", _time(doc.requested_at)),
    ]
    if doc.shipped_qty is not None:
        rows.append(("发运数量", f"{doc.shipped_qty:,} {doc.unit}", "车辆", doc.vehicle or ""))
        rows.append(("补储期限", doc.replenish_due_on.isoformat(), "", ""))
    table = Table(
        [[paragraph(str(cell), s["base"]) for cell in row] for row in rows],
        colWidths=[22 * mm, 63 * mm, 22 * mm, 63 * mm],
    )
    table.setStyle(
        TableStyle(
            [
                ("GRID", (0, 0), (-1, -1), 0.5, colors.black),
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                ("BACKGROUND", (0, 0), (0, -1), colors.HexColor("#e9ecef")),
                ("BACKGROUND", (2, 0), (2, -1), colors.HexColor("#e9ecef")),
            ]
        )
    )
    story = [
        paragraph("应急物资调用通知单", s["title"]),
        Spacer(1, 6 * mm),
        table,
        Spacer(1, 6 * mm),
        paragraph(
            "请按代储协议约定的响应时限组织发运，并在发运后如实确认发运数量、车辆与驾驶员；"
            "发运后须在补储期限内补足协议储备数量。",
            s["base"],
        ),
        Spacer(1, 14 * mm),
        signature_row(("调度员", "审批人", "企业确认"), s["base"], 56 * mm),
    ]
    buffer = BytesIO()
    SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=20 * mm,
        rightMargin=20 * mm,
        topMargin=18 * mm,
        bottomMargin=18 * mm,
        title=f"调用通知单 {doc.no}",
        author="Reserve",
    ).build(story)
    return buffer.getvalue()
