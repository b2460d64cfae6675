"""The stock report and verification API: an enterprise's system files a report with its token
(scoped to its enterprise), the bureau requests, plans and records, photos, idempotent writes,
the OpenAPI document."""

from __future__ import annotations

from io import BytesIO

import pytest
from sqlalchemy import func, select

from reserve.agreements import signing
from reserve.agreements.models import AgreementLine
from reserve.agreements.report_models import StockReport, Verification, VerificationAttachment
from reserve.api import openapi_document
from reserve.audit.models import AuditEntry
from reserve.auth.models import Role
from tests.agreements.conftest import TODAY, capacity, days

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture
def lines(db, make_agreement, site):
    own = make_agreement(
        activate=True,
        lines=(
            signing.LineData(material_id=site.water.id, kind="stock", committed_qty=1000),
            capacity(site.quilt.id),
        ),
    )
    theirs = make_agreement(activate=True, no="XY-OTHER", enterprise_id=site.other.id)
    return own.lines[0], own.lines[1], theirs.lines[0]


@pytest.fixture
def files(app, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "ATTACHMENTS_DIR", str(tmp_path / "attachments"))


def _count(db, model=StockReport):
    return db.scalar(select(func.count()).select_from(model))


def _report(line, held=900, **extra):
    return {
        "period_month": TODAY.strftime("%Y-%m"),
        "lines": [{"agreement_line_id": line.id, "held_qty": held, "batch_no": "B1"}],
        **extra,
    }


def test_an_enterprise_system_files_a_report_once_per_key(client, db, site, lines, api_token):
    stock, _capacity, _theirs = lines
    headers, _user = api_token(Role.ENTERPRISE, enterprise=site.own)
    headers = {**headers, "Idempotency-Key": "report-2026-12-a"}
    first = client.post("/api/v1/stock-reports", json=_report(stock), headers=headers)
    assert first.status_code == 201, first.get_json()
    body = first.get_json()
    assert body["status"] == "submitted" and body["enterprise_id"] == site.own.id
    assert body["lines"][0]["below_commitment"] is True
    assert body["lines"][0]["committed_qty"] == 1000 and body["lines"][0]["held_qty"] == 900
    again = client.post("/api/v1/stock-reports", json=_report(stock), headers=headers)
    assert again.status_code == 201 and again.get_json()["id"] == body["id"]
    assert _count(db) == 1
    line = db.execute(
        select(AgreementLine)
        .where(AgreementLine.id == stock.id)
        .execution_options(populate_existing=True)
    ).scalar_one()
    assert (line.reported_qty, line.capped_qty) == (900, 900)
    listed = client.get("/api/v1/stock-reports", headers=headers).get_json()
    assert [item["id"] for item in listed["items"]] == [body["id"]]
    assert client.get(f"/api/v1/stock-reports/{body['id']}", headers=headers).status_code == 200
    # a correction, through the API too
    fixed = client.post(
        "/api/v1/stock-reports",
        json={
            "corrects_id": body["id"],
            "lines": [{"agreement_line_id": stock.id, "held_qty": 1000}],
        },
        headers={**headers, "Idempotency-Key": "report-2026-12-b"},
    )
    assert fixed.status_code == 201 and fixed.get_json()["corrects_id"] == body["id"]


def test_bad_reports_are_refused_with_the_field_and_change_nothing(
    client, db, site, lines, api_token
):
    stock, capacity_line, theirs = lines
    headers, _user = api_token(Role.ENTERPRISE, enterprise=site.own)
    headers["Accept-Language"] = "en"
    before = (_count(db), _count(db, AuditEntry))
    cases = [
        (_report(stock, held=-1), "0 or more"),
        (_report(capacity_line), "capacity"),
        (_report(theirs), "not a line of"),
        ({**_report(stock), "period_month": "2026-13"}, None),
        ({"lines": "x"}, "list"),
        ({**_report(stock), "enterprise_id": site.other.id}, "enterprise"),
    ]
    for body, message in cases:
        response = client.post("/api/v1/stock-reports", json=body, headers=headers)
        assert response.status_code == 422, (body, response.get_json())
        if message:
            assert message in response.get_json()["message"], response.get_json()
    assert (_count(db), _count(db, AuditEntry)) == before


