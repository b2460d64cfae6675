"""标签 PDF: label cards in, bytes out (reportlab, the embedded font of ``reserve.pdf_fonts``,
no Flask). Four layouts: A4 sheets of 3×8 labels of 70×37 mm and of 2×5, and single-label pages
for thermal printers of 60×40 mm and 100×70 mm; an A4 sheet may start at any position of a
partly used sheet.

The QR is drawn as vectors — reportlab's own encoder, error correction M, with its four-module
quiet zone — one filled path per code (a run of dark modules is one rectangle), so a sheet of
1,000 labels stays small and quick. The code is printed under it in groups of four for reading
aloud. Labels are the bureau's paper: printed in Chinese whatever the reader's language."""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from functools import cache
from io import BytesIO

from reportlab.graphics.barcode.qrencoder import QRCode, QRErrorCorrectLevel, QRUtil
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas

from reserve.pdf_fonts import pdf_font, printable

QUIET_ZONE = 4  # modules of white around the code, as the QR standard asks


class Layout(StrEnum):
    A4_3X8 = "a4-3x8"
    A4_2X5 = "a4-2x5"
    THERMAL_60X40 = "60x40"
    THERMAL_100X70 = "100x70"


@dataclass(frozen=True)
class Sheet:
    page: tuple[float, float]
    columns: int
    rows: int
    width: float
    height: float
    left: float
    top: float

    @property
    def per_page(self) -> int:
        return self.columns * self.rows


SHEETS = {
    Layout.A4_3X8: Sheet(A4, 3, 8, 70 * mm, 37 * mm, 0, (297 - 8 * 37) / 2 * mm),
    Layout.A4_2X5: Sheet(A4, 2, 5, 105 * mm, 59.4 * mm, 0, 0),
    Layout.THERMAL_60X40: Sheet((60 * mm, 40 * mm), 1, 1, 60 * mm, 40 * mm, 0, 0),
    Layout.THERMAL_100X70: Sheet((100 * mm, 70 * mm), 1, 1, 100 * mm, 70 * mm, 0, 0),
}


@dataclass(frozen=True)
class LabelCard:
    """What one label shows: its QR's URL and code, and the thing it names."""

    kind: str  # "stock", "item" or "location"
    url: str
    code: str  # grouped for reading aloud
    warehouse_name: str
    location_code: str | None = None
    location_name: str | None = None
    material_name: str | None = None
    spec: str | None = None
    unit: str | None = None
    batch_no: str | None = None
    expiry_date: date | None = None
    serial_no: str | None = None
    qty: int | None = None  # on the label when it was printed


# reportlab builds the Reed–Solomon generator polynomial of a block's error-correction length
# anew for every symbol (a quarter of a label's encoding time); it is a pure function of that
# length, and only read where it is used (``QRPolynomial.mod`` makes new polynomials, it does
# not change its divisor): built once per length, for every QR this process draws.
QRUtil.getErrorCorrectPolynomial = staticmethod(cache(QRUtil.getErrorCorrectPolynomial))

_DIGITS = bytes.maketrans(b"\x00\x01", b"01")
_RUNS = re.compile(r"0{5,}|1{5,}")
_FINDER = re.compile(r"(?=10111010000|00001011101)")


