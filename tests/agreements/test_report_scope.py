"""Every stock report and verification route, pages and API, walked as every role with real ids
— of the enterprise user's own enterprise and of another's: the permission table holds, and
an enterprise user gets 403 or 404 for another's reports, verifications and photos (by page,
API or guessed id), never their data."""

from __future__ import annotations

from io import BytesIO

import pytest
from flask import url_for

from reserve.agreements import reports
from reserve.agreements.reports import PlanData, ReportData, ReportLineData
from reserve.auth.models import Role
from reserve.auth.permissions import PERMISSIONS, allows
from reserve.files import store
from tests.agreements.conftest import TODAY, days

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
API = ("stock_report", "verification")


def _feature_rules(app):
    return sorted(
        (
            rule
            for rule in app.url_map.iter_rules()
            if rule.endpoint.startswith("reports.")
            or (rule.endpoint.startswith("api.") and rule.endpoint[4:].startswith(API))
        ),
        key=lambda r: r.endpoint,
    )


@pytest.fixture
def world(app, db, site, make_agreement, system_actor, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "ATTACHMENTS_DIR", str(tmp_path / "files"))
    ids = {}
    for whose, enterprise, no in (("own", site.own, "OWN-1"), ("theirs", site.other, "THEIRS-1")):
        agreement = make_agreement(activate=True, no=no, enterprise_id=enterprise.id)
        report = reports.file_report(
            db,
            data=ReportData(
                enterprise_id=enterprise.id,
                period_month=TODAY,
                note=f"{whose}-report-note",
                lines=(ReportLineData(agreement_line_id=agreement.lines[0].id, held_qty=7),),
            ),
            actor=system_actor,
        )
        verification = reports.plan_verification(
            db,
            data=PlanData(
                enterprise_id=enterprise.id, planned_on=days(1), inspectors=f"{whose}-inspector"
            ),
            actor=system_actor,
        )
        with app.app_context():
            photo = reports.add_photo(
                db,
                verification_id=verification.id,
                filename=f"{whose}-photo.png",
                content=PNG,
                actor=system_actor,
                store=store(),
            )
        ids[whose] = {
            "report_id": report.id,
            "verification_id": verification.id,
            "attachment_id": photo.id,
        }
    db.flush()
    return ids


def _url(app, rule, ids):
    with app.test_request_context():
        return url_for(rule.endpoint, **{name: ids[name] for name in rule.arguments})


def test_the_walk_covers_every_route_of_the_feature(app):
    endpoints = {r.endpoint for r in _feature_rules(app)}
    assert len(endpoints) == 24 and endpoints <= set(PERMISSIONS)


@pytest.mark.parametrize("role", list(Role))
def test_every_route_as_every_role_with_real_ids(app, db, site, world, login_as, api_token, role):
    extra = {"enterprise": site.own} if role is Role.ENTERPRISE else {}
    client = login_as(role, **extra)
    headers, _user = api_token(role, **extra)
    for rule in _feature_rules(app):
        method = "GET" if "GET" in rule.methods else "POST"
        for whose in ("own", "theirs"):
            url = _url(app, rule, world[whose])
            kwargs = {"headers": headers} if rule.endpoint.startswith("api.") else {}
            if method == "POST":  # a write is refused before it reads anything
                kwargs["data"] = {"file": (BytesIO(PNG), "x.png"), "reason": ""}
                kwargs["content_type"] = "multipart/form-data"
            response = client.open(url, method=method, **kwargs)
            body = response.get_data().decode("utf-8", "replace")
            where = f"{role} {method} {url} ({rule.endpoint}) -> {response.status_code}"
            if not allows(PERMISSIONS[rule.endpoint], {role}):
                assert response.status_code == 403, where
                continue
            assert response.status_code != 403, where
            if role is Role.ENTERPRISE and whose == "theirs" and rule.arguments:
                assert response.status_code == 404, where
            if role is Role.ENTERPRISE:
                for secret in ("theirs-report-note", "theirs-inspector", "theirs-photo"):
                    assert secret not in body, where
                assert site.other.name not in body, where
    if role in (Role.ADMIN, Role.VIEWER):  # the office reads both
        for whose in ("own", "theirs"):
            page = client.get(f"/verifications/{world[whose]['verification_id']}")
            assert f"{whose}-inspector" in page.get_data(as_text=True)


def test_guessed_ids_of_another_enterprise_answer_404(app, db, site, world, login_as, api_token):
    client = login_as(Role.ENTERPRISE, enterprise=site.own)
    headers, _user = api_token(Role.ENTERPRISE, enterprise=site.own)
    theirs = world["theirs"]
    for url in (
        f"/stock-reports/{theirs['report_id']}",
        f"/stock-reports/{theirs['report_id']}/edit",
        f"/stock-reports/new?corrects={theirs['report_id']}",
        f"/verifications/{theirs['verification_id']}",
        f"/verifications/{theirs['verification_id']}/photos/{theirs['attachment_id']}",
        f"/verifications/{world['own']['verification_id']}/photos/{theirs['attachment_id']}",
    ):
        assert client.get(url).status_code == 404, url
    assert client.post(f"/stock-reports/{theirs['report_id']}/submit").status_code == 404
    for url in (
        f"/api/v1/stock-reports/{theirs['report_id']}",
        f"/api/v1/verifications/{theirs['verification_id']}",
        f"/api/v1/verifications/{theirs['verification_id']}/attachments/{theirs['attachment_id']}",
    ):
        assert client.get(url, headers=headers).status_code == 404, url
    lists = client.get("/stock-reports").get_data(as_text=True)
    assert "own-report-note" not in lists and site.other.name not in lists
    assert f"report-row-{world['own']['report_id']}" in lists
    assert f"report-row-{theirs['report_id']}" not in lists
    assert f"report-row-{theirs['report_id']}" not in client.get(
        f"/stock-reports?enterprise={site.other.id}"
    ).get_data(as_text=True)


def test_a_keeper_sees_no_enterprise_document(db, world, login_as):
    keeper = login_as(Role.KEEPER)
    assert keeper.get("/stock-reports").status_code == 403
    assert keeper.get(f"/verifications/{world['own']['verification_id']}").status_code == 403
