"""Expired stock is not available (issue 8): on hand = qty; available = on hand − reserved of
batches that are not expired; expired and near-expiry quantities beside it. One hand-built
material with five batches, each with stock reserved, read back on every stock view, in the
API and from FEFO."""

import io
import re
from datetime import timedelta

import pytest
from openpyxl import load_workbook

from reserve.auth.models import Role
from reserve.db import local_today
from reserve.stock.expiry import ExpiryState
from reserve.stock.queries import (
    StockFilter,
    fefo_sources,
    material_balance_page,
    stock_by_material,
)
from tests.stock.conftest import post, reserve


@pytest.fixture
def five_batches(db, place, make_batch):
    """单帐篷 with near_expiry_days = 30 and, at A-01-01 of 测试库, 5 batches of 10 with 2 reserved:
    expired yesterday, expiring today (still usable today: near), near (in 10 days), fine (in
    a year), without expiry."""
    today = local_today()
    place.material.near_expiry_days = 30
    db.flush()
    batches = {
        "YESTERDAY": make_batch(place.material, "YESTERDAY", expiry=today - timedelta(days=1)),
        "TODAY": make_batch(place.material, "TODAY", expiry=today),
        "NEAR": make_batch(place.material, "NEAR", expiry=today + timedelta(days=10)),
        "FINE": make_batch(place.material, "FINE", expiry=today + timedelta(days=365)),
        "NOEXPIRY": make_batch(place.material, "NOEXPIRY"),
    }
    for batch in batches.values():
        post(db, place, 10, batch=batch)
        reserve(db, place, 2, batch=batch)
    return batches


# on hand 50, reserved 10; available = 4 usable batches × (10 − 2) = 32; expired 10;
# near expiry 20 (TODAY and NEAR)
ON_HAND, RESERVED, AVAILABLE, EXPIRED, NEAR = 50, 10, 32, 10, 20


def test_the_query_counts_expired_stock_on_hand_but_not_available(db, place, five_batches):
    (row,) = stock_by_material(db, place.actor, StockFilter()).items
    assert (row.qty, row.reserved, row.available) == (ON_HAND, RESERVED, AVAILABLE)
    assert (row.expired_qty, row.near_expiry_qty) == (EXPIRED, NEAR)
    assert row.nearest_expiry == local_today() - timedelta(days=1)
    assert row.nearest_expiry_state is ExpiryState.EXPIRED
    assert [h.name for h in row.holders] == ["测试库"] and row.warehouses == 1
    page = material_balance_page(
        db, place.actor, place.material.id, near_expiry_days=place.material.near_expiry_days
    )
    by_batch = {b.batch_no: (b.expiry_state, b.available) for b in page.items}
    assert by_batch == {
        "YESTERDAY": (ExpiryState.EXPIRED, 0),
        "TODAY": (ExpiryState.NEAR, 8),
        "NEAR": (ExpiryState.NEAR, 8),
        "FINE": (None, 8),
        "NOEXPIRY": (None, 8),
    }


def test_fefo_never_offers_an_expired_batch(db, place, five_batches):
    sources = fefo_sources(db, material_id=place.material.id)
    assert [(s.batch_no, s.available) for s in sources] == [
        ("TODAY", 8),
        ("NEAR", 8),
        ("FINE", 8),
        ("NOEXPIRY", 8),
    ]


def test_the_stock_list_shows_available_without_the_expired_and_badges(
    login_as, db, place, five_batches
):
    html = login_as(Role.DISPATCHER).get("/stock").get_data(as_text=True)
    row = re.search(r'<tr data-material="TENT">.*?</tr>', html, re.S).group(0)
    assert "50 顶" in row  # on hand
    assert re.search(r"data-available>32 顶<", row)
    assert re.search(r"data-expired><span class=\"text-danger\">10</span>", row)
    assert "过期" in row and "临期" in row
    assert re.search(r"data-near>20 ", row)
    assert "测试库" in row  # where it is held


def test_the_material_page_shows_each_batch_with_its_badge_and_the_totals(
    login_as, db, place, five_batches
):
    html = (
        login_as(Role.DISPATCHER)
        .get(f"/stock/materials/{place.material.id}")
        .get_data(as_text=True)
    )
    assert re.search(r'id="material-total">50 顶<', html)
    assert re.search(r'id="material-available">32 顶<', html)
    assert "material-expired" in html and "material-near" in html
    table = html[html.index('id="balance-table"') : html.index('id="balance-cards"')]
    rows = dict(re.findall(r'<tr data-batch="(\w+)">(.*?)</tr>', table, re.S))
    assert 'data-expiry="expired"' in rows["YESTERDAY"]
    assert re.search(r"data-available>0<", rows["YESTERDAY"])
    assert 'data-expiry="near"' in rows["TODAY"] and 'data-expiry="near"' in rows["NEAR"]
    assert "data-expiry=" not in rows["FINE"].replace("data-expiry>", "")
    assert re.search(r"data-available>8<", rows["FINE"])


def test_the_stock_card_flags_the_batch_rows(login_as, db, place, five_batches):
    html = (
        login_as(Role.VIEWER)
        .get(f"/stock/materials/{place.material.id}/card")
        .get_data(as_text=True)
    )
    rows = re.findall(r"<tr>(.*?)</tr>", html[html.index('id="stock-card-table"') :], re.S)
    yesterday = next(r for r in rows if "YESTERDAY" in r)
    fine = next(r for r in rows if "FINE" in r)
    assert 'data-expiry="expired"' in yesterday and "过期" in yesterday
    assert "data-expiry" not in fine


def test_the_api_gives_available_expired_and_near_expiry(
    client, api_token, db, place, five_batches
):
    headers, _ = api_token(Role.DISPATCHER)
    (row,) = client.get("/api/v1/stock", headers=headers).get_json()["items"]
    assert (row["qty"], row["reserved"], row["available"]) == (ON_HAND, RESERVED, AVAILABLE)
    assert (row["expired_qty"], row["near_expiry_qty"]) == (EXPIRED, NEAR)
    assert row["held_in"] == ["测试库"]
    body = client.get(f"/api/v1/stock/materials/{place.material.id}", headers=headers).get_json()
    assert (body["qty"], body["available"], body["expired_qty"]) == (ON_HAND, AVAILABLE, EXPIRED)
    states = {b["batch_no"]: (b["expiry_state"], b["available"]) for b in body["balances"]}
    assert states == {
        "YESTERDAY": ("expired", 0),
        "TODAY": ("near", 8),
        "NEAR": ("near", 8),
        "FINE": (None, 8),
        "NOEXPIRY": (None, 8),
    }


def test_the_excel_export_carries_the_same_numbers(login_as, db, place, five_batches):
    response = login_as(Role.DISPATCHER).get("/stock/export.xlsx")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.data)).active
    header, *rows = list(sheet.iter_rows(min_row=3, values_only=True))
    assert header[:3] == ("编码", "名称", "规格型号")
    (tent,) = [r for r in rows if r[0] == "TENT"]
    assert tent[5:10] == (ON_HAND, RESERVED, AVAILABLE, EXPIRED, NEAR)
    assert tent[12] == "测试库"
