"""Warehouses API: regions, warehouses and locations, paginated, filtered and scoped."""

import pytest

from reserve.api import openapi_document
from reserve.auth.models import Role


@pytest.fixture
def jinan(make_region):
    province = make_region("370000", "山东省", "province")
    city = make_region("370100", "济南市", "city", province)
    make_region("370102", "历下区", "district", city)
    make_region("370103", "市中区", "district", city)
    make_region("370200", "青岛市", "city", province)
    return city


def test_region_list_filters_by_parent_and_level(client, api_token, jinan):
    headers, _user = api_token(Role.VIEWER)
    body = client.get("/api/v1/regions", headers=headers).get_json()
    assert (len(body["items"]), body["next"]) == (5, None)
    assert body["items"][0] == {
        "id": body["items"][0]["id"],
        "code": "370000",
        "name": "山东省",
        "level": "province",
        "parent_code": None,
    }
    body = client.get("/api/v1/regions?parent=370100", headers=headers).get_json()
    assert [r["code"] for r in body["items"]] == ["370102", "370103"]
    assert {r["parent_code"] for r in body["items"]} == {"370100"}
    first = client.get("/api/v1/regions?level=city&per_page=1", headers=headers).get_json()
    body = client.get(
        "/api/v1/regions",
        query_string={"level": "city", "per_page": 1, "after": first["next"]},
        headers=headers,
    ).get_json()
    assert [r["code"] for r in first["items"] + body["items"]] == ["370100", "370200"]
    assert body["next"] is None


def test_townships_list_under_their_county_with_nine_digits(
    client, api_token, jinan, make_region, db
):
    from sqlalchemy import select

    from reserve.warehouses.models import Region

    lixia = db.scalar(select(Region).where(Region.code == "370102"))
    make_region("370102004", "泉城路街道", "township", lixia)
    make_region("370102001", "解放路街道", "township", lixia)
    headers, _user = api_token(Role.VIEWER)
    body = client.get("/api/v1/regions?parent=370102", headers=headers).get_json()
    assert [(r["code"], r["parent_code"]) for r in body["items"]] == [
        ("370102001", "370102"),
        ("370102004", "370102"),
    ]
    codes = [r["code"] for r in client.get("/api/v1/regions", headers=headers).get_json()["items"]]
    assert codes.index("370102") < codes.index("370102001") < codes.index("370103")


def test_warehouse_list_and_detail(client, api_token, make_warehouse, make_user, jinan):
    from decimal import Decimal

    warehouse = make_warehouse(
        "JN-SJ-01",
        "市级库",
        region=jinan,
        lat=Decimal("36.681523"),
        lng=Decimal("117.291846"),
        area_m2=Decimal("19435.0"),
    )
    make_warehouse("JN-LX-01", "历下区库", level="district", region=jinan)
    make_user(Role.KEEPER, warehouses=[warehouse])
    headers, _user = api_token(Role.DISPATCHER)
    body = client.get("/api/v1/warehouses", headers=headers).get_json()
    assert [w["code"] for w in body["items"]] == ["JN-LX-01", "JN-SJ-01"]
    item = body["items"][1]
    assert (item["lat"], item["lng"], item["area_m2"]) == ("36.681523", "117.291846", "19435.0")
    assert (item["location_count"], item["keeper_count"], item["region_code"]) == (2, 1, "370100")
    body = client.get("/api/v1/warehouses?level=district&sort=-code", headers=headers).get_json()
    assert [w["code"] for w in body["items"]] == ["JN-LX-01"]
    first = client.get("/api/v1/warehouses?per_page=1", headers=headers).get_json()
    body = client.get(
        "/api/v1/warehouses", query_string={"per_page": 1, "after": first["next"]}, headers=headers
    ).get_json()
    assert [w["code"] for w in body["items"]] == ["JN-SJ-01"] and body["next"] is None
    response = client.get(f"/api/v1/warehouses/{warehouse.id}", headers=headers)
    assert response.status_code == 200 and response.get_json() == item
    response = client.get("/api/v1/warehouses/999999", headers=headers)
    assert response.status_code == 404 and response.get_json()["error"] == "not_found"


def test_keeper_token_sees_only_its_warehouses(client, api_token, make_warehouse):
    mine, theirs = make_warehouse("WH-MINE"), make_warehouse("WH-THEIRS")
    headers, _user = api_token(Role.KEEPER, warehouses=[mine])
    body = client.get("/api/v1/warehouses", headers=headers).get_json()
    assert [w["code"] for w in body["items"]] == ["WH-MINE"] and body["next"] is None
    assert client.get(f"/api/v1/warehouses/{mine.id}", headers=headers).status_code == 200
    for url in (f"/api/v1/warehouses/{theirs.id}", f"/api/v1/warehouses/{theirs.id}/locations"):
        response = client.get(url, headers=headers)
        assert response.status_code == 403, url
        assert response.get_json()["error"] == "forbidden"


def test_location_list(client, api_token, make_warehouse):
    warehouse = make_warehouse()
    headers, _user = api_token(Role.KEEPER, warehouses=[warehouse])
    body = client.get(f"/api/v1/warehouses/{warehouse.id}/locations", headers=headers).get_json()
    assert [(loc["code"], loc["is_receiving"]) for loc in body["items"]] == [
        ("RECV", True),
        ("A-01-01", False),
    ]
    path = f"/api/v1/warehouses/{warehouse.id}/locations"
    first = client.get(path, query_string={"per_page": 1}, headers=headers).get_json()
    body = client.get(
        path, query_string={"per_page": 1, "after": first["next"]}, headers=headers
    ).get_json()
    assert [loc["code"] for loc in first["items"] + body["items"]] == ["RECV", "A-01-01"]
    assert body["next"] is None
    response = client.get(
        f"/api/v1/warehouses/{warehouse.id}/locations?per_page=0", headers=headers
    )
    assert response.status_code == 422 and response.get_json()["error"] == "invalid"


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/regions",
        "/api/v1/warehouses",
        "/api/v1/warehouses/1",
        "/api/v1/warehouses/1/locations",
    ],
)
def test_a_token_is_required(client, url):
    response = client.get(url)
    assert response.status_code == 401 and response.get_json()["error"] == "unauthorized"
    response = client.get(url, headers={"Authorization": "Bearer not-a-token"})
    assert response.status_code == 401


def test_an_enterprise_token_is_refused(client, api_token):
    headers, _user = api_token(Role.ENTERPRISE)
    assert client.get("/api/v1/warehouses", headers=headers).status_code == 403


def test_openapi_declares_the_schemas(app):
    document = openapi_document()
    for name in ("Region", "Warehouse", "Location"):
        assert name in document["components"]["schemas"]
    assert "/api/v1/warehouses/{warehouse_id}/locations" in document["paths"]
    assert document["components"]["schemas"]["Warehouse"]["properties"]["lat"]["type"] == "string"