def test_another_enterprises_documents_are_not_found(client, db, site, lines, api_token, files):
    _stock, _capacity, theirs = lines
    office, _u = api_token(Role.DISPATCHER)
    requested = client.post(
        "/api/v1/stock-reports/requests",
        json={"enterprise_id": site.other.id, "due_on": days(3).isoformat(), "message": "请报"},
        headers=office,
    )
    assert requested.status_code == 201, requested.get_json()
    planned = client.post(
        "/api/v1/verifications",
        json={
            "enterprise_id": site.other.id,
            "planned_on": TODAY.isoformat(),
            "inspectors": "张伟",
        },
        headers=office,
    )
    assert planned.status_code == 201, planned.get_json()
    vid = planned.get_json()["id"]
    photo = client.post(
        f"/api/v1/verifications/{vid}/attachments",
        data={"file": (BytesIO(PNG), "secret.png")},
        content_type="multipart/form-data",
        headers=office,
    )
    assert photo.status_code == 201
    mine, _u = api_token(Role.ENTERPRISE, enterprise=site.own)
    rid = requested.get_json()["id"]
    assert client.get(f"/api/v1/stock-reports/{rid}", headers=mine).status_code == 404
    assert client.get(f"/api/v1/verifications/{vid}", headers=mine).status_code == 404
    assert client.get(f"/api/v1/verifications/{vid}/attachments", headers=mine).status_code == 404
    pid = photo.get_json()["id"]
    assert (
        client.get(f"/api/v1/verifications/{vid}/attachments/{pid}", headers=mine).status_code
        == 404
    )
    filled = client.post(
        "/api/v1/stock-reports",
        json={"request_id": rid, "lines": [{"agreement_line_id": theirs.id, "held_qty": 1}]},
        headers=mine,
    )
    assert filled.status_code == 404
    assert client.get("/api/v1/stock-reports", headers=mine).get_json()["items"] == []
    assert client.get("/api/v1/verifications", headers=mine).get_json()["items"] == []


def test_the_bureau_plans_and_records_a_verification(client, db, site, lines, api_token, files):
    stock, _capacity, _theirs = lines
    headers, _user = api_token(Role.ADMIN)
    planned = client.post(
        "/api/v1/verifications",
        json={"enterprise_id": site.own.id, "planned_on": TODAY.isoformat(), "inspectors": "张伟"},
        headers={**headers, "Idempotency-Key": "plan-1"},
    ).get_json()
    again = client.post(
        "/api/v1/verifications",
        json={"enterprise_id": site.own.id, "planned_on": TODAY.isoformat(), "inspectors": "张伟"},
        headers={**headers, "Idempotency-Key": "plan-1"},
    ).get_json()
    assert again["id"] == planned["id"] and _count(db, Verification) == 1
    url = f"/api/v1/verifications/{planned['id']}"
    bad = client.post(
        f"{url}/attachments",
        data={"file": (BytesIO(b"<html>"), "x.png")},
        content_type="multipart/form-data",
        headers=headers,
    )
    assert bad.status_code == 422 and _count(db, VerificationAttachment) == 0
    recorded = client.post(
        f"{url}/record",
        json={
            "checked_on": TODAY.isoformat(),
            "findings": "短少",
            "lines": [{"agreement_line_id": stock.id, "counted_qty": 800}],
        },
        headers=headers,
    )
    assert recorded.status_code == 200, recorded.get_json()
    body = recorded.get_json()
    assert body["status"] == "recorded" and body["passed"] is False
    assert body["lines"][0]["passed"] is False and body["lines"][0]["counted_qty"] == 800
    twice = client.post(
        f"{url}/record",
        json={
            "checked_on": TODAY.isoformat(),
            "lines": [{"agreement_line_id": stock.id, "counted_qty": 1000}],
        },
        headers=headers,
    )
    assert twice.status_code == 409
    listed = client.get("/api/v1/verifications?status=recorded", headers=headers).get_json()
    assert listed["items"][0]["failed_count"] == 1


def test_the_operations_are_in_the_openapi_document(app):
    with app.test_request_context():
        paths = openapi_document()["paths"]
    assert {"get", "post"} <= set(paths["/api/v1/stock-reports"])
    assert "post" in paths["/api/v1/stock-reports/requests"]
    assert {"get", "post"} <= set(paths["/api/v1/verifications"])
    assert "post" in paths["/api/v1/verifications/{verification_id}/record"]
    assert {"get", "post"} <= set(paths["/api/v1/verifications/{verification_id}/attachments"])
