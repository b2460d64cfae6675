"""Every route of this feature, pages and API, walked as every role with real ids — of the
enterprise user's own enterprise and of another's: the permission table holds, and an
enterprise user gets 403 or 404 for another's enterprise, agreements and attachments, never
their data."""

from io import BytesIO

import pytest
from flask import url_for

from reserve.agreements import attachments
from reserve.auth.models import Role
from reserve.auth.permissions import PERMISSIONS, allows
from reserve.files import store

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def _feature_rules(app):
    rules = []
    for rule in app.url_map.iter_rules():
        endpoint = rule.endpoint
        if endpoint.startswith("agreements.") or (
            endpoint.startswith("api.") and ("agreement" in endpoint or "enterprise" in endpoint)
        ):
            rules.append(rule)
    return sorted(rules, key=lambda r: r.endpoint)


@pytest.fixture
def world(app, db, site, make_agreement, system_actor, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "ATTACHMENTS_DIR", str(tmp_path / "files"))
    own = make_agreement(no="OWN-001")
    theirs = make_agreement(no="THEIRS-001", enterprise_id=site.other.id)
    with app.app_context():
        files = store()
    own_file = attachments.add_attachment(
        db, agreement_id=own.id, filename="own.png", content=PNG, actor=system_actor, store=files
    )
    their_file = attachments.add_attachment(
        db,
        agreement_id=theirs.id,
        filename="theirs-secret.png",
        content=PNG,
        actor=system_actor,
        store=files,
    )
    db.flush()
    return {
        "own": {"enterprise_id": site.own.id, "agreement_id": own.id, "attachment_id": own_file.id},
        "theirs": {
            "enterprise_id": site.other.id,
            "agreement_id": theirs.id,
            "attachment_id": their_file.id,
        },
    }


def _url(app, rule, ids):
    with app.test_request_context():
        return url_for(rule.endpoint, **{name: ids[name] for name in rule.arguments})


def test_the_walk_covers_every_route_of_the_feature(app):
    endpoints = {r.endpoint for r in _feature_rules(app)}
    assert len(endpoints) == 28 and endpoints <= set(PERMISSIONS)


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
                assert "THEIRS-001" not in body and "theirs-secret" not in body, where
                assert site.other.name not in body, where
