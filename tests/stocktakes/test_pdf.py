"""The 盘点表 PDF, read back with pdftotext and pdffonts (not trusted on sight): lines in route
order (排-列-层), blank count and note columns, the book quantity only when not blind, 过期 and
临期 flagged, signature lines, and 盘点单号 with the page number on every page."""

from __future__ import annotations

import shutil
import subprocess
from datetime import UTC, date, datetime, timedelta

import pytest

from reserve.auth.models import Role
from reserve.stocktakes import service
from reserve.stocktakes.pdf import CountSheet, CountSheetLine, count_sheet_pdf

TODAY = date(2026, 12, 1)


def pdf_text(content: bytes, *, layout: bool = True) -> str:
    assert content.startswith(b"%PDF")
    result = subprocess.run(
        ["pdftotext", "-enc", "UTF-8", *(["-layout"] if layout else []), "-", "-"],
        input=content,
        capture_output=True,
        check=True,
    )
    return result.stdout.decode("utf-8")


def sheet_line(location, code, batch_no, *, expiry=None, book=10, near=30) -> CountSheetLine:
    return CountSheetLine(
        location=location,
        code=code,
        name="单帐篷",
        spec="3m×4m 12m²",
        unit="顶",
        batch_no=batch_no,
        expiry_date=expiry,
        near_expiry_days=near,
        book_qty=book,
    )


def sheet(*, blind=False, lines=None) -> CountSheet:
    return CountSheet(
        no="PD20261201-0003",
        warehouse="JN-SJ-01 济南市应急物资综合储备库",
        status="counting",
        is_blind=blind,
        scope="库位 3 个：A-01-01、A-02-01、B-01-01",
        created_at=datetime(2026, 12, 1, 1, 0, tzinfo=UTC),
        created_by="赵保管",
        printed_on=TODAY,
        lines=lines
        if lines is not None
        else [
            sheet_line(
                "A-01-01", "1010101001", "T-OK", expiry=TODAY + timedelta(days=400), book=7321
            ),
            sheet_line("A-02-01", "1010101002", "T-OLD", expiry=TODAY - timedelta(days=1), book=55),
            sheet_line(
                "B-01-01", "1010101003", "T-SOON", expiry=TODAY + timedelta(days=10), book=66
            ),
        ],
    )


def test_the_sheet_reads_back_in_route_order_with_flags_and_book_quantities():
    text = pdf_text(count_sheet_pdf(sheet()))
    for expected in (
        "盘点表",
        "PD20261201-0003",
        "济南市应急物资综合储备库",
        "明盘",
        "赵保管",
        "2026-12-01 09:00",  # opened, in Asia/Shanghai
        "账面数量",
        "实盘数量",
        "备注",
        "7,321",
        "12m²",
        "盘点人",
        "复核人",
        "监盘人",
    ):
        assert expected in text, expected
    assert "第1页共1页" in text.replace(" ", "")
    table = text.split("实盘数量", 1)[1]  # the header's scope names them too
    assert table.index("A-01-01") < table.index("A-02-01") < table.index("B-01-01")
    rows = {line.split()[1]: line for line in text.splitlines() if line.strip()[:1].isdigit()}
    assert "过期" in rows["A-02-01"] and "临期" not in rows["A-02-01"]
    assert "临期" in rows["B-01-01"] and "过期" not in rows["B-01-01"]
    assert "过期" not in rows["A-01-01"] and "临期" not in rows["A-01-01"]


def test_a_blind_sheet_prints_no_book_quantity():
    text = pdf_text(count_sheet_pdf(sheet(blind=True)))
    assert "盲盘" in text and "实盘数量" in text
    assert "账面数量" not in text.replace("不打印账面数量", "")
    assert "7,321" not in text and "7321" not in text and " 55 " not in text


