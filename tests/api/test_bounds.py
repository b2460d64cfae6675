"""Bounded input, no 500s: huge ids in URLs, query values and JSON; dates that overflow; a lone
surrogate; deep nesting; a huge body; control characters; documents dated 0001-01-01."""

import json

import pytest
import sqlalchemy as sa

from reserve.auth.models import Role
from reserve.receipts.models import Receipt
from tests.receipts.conftest import TODAY

HUGE = (2**31, 2**63, 10**30)


@pytest.fixture
def keeper_api(api_token, make_warehouse, make_material):
    warehouse = make_warehouse(code="WH-B")
    material = make_material("棉被", code="QUILT-1", unit="床")
    headers, _user = api_token(Role.KEEPER, warehouses=[warehouse])
    headers["Accept-Language"] = "en"
    return headers, warehouse, material


def receipt_body(warehouse, **changes):
    body = {
        "warehouse_id": warehouse.id,
        "source": "donation",
        "document_date": TODAY.isoformat(),
        "supplier": "红十字会",
        "lines": [{"material_code": "QUILT-1", "batch_no": "Q-1", "qty": 10}],
        "post": True,
    }
    body.update(changes)
    return body


def receipts(db):
    return db.scalar(sa.select(sa.func.count()).select_from(Receipt))


@pytest.mark.parametrize("big", HUGE)
def test_huge_ids_in_api_urls_are_404(client, keeper_api, big):
    headers, _warehouse, _material = keeper_api
    for url in (
        f"/api/v1/receipts/{big}",
        f"/api/v1/materials/{big}",
        f"/api/v1/warehouses/{big}/locations",
        f"/api/v1/stock/materials/{big}",
    ):
        response = client.get(url, headers=headers)
        assert response.status_code == 404, url
        assert response.get_json()["error"] == "not_found"
    assert client.post(f"/api/v1/receipts/{big}/post", headers=headers).status_code == 404
    assert client.get("/api/v1/receipts/0", headers=headers).status_code == 404


@pytest.mark.parametrize("big", HUGE)
def test_huge_ids_in_page_urls_are_404(login_as, big):
    viewer = login_as(Role.VIEWER)
    for url in (f"/stock/materials/{big}", f"/catalog/materials/{big}", f"/receipts/{big}"):
        assert viewer.get(url).status_code == 404, url


@pytest.mark.parametrize("big", HUGE)
def test_huge_ids_in_query_values_are_422(client, keeper_api, big):
    headers, _warehouse, material = keeper_api
    for url in (
        f"/api/v1/receipts?warehouse_id={big}",
        f"/api/v1/warehouses?region={big}",
        f"/api/v1/stock?warehouse={big}",
        f"/api/v1/materials/{material.id}/movements?before={big}",
        f"/api/v1/materials?per_page={big}",
    ):
        response = client.get(url, headers=headers)
        assert response.status_code == 422, url
        assert "whole number from" in response.get_json()["message"]


def test_dates_that_overflow_are_422_with_a_message(client, login_as, keeper_api):
    headers, _warehouse, material = keeper_api
    for url in (
        f"/api/v1/materials/{material.id}/movements?from=9999-12-31",
        f"/api/v1/materials/{material.id}/movements?to=0001-01-01",
        "/api/v1/receipts?date_to=9999-12-31",
        "/api/v1/stock?expiring=3000000",
    ):
        response = client.get(url, headers=headers)
        assert response.status_code == 422, url
        assert "from" in response.get_json()["message"]
    viewer = login_as(Role.VIEWER)
    for url in (f"/stock/materials/{material.id}/card?to=9999-12-31", "/stock?expiring=3000000"):
        response = viewer.get(url)
        assert response.status_code == 422, url
        assert "范围" in response.get_data(as_text=True) or "之间" in response.get_data(
            as_text=True
        )


@pytest.mark.parametrize("field", ["warehouse_id", "line_material_id", "line_qty"])
@pytest.mark.parametrize("big", [2**63, 10**30])
def test_huge_numbers_in_json_are_422_and_change_nothing(client, db, keeper_api, field, big):
    headers, warehouse, _material = keeper_api
    body = receipt_body(warehouse)
    if field == "warehouse_id":
        body["warehouse_id"] = big
    else:
        body["lines"][0][field.removeprefix("line_")] = big
    before = receipts(db)
    response = client.post("/api/v1/receipts", headers=headers, json=body)
    assert response.status_code == 422, response.get_json()
    assert receipts(db) == before