def mask_penalty(bits: list[int], n: int) -> int:
    """The QR standard's penalty of a masked symbol (ISO/IEC 18004 §7.8.3: runs of one colour,
    2×2 blocks, finder-like patterns, dark/light balance), its rows given as bit masks (the
    leftmost module the highest bit): the encoder's own pure-Python rules take several times
    as long, which a sheet of 1,000 labels pays eight times per label."""
    rows = [format(row, f"0{n}b") for row in bits]
    # every row and column in one text, "|" between them (no run nor finder pattern crosses
    # it): two regex scans a mask instead of two a line
    lines = "|".join(itertools.chain(rows, map("".join, zip(*rows, strict=True))))
    runs = _RUNS.findall(lines)
    score = sum(map(len, runs)) - 2 * len(runs) + 40 * len(_FINDER.findall(lines))
    full = (1 << (n - 1)) - 1
    for upper, lower in itertools.pairwise(bits):
        same = ~(upper ^ lower) & ~(upper ^ (upper >> 1)) & ~(lower ^ (lower >> 1))
        score += 3 * (same & full).bit_count()
    dark = sum(row.bit_count() for row in bits)
    score += 10 * (abs(dark * 100 // (n * n) - 50) // 5)
    return score


@cache
def _mask_rows(version: int) -> tuple[list[int], list[list[int]]]:
    """For a QR version: the data modules of each row, and each mask's dark data modules."""
    probe = QRCode(version, QRErrorCorrectLevel.M)
    probe.addData("0")
    probe.makeImpl(True, 0)
    n = probe.moduleCount
    free = [0] * n
    for column, row in probe.dataPosIterator():
        free[row] |= 1 << (n - 1 - column)
    masks = []
    for pattern in range(8):
        mask = QRUtil.getMask(pattern)
        masks.append(
            [sum(1 << (n - 1 - c) for c in range(n) if mask(r, c)) & free[r] for r in range(n)]
        )
    return free, masks


def qr_modules(text: str) -> list[list[bool]]:
    """The modules of ``text``'s QR code, error correction M (version chosen to fit), under the
    mask of least penalty, as the standard asks. The symbol is built once under mask 0; the
    other seven are that symbol with its data modules flipped where the masks differ."""
    qr = QRCode(None, QRErrorCorrectLevel.M)
    qr.addData(text)
    qr.version = qr.calculate_version()
    qr.makeImpl(True, 0)
    n = qr.moduleCount
    base = [int(bytes(row).translate(_DIGITS), 2) for row in qr.modules]
    _free, masks = _mask_rows(qr.version)
    penalties = [
        mask_penalty([b ^ m ^ z for b, m, z in zip(base, masks[p], masks[0], strict=True)], n)
        for p in range(8)
    ]
    qr.makeImpl(False, penalties.index(min(penalties)))
    return qr.modules


def draw_qr(canvas: Canvas, text: str, x: float, y: float, size: float) -> None:
    """The QR of ``text`` as one vector path in the square (x, y, size), quiet zone inside.

    Drawn in module units (one module = one unit, scaled into the square): each run of dark
    modules in a row is one ``re`` of whole numbers, written as PDF operators in one literal.
    A QR of a label URL has ≈ 220 such runs; through ``path.rect`` each of their four
    coordinates went through reportlab's float formatting, most of a sheet's time, and
    printed with six decimals, most of its size."""
    modules = qr_modules(text)
    count = len(modules)
    box = size / (count + 2 * QUIET_ZONE)
    runs = []
    for r, row in enumerate(modules):
        line = count - 1 - r  # PDF's y grows upwards
        c = 0
        while c < count:
            if row[c]:
                start = c
                while c < count and row[c]:
                    c += 1
                runs.append(f"{start} {line} {c - start} 1 re")
            else:
                c += 1
    canvas.saveState()
    canvas.transform(box, 0, 0, box, x + QUIET_ZONE * box, y + QUIET_ZONE * box)
    canvas.addLiteral("\n".join(runs) + "\nf")
    canvas.restoreState()


def _fit(text: str, width: float, size: float, font: str) -> str:
    """``text`` cut (with an ellipsis) to ``width`` at ``size``."""
    text = printable(text)
    if stringWidth(text, font, size) <= width:
        return text
    while text and stringWidth(text + "…", font, size) > width:
        text = text[:-1]
    return text + "…"


def _lines(card: LabelCard) -> tuple[str, list[str]]:
    """The title and the lines of text beside the QR."""
    place = " ".join(p for p in (card.warehouse_name, card.location_code) if p)
    if card.kind == "location":
        return card.location_code or "", [card.warehouse_name, card.location_name or ""]
    lines = []
    if card.spec:
        lines.append(f"规格：{card.spec}")
    if card.serial_no:
        lines.append(f"序列号：{card.serial_no}")
    if card.batch_no:
        lines.append(f"批号：{card.batch_no}")
    lines.append(f"有效期：{card.expiry_date.isoformat() if card.expiry_date else '—'}")
    lines.append(f"库位：{place}")
    if card.qty is not None:
        lines.append(f"数量：{card.qty} {card.unit or ''}".rstrip())
    return card.material_name or "", lines


def _draw_card(canvas: Canvas, card: LabelCard, x: float, y: float, w: float, h: float) -> None:
    font = pdf_font()
    pad = 1.5 * mm
    scale = h / (37 * mm)  # text sizes grow with the label
    code_size = 6.5 * scale if card.kind != "location" else 7.5 * scale
    qr = min(h - 2 * pad - code_size * 1.4, w * 0.48)
    qx, qy = x + pad, y + h - pad - qr
    draw_qr(canvas, card.url, qx, qy, qr)
    canvas.setFont(font, code_size)
    canvas.drawCentredString(qx + qr / 2, qy - code_size * 1.05, card.code)
    tx = qx + qr + pad
    width = x + w - pad - tx
    title, lines = _lines(card)
    top = y + h - pad
    if card.kind == "location":  # the large code a keeper reads from the aisle
        size = 26 * scale
        while size > 8 and stringWidth(title, font, size) > width:
            size -= 1
        canvas.setFont(font, size)
        canvas.drawString(tx, top - size, _fit(title, width, size, font))
        small = 7 * scale
        canvas.setFont(font, small)
        for i, line in enumerate(line for line in lines if line):
            canvas.drawString(
                tx, top - size - small * (1.5 + 1.3 * i), _fit(line, width, small, font)
            )
        return
    title_size = 9 * scale
    canvas.setFont(font, title_size)
    canvas.drawString(tx, top - title_size, _fit(title, width, title_size, font))
    small = 6.5 * scale
    canvas.setFont(font, small)
    for i, line in enumerate(lines):
        canvas.drawString(
            tx, top - title_size - small * (0.6 + 1.35 * (i + 1)), _fit(line, width, small, font)
        )


def label_sheet_pdf(cards: list[LabelCard], *, layout: Layout | str, start: int = 1) -> bytes:
    """The labels in ``layout``; on an A4 sheet the first goes to position ``start`` (from 1,
    left to right, top to bottom), so a partly used sheet is used up."""
    layout = Layout(layout)
    sheet = SHEETS[layout]
    if not 1 <= start <= sheet.per_page:
        raise ValueError(f"start is a position from 1 to {sheet.per_page}")
    buffer = BytesIO()
    canvas = Canvas(buffer, pagesize=sheet.page, pageCompression=1)
    canvas.setTitle("标签")
    canvas.setAuthor("应急物资储备管理系统")
    position = start - 1
    for index, card in enumerate(cards):
        if index and position % sheet.per_page == 0:
            canvas.showPage()
        cell = position % sheet.per_page
        column, row = cell % sheet.columns, cell // sheet.columns
        x = sheet.left + column * sheet.width
        y = sheet.page[1] - sheet.top - (row + 1) * sheet.height
        _draw_card(canvas, card, x, y, sheet.width, sheet.height)
        position += 1
    if not cards:
        canvas.setFont(pdf_font(), 10)
        canvas.drawString(20 * mm, sheet.page[1] - 20 * mm, "没有标签。")
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def pages_for(n: int, *, layout: Layout | str, start: int = 1) -> int:
    """How many pages ``n`` labels take in ``layout`` from position ``start``."""
    sheet = SHEETS[Layout(layout)]
    return max(1, -(-(n + start - 1) // sheet.per_page))
