from reserve.auth.models import Role


def test_material_search_over_the_api(client, api_token, make_material):
    make_material("单帐篷", code="T1")
    make_material("棉被", code="Q1")
    headers, _ = api_token(Role.VIEWER)
    body = client.get("/api/v1/materials?q=zp", headers=headers).get_json()
    assert [m["code"] for m in body["items"]] == ["T1"] and body["next"] is None
    assert body["items"][0]["category_code"]
    one = client.get(f"/api/v1/materials/{body['items'][0]['id']}", headers=headers).get_json()
    assert one["name"] == "单帐篷"


def test_category_list_pages(client, api_token, make_category):
    make_category("1010101")
    headers, _ = api_token(Role.VIEWER)
    body = client.get("/api/v1/categories?per_page=2", headers=headers).get_json()
    assert [c["code"] for c in body["items"]] == ["1000000", "1010000"] and body["next"]
    body = client.get(
        "/api/v1/categories", query_string={"per_page": 2, "after": body["next"]}, headers=headers
    ).get_json()
    assert [c["code"] for c in body["items"]] == ["1010100", "1010101"] and body["next"] is None
    assert client.get("/api/v1/categories?per_page=0", headers=headers).status_code == 422
