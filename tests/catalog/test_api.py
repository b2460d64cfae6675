from reserve.auth.models import Role


def test_material_search_over_the_api(client, api_token, make_material):
    make_material("单帐篷", code="T1")
    make_material("棉被", code="Q1")
    headers, _ = api_token(Role.VIEWER)
    body = client.get("/api/v1/materials?q=zp", headers=headers).get_json()
    assert body["total"] == 1 and body["items"][0]["code"] == "T1"
    assert body["items"][0]["category_code"]
    one = client.get(f"/api/v1/materials/{body['items'][0]['id']}", headers=headers).get_json()
    assert one["name"] == "单帐篷"


def test_category_list_pages(client, api_token, make_category):
    make_category("1010101")
    headers, _ = api_token(Role.VIEWER)
    body = client.get("/api/v1/categories?per_page=2", headers=headers).get_json()
    assert body["total"] == 4 and len(body["items"]) == 2 and body["pages"] == 2
    assert client.get("/api/v1/categories?per_page=0", headers=headers).status_code == 422
