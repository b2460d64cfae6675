"""``record_count_by_codes``: the one count-by-codes sequence (place by code, batch by number or a
serial item by its number, then ``record_count``) that the count sheet, the API and the label
scanner share; codes in any letter case; one rule for the reason; bad codes change nothing."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from reserve.auth.models import Role
from reserve.errors import Conflict, Forbidden, NotFound, ValidationError
from reserve.stocktakes import service
from reserve.stocktakes.counting import record_count_by_codes
from reserve.stocktakes.models import StocktakeLine


def counted_lines(db, stocktake) -> int:
    return db.scalar(
        select(func.count())
        .select_from(StocktakeLine)
        .where(StocktakeLine.stocktake_id == stocktake.id, StocktakeLine.counted_qty.is_not(None))
    )


@pytest.fixture
def sheet(db, stocked):
    return service.open_stocktake(db, warehouse_id=stocked.warehouse.id, actor=stocked.keeper_actor)


def by_codes(db, s, sheet, **fields):
    fields.setdefault("reason", None)
    fields.setdefault("counted_qty", 1)
    return record_count_by_codes(db, stocktake_id=sheet.id, actor=s.keeper_actor, **fields)


def test_codes_in_any_case_name_the_place_and_the_batch_on_the_sheet(db, stocked, sheet):
    s = stocked
    line = by_codes(db, s, sheet, location_code=" a-01-01 ", batch_no="t-2026-01", counted_qty=9)
    assert (line.location_id, line.batch_id, line.counted_qty) == (s.shelf.id, s.tent_batch.id, 9)
    assert not line.is_found
    found = by_codes(
        db,
        s,
        sheet,
        location_code="recv",
        batch_no="t-2026-01",
        material_code=s.tent.code.lower(),
        counted_qty=2,
        reason="收货区发现",
    )
    assert found.is_found and (found.location_id, found.batch_id) == (s.recv.id, s.tent_batch.id)
    same = by_codes(db, s, sheet, location_id=s.shelf.id, batch_id=s.tent_batch.id, counted_qty=8)
    assert same.id == line.id and same.counted_qty == 8  # ids from the sheet work as well


def test_one_rule_for_the_reason(db, stocked, sheet):
    s = stocked
    codes = {"location_code": "A-01-01", "batch_no": "T-2026-01"}
    assert by_codes(db, s, sheet, **codes, counted_qty=9, reason="丢失一顶").reason == "丢失一顶"
    assert by_codes(db, s, sheet, **codes, counted_qty=8, reason=None).reason == "丢失一顶"
    assert by_codes(db, s, sheet, **codes, counted_qty=8, reason="  ").reason is None
    assert by_codes(db, s, sheet, **codes, counted_qty=8, reason="破损").reason == "破损"


@pytest.mark.parametrize(
    "fields, error, field, words",
    [
        (
            {"location_code": "Z-99", "batch_no": "T-2026-01"},
            ValidationError,
            "location_code",
            "Z-99",
        ),
        ({"location_code": "", "batch_no": "T-2026-01"}, ValidationError, "location_code", ""),
        (
            {"location_code": "A-01-01", "batch_no": "NOPE", "material_code": "{tent}"},
            NotFound,
            "batch_no",
            "received first",
        ),
        (
            {"location_code": "A-01-01", "batch_no": "T-2026-02"},
            ValidationError,
            "batch_no",
            "not on this count sheet",
        ),
        (
            {"location_code": "A-01-01", "batch_no": "T-2026-01", "material_code": "NO-SUCH"},
            ValidationError,
            "material_code",
            "NO-SUCH",
        ),
        ({"location_code": "A-01-01"}, ValidationError, "batch_no", "Give the batch"),
        ({"location_code": "A-01-01", "serial_no": "SN-404"}, NotFound, "serial_no", "SN-404"),
    ],
)
def test_bad_codes_say_which_and_change_nothing(
    db, stocked, sheet, make_batch, fields, error, field, words
):
    s = stocked
    make_batch(s.tent, "T-2026-02")  # on record, but not on this sheet
    fields = {k: v.format(tent=s.tent.code) for k, v in fields.items()}
    with pytest.raises(error) as raised:
        by_codes(db, s, sheet, **fields)
    assert raised.value.field == field and words in str(raised.value.message)
    assert counted_lines(db, sheet) == 0


def test_a_batch_number_on_the_sheet_twice_needs_the_material(db, stocked, sheet, make_batch):
    s = stocked
    other = make_batch(s.quilt, "T-2026-01")  # the quilts' batch of the same number
    service.record_count(
        db,
        stocktake_id=sheet.id,
        location_id=s.recv.id,
        batch_id=other.id,
        counted_qty=1,
        actor=s.keeper_actor,
    )  # now on the sheet too
    with pytest.raises(ValidationError) as raised:
        by_codes(db, s, sheet, location_code="A-01-01", batch_no="T-2026-01")
    assert raised.value.field == "material_code"
    line = by_codes(
        db, s, sheet, location_code="A-01-01", batch_no="T-2026-01", material_code=s.quilt.code
    )
    assert line.batch_id == other.id


def test_a_closed_stocktake_says_so_whatever_was_typed(db, stocked, sheet):
    s = stocked
    service.cancel_stocktake(db, stocktake_id=sheet.id, actor=s.keeper_actor, reason="重开")
    for codes in ({"location_code": "A-01-01", "batch_no": "T-2026-01"}, {"location_code": "Z"}):
        with pytest.raises(Conflict, match="only while counting"):
            by_codes(db, s, sheet, **codes)
    assert counted_lines(db, sheet) == 0


def test_another_warehouse_is_refused_before_any_code_is_looked_up(
    db, stocked, sheet, make_user, make_warehouse
):
    from reserve.auth.actor import Actor

    stranger = Actor.for_user(make_user(Role.KEEPER, warehouses=[make_warehouse()]))
    with pytest.raises(Forbidden):
        record_count_by_codes(
            db, stocktake_id=sheet.id, location_code="Z", counted_qty=1, reason=None, actor=stranger
        )


def test_a_serial_number_alone_names_its_item(db, stocked, make_material, make_batch, move):
    s = stocked
    pump = make_material("排水泵", unit="台", tracking="serial")
    batch = make_batch(pump, "P-1")
    move(s.shelf, batch, 1, serial_nos=["SN-1"])  # the ledger creates the item with its stock
    sheet = service.open_stocktake(db, warehouse_id=s.warehouse.id, actor=s.keeper_actor)
    line = by_codes(db, s, sheet, location_code="a-01-01", serial_no="sn-1", counted_qty=1)
    assert (line.batch_id, line.counted_qty) == (batch.id, 1)


# The page and the API call it --------------------------------------------------------------


def test_the_page_counts_by_codes_in_any_case(db, login_as, stocked, sheet):
    s = stocked
    keeper = login_as(Role.KEEPER, warehouses=[s.warehouse])
    keeper.get("/lang/en")
    response = keeper.post(
        f"/stocktakes/{sheet.id}/count",
        data={"location_code": "a-01-01", "batch_no": "t-2026-01", "counted_qty": "7"},
        follow_redirects=True,
    )
    assert "Counted A-01-01" in response.get_data(as_text=True)
    line = db.scalar(
        select(StocktakeLine).where(
            StocktakeLine.stocktake_id == sheet.id, StocktakeLine.batch_id == s.tent_batch.id
        )
    )
    assert line.counted_qty == 7
    for data, message in (
        ({"location_code": "Z-99", "batch_no": "T-2026-01"}, "no location Z-99"),
        ({"location_code": "A-01-01", "batch_no": "X-1"}, "not on this count sheet"),
        (
            {"location_code": "A-01-01", "batch_no": "X-1", "material_code": s.tent.code},
            "received first",
        ),
    ):
        response = keeper.post(f"/stocktakes/{sheet.id}/count", data={**data, "counted_qty": "3"})
        assert response.status_code == 302  # back to the sheet, not a 404 page
        assert message in keeper.get(response.location).get_data(as_text=True)
    db.refresh(line)
    assert line.counted_qty == 7


def test_the_api_counts_by_codes_in_any_case_and_keeps_an_absent_reason(
    client, api_token, stocked, sheet
):
    s = stocked
    headers, _ = api_token(Role.KEEPER, warehouses=[s.warehouse])
    url = f"/api/v1/stocktakes/{sheet.id}/counts"
    body = {"location_code": "a-01-01", "batch_no": "t-2026-01", "counted_qty": 9}
    response = client.post(url, headers=headers, json={**body, "reason": "丢失一顶"})
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["reason"] == "丢失一顶"
    assert client.post(url, headers=headers, json=body).get_json()["reason"] == "丢失一顶"
    cleared = client.post(url, headers=headers, json={**body, "reason": None}).get_json()
    assert cleared["reason"] is None and cleared["counted_qty"] == 9
    response = client.post(url, headers=headers, json={**body, "batch_no": "T-2026-09"})
    assert response.status_code == 422 and response.get_json()["field"] == "batch_no"
