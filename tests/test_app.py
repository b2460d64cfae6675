"""The application shell: health, security headers, error pages, nothing loaded from outside."""

import re
from pathlib import Path

import pytest
from flask import request

from reserve import create_app
from reserve.auth.models import Role

STATIC = Path(__file__).resolve().parents[1] / "reserve" / "static"
EXTERNAL_IN_HTML = re.compile(r"""(?:src|href|action|srcset)\s*=\s*["']?\s*(?:https?:)?//""", re.I)
EXTERNAL_IN_CSS = re.compile(r"""(?:url\(\s*["']?\s*(?:https?:)?//|@import)""", re.I)
EXTERNAL_IN_JS = re.compile(
    r"""(?:fetch\(|import\s*\(|from\s+|src\s*=\s*|href\s*=\s*|XMLHttpRequest.*open\()\s*["'`]https?://"""
    r"""|sourceMappingURL""",
    re.I,
)


def test_healthz_checks_the_database(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "ok"}


def test_every_page_has_a_strict_content_security_policy(client):
    response = client.get("/login")
    csp = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert response.headers["X-Frame-Options"] == "DENY"


def test_pages_have_no_inline_script_or_style(login_as):
    admin = login_as(Role.ADMIN)
    for url in ("/", "/catalog/materials", "/admin/users/new", "/login"):
        html = admin.get(url).get_data(as_text=True)
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), url
        assert " style=" not in html and "<style" not in html, url
        assert " onclick=" not in html.lower(), url


def test_session_cookie_is_httponly_and_lax(client, make_user):
    make_user(Role.VIEWER, username="cookie")
    response = client.post("/login", data={"username": "cookie", "password": "test-password-1"})
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_production_requires_a_secret_key(monkeypatch):
    from reserve.config import ProductionConfig

    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.delenv("RESERVE_SECRET_KEY", raising=False)
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app(ProductionConfig)


def test_production_cookies_are_secure(monkeypatch):
    from reserve.config import ProductionConfig

    monkeypatch.setenv("SECRET_KEY", "x" * 32)
    monkeypatch.setenv("DATABASE_URL", "postgresql://u@127.0.0.1/none")
    app = create_app(ProductionConfig)
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql+psycopg://")


def test_error_pages_speak_the_readers_language(client, login_as):
    keeper = login_as(Role.KEEPER)
    response = keeper.get("/admin/users")
    assert response.status_code == 403
    assert "没有权限" in response.get_data(as_text=True)
    keeper.get("/lang/en")
    response = keeper.get("/admin/users")
    assert "permission" in response.get_data(as_text=True)
    response = keeper.get("/no-such-page")
    assert response.status_code == 404
    assert "does not exist" in response.get_data(as_text=True)


def test_unexpected_error_page(app, login_as, monkeypatch):
    import reserve.main.views as views

    admin = login_as(Role.ADMIN)
    monkeypatch.setattr(views, "home_summary", lambda *a, **k: 1 / 0)
    monkeypatch.setitem(app.config, "PROPAGATE_EXCEPTIONS", False)
    monkeypatch.setattr(app, "testing", False)
    response = admin.get("/")
    assert response.status_code == 500
    body = response.get_data(as_text=True)
    assert "Traceback" not in body and "ZeroDivisionError" not in body
    assert "出错" in body


def _pages_to_crawl(app):
    for rule in app.url_map.iter_rules():
        if "GET" in rule.methods and not rule.arguments and not rule.endpoint.startswith("api."):
            yield rule.rule


def test_no_page_references_an_external_url(app, login_as, make_material, make_warehouse):
    make_material()
    make_warehouse()
    admin = login_as(Role.ADMIN)
    for url in _pages_to_crawl(app):
        if url in ("/logout",):
            continue
        response = admin.get(url)
        if response.mimetype != "text/html":  # an export or a PDF: no page to load from
            continue
        html = response.get_data(as_text=True)
        found = EXTERNAL_IN_HTML.search(html)
        assert not found, f"{url} references {html[found.start() : found.end() + 60]}"