def test_an_id_above_2_31_in_json_is_422(client, db, keeper_api):
    headers, warehouse, _material = keeper_api
    response = client.post(
        "/api/v1/receipts", headers=headers, json=receipt_body(warehouse, warehouse_id=2**31)
    )
    assert response.status_code == 422
    assert response.get_json() == {
        "error": "invalid",
        "message": "warehouse_id is not a valid id.",
        "field": "warehouse_id",
    }


def test_a_lone_surrogate_in_json_is_422(client, db, keeper_api):
    headers, warehouse, _material = keeper_api
    raw = json.dumps(receipt_body(warehouse, supplier="SURROGATE")).replace("SURROGATE", "\\ud800")
    response = client.post(
        "/api/v1/receipts", headers={**headers, "Content-Type": "application/json"}, data=raw
    )
    assert response.status_code == 422
    assert response.get_json()["field"] == "supplier"
    assert receipts(db) == 0


@pytest.mark.parametrize("text", ["NUL\x00", "bell\x07", "\x1b[31m"])
def test_control_characters_in_json_strings_are_422(client, db, keeper_api, text):
    headers, warehouse, _material = keeper_api
    body = receipt_body(warehouse)
    body["lines"][0]["batch_no"] = text
    response = client.post("/api/v1/receipts", headers=headers, json=body)
    assert response.status_code == 422
    assert response.get_json()["field"] == "lines[0].batch_no"
    assert "Control characters" in response.get_json()["message"]
    assert receipts(db) == 0


def test_deep_nesting_is_refused_before_parsing(client, keeper_api):
    headers, _warehouse, _material = keeper_api
    for raw in ("[" * 100_000 + "]" * 100_000, '{"a":' * 100_000 + "1" + "}" * 100_000):
        response = client.post(
            "/api/v1/receipts", headers={**headers, "Content-Type": "application/json"}, data=raw
        )
        assert response.status_code == 422
        assert "nested" in response.get_json()["message"]
    # brackets inside strings do not count, escaped quotes do not end a string
    fine = '{"note": "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[\\"[[[[", "x": [[1]]}'
    response = client.post(
        "/api/v1/receipts", headers={**headers, "Content-Type": "application/json"}, data=fine
    )
    assert response.status_code == 422 and "nested" not in response.get_json()["message"]


def test_non_finite_numbers_are_422(client, keeper_api):
    headers, warehouse, _material = keeper_api
    raw = json.dumps(receipt_body(warehouse)).replace('"qty": 10', '"qty": NaN')
    response = client.post(
        "/api/v1/receipts", headers={**headers, "Content-Type": "application/json"}, data=raw
    )
    assert response.status_code == 422
    assert "not finite" in response.get_json()["message"]


def test_a_huge_body_is_413(client, keeper_api):
    headers, warehouse, _material = keeper_api
    body = receipt_body(warehouse, note="x" * (1024 * 1024))
    response = client.post("/api/v1/receipts", headers=headers, json=body)
    assert response.status_code == 413
    assert response.get_json()["error"] == "too_large"


@pytest.mark.parametrize("day", ["0001-01-01", "1899-12-31", "1999-12-31"])
def test_document_dates_before_the_window_are_refused(client, db, keeper_api, day):
    headers, warehouse, _material = keeper_api
    response = client.post(
        "/api/v1/receipts", headers=headers, json=receipt_body(warehouse, document_date=day)
    )
    assert response.status_code == 422, response.get_json()
    assert response.get_json()["field"] == "document_date"
    assert f"{day} is before 2000-01-01" in response.get_json()["message"]
    assert receipts(db) == 0


def test_the_window_is_configurable(app, client, db, keeper_api):
    headers, warehouse, _material = keeper_api
    app.config["DOCUMENT_DATE_MIN"] = TODAY.isoformat()
    try:
        yesterday = TODAY.fromordinal(TODAY.toordinal() - 1).isoformat()
        response = client.post(
            "/api/v1/receipts",
            headers=headers,
            json=receipt_body(warehouse, document_date=yesterday),
        )
    finally:
        app.config["DOCUMENT_DATE_MIN"] = "2000-01-01"
    assert response.status_code == 422
    assert "is before" in response.get_json()["message"]


def test_control_characters_in_page_queries_and_forms_are_422(login_as, db, make_warehouse):
    admin = login_as(Role.ADMIN)
    response = admin.get("/stock?q=%00")
    assert response.status_code == 422
    assert "不允许包含控制字符" in response.get_data(as_text=True)  # pages speak Chinese
    response = admin.post("/catalog/categories", data={"code": "1010100", "name": "帐篷\x00"})
    assert response.status_code == 422