def test_a_long_sheet_carries_its_number_and_page_on_every_page():
    lines = [
        sheet_line(f"{chr(65 + i // 20)}-{i % 20 + 1:02d}-01", f"M{i:04d}", f"B{i}")
        for i in range(160)
    ]
    content = count_sheet_pdf(sheet(lines=lines))
    pages = pdf_text(content).split("\f")
    pages = [page for page in pages if page.strip()]
    assert len(pages) > 2
    for n, page in enumerate(pages, start=1):
        assert "盘点单号：PD20261201-0003" in page
        assert f"第{n}页共{len(pages)}页" in page.replace(" ", "")
    text = "".join(pages).split("实盘数量", 1)[1]
    assert text.index("A-20-01") < text.index("B-01-01") < text.index("H-20-01")


def test_the_font_is_embedded(tmp_path):
    if not shutil.which("pdffonts"):
        pytest.skip("poppler-utils not installed")
    path = tmp_path / "sheet.pdf"
    path.write_bytes(count_sheet_pdf(sheet()))
    fonts = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True).stdout
    row = next(line for line in fonts.splitlines() if "WenQuanYi" in line)
    assert " yes " in row  # the "emb" column


def test_the_pdf_page_prints_the_stocktake_in_route_order(db, login_as, stocked, make_batch, move):
    s = stocked
    from reserve.db import local_today

    old = make_batch(s.quilt, "Q-OLD", expiry_date=local_today() - timedelta(days=3))
    move(s.shelf, old, 2)
    stocktake = service.open_stocktake(db, warehouse_id=s.warehouse.id, actor=s.keeper_actor)
    keeper = login_as(Role.KEEPER, warehouses=[s.warehouse])
    page = keeper.get(f"/stocktakes/{stocktake.id}").get_data(as_text=True)
    assert f'href="/stocktakes/{stocktake.id}/sheet.pdf"' in page
    response = keeper.get(f"/stocktakes/{stocktake.id}/sheet.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    text = pdf_text(response.data)
    assert stocktake.no in text and "测试综合储备库" in text and "全库" in text
    assert text.index("A-01-01") < text.index("RECV")
    old_row = next(line for line in text.splitlines() if "Q-OLD" in line)
    assert "过期" in old_row
    assert "T-2026-01" in text and "棉被" in text


def test_the_blind_pdf_page_hides_the_books_even_from_the_approver(db, login_as, stocked):
    s = stocked
    stocktake = service.open_stocktake(
        db, warehouse_id=s.warehouse.id, actor=s.keeper_actor, is_blind=True
    )
    approver = login_as(Role.APPROVER)
    text = pdf_text(approver.get(f"/stocktakes/{stocktake.id}/sheet.pdf").data)
    assert "盲盘" in text and "账面数量" not in text.replace("不打印账面数量", "")


def test_a_stranger_gets_no_sheet(db, login_as, stocked):
    s = stocked
    stocktake = service.open_stocktake(db, warehouse_id=s.warehouse.id, actor=s.keeper_actor)
    assert login_as(Role.KEEPER).get(f"/stocktakes/{stocktake.id}/sheet.pdf").status_code == 403
    assert login_as(Role.KEEPER).get("/stocktakes/999999/sheet.pdf").status_code == 404


def test_a_long_scope_is_summed_up_in_the_header(db, stocked):
    from reserve.stocktakes.queries import SCOPE_SHOWN, printable
    from reserve.warehouses.models import Location

    s = stocked
    more = [Location(warehouse_id=s.warehouse.id, code=f"C-{n:02d}-01") for n in range(1, 15)]
    db.add_all(more)
    db.flush()
    ids = [s.shelf.id, s.recv.id, *(loc.id for loc in more)]
    stocktake = service.open_stocktake(
        db, warehouse_id=s.warehouse.id, actor=s.keeper_actor, location_ids=ids
    )
    sheet = printable(db, stocktake)
    assert sheet.scope.startswith(f"库位 {len(ids)} 个：A-01-01、C-01-01")
    assert sheet.scope.endswith("等") and sheet.scope.count("、") == SCOPE_SHOWN - 1
    assert [line.location for line in sheet.lines] == ["A-01-01", "A-01-01", "RECV"]
    assert not sheet.is_blind and {line.book_qty for line in sheet.lines} == {10, 5, 3}
