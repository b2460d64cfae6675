"""Every export goes through ``reserve.export``: a batch number that looks like a formula is
text in the file, and a control character in one cannot make the export fail."""

import csv
import io

from openpyxl import load_workbook

from reserve.export import XlsxWriter, csv_bytes, csv_text

EVIL = '=HYPERLINK("http://ev.il","x")'


def test_the_writer_keeps_numbers_and_dates_and_neutralises_every_formula_start():
    from datetime import date

    writer = XlsxWriter()
    sheet = writer.sheet("表\x02")
    sheet.heading(["批次号", "数量"])
    starts = ["=1+1", "+1", "-1", "@SUM(A1)", "\tX", "\rX"]
    for text in starts:
        sheet.append([text, 3, date(2026, 1, 31)])
    book = load_workbook(io.BytesIO(writer.to_bytes()))
    ws = book.active
    assert ws.title == "表\ufffd"
    rows = list(ws.iter_rows(min_row=2))
    assert [r[0].value for r in rows] == [s.replace("\r", "\n") for s in starts]  # XML: \r is \n
    assert {r[0].data_type for r in rows} == {"s"}
    assert [r[1].value for r in rows] == [3] * len(starts)


def test_csv_prefixes_formula_starts_with_an_apostrophe():
    assert csv_text(EVIL) == "'" + EVIL
    assert csv_text("普通文本") == "普通文本"
    assert csv_text("A\x00B") == "A\ufffdB"
    data = csv_bytes(["批次号", "数量"], [[EVIL, 5], ["-2", -2], [None, 0]])
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows == [["批次号", "数量"], ["'" + EVIL, "5"], ["'-2", "-2"], ["", "0"]]
