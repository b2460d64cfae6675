"""Receiving an expired or near-expiry batch asks for a reason (saving and posting, page and
API); every bad line is reported at once, each on its field; the batch number may be left empty
where nothing expires; people by name."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from reserve.audit.models import AuditEntry
from reserve.auth.models import Role
from reserve.db import transaction
from reserve.errors import ValidationError, ValidationErrors
from reserve.receipts import service
from reserve.receipts.models import ReceiptLine
from reserve.stock.models import Batch
from tests.receipts.conftest import TODAY, counts, line, receipt_data

YESTERDAY = TODAY - timedelta(days=1)
IN_A_MONTH = TODAY + timedelta(days=30)


def _refused(db, call):
    """The call's error, after checking it changed nothing."""
    db.commit()
    before = counts(db)
    with pytest.raises(ValidationError) as info, transaction(db):
        call()
    assert counts(db) == before
    return info.value


# 1. Expired and near-expiry batches -----------------------------------------------------------


@pytest.mark.parametrize(
    "fields, words",
    [
        (dict(expiry_date=YESTERDAY), f"expired on {YESTERDAY.isoformat()}"),
        (dict(expiry_date=IN_A_MONTH), "within the 90 days' warning of 瓶装水"),
        # no expiry given: computed from the production date and the 730 days' shelf life
        (dict(production_date=TODAY - timedelta(days=700)), "near expiry"),
    ],
)
def test_an_expired_or_near_expiry_batch_needs_a_reason(db, site, fields, words):
    data = receipt_data(site, line(site.water, "W-OLD", 5, **fields))
    error = _refused(db, lambda: service.create_receipt(db, data=data, actor=site.keeper))
    assert error.field == "lines-0-expiry_reason" and words in str(error.message)
    assert "confirm with the reason" in str(error.message)

    confirmed = replace(
        data, lines=(replace(data.lines[0], expiry_reason="  演练使用，本周内用完 "),)
    )
    receipt = service.create_receipt(db, data=confirmed, actor=site.keeper)
    assert receipt.lines[0].expiry_reason == "演练使用，本周内用完"
    created = db.scalars(select(AuditEntry).where(AuditEntry.action == "create")).all()[-1]
    assert created.after["lines"][0]["expiry_reason"] == "演练使用，本周内用完"
    service.post_receipt(db, receipt_id=receipt.id, actor=site.keeper)
    posted = db.scalars(select(AuditEntry).where(AuditEntry.action == "post")).one()
    [confirmation] = posted.after["expiry_confirmed"]
    assert confirmation["reason"] == "演练使用，本周内用完" and confirmation["line"] == 1
    assert confirmation["state"] in ("expired", "near")


def test_a_batch_in_date_keeps_no_reason(db, site):
    data = receipt_data(
        site,
        line(site.water, "W-NEW", 5, expiry_date=TODAY + timedelta(days=400), expiry_reason="x"),
    )
    receipt = service.create_receipt(db, data=data, actor=site.keeper)
    assert receipt.lines[0].expiry_reason is None


def test_posting_asks_again_when_the_draft_has_become_near_expiry(db, site):
    site.water.near_expiry_days = 10
    receipt = service.create_receipt(
        db,
        data=receipt_data(site, line(site.water, "W-2", 5, expiry_date=IN_A_MONTH)),
        actor=site.keeper,
    )
    site.water.near_expiry_days = 60  # the warning grew (or time passed) before the posting
    db.flush()
    error = _refused(db, lambda: service.post_receipt(db, receipt_id=receipt.id, actor=site.keeper))
    assert error.field == "lines-0-expiry_reason"
    assert "Edit the draft and give the reason" in str(error.message)
    assert db.get(type(receipt), receipt.id).status == "draft"


def test_receiving_more_of_an_expired_batch_needs_the_reason_too(db, site):
    db.add(
        Batch(material_id=site.water.id, batch_no="W-EXP", expiry_date=YESTERDAY, source="purchase")
    )
    db.flush()
    data = receipt_data(site, line(site.water, "W-EXP", 2))
    error = _refused(db, lambda: service.create_receipt(db, data=data, actor=site.keeper))
    assert "expired on" in str(error.message)


def test_a_reason_too_long_is_refused(db, site):
    data = receipt_data(
        site, line(site.water, "W-3", 1, expiry_date=YESTERDAY, expiry_reason="理" * 201)
    )
    error = _refused(db, lambda: service.create_receipt(db, data=data, actor=site.keeper))
    assert error.field == "lines-0-expiry_reason" and "too long" in str(error.message)


# 2. Every line error at once ------------------------------------------------------------------


