"""The stock card export writes through ``reserve.export``: the formula stays text, the control
character cannot make it fail."""

import io

from openpyxl import load_workbook

from reserve.auth.models import Role
from tests.stock.conftest import post

EVIL = '=HYPERLINK("http://ev.il","x")'


def test_stock_card_export_writes_formulas_as_text_and_survives_control_characters(
    login_as, db, place, make_batch
):
    evil = make_batch(place.material, EVIL)
    broken = make_batch(place.material, "B\x01X")
    post(db, place, 5, batch=evil)
    post(db, place, 7, batch=broken)
    response = login_as(Role.VIEWER).get(f"/stock/materials/{place.material.id}/card.xlsx")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.data)).active
    rows = list(sheet.iter_rows(min_row=4))
    batch_cells = {row[6].value: row[6] for row in rows}
    stored = EVIL.upper()  # batch numbers are codes, kept in upper case (reserve.db.Code)
    assert stored in batch_cells  # exactly what is stored, and...
    assert batch_cells[stored].data_type == "s"  # ...a string, not a formula ("f")
    assert "B\ufffdX" in batch_cells and batch_cells["B\ufffdX"].data_type == "s"
    assert all("\x01" not in str(cell.value) for row in rows for cell in row)
