"""The floor's papers as PDFs: the pick list (拣货单) of one source warehouse, sorted by
location route, and the delivery note (调拨单 for a transfer, 出库单 for a dispatch) of one
shipment, with the signature lines 发货人 / 承运人 / 接收人 and a QR that opens the order's
receive page. Plain dataclasses in, bytes out (reportlab, the font of ``reserve.pdf_fonts``,
the QR of ``reserve.labels.pdf``), no Flask. Printed in Chinese whatever the reader's
language: the paper travels with the truck."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from io import BytesIO

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.platypus import Flowable, SimpleDocTemplate, Spacer, Table, TableStyle

from reserve.db import SHANGHAI
from reserve.labels.pdf import draw_qr
from reserve.pdf_fonts import paper_styles, paragraph, signature_row

PAGE_WIDTH = A4[0] - 30 * mm
GRID = TableStyle(
    [
        ("GRID", (0, 0), (-1, -1), 0.5, colors.grey),
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eeeeee")),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
    ]
)


def _time(value: datetime | None) -> str:
    return value.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M") if value else ""


class QrCode(Flowable):
    """A QR of ``text`` in a square of ``size`` points (the labels' vector QR)."""

    def __init__(self, text: str, size: float):
        super().__init__()
        self.text, self.size = text, size
        self.width = self.height = size

    def draw(self) -> None:
        draw_qr(self.canv, self.text, 0, 0, self.size)


def _facts(rows: list[tuple[str, str]], s, widths=(28 * mm, None)) -> Table:
    width = widths[1] or PAGE_WIDTH / 2 - widths[0]
    cells = []
    for i in range(0, len(rows), 2):
        pair = rows[i : i + 2] + [("", "")] * (2 - len(rows[i : i + 2]))
        cells.append([paragraph(x, s["cell"]) for k, v in pair for x in (k, v)])
    return Table(cells, colWidths=[widths[0], width] * 2)


# 拣货单 ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PickLine:
    location: str
    material_code: str
    material: str
    spec: str | None
    batch_no: str
    expiry: date | None
    qty: int
    picked: int
    unit: str


@dataclass(frozen=True)
class PickListPaper:
    order_no: str
    warehouse: str
    destination: str
    needed_by: datetime
    is_emergency: bool
    printed_at: datetime
    lines: tuple[PickLine, ...]


def pick_list_pdf(doc: PickListPaper) -> bytes:
    """拣货单: what to take from where, in the order of the route through the locations."""
    s = paper_styles()
    buffer = BytesIO()
    pdf = SimpleDocTemplate(
        buffer, pagesize=A4, leftMargin=15 * mm, rightMargin=15 * mm, title=f"拣货单 {doc.order_no}"
    )
    title = "拣货单" + ("（紧急调拨）" if doc.is_emergency else "")
    header = [
        ("调拨单号", doc.order_no),
        ("发货仓库", doc.warehouse),
        ("目的地", doc.destination),
        ("需求时间", _time(doc.needed_by)),
        ("打印时间", _time(doc.printed_at)),
        ("", ""),
    ]
    rows = [
        [
            paragraph(x, s["cell"])
            for x in ("序号", "库位", "物资编码", "物资名称", "规格型号", "批次", "有效期至")
        ]
        + [paragraph(x, s["cell"]) for x in ("应拣", "已拣", "单位", "实拣")]
    ]
    for n, line in enumerate(doc.lines, start=1):
        rows.append(
            [
                paragraph(str(n), s["cell"]),
                paragraph(line.location, s["cell"]),
                paragraph(line.material_code, s["cell"]),
                paragraph(line.material, s["cell"]),
                paragraph(line.spec, s["cell"]),
                paragraph(line.batch_no, s["cell"]),
                paragraph(line.expiry.isoformat() if line.expiry else "—", s["cell"]),
                paragraph(str(line.qty), s["cell"]),
                paragraph(str(line.picked), s["cell"]),
                paragraph(line.unit, s["cell"]),
                paragraph("", s["cell"]),
            ]
        )
    widths = [10, 20, 22, 30, 22, 22, 20, 13, 13, 10, 14]
    table = Table(rows, colWidths=[w * mm for w in widths], repeatRows=1)
    table.setStyle(GRID)
    pdf.build(
        [
            paragraph(title, s["title"]),
            Spacer(1, 4 * mm),
            _facts(header, s),
            Spacer(1, 4 * mm),
            table,
            Spacer(1, 10 * mm),
            signature_row(("拣货人", "复核人"), s["base"], PAGE_WIDTH / 2),
        ]
    )
    return buffer.getvalue()


# 调拨单 / 出库单 --------------------------------------------------------------------------------


@dataclass(frozen=True)
class NoteLine:
    material_code: str
    material: str
    spec: str | None
    batch_no: str
    qty: int
    unit: str
    serial_nos: tuple[str, ...] = ()


@dataclass(frozen=True)
class DeliveryNote:
    is_transfer: bool
    order_no: str
    shipment_no: str
    from_warehouse: str
    destination: str
    requesting_unit: str
    contact: str
    event: str | None
    vehicle_plate: str
    driver_name: str
    driver_phone: str
    shipped_at: datetime
    shipped_by: str
    receive_url: str
    lines: tuple[NoteLine, ...]


def delivery_note_pdf(doc: DeliveryNote) -> bytes:
    """调拨单 (a transfer) / 出库单 (a dispatch): the shipment's goods, vehicle and people, the QR
    of the receive page, and the signature lines of the shipper, the carrier and the receiver."""
    s = paper_styles()
    name = "调拨单" if doc.is_transfer else "出库单"
    buffer = BytesIO()
    pdf = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=15 * mm,
        rightMargin=15 * mm,
        title=f"{name} {doc.shipment_no}",
    )
    header = [
        ("调拨单号", doc.order_no),
        ("出库单号", doc.shipment_no),
        ("发货仓库", doc.from_warehouse),
        ("目的地", doc.destination),
        ("申请单位", doc.requesting_unit),
        ("联系人", doc.contact),
        ("车牌号", doc.vehicle_plate),
        ("驾驶员", f"{doc.driver_name} {doc.driver_phone}"),
        ("发货时间", _time(doc.shipped_at)),
        ("事件", doc.event or "—"),
    ]
    qr_size = 30 * mm
    top = Table(
        [[paragraph(f"{name}", s["title"]), QrCode(doc.receive_url, qr_size)]],
        colWidths=[PAGE_WIDTH - qr_size - 4 * mm, qr_size + 4 * mm],
    )
    rows = [
        [
            paragraph(x, s["cell"])
            for x in ("序号", "物资编码", "物资名称", "规格型号", "批次", "数量", "单位", "实收")
        ]
    ]
    for n, line in enumerate(doc.lines, start=1):
        batch = line.batch_no + (f"（{'、'.join(line.serial_nos)}）" if line.serial_nos else "")
        rows.append(
            [
                paragraph(str(n), s["cell"]),
                paragraph(line.material_code, s["cell"]),
                paragraph(line.material, s["cell"]),
                paragraph(line.spec, s["cell"]),
                paragraph(batch, s["cell"]),
                paragraph(str(line.qty), s["cell"]),
                paragraph(line.unit, s["cell"]),
                paragraph("", s["cell"]),
            ]
        )
    widths = [10, 24, 34, 26, 40, 14, 12, 20]
    table = Table(rows, colWidths=[w * mm for w in widths], repeatRows=1)
    table.setStyle(GRID)
    pdf.build(
        [
            top,
            Spacer(1, 3 * mm),
            _facts(header, s),
            Spacer(1, 4 * mm),
            table,
            Spacer(1, 4 * mm),
            paragraph(f"合计 {sum(x.qty for x in doc.lines)}；扫描右上角二维码签收。", s["small"]),
            Spacer(1, 12 * mm),
            signature_row(("发货人", "承运人", "接收人"), s["base"], PAGE_WIDTH / 3),
        ]
    )
    return buffer.getvalue()
