"""Every registered endpoint, as every role, against the one permission table."""

import pytest

from reserve.auth.models import Role
from reserve.auth.permissions import PERMISSIONS, PUBLIC, allows

DUMMY = {"int": 999_999, "default": "zz", "string": "zz", "path": "zz"}


def _url(app, rule) -> str:
    values = {}
    for name in rule.arguments:
        converter = rule._converters[name].__class__.__name__.lower()
        values[name] = 999_999 if "integer" in converter else "zz"
    with app.test_request_context():
        from flask import url_for

        return url_for(rule.endpoint, **values)


def _rules(app):
    rules = [r for r in app.url_map.iter_rules() if r.endpoint != "static"]
    signing_out = ("auth.logout", "auth.sign_out_everywhere")  # last: they end the session
    return sorted(rules, key=lambda r: (r.endpoint in signing_out, r.endpoint))


def test_every_endpoint_has_exactly_one_rule(app):
    endpoints = {r.endpoint for r in app.url_map.iter_rules()}
    assert endpoints - set(PERMISSIONS) == set(), "routes without a permission rule"
    assert set(PERMISSIONS) - endpoints == set(), "rules for routes that do not exist"


@pytest.mark.parametrize("role", list(Role))
def test_each_role_reaches_exactly_what_the_table_allows(app, login_as, api_token, role):
    client = login_as(role)
    headers, _user = api_token(role)
    for rule in _rules(app):
        method = "GET" if "GET" in rule.methods else "POST"
        url = _url(app, rule)
        if rule.endpoint.startswith("api."):
            response = client.open(url, method=method, headers=headers)
        else:
            response = client.open(url, method=method)
        allowed = allows(PERMISSIONS[rule.endpoint], {role})
        where = f"{role} {method} {url} ({rule.endpoint}) -> {response.status_code}"
        if allowed:
            assert response.status_code != 403, where
        else:
            assert response.status_code == 403, where


def test_anonymous_is_sent_to_sign_in_or_refused(app, client):
    for rule in _rules(app):
        if PERMISSIONS[rule.endpoint] == PUBLIC:
            continue
        method = "GET" if "GET" in rule.methods else "POST"
        response = client.open(_url(app, rule), method=method)
        if rule.endpoint.startswith("api."):
            assert response.status_code == 401, rule.endpoint
            assert response.get_json()["error"] == "unauthorized"
        else:
            assert response.status_code == 302, rule.endpoint
            assert "/login" in response.headers["Location"]
