"""The 入库单 PDF, read back with pdftotext (not trusted on sight)."""

import subprocess
from datetime import UTC, date, datetime
from decimal import Decimal

from reserve.auth.actor import Actor
from reserve.auth.models import Role
from reserve.receipts import service
from reserve.receipts.pdf import ReceiptDocument, ReceiptDocumentLine, receipt_pdf
from tests.receipts.conftest import line, receipt_data


def pdf_text(content: bytes) -> str:
    assert content.startswith(b"%PDF")
    result = subprocess.run(
        ["pdftotext", "-enc", "UTF-8", "-layout", "-", "-"],
        input=content,
        capture_output=True,
        check=True,
    )
    return result.stdout.decode("utf-8")


def test_the_pdf_reads_back_in_chinese():
    doc = ReceiptDocument(
        no="RK20261124-0007",
        status="posted",
        warehouse="JN-SJ-01 济南市应急物资综合储备库",
        source="捐赠",
        supplier="中国红十字会",
        funding_source="社会捐赠",
        paper_no="鲁红字〔2026〕12号",
        document_date=date(2026, 11, 24),
        posted_at=datetime(2026, 11, 24, 2, 30, tzinfo=UTC),
        lines=[
            ReceiptDocumentLine(
                "1010101001",
                "单帐篷",
                "3m×4m 12m²",
                "顶",
                "T-2026-01",
                None,
                None,
                "RECV",
                120,
                Decimal("680.00"),
            ),
            ReceiptDocumentLine(
                "2010100001",
                "净水设备",
                "便携式",
                "台",
                "P-01",
                date(2026, 1, 1),
                date(2031, 1, 1),
                "A-01-01",
                2,
                serials=("SN-001", "SN-002"),
            ),
        ],
    )
    text = pdf_text(receipt_pdf(doc))
    for expected in (
        "入库单",
        "RK20261124-0007",
        "单帐篷",
        "净水设备",
        "中国红十字会",
        "鲁红字〔2026〕12号",
        "2026-11-24 10:30",  # posted time in Asia/Shanghai
        "81,600.00",
        "122",
        "SN-001",
        "验收人",
        "保管员",
        "审核人",
        "合计",
        "12m²",  # the embedded font has the superscripts
    ):
        assert expected in text, expected


def test_a_long_receipt_runs_over_pages():
    lines = [
        ReceiptDocumentLine(
            f"M{i:04d}", "折叠床", "1900×700mm", "张", f"B{i}", None, None, "A-01-01", i + 1
        )
        for i in range(200)
    ]
    doc = ReceiptDocument(
        no="RK20261124-0200",
        status="draft",
        warehouse="WH",
        source="采购",
        document_date=date(2026, 11, 24),
        lines=lines,
    )
    text = pdf_text(receipt_pdf(doc))
    assert "第2页" in text.replace(" ", "") and "M0199" in text and "草稿" in text


def test_the_pdf_page(login_as, db, make_material):
    keeper = login_as(Role.KEEPER)
    tent = make_material("单帐篷", code="TENT-P")

    class Site:
        warehouse = keeper.user.warehouses[0]

    receipt = service.create_receipt(
        db, data=receipt_data(Site, line(tent, "B-9", 7)), actor=Actor.for_user(keeper.user)
    )
    response = keeper.get(f"/receipts/{receipt.id}.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    text = pdf_text(response.data)
    assert "入库单" in text and receipt.no in text and "单帐篷" in text and "B-9" in text


def test_the_font_is_embedded_and_prints_superscripts(tmp_path):
    """A PC without an Asian font pack prints the same page: the CJK font travels in the PDF."""
    import shutil
    import subprocess

    import pytest

    from reserve.receipts.pdf import ReceiptDocument, ReceiptDocumentLine, receipt_pdf

    if not shutil.which("pdffonts"):
        pytest.skip("poppler-utils not installed")
    doc = ReceiptDocument(
        no="RK-1",
        status="posted",
        warehouse="市级储备库",
        source="purchase",
        document_date=__import__("datetime").date(2026, 3, 1),
        lines=[
            ReceiptDocumentLine(
                "1010101001", "帐篷", "12m²", "顶", "B1", None, None, "A-01", 5, None
            )
        ],
    )
    path = tmp_path / "r.pdf"
    path.write_bytes(receipt_pdf(doc))
    fonts = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True).stdout
    assert "WenQuanYi" in fonts
    row = next(line for line in fonts.splitlines() if "WenQuanYi" in line)
    assert " yes " in row  # the "emb" column
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True).stdout
    assert "12m²" in text


def test_the_pdf_names_the_creator_and_the_poster_by_name_and_the_expiry_reasons(
    login_as, db, make_material, make_user
):
    from datetime import timedelta

    from reserve.receipts.service import local_today

    keeper = login_as(Role.KEEPER, full_name="赵保管")
    warehouse = keeper.user.warehouses[0]
    poster = make_user(Role.KEEPER, warehouses=[warehouse], full_name="钱保管")
    water = make_material("瓶装水", code="WATER-PDF", unit="箱", shelf_life_days=730)

    class Site:
        pass

    Site.warehouse = warehouse
    expired = local_today() - timedelta(days=3)
    receipt = service.create_receipt(
        db,
        data=receipt_data(
            Site, line(water, "W-9", 7, expiry_date=expired, expiry_reason="演练当日使用")
        ),
        actor=Actor.for_user(keeper.user),
    )
    service.post_receipt(db, receipt_id=receipt.id, actor=Actor.for_user(poster))
    text = pdf_text(keeper.get(f"/receipts/{receipt.id}.pdf").data)
    assert "制单人" in text and "赵保管" in text and keeper.user.username not in text
    assert "过账人" in text and "钱保管" in text and poster.username not in text
    assert "演练当日使用" in text and "过期/临期批次入库确认" in text
