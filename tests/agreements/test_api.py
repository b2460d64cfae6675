"""The enterprises and agreements API: lists by key, detail, writes through the same forms and
services (idempotent under an Idempotency-Key), the OpenAPI document, and enterprise tokens
scoped to their enterprise."""

from datetime import timedelta
from io import BytesIO

from sqlalchemy import func, select

from reserve.agreements.models import Agreement, AgreementLine, Enterprise
from reserve.api import openapi_document
from reserve.auth.models import Role
from tests.agreements.conftest import TODAY, code

PDF = b"%PDF-1.4\n%%EOF\n"


def _body(site, **changes):
    body = {
        "no": "API-001",
        "enterprise_id": site.own.id,
        "signed_on": TODAY.isoformat(),
        "valid_from": TODAY.isoformat(),
        "valid_to": (TODAY + timedelta(days=365)).isoformat(),
        "response_hours": 24,
        "region_ids": [site.region.id],
        "storage_fee": "2.00",
        "lines": [
            {"material_code": site.water.code, "kind": "stock", "committed_qty": 800},
            {
                "material_id": site.quilt.id,
                "kind": "capacity",
                "committed_qty": 10000,
                "daily_qty": 2000,
                "lead_hours": 48,
            },
        ],
    }
    body.update(changes)
    return body


def _count(db, model):
    return db.scalar(select(func.count()).select_from(model))


def test_create_activate_and_read_an_agreement(client, api_token, site, db):
    headers, _user = api_token(Role.DISPATCHER)
    response = client.post("/api/v1/agreements", json=_body(site), headers=headers)
    assert response.status_code == 201, response.get_json()
    agreement = response.get_json()
    assert agreement["status"] == "draft" and agreement["region_ids"] == [site.region.id]
    stock, capacity = agreement["lines"]
    assert (stock["kind"], stock["committed_qty"], stock["producible_within_hours"]) == (
        "stock",
        800,
        None,
    )
    assert capacity["producible_within_hours"] == 2000 and capacity["called_qty"] == 0
    done = client.post(f"/api/v1/agreements/{agreement['id']}/activate", headers=headers)
    assert done.status_code == 200 and done.get_json()["status"] == "active"
    detail = client.get(f"/api/v1/agreements/{agreement['id']}?hours=60", headers=headers)
    assert detail.get_json()["lines"][1]["producible_within_hours"] == 1000
    listing = client.get("/api/v1/agreements?status=active", headers=headers).get_json()
    assert [row["no"] for row in listing["items"]] == ["API-001"] and listing["next"] is None
    assert listing["items"][0]["stock_lines"] == 1 and listing["items"][0]["capacity_lines"] == 1


def test_an_update_keeps_what_it_leaves_out(client, api_token, site, make_agreement, db):
    draft = make_agreement(region_ids=(site.region.id,))
    headers, _user = api_token(Role.ADMIN)
    response = client.post(
        f"/api/v1/agreements/{draft.id}", json={"response_hours": 6}, headers=headers
    )
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["response_hours"] == 6 and body["region_ids"] == [site.region.id]
    assert [line["committed_qty"] for line in body["lines"]] == [1000]


def test_bad_input_is_a_422_naming_the_field_and_changes_nothing(client, api_token, site, db):
    headers, _user = api_token(Role.DISPATCHER)
    client.get("/lang/en")
    client.post("/api/v1/agreements", json=_body(site, no="TAKEN"), headers=headers)
    before = (_count(db, Agreement), _count(db, AgreementLine))
    cases = [
        (dict(valid_to=(TODAY - timedelta(days=1)).isoformat()), "valid_to"),
        (dict(no="TAKEN"), "no"),
        (
            dict(lines=[{"material_id": site.water.id, "kind": "stock", "committed_qty": 0}]),
            "lines-0-committed_qty",
        ),
        (
            dict(lines=[{"material_id": site.water.id, "kind": "stock", "committed_qty": -1}]),
            "lines-0-committed_qty",
        ),
        (
            dict(lines=[{"material_code": "NOPE", "kind": "stock", "committed_qty": 1}]),
            "lines-0-material_id",
        ),
        (dict(lines="many"), "lines"),
    ]
    for changes, field in cases:
        response = client.post("/api/v1/agreements", json=_body(site, **changes), headers=headers)
        assert response.status_code in (409, 422), (changes, response.get_json())
        assert response.get_json()["field"] == field, (changes, response.get_json())
    assert (_count(db, Agreement), _count(db, AgreementLine)) == before