def test_every_bad_field_of_every_line_is_reported_together(db, site):
    data = receipt_data(
        site,
        line(site.tent, "T-OK", 1),
        line(site.tent, "T-1", 0),  # quantity
        line(site.water, "", 3),  # a batch number is needed: water expires
        line(site.pump, "P-1", 2, serials=("S1",), unit_cost=Decimal("-1")),
    )
    error = _refused(db, lambda: service.create_receipt(db, data=data, actor=site.keeper))
    assert isinstance(error, ValidationErrors)
    fields = [e.field for e in error.errors]
    assert fields == [
        "lines-1-qty",
        "lines-2-batch_no",
        "lines-3-unit_cost",
        "lines-3-serials",
    ]
    summary = str(error.message)
    assert summary.startswith("4 errors") and "Line 2" in summary and "Line 4" in summary
    body = error.to_dict()
    assert [e["field"] for e in body["errors"]] == fields and "Line 3" in body["errors"][1][
        "message"
    ]


# 3. The batch number may be left empty where nothing expires ----------------------------------


def test_an_empty_batch_number_is_made_from_the_receipt_number(db, site):
    data = receipt_data(
        site,
        line(site.tent, "", 4),
        line(site.pump, "", 1, serials=("PUMP-SN-1",)),
        line(site.tent, "T-GIVEN", 2),
    )
    receipt = service.create_receipt(db, data=data, actor=site.keeper)
    assert [ln.batch_no for ln in receipt.lines] == [
        f"{receipt.no}-1",
        f"{receipt.no}-2",
        "T-GIVEN",
    ]
    service.post_receipt(db, receipt_id=receipt.id, actor=site.keeper)
    batches = db.scalars(select(Batch.batch_no).where(Batch.material_id == site.tent.id)).all()
    assert sorted(batches) == sorted([f"{receipt.no}-1", "T-GIVEN"])


# The pages ------------------------------------------------------------------------------------


@pytest.fixture
def keeper(login_as, make_material):
    client = login_as(Role.KEEPER, full_name="赵保管")
    client.get("/lang/en")
    client.warehouse = client.user.warehouses[0]
    client.water = make_material("瓶装水", code="WATER-P", unit="箱", shelf_life_days=730)
    client.tent = make_material("单帐篷", code="TENT-P", unit="顶")
    return client


def _form(warehouse_id, lines):
    data = {
        "warehouse_id": str(warehouse_id),
        "source": "purchase",
        "document_date": TODAY.isoformat(),
    }
    for index, fields in enumerate(lines):
        for name, value in fields.items():
            data[f"lines-{index}-{name}"] = str(value)
    return data


def test_the_page_shows_the_expiry_warning_and_the_reason_box_then_keeps_the_reason(keeper, db):
    first = {
        "material_id": keeper.water.id,
        "batch_no": "W-P",
        "qty": 3,
        "expiry_date": YESTERDAY.isoformat(),
    }
    page = keeper.post("/receipts/new", data=_form(keeper.warehouse.id, [first])).get_data(
        as_text=True
    )
    assert "expired on" in page and "receipt-expiry-warning" in page
    assert 'id="lines-0-expiry_reason"' in page
    assert 'class="receipt-expiry-reason mt-1"' in page  # shown, not d-none
    assert db.scalar(select(ReceiptLine.id)) is None

    first["expiry_reason"] = "捐赠物资，当日发放"
    response = keeper.post(
        "/receipts/new", data=_form(keeper.warehouse.id, [first]), follow_redirects=True
    )
    page = response.get_data(as_text=True)
    assert "saved as a draft" in page and "捐赠物资，当日发放" in page
    assert 'data-expiry="expired"' in page  # the 过期 badge on the detail


def test_the_page_marks_every_bad_line_and_saves_nothing(keeper, db):
    lines = [
        {"material_id": keeper.tent.id, "batch_no": "T-1", "qty": 0},
        {},
        {"material_id": keeper.water.id, "batch_no": "", "qty": 2},
    ]
    page = keeper.post("/receipts/new", data=_form(keeper.warehouse.id, lines)).get_data(
        as_text=True
    )
    assert "2 errors" in page  # the summary
    assert page.count("invalid-feedback d-block") == 2
    assert 'name="lines-0-qty"' in page and "greater than zero" in page
    assert "has a shelf life" in page
    # the rows are renumbered without the blank one: the second error is on the second row
    assert 'id="lines-1-batch_no"' in page
    assert db.scalar(select(ReceiptLine.id)) is None