def test_no_static_file_references_an_external_url():
    checked = 0
    for path in STATIC.rglob("*"):
        if path.suffix == ".css":
            text = path.read_text(encoding="utf-8")
            # the SVG namespace inside data: URIs names a namespace, it loads nothing
            text = re.sub(r"url\(\"data:[^\"]*\"\)", "", text)
            assert not EXTERNAL_IN_CSS.search(text), path
            checked += 1
        elif path.suffix == ".js":
            assert not EXTERNAL_IN_JS.search(path.read_text(encoding="utf-8")), path
            checked += 1
    assert checked >= 4


def test_vendored_assets_carry_their_licences():
    vendor = STATIC / "vendor"
    for package in (p for p in vendor.iterdir() if p.is_dir()):
        assert (package / "LICENSE").exists(), package


def test_production_sends_hsts_and_development_does_not(monkeypatch, database_url, client):
    from reserve.config import ProductionConfig

    monkeypatch.setenv("SECRET_KEY", "x" * 32)
    monkeypatch.setenv("DATABASE_URL", database_url)
    production = create_app(ProductionConfig).test_client()
    hsts = production.get("/login").headers["Strict-Transport-Security"]
    assert hsts.startswith("max-age=31536000")
    assert "Strict-Transport-Security" not in client.get("/login").headers


def test_authenticated_html_and_json_are_not_stored(client, login_as, api_token):
    viewer = login_as(Role.VIEWER)
    for url in ("/", "/catalog/materials"):
        assert viewer.get(url).headers["Cache-Control"] == "no-store", url
    headers, _user = api_token(Role.VIEWER)
    response = client.get("/api/v1/me", headers=headers)
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    assert "no-store" not in client.get("/login").headers.get("Cache-Control", "")


def test_a_403_names_nothing_about_what_was_refused(
    db, login_as, api_token, make_warehouse, system_actor
):
    from reserve.stocktakes.service import open_stocktake

    stocktake = open_stocktake(db, warehouse_id=make_warehouse().id, actor=system_actor)
    db.flush()
    keeper = login_as(Role.KEEPER)  # keeps another warehouse
    response = keeper.get(f"/stocktakes/{stocktake.id}")
    body = response.get_data(as_text=True)
    assert response.status_code == 403
    assert stocktake.no not in body and "没有权限" in body
    headers, _user = api_token(Role.KEEPER, warehouses=[make_warehouse()])
    response = keeper.get(f"/api/v1/stocktakes/{stocktake.id}", headers=headers)
    assert response.status_code == 403 and response.get_json()["error"] == "forbidden"
    assert stocktake.no not in response.get_data(as_text=True)


def _address_seen(config: dict, headers: dict) -> str:
    """The reader's address and scheme as the app sees them, on a public page."""
    app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", **config})
    seen = []

    @app.after_request
    def remember(response):
        seen.append(f"{request.remote_addr} {request.scheme}")
        return response

    app.test_client().get("/healthz", headers=headers)
    return seen[0]


def test_forwarded_headers_count_only_behind_trusted_proxies():
    forwarded = {"X-Forwarded-For": "10.20.30.40", "X-Forwarded-Proto": "https"}
    assert _address_seen({}, forwarded) == "127.0.0.1 http"
    assert _address_seen({"TRUSTED_PROXIES": 1}, forwarded) == "10.20.30.40 https"
    # a client cannot add a hop of its own in front of the one proxy
    spoofed = {"X-Forwarded-For": "1.1.1.1, 10.20.30.40"}
    assert _address_seen({"TRUSTED_PROXIES": 1}, spoofed) == "10.20.30.40 http"


@pytest.mark.parametrize("hops", [-1, 6, "1", True, 1.5])
def test_a_wrong_number_of_trusted_proxies_refuses_to_start(hops):
    with pytest.raises(RuntimeError, match="TRUSTED_PROXIES"):
        create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "TRUSTED_PROXIES": hops})