def test_writes_are_idempotent(client, api_token, site, db):
    headers, _user = api_token(Role.DISPATCHER)
    headers = {**headers, "Idempotency-Key": "agreement-create-1"}
    first = client.post("/api/v1/agreements", json=_body(site), headers=headers)
    again = client.post("/api/v1/agreements", json=_body(site), headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert again.get_json()["id"] == first.get_json()["id"] and _count(db, Agreement) == 1


def test_enterprises_register_page_by_key_and_keep_their_contacts(client, api_token, site, db):
    headers, _user = api_token(Role.ADMIN)
    body = {
        "name": "济南新企业有限公司",
        "uscc": " " + code("91370105MA3X00001").lower(),
        "enterprise_type": "logistics",
        "contacts": [{"name": "值班", "phone": "13800000009", "is_duty": True}],
    }
    response = client.post("/api/v1/enterprises", json=body, headers=headers)
    assert response.status_code == 201, response.get_json()
    created = response.get_json()
    assert created["contacts"] == [
        {"name": "值班", "title": None, "phone": "13800000009", "is_duty": True}
    ]
    changed = client.post(
        f"/api/v1/enterprises/{created['id']}", json={"status": "suspended"}, headers=headers
    ).get_json()
    assert changed["status"] == "suspended" and changed["contacts"] == created["contacts"]
    bad = client.post(
        "/api/v1/enterprises",
        json={**body, "name": "另一家", "uscc": "91370105MA3X000010"},
        headers=headers,
    )
    assert bad.status_code == 422 and bad.get_json()["field"] == "uscc"
    page = client.get("/api/v1/enterprises?per_page=1&status=all", headers=headers).get_json()
    assert len(page["items"]) == 1 and page["next"]
    rest = client.get(
        "/api/v1/enterprises",
        query_string={"per_page": 500, "status": "all", "after": page["next"]},
        headers=headers,
    ).get_json()
    names = [page["items"][0]["name"]] + [e["name"] for e in rest["items"]]
    assert sorted(names) == sorted(db.scalars(select(Enterprise.name)).all())


def test_an_enterprise_token_sees_its_own_only(client, api_token, site, make_agreement, db):
    own = make_agreement(activate=True)
    theirs = make_agreement(no="THEIRS", enterprise_id=site.other.id, activate=True)
    headers, _user = api_token(Role.ENTERPRISE, enterprise=site.own)
    listing = client.get("/api/v1/agreements", headers=headers).get_json()
    assert [row["no"] for row in listing["items"]] == [own.no]
    enterprises = client.get("/api/v1/enterprises", headers=headers).get_json()
    assert [e["name"] for e in enterprises["items"]] == [site.own.name]
    for url in (
        f"/api/v1/agreements/{theirs.id}",
        f"/api/v1/agreements/{theirs.id}/attachments",
        f"/api/v1/enterprises/{site.other.id}",
    ):
        response = client.get(url, headers=headers)
        assert response.status_code == 404, url
        assert theirs.no not in response.get_data(as_text=True)
    assert client.get(f"/api/v1/agreements/{own.id}", headers=headers).status_code == 200
    assert (
        client.post(
            f"/api/v1/agreements/{own.id}/terminate", json={"reason": "x"}, headers=headers
        ).status_code
        == 403
    )
    upload = client.post(
        f"/api/v1/agreements/{own.id}/attachments",
        data={"file": (BytesIO(PDF), "x.pdf")},
        headers=headers,
        content_type="multipart/form-data",
    )
    assert upload.status_code == 403


def test_the_routes_are_in_the_openapi_document(app):
    with app.test_request_context():
        paths = openapi_document()["paths"]
    for path, method in (
        ("/api/v1/enterprises", "get"),
        ("/api/v1/enterprises", "post"),
        ("/api/v1/enterprises/{enterprise_id}", "post"),
        ("/api/v1/agreements", "post"),
        ("/api/v1/agreements/{agreement_id}/activate", "post"),
        ("/api/v1/agreements/{agreement_id}/terminate", "post"),
        ("/api/v1/agreements/{agreement_id}/renew", "post"),
        ("/api/v1/agreements/{agreement_id}/attachments", "post"),
        ("/api/v1/agreements/{agreement_id}/attachments/{attachment_id}", "get"),
    ):
        operation = paths[path][method]
        if method == "post":
            assert any(p["name"] == "Idempotency-Key" for p in operation["parameters"]), path


def test_odd_numbers_and_too_many_rows_are_422_not_an_error(client, api_token, site, db):
    headers, _user = api_token(Role.ADMIN)
    body = {"name": "济南某企业有限公司", "uscc": code("91370105MA3X00002")}
    for changes, field in (
        ({"lat": "NaN", "lng": "117"}, "lat"),
        ({"lat": "Infinity", "lng": "117"}, "lat"),
        ({"lat": "1e400", "lng": "117"}, "lat"),
        ({"contacts": [{"name": f"人{n}", "phone": "13800000000"} for n in range(11)]}, "contacts"),
    ):
        response = client.post("/api/v1/enterprises", json={**body, **changes}, headers=headers)
        assert response.status_code == 422, (changes, response.get_json())
        assert response.get_json()["field"] == field
    lines = [
        {"material_id": site.water.id, "kind": "stock", "committed_qty": 2**31},
    ]
    response = client.post("/api/v1/agreements", json=_body(site, lines=lines), headers=headers)
    assert response.status_code == 422 and response.get_json()["field"] == "lines-0-committed_qty"
    assert _count(db, Enterprise) == 2 and _count(db, Agreement) == 0
