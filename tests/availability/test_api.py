"""GET /api/v1/availability and /api/v1/availability/<material>: the page's figures, paged by
key, in the OpenAPI document, bad filters answered 422 with the page's message."""

from __future__ import annotations

import pytest

from reserve.auth.models import Role


@pytest.fixture
def headers(api_token):
    return api_token(Role.DISPATCHER)[0]


def test_the_list_gives_physical_agreement_and_capacity_apart(client, headers, province):
    body = client.get("/api/v1/availability", headers=headers).get_json()
    found = {item["code"]: item for item in body["items"]}
    water = found["1010100001"]
    assert water["physical"] == {"on_hand": 1700, "available": 1700, "warehouses": 3}
    assert water["agreement_stock"]["callable"] == 1200
    assert water["agreement_stock"]["flagged_lines"] == 3
    assert found["1010100002"]["capacity"]["producible_within"] == 2000
    assert found["1010100002"]["capacity"]["hours"] == 72
    assert body["next"] is None


def test_the_list_filters_by_region_and_pages_by_key(client, headers, province):
    query = {"region": province.jinan.id, "per_page": 1}
    seen, after = [], None
    while True:
        body = client.get(
            "/api/v1/availability",
            headers=headers,
            query_string={**query, **({"after": after} if after else {})},
        ).get_json()
        seen += [item["code"] for item in body["items"]]
        after = body["next"]
        if not after:
            break
    assert seen == ["1010100001", "1010100002", "1010100003"]


def test_one_material_lists_its_warehouses_and_lines(client, headers, province):
    body = client.get(
        f"/api/v1/availability/{province.water.id}",
        headers=headers,
        query_string={"region": province.lixia.id},
    ).get_json()
    assert body["material"]["agreement_stock"]["callable"] == 800
    assert [w["code"] for w in body["warehouses"]] == ["WH-LX"]
    (line,) = body["lines"]
    assert (line["agreement_no"], line["callable_qty"], line["flags"]) == (
        "XY-CITY",
        800,
        ["reported_below"],
    )
    assert (line["duty_phone"], line["response_hours"]) == ("13800000001", 12)
    assert line["verified_on"] and line["verification_passed"] is True


@pytest.mark.parametrize(
    "query",
    [{"region": 999999}, {"category": "nope"}, {"hours": 0}, {"hours": 9000}, {"material": 999999}],
)
def test_bad_filters_answer_422_with_a_message(client, headers, province, query):
    response = client.get("/api/v1/availability", headers=headers, query_string=query)
    assert response.status_code == 422
    assert response.get_json()["error"] and response.get_json()["message"]


def test_text_where_a_number_belongs_is_422(client, headers, province):
    response = client.get("/api/v1/availability?hours=soon", headers=headers)
    assert response.status_code == 422


def test_an_unknown_material_is_404(client, headers, province):
    assert client.get("/api/v1/availability/999999", headers=headers).status_code == 404


def test_both_are_in_the_openapi_document(client, headers):
    paths = client.get("/api/v1/openapi.json", headers=headers).get_json()["paths"]
    assert "get" in paths["/api/v1/availability"]
    assert "get" in paths["/api/v1/availability/{material_id}"]
