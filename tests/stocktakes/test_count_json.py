"""Counting a line without reloading the page: the count sheet's Save posts the line's form
(with its CSRF token) to ``/stocktakes/<id>/count.json``, which calls the same service as the
plain post and answers with the line as the page draws it, or the refusal in JSON."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from reserve.auth.models import Role
from reserve.stocktakes import service
from reserve.stocktakes.models import StocktakeLine

JSON = {"Accept": "application/json"}


@pytest.fixture
def keeper(login_as, stocked):
    client = login_as(Role.KEEPER, warehouses=[stocked.warehouse])
    client.get("/lang/en")
    return client


def line_of(db, stocktake, location, batch) -> StocktakeLine:
    return db.scalar(
        select(StocktakeLine).where(
            StocktakeLine.stocktake_id == stocktake.id,
            StocktakeLine.location_id == location.id,
            StocktakeLine.batch_id == batch.id,
        )
    )


def count(client, stocktake, location, batch, qty, reason=None, **extra):
    data = {"location_id": location.id, "batch_id": batch.id, "counted_qty": qty, **extra}
    if reason is not None:
        data["reason"] = reason
    return client.post(f"/stocktakes/{stocktake.id}/count.json", data=data, headers=JSON)


def test_a_count_is_saved_and_the_line_comes_back_with_its_difference(db, keeper, stocked):
    s = stocked
    stocktake = service.open_stocktake(db, warehouse_id=s.warehouse.id, actor=s.keeper_actor)
    response = count(keeper, stocktake, s.shelf, s.tent_batch, 8, "两顶破损")
    assert response.status_code == 200 and response.is_json
    body = response.get_json()
    line = line_of(db, stocktake, s.shelf, s.tent_batch)
    db.refresh(line)
    assert line.counted_qty == 8 and line.variance == -2 and line.reason == "两顶破损"
    assert body["line"]["counted_qty"] == 8 and body["line"]["variance"] == -2
    assert body["row_html"].startswith(f'<tr id="line-{line.id}"')
    assert f'id="saved-{line.id}"' in body["row_html"]
    assert re.search(rf'id="variance-{line.id}">\s*-2', body["row_html"])
    assert 'id="total-counted">1<' in body["totals_html"]
    assert 'id="total-uncounted">2<' in body["totals_html"]
    assert body["message"] == "Counted A-01-01 单帐篷 batch T-2026-01: 8 顶."


def test_a_blind_count_comes_back_without_the_books(db, keeper, stocked):
    s = stocked
    stocktake = service.open_stocktake(
        db, warehouse_id=s.warehouse.id, actor=s.keeper_actor, is_blind=True
    )
    body = count(keeper, stocktake, s.shelf, s.tent_batch, 8).get_json()
    assert body["line"]["variance"] is None and body["line"]["system_qty"] is None
    assert "variance-" not in body["row_html"] and "system-" not in body["row_html"]
    assert "total-shortage" not in body["totals_html"]


@pytest.mark.parametrize(
    ("qty", "field", "message"),
    [
        ("-1", "counted_qty", "cannot be negative"),
        ("abc", "counted_qty", "integer"),
        ("", "counted_qty", "Enter the counted quantity"),
        ("1000000001", "counted_qty", "implausibly large"),
    ],
)
def test_a_bad_count_is_refused_in_json_and_changes_nothing(
    db, keeper, stocked, qty, field, message
):
    s = stocked
    stocktake = service.open_stocktake(db, warehouse_id=s.warehouse.id, actor=s.keeper_actor)
    response = count(keeper, stocktake, s.shelf, s.tent_batch, qty)
    assert response.status_code == 422 and response.is_json
    body = response.get_json()
    assert body["field"] == field and message in body["message"]
    db.expire_all()
    assert line_of(db, stocktake, s.shelf, s.tent_batch).counted_qty is None


def test_a_too_long_reason_is_refused_on_the_reason(db, keeper, stocked):
    s = stocked
    stocktake = service.open_stocktake(db, warehouse_id=s.warehouse.id, actor=s.keeper_actor)
    body = count(keeper, stocktake, s.shelf, s.tent_batch, 1, "长" * 201).get_json()
    assert body["field"] == "reason"
    db.expire_all()
    assert line_of(db, stocktake, s.shelf, s.tent_batch).counted_qty is None


def test_a_closed_stocktake_and_a_stranger_are_refused_in_json(db, keeper, login_as, stocked):
    s = stocked
    stocktake = service.open_stocktake(db, warehouse_id=s.warehouse.id, actor=s.keeper_actor)
    stranger = login_as(Role.KEEPER)
    response = count(stranger, stocktake, s.shelf, s.tent_batch, 1)
    assert response.status_code == 403 and response.is_json
    service.cancel_stocktake(db, stocktake_id=stocktake.id, actor=s.keeper_actor)
    response = count(keeper, stocktake, s.shelf, s.tent_batch, 1)
    assert response.status_code == 409 and "only while counting" in response.get_json()["message"]
    db.expire_all()
    assert line_of(db, stocktake, s.shelf, s.tent_batch).counted_qty is None


def test_without_the_csrf_token_nothing_is_saved(app, db, keeper, stocked):
    s = stocked
    stocktake = service.open_stocktake(db, warehouse_id=s.warehouse.id, actor=s.keeper_actor)
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        response = count(keeper, stocktake, s.shelf, s.tent_batch, 1)
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
    assert response.status_code == 400 and response.is_json
    assert response.get_json()["error"] == "bad_request"
    db.expire_all()
    assert line_of(db, stocktake, s.shelf, s.tent_batch).counted_qty is None


def test_the_sheet_wires_each_line_to_the_json_save_and_shows_expiry_badges(
    db, keeper, stocked, make_batch, move
):
    from datetime import timedelta

    from reserve.db import local_today

    s = stocked
    old = make_batch(s.quilt, "Q-OLD", expiry_date=local_today() - timedelta(days=1))
    soon = make_batch(s.quilt, "Q-SOON", expiry_date=local_today() + timedelta(days=5))
    move(s.shelf, old, 2)
    move(s.shelf, soon, 2)
    stocktake = service.open_stocktake(db, warehouse_id=s.warehouse.id, actor=s.keeper_actor)
    page = keeper.get(f"/stocktakes/{stocktake.id}").get_data(as_text=True)
    assert f'data-count-json="/stocktakes/{stocktake.id}/count.json"' in page
    assert "js/stocktakes.js" in page and 'id="count-status"' in page
    old_line = line_of(db, stocktake, s.shelf, old)
    soon_line = line_of(db, stocktake, s.shelf, soon)
    tent_line = line_of(db, stocktake, s.shelf, s.tent_batch)
    cell = page.split(f'id="expiry-{old_line.id}"')[1].split("</td>")[0]
    assert 'data-expiry="expired"' in cell and "Expired" in cell
    cell = page.split(f'id="expiry-{soon_line.id}"')[1].split("</td>")[0]
    assert 'data-expiry="near"' in cell and "Near expiry" in cell
    cell = page.split(f'id="expiry-{tent_line.id}"')[1].split("</td>")[0]
    assert "data-expiry" not in cell