def test_form_errors_are_all_listed(keeper):
    lines = [
        {"material_id": keeper.tent.id, "batch_no": "T-1", "qty": "abc"},
        {
            "material_id": keeper.tent.id,
            "batch_no": "T-2",
            "qty": 1,
            "production_date": "2026-02-30",
        },
    ]
    page = keeper.post("/receipts/new", data=_form(keeper.warehouse.id, lines)).get_data(
        as_text=True
    )
    assert 'id="receipt-form-error"' in page and "2 errors; each is shown on its field" in page
    assert "Line 1, Quantity" in page and "Line 2, Production date" in page


def test_people_by_name_with_the_login_in_a_tooltip(keeper, db):
    keeper.post(
        "/receipts/new",
        data=_form(keeper.warehouse.id, [{"material_id": keeper.tent.id, "qty": 1}]),
    )
    listing = keeper.get("/receipts").get_data(as_text=True)
    login = keeper.user.username
    assert f'<span class="receipt-person" title="{login}">赵保管</span>' in listing
    receipt_id = db.scalar(select(ReceiptLine.receipt_id))
    keeper.post(f"/receipts/{receipt_id}/post")
    detail = keeper.get(f"/receipts/{receipt_id}").get_data(as_text=True)
    assert f'title="{login}" id="receipt-created-by">赵保管' in detail
    assert f'title="{login}" id="receipt-posted-by">赵保管' in detail


# The API --------------------------------------------------------------------------------------


@pytest.fixture
def keeper_api(api_token, make_warehouse, make_material):
    warehouse = make_warehouse(code="WH-EXP")
    make_material("瓶装水", code="WATER-API", unit="箱", shelf_life_days=730)
    make_material("单帐篷", code="TENT-API", unit="顶")
    headers, user = api_token(Role.KEEPER, warehouses=[warehouse], full_name="钱保管")
    headers["Accept-Language"] = "en"
    return headers, warehouse


def _body(warehouse, lines, **extra):
    return {
        "warehouse_id": warehouse.id,
        "source": "purchase",
        "document_date": TODAY.isoformat(),
        "lines": lines,
        **extra,
    }


def test_the_api_refuses_an_expired_line_without_its_reason(client, db, keeper_api):
    headers, warehouse = keeper_api
    expired = {
        "material_code": "WATER-API",
        "batch_no": "W-A",
        "qty": 2,
        "expiry_date": YESTERDAY.isoformat(),
    }
    before = counts(db)
    response = client.post(
        "/api/v1/receipts", headers=headers, json=_body(warehouse, [expired], post=True)
    )
    assert response.status_code == 422
    error = response.get_json()
    assert error["field"] == "lines-0-expiry_reason" and "Line 1" in error["message"]
    assert "expired on" in error["message"]
    assert counts(db) == before

    expired["expiry_reason"] = "上级调拨，立即发放"
    response = client.post(
        "/api/v1/receipts", headers=headers, json=_body(warehouse, [expired], post=True)
    )
    assert response.status_code == 201, response.get_json()
    made = response.get_json()
    assert made["status"] == "posted" and made["lines"][0]["expiry_reason"] == "上级调拨，立即发放"
    assert made["created_by_name"] == "钱保管" and made["posted_by_name"] == "钱保管"


def test_the_api_reports_every_bad_line_and_makes_batch_numbers(client, db, keeper_api):
    headers, warehouse = keeper_api
    bad = [
        {"material_code": "TENT-API", "qty": 0},
        {"material_code": "WATER-API", "qty": 1},
    ]
    response = client.post("/api/v1/receipts", headers=headers, json=_body(warehouse, bad))
    assert response.status_code == 422
    error = response.get_json()
    assert [e["field"] for e in error["errors"]] == ["lines-0-qty", "lines-1-batch_no"]
    assert error["message"].startswith("2 errors")
    good = client.post(
        "/api/v1/receipts",
        headers=headers,
        json=_body(warehouse, [{"material_code": "TENT-API", "qty": 3}]),
    ).get_json()
    assert good["lines"][0]["batch_no"] == f"{good['no']}-1"


def test_the_api_reports_every_unreadable_field_too(client, db, keeper_api):
    headers, warehouse = keeper_api
    bad = [
        {"material_code": "TENT-API", "batch_no": "T", "qty": 1.5},
        {"material_code": "TENT-API", "batch_no": "T", "qty": 1, "production_date": "2026-02-30"},
    ]
    before = counts(db)
    response = client.post("/api/v1/receipts", headers=headers, json=_body(warehouse, bad))
    assert response.status_code == 422
    error = response.get_json()
    assert [e["field"] for e in error["errors"]] == ["lines-0-qty", "lines-1-production_date"]
    assert "Line 2, Production date" in error["message"]
    assert counts(db) == before
