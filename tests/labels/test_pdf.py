"""Label PDFs read back: every page rendered at 200 dpi and every QR decoded with zxing-cpp, each
to the right URL, which opens the right page; the Chinese text printed; the page count right."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from reserve.auth.models import Role
from reserve.labels import printing
from reserve.labels.codes import grouped
from reserve.labels.pdf import Layout, label_sheet_pdf, pages_for
from reserve.labels.queries import label_cards
from tests.labels.conftest import read_pdf

BASE = "http://127.0.0.1:5000"


def _cards(db, world, labels):
    return label_cards(db, [label.id for label in labels], key=world.key, base_url=BASE)


@pytest.mark.parametrize("layout", list(Layout))
def test_every_qr_decodes_to_its_label_url(db, world, tmp_path, layout):
    labels = [world.stock_label, world.item_label, world.location_label]
    pdf = label_sheet_pdf(_cards(db, world, labels), layout=layout)
    pages, text = read_pdf(pdf, tmp_path)
    per_page = 1 if layout in (Layout.THERMAL_60X40, Layout.THERMAL_100X70) else None
    assert len(pages) == (3 if per_page else 1)
    decoded = sorted(url for page in pages for url in page)
    expected = sorted(f"HTTP://127.0.0.1:5000/S/{world.code(label)}" for label in labels)
    assert decoded == expected
    for label in labels:
        assert grouped(world.code(label)) in text
    for words in ("单帐篷", "规格：3×4米", "批号：T-2026-01", "数量：40 顶", "序列号：GEN-001"):
        assert words in text, words
    expiry = world.tent_batch.expiry_date.isoformat()
    assert f"有效期：{expiry}" in text
    assert "A-01-01" in text and "市级综合储备库" in text


def test_a_decoded_url_opens_the_labelled_page(db, world, tmp_path, login_as):
    pdf = label_sheet_pdf(_cards(db, world, [world.stock_label]), layout=Layout.THERMAL_60X40)
    [[url]] = read_pdf(pdf, tmp_path)[0]
    keeper = login_as(Role.KEEPER, warehouses=[world.home])
    opened = keeper.get(urlsplit(url).path)
    assert opened.status_code == 302
    assert urlsplit(opened.location).path == f"/stock/materials/{world.tent.id}"
    page = keeper.get(opened.location)
    assert page.status_code == 200 and "T-2026-01" in page.get_data(as_text=True)


def test_a_sheet_starts_on_a_partly_used_a4_and_counts_its_pages(db, world, tmp_path):
    labels = printing.label_stock(
        db,
        requests=[printing.StockLabelRequest(world.shelf.id, world.tent_batch.id, 30, 1)],
        actor=world.system,
    )
    pdf = label_sheet_pdf(_cards(db, world, labels), layout=Layout.A4_3X8, start=20)
    pages, _text = read_pdf(pdf, tmp_path)
    assert len(pages) == pages_for(30, layout=Layout.A4_3X8, start=20) == 3
    assert [len(page) for page in pages] == [5, 24, 1]  # positions 20–24, a full sheet, one
    assert sorted(url.rsplit("/", 1)[1] for page in pages for url in page) == sorted(
        world.code(label) for label in labels
    )


def test_a_url_with_a_path_keeps_its_case(db, world, tmp_path):
    cards = label_cards(
        db, [world.stock_label.id], key=world.key, base_url="https://yjj.example.cn/reserve/"
    )
    [[url]] = read_pdf(label_sheet_pdf(cards, layout=Layout.A4_2X5), tmp_path)[0]
    assert url == f"https://yjj.example.cn/reserve/s/{world.code(world.stock_label)}"


def test_a_start_outside_the_sheet_is_refused(db, world):
    with pytest.raises(ValueError):
        label_sheet_pdf([], layout=Layout.A4_3X8, start=25)


@pytest.mark.parametrize(
    "text", ["HTTP://127.0.0.1:5000/S/2345ABCDEFGH", "https://x.cn/s/" + "A" * 40]
)
def test_the_eight_masks_are_the_encoders_own(text):
    """qr_modules scores each mask on the symbol built once; those are reportlab's symbols."""
    from reportlab.graphics.barcode.qrencoder import QRCode, QRErrorCorrectLevel

    from reserve.labels.pdf import _DIGITS, _mask_rows

    qr = QRCode(None, QRErrorCorrectLevel.M)
    qr.addData(text)
    qr.version = qr.calculate_version()
    rows = []
    for mask in range(8):
        qr.makeImpl(True, mask)
        rows.append([int(bytes(row).translate(_DIGITS), 2) for row in qr.modules])
    _free, masks = _mask_rows(qr.version)
    for mask in range(8):
        flipped = [b ^ m ^ z for b, m, z in zip(rows[0], masks[mask], masks[0], strict=True)]
        assert flipped == rows[mask], mask


def _penalty_line_by_line(bits: list[int], n: int) -> int:
    """The ISO/IEC 18004 penalty written plainly, one row or column at a time."""
    import itertools
    import re

    rows = [format(row, f"0{n}b") for row in bits]
    score = 0
    for line in itertools.chain(rows, map("".join, zip(*rows, strict=True))):
        score += sum(len(run) - 2 for run in re.findall(r"0{5,}|1{5,}", line))
        score += 40 * len(re.findall(r"(?=10111010000|00001011101)", line))
    grid = [[int(ch) for ch in row] for row in rows]
    score += 3 * sum(
        1
        for r in range(n - 1)
        for c in range(n - 1)
        if grid[r][c] == grid[r][c + 1] == grid[r + 1][c] == grid[r + 1][c + 1]
    )
    dark = sum(map(sum, grid))
    return score + 10 * (abs(dark * 100 // (n * n) - 50) // 5)


@pytest.mark.parametrize("text", ["HTTP://127.0.0.1:5000/S/2345ABCDEFGH", "https://x.cn/s/7KQ2"])
def test_the_mask_penalty_is_the_standards(text):
    """The sheet's fast penalty (every line scanned in one text) scores each of the eight
    masked symbols as the rules do line by line."""
    from reportlab.graphics.barcode.qrencoder import QRCode, QRErrorCorrectLevel

    from reserve.labels.pdf import _DIGITS, mask_penalty

    qr = QRCode(None, QRErrorCorrectLevel.M)
    qr.addData(text)
    qr.version = qr.calculate_version()
    for mask in range(8):
        qr.makeImpl(True, mask)
        bits = [int(bytes(row).translate(_DIGITS), 2) for row in qr.modules]
        n = qr.moduleCount
        assert mask_penalty(bits, n) == _penalty_line_by_line(bits, n), mask
