"""Stocktake API: read the count sheet (blind hides the books from the counter) and record counts
with the same service as the page, by id or by code."""

from __future__ import annotations

import pytest

from reserve.auth.models import Role
from reserve.stocktakes import service


@pytest.fixture
def blind(db, stocked):
    return service.open_stocktake(
        db, warehouse_id=stocked.warehouse.id, is_blind=True, actor=stocked.keeper_actor
    )


def test_the_count_sheet_hides_the_books_from_a_blind_counter(client, api_token, stocked, blind):
    headers, _ = api_token(Role.KEEPER, warehouses=[stocked.warehouse])
    body = client.get(f"/api/v1/stocktakes/{blind.id}", headers=headers).get_json()
    assert body["no"] == blind.no and body["status"] == "counting" and body["is_blind"]
    assert len(body["lines"]) == 3
    assert all(line["system_qty"] is None and line["variance"] is None for line in body["lines"])
    headers, _ = api_token(Role.APPROVER)
    body = client.get(f"/api/v1/stocktakes/{blind.id}", headers=headers).get_json()
    assert sorted(line["system_qty"] for line in body["lines"]) == [3, 5, 10]


def test_record_counts_by_code_and_by_id(client, api_token, stocked, blind):
    s = stocked
    headers, _ = api_token(Role.KEEPER, warehouses=[s.warehouse])
    url = f"/api/v1/stocktakes/{blind.id}/counts"
    response = client.post(
        url,
        headers=headers,
        json={
            "location_code": "A-01-01",
            "batch_no": "T-2026-01",
            "material_code": s.tent.code,
            "counted_qty": 8,
            "reason": "破损两顶",
        },
    )
    assert response.status_code == 200, response.get_json()
    line = response.get_json()
    assert line["counted_qty"] == 8 and line["reason"] == "破损两顶"
    assert line["system_qty"] is None and line["variance"] is None  # still blind
    response = client.post(
        url,
        headers=headers,
        json={"location_id": s.shelf.id, "batch_id": s.tent_batch.id, "counted_qty": 0},
    )
    assert response.get_json()["counted_qty"] == 0
    assert response.get_json()["reason"] == "破损两顶"  # absent: kept
    headers, _ = api_token(Role.APPROVER)
    body = client.get(f"/api/v1/stocktakes/{blind.id}", headers=headers).get_json()
    counted = [line for line in body["lines"] if line["counted_qty"] is not None]
    assert [(line["system_qty"], line["variance"]) for line in counted] == [(10, -10)]


@pytest.mark.parametrize(
    "payload, status, code",
    [
        ({"location_code": "A-01-01", "counted_qty": -1}, 422, "invalid"),
        ({"location_code": "A-01-01", "counted_qty": 2.5}, 422, "invalid"),
        ({"location_code": "A-01-01", "counted_qty": "many"}, 422, "invalid"),
        ({"location_code": "A-01-01"}, 422, "invalid"),
        ({"location_code": "Z-99", "counted_qty": 1}, 422, "invalid"),
        ({"location_code": "A-01-01", "batch_no": "NOPE", "counted_qty": 1}, 404, "not_found"),
    ],
)
def test_bad_counts_are_refused_with_a_stable_code(
    client, api_token, stocked, blind, payload, status, code
):
    s = stocked
    headers, _ = api_token(Role.KEEPER, warehouses=[s.warehouse])
    body = {"batch_no": "T-2026-01", "material_code": s.tent.code, **payload}
    response = client.post(f"/api/v1/stocktakes/{blind.id}/counts", headers=headers, json=body)
    assert response.status_code == status, response.get_json()
    assert response.get_json()["error"] == code
    if code == "not_found":
        assert "先入库" in response.get_json()["message"]
    sheet = client.get(f"/api/v1/stocktakes/{blind.id}", headers=headers).get_json()
    assert all(line["counted_qty"] is None for line in sheet["lines"])


def test_scope_and_roles(client, api_token, stocked, blind, make_warehouse):
    stranger, _ = api_token(Role.KEEPER, warehouses=[make_warehouse()])
    assert client.get(f"/api/v1/stocktakes/{blind.id}", headers=stranger).status_code == 403
    response = client.post(
        f"/api/v1/stocktakes/{blind.id}/counts",
        headers=stranger,
        json={"location_code": "A-01-01", "batch_id": 1, "counted_qty": 1},
    )
    assert response.status_code == 403
    viewer, _ = api_token(Role.VIEWER)
    response = client.post(
        f"/api/v1/stocktakes/{blind.id}/counts", headers=viewer, json={"counted_qty": 1}
    )
    assert response.status_code == 403
    assert client.get("/api/v1/stocktakes/999999", headers=viewer).status_code == 404


def test_the_openapi_document_describes_the_routes(client):
    document = client.get("/api/v1/openapi.json").get_json()
    assert "get" in document["paths"]["/api/v1/stocktakes/{stocktake_id}"]
    post = document["paths"]["/api/v1/stocktakes/{stocktake_id}/counts"]["post"]
    assert post["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "StocktakeCount"
    )
    assert "StocktakeLine" in document["components"]["schemas"]
