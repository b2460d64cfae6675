from reserve.auth.models import Role
from tests.stock.conftest import post


def test_stock_over_the_api_matches_the_page(client, api_token, db, place):
    post(db, place, 40)
    post(db, place, -15)
    headers, _ = api_token(Role.DISPATCHER)
    body = client.get("/api/v1/stock", headers=headers).get_json()
    row = body["items"][0]
    assert (row["code"], row["qty"], row["available"]) == ("TENT", 25, 25)
    detail = client.get(f"/api/v1/stock/materials/{place.material.id}", headers=headers).get_json()
    assert detail["balances"][0]["location_code"] == "A-01-01"
    card = client.get(
        f"/api/v1/materials/{place.material.id}/movements", headers=headers
    ).get_json()
    assert [(m["qty"], m["balance"]) for m in card["items"]] == [(-15, 25), (40, 40)]


def test_api_bad_filters_are_422(client, api_token, place):
    headers, _ = api_token(Role.VIEWER)
    response = client.get("/api/v1/stock?warehouse=abc", headers=headers)
    assert response.status_code == 422 and response.get_json()["error"] == "invalid"
    url = f"/api/v1/materials/{place.material.id}/movements"
    response = client.get(f"{url}?from=2026-13-01", headers=headers)
    assert response.status_code == 422 and response.get_json()["error"] == "invalid"


def test_api_card_of_an_unknown_material_is_404(client, api_token):
    headers, _ = api_token(Role.VIEWER)
    response = client.get("/api/v1/materials/999999/movements", headers=headers)
    assert response.status_code == 404 and response.get_json()["error"] == "not_found"


def test_enterprise_users_cannot_read_stock(client, api_token, make_enterprise):
    headers, _ = api_token(Role.ENTERPRISE, enterprise=make_enterprise())
    assert client.get("/api/v1/stock", headers=headers).status_code == 403
