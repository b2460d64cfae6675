"""Every call-up route, pages and API, walked as every role with real ids — of the enterprise
user's own enterprise and of another's: the permission table holds, and an enterprise user gets
403 or 404 for another's call-ups, never their data."""

from datetime import timedelta

import pytest
from flask import url_for

from reserve.agreements import callups
from reserve.agreements.callups import CallUpData
from reserve.auth.models import Role
from reserve.auth.permissions import PERMISSIONS, allows
from reserve.db import utcnow


def _feature_rules(app):
    rules = [
        rule
        for rule in app.url_map.iter_rules()
        if rule.endpoint.startswith(("callups.", "api.call_up"))
    ]
    return sorted(rules, key=lambda r: r.endpoint)


def _call(db, line, actor, destination):
    return callups.call_up(
        db,
        data=CallUpData(
            line_id=line.id,
            qty=10,
            needed_by=utcnow() + timedelta(hours=8),
            destination=destination,
        ),
        actor=actor,
    )


@pytest.fixture
def world(db, site, make_agreement, system_actor):
    own = make_agreement(no="OWN-001", activate=True)
    theirs = make_agreement(no="THEIRS-001", enterprise_id=site.other.id, activate=True)
    own_call = _call(db, own.lines[0], system_actor, "本企业目的地")
    their_call = _call(db, theirs.lines[0], system_actor, "THEIRS-SECRET-PLACE")
    db.flush()
    return {
        "own": {"agreement_id": own.id, "line_id": own.lines[0].id, "call_up_id": own_call.id},
        "theirs": {
            "agreement_id": theirs.id,
            "line_id": theirs.lines[0].id,
            "call_up_id": their_call.id,
        },
    }


def _url(app, rule, ids):
    with app.test_request_context():
        return url_for(rule.endpoint, **{name: ids[name] for name in rule.arguments})


def test_the_walk_covers_every_route_of_the_feature(app):
    endpoints = {r.endpoint for r in _feature_rules(app)}
    assert len(endpoints) == 13 and endpoints <= set(PERMISSIONS)


@pytest.mark.parametrize("role", list(Role))
def test_every_route_as_every_role_with_real_ids(app, db, site, world, login_as, api_token, role):
    extra = {"enterprise": site.own} if role is Role.ENTERPRISE else {}
    client = login_as(role, **extra)
    headers, _user = api_token(role, **extra)
    for rule in _feature_rules(app):
        methods = ["GET"] if "GET" in rule.methods else []
        methods += ["POST"] if "POST" in rule.methods else []
        for method in methods:
            for whose in ("own", "theirs"):
                url = _url(app, rule, world[whose])
                kwargs = {"headers": headers} if rule.endpoint.startswith("api.") else {}
                if method == "POST":  # nothing valid: a write is refused, nothing is done
                    if rule.endpoint.startswith("api."):
                        kwargs["json"] = {}
                    else:
                        kwargs["data"] = {"reason": ""}
                response = client.open(url, method=method, **kwargs)
                body = response.get_data().decode("utf-8", "replace")
                where = f"{role} {method} {url} ({rule.endpoint}) -> {response.status_code}"
                if not allows(PERMISSIONS[rule.endpoint], {role}):
                    assert response.status_code == 403, where
                    continue
                assert response.status_code != 403, where
                assert response.status_code < 500, where
                if role is Role.ENTERPRISE and whose == "theirs" and rule.arguments:
                    assert response.status_code == 404, where
                if role is Role.ENTERPRISE:
                    assert "THEIRS-001" not in body and "THEIRS-SECRET" not in body, where
                    assert site.other.name not in body, where
    db.expire_all()
    from reserve.agreements.callup_models import CallUp

    assert {c.status for c in db.query(CallUp)} == {"requested"}  # no write got through
