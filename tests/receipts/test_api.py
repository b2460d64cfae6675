"""Receipts over the API: create by codes and post at once, 422 / 403 / 409."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from reserve.auth.models import Role
from reserve.stock.models import StockBalance
from tests.receipts.conftest import TODAY, counts


@pytest.fixture
def keeper_api(api_token, make_warehouse):
    warehouse = make_warehouse(code="WH-API")
    headers, user = api_token(Role.KEEPER, warehouses=[warehouse])
    headers["Accept-Language"] = "en"
    return headers, warehouse


def body(warehouse, lines, **header):
    data = {
        "warehouse_id": warehouse.id,
        "source": "donation",
        "document_date": TODAY.isoformat(),
        "supplier": "中国红十字会",
        "lines": lines,
    }
    data.update(header)
    return data


def test_create_by_codes_and_post_in_one_call(client, db, keeper_api, make_material):
    headers, warehouse = keeper_api
    make_material("棉被", code="QUILT-1", unit="床", shelf_life_days=1825)
    make_material("发电机", code="GEN-1", unit="台", tracking="serial")
    produced = TODAY - timedelta(days=7)
    response = client.post(
        "/api/v1/receipts",
        headers=headers,
        json=body(
            warehouse,
            [
                {
                    "material_code": "QUILT-1",
                    "batch_no": "Q-01",
                    "qty": 300,
                    "production_date": produced.isoformat(),
                    "location_code": "A-01-01",
                    "unit_cost": "120.50",
                },
                {"material_code": "GEN-1", "batch_no": "G-01", "qty": 2, "serials": ["G1", "G2"]},
            ],
            post=True,
        ),
    )
    assert response.status_code == 201, response.get_json()
    receipt = response.get_json()
    assert receipt["status"] == "posted" and receipt["no"].startswith("RK")
    assert receipt["total_qty"] == 302 and receipt["total_value"] == "36150.00"
    quilt, gen = receipt["lines"]
    assert quilt["expiry_date"] == (produced + timedelta(days=1825)).isoformat()
    assert quilt["location_code"] == "A-01-01" and gen["location_code"] == "RECV"
    assert gen["serials"] == ["G1", "G2"] and gen["batch_id"]
    assert (
        db.scalar(
            select(func.sum(StockBalance.qty)).where(StockBalance.warehouse_id == warehouse.id)
        )
        == 302
    )

    again = client.post(f"/api/v1/receipts/{receipt['id']}/post", headers=headers)
    assert again.status_code == 409 and again.get_json()["error"] == "conflict"
    one = client.get(f"/api/v1/receipts/{receipt['id']}", headers=headers).get_json()
    assert one["no"] == receipt["no"] and len(one["lines"]) == 2
    listing = client.get("/api/v1/receipts?status=posted", headers=headers).get_json()
    assert [r["no"] for r in listing["items"]] == [receipt["no"]]
    assert listing["items"][0]["total_qty"] == 302


def test_draft_then_post(client, keeper_api, make_material):
    headers, warehouse = keeper_api
    material = make_material("单帐篷", code="TENT-A")
    created = client.post(
        "/api/v1/receipts",
        headers=headers,
        json=body(warehouse, [{"material_id": material.id, "batch_no": "T-1", "qty": 5}]),
    ).get_json()
    assert created["status"] == "draft"
    posted = client.post(f"/api/v1/receipts/{created['id']}/post", headers=headers)
    assert posted.status_code == 200 and posted.get_json()["status"] == "posted"


@pytest.mark.parametrize(
    "line, field, words",
    [
        ({"material_code": "NOPE", "batch_no": "B", "qty": 1}, "lines-0-material_code", "NOPE"),
        ({"material_code": "TENT-A", "batch_no": "B", "qty": 1.5}, "lines-0-qty", "Quantity"),
        (
            {"material_code": "TENT-A", "batch_no": "B", "qty": 0},
            "lines-0-qty",
            "greater than zero",
        ),
        ({"material_code": "TENT-A", "batch_no": "B", "qty": 10**10}, "lines-0-qty", "implausibly"),
        ({"material_code": "WATER-A", "batch_no": "", "qty": 1}, "lines-0-batch_no", "shelf life"),
        (
            {"material_code": "TENT-A", "batch_no": "B", "qty": 1, "location_code": "Z-9"},
            "lines-0-location_code",
            "Z-9",
        ),
        (
            {"material_code": "TENT-A", "batch_no": "B", "qty": 1, "serials": ["S1"]},
            "lines-0-serials",
            "tracked by batch",
        ),
        (
            {"material_code": "TENT-A", "batch_no": "B", "qty": 1, "production_date": "2026-02-30"},
            "lines-0-production_date",
            "Production date",
        ),
    ],
)
def test_bad_input_is_422_and_changes_nothing(
    client, db, keeper_api, make_material, line, field, words
):
    headers, warehouse = keeper_api
    make_material("单帐篷", code="TENT-A")
    make_material("瓶装水", code="WATER-A", unit="箱", shelf_life_days=730)
    before = counts(db)
    response = client.post(
        "/api/v1/receipts", headers=headers, json=body(warehouse, [line], post=True)
    )
    assert response.status_code == 422, response.get_json()
    error = response.get_json()
    assert error["error"] == "invalid" and error["field"] == field
    assert words in error["message"] and "Line 1" in error["message"]
    assert counts(db) == before


def test_bad_body_is_422(client, keeper_api):
    headers, warehouse = keeper_api
    assert client.post("/api/v1/receipts", headers=headers, data="x").status_code == 422
    response = client.post("/api/v1/receipts", headers=headers, json=body(warehouse, []))
    assert response.status_code == 422 and response.get_json()["field"] == "lines"


def test_a_keeper_outside_the_warehouse_is_403(
    client, db, keeper_api, api_token, make_warehouse, make_material
):
    headers, warehouse = keeper_api
    material = make_material("单帐篷", code="TENT-A")
    created = client.post(
        "/api/v1/receipts",
        headers=headers,
        json=body(warehouse, [{"material_id": material.id, "batch_no": "T-1", "qty": 5}]),
    ).get_json()
    other_headers, _ = api_token(Role.KEEPER, warehouses=[make_warehouse(code="WH-OTHER")])
    before = counts(db)
    response = client.post(
        "/api/v1/receipts",
        headers=other_headers,
        json=body(warehouse, [{"material_id": material.id, "batch_no": "T-1", "qty": 5}]),
    )
    assert response.status_code == 403
    assert (
        client.post(f"/api/v1/receipts/{created['id']}/post", headers=other_headers).status_code
        == 403
    )
    assert client.get(f"/api/v1/receipts/{created['id']}", headers=other_headers).status_code == 403
    assert client.get("/api/v1/receipts", headers=other_headers).get_json()["items"] == []
    assert counts(db) == before
    viewer_headers, _ = api_token(Role.VIEWER)
    assert len(client.get("/api/v1/receipts", headers=viewer_headers).get_json()["items"]) == 1
    assert (
        client.post(f"/api/v1/receipts/{created['id']}/post", headers=viewer_headers).status_code
        == 403
    )


def test_the_openapi_document_lists_the_receipt_routes(client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    assert set(paths["/api/v1/receipts"]) == {"get", "post"}
    assert "post" in paths["/api/v1/receipts/{receipt_id}/post"]
