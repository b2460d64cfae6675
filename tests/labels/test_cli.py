"""flask labels sheet: every batch at every location of a warehouse and each serial item in
stock there gets a label (made when missing, reprinted when it exists), into a PDF read back."""

from __future__ import annotations

from sqlalchemy import func, select

from reserve.labels.models import Label
from tests.labels.conftest import read_pdf


def _labels(db) -> int:
    return db.scalar(select(func.count()).select_from(Label))


def test_a_warehouse_sheet(app, db, world, tmp_path):
    out = tmp_path / "sheet.pdf"
    before = _labels(db)
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=["labels", "sheet", "--warehouse", "wh-l1", "--layout", "60x40", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    # the tent batch at A-01-01 has a label already (reprinted); GEN-001 too; GEN-002 is new
    assert "3 labels" in result.output
    assert _labels(db) == before + 1
    pages, text = read_pdf(out.read_bytes(), tmp_path)
    assert len(pages) == 3 and all(len(page) == 1 for page in pages)
    assert f"/S/{world.code(world.stock_label)}" in pages[0][0]
    assert "GEN-002" in text and "单帐篷" in text
    db.refresh(world.stock_label)
    assert world.stock_label.print_count == 2
    again = runner.invoke(
        args=["labels", "sheet", "--warehouse", "WH-L1", "--out", str(tmp_path / "a4.pdf")]
    )
    assert again.exit_code == 0 and _labels(db) == before + 1  # nothing new the second time


def test_an_unknown_warehouse_or_start_is_refused(app, db, world, tmp_path):
    runner = app.test_cli_runner()
    before = _labels(db)
    result = runner.invoke(
        args=["labels", "sheet", "--warehouse", "NOPE", "--out", str(tmp_path / "x.pdf")]
    )
    assert result.exit_code == 1 and result.output.startswith("Error")
    result = runner.invoke(
        args=["labels", "sheet", "--warehouse", "WH-L1", "--start", "25", "--out", "x.pdf"]
    )
    assert result.exit_code == 1 and "--start" in result.output
    assert _labels(db) == before and not (tmp_path / "x.pdf").exists()
