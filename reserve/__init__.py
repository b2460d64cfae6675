"""Reserve — 应急物资储备管理系统. ``create_app`` reads as the contents of the application."""

from __future__ import annotations

import importlib
import os

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

FEATURES = (
    "main",
    "auth",
    "audit",
    "warehouses",
    "catalog",
    "agreements",
    "availability",
    "stock",
    "receipts",
    "stocktakes",
    "disposals",
    "labels",
    "orders",
    "standards",
)
# Models of a feature kept outside its models.py (the scan page's applied operations).
EXTRA_MODELS = (
    "reserve.labels.scan_models",
    "reserve.agreements.report_models",
    "reserve.agreements.callup_models",
    "reserve.orders.floor_models",
)
# The scan page: its own blueprint in labels/; stock reports and verifications (库存申报, 核查)
# and call-ups (调用) theirs in agreements/.
EXTRA_BLUEPRINTS = (
    "reserve.labels.scan",
    "reserve.agreements.report_views",
    "reserve.agreements.callup_views",
    "reserve.orders.floor_views",
)
EXTRA_API = (
    "reserve.labels.scan_api",
    "reserve.agreements.report_api",
    "reserve.agreements.callup_api",
    "reserve.orders.floor_api",
    "reserve.orders.api",
)


def create_app(config: type | dict | None = None) -> Flask:
    from reserve.config import INSTANCE_DIR, config_from_environment

    app = Flask(
        __name__,
        instance_path=str(INSTANCE_DIR),
        template_folder="templates",
        static_folder="static",
    )
    load_config(app, config or config_from_environment())
    validate_config(app)
    trust_proxies(app)
    import_models()
    init_extensions(app)
    register_blueprints(app)
    register_security(app)
    register_error_handlers(app)
    register_cli(app)
    register_template_filters(app)
    return app


def load_config(app: Flask, config: type | dict) -> None:
    if isinstance(config, dict):
        from reserve.config import TestingConfig

        app.config.from_object(TestingConfig)
        app.config.update(config)
    else:
        app.config.from_object(config)
    app.config.from_prefixed_env("RESERVE")
    if os.environ.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = os.environ["SECRET_KEY"]
    if os.environ.get("PUBLIC_BASE_URL"):
        app.config["PUBLIC_BASE_URL"] = os.environ["PUBLIC_BASE_URL"]
    if os.environ.get("DATABASE_URL") and not (
        isinstance(config, dict) and "SQLALCHEMY_DATABASE_URI" in config
    ):
        app.config["SQLALCHEMY_DATABASE_URI"] = normalise_database_url(os.environ["DATABASE_URL"])
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite:///"):
        os.makedirs(app.instance_path, exist_ok=True)


def normalise_database_url(url: str) -> str:
    """Accept the usual ``postgres://`` and ``postgresql://`` forms and use psycopg 3."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def validate_config(app: Flask) -> None:
    from reserve.auth.keys import ensure_secret_key

    ensure_secret_key(app)  # production refuses to start without one


def trust_proxies(app: Flask) -> None:
    """Behind ``TRUSTED_PROXIES`` reverse proxies, the client's address and scheme come from
    their X-Forwarded-* headers (werkzeug's ProxyFix), and from nowhere else."""
    hops = app.config.get("TRUSTED_PROXIES") or 0
    if isinstance(hops, bool) or not isinstance(hops, int) or not 0 <= hops <= 5:
        raise RuntimeError(f"TRUSTED_PROXIES must be a whole number from 0 to 5, not {hops!r}")
    if hops:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_prefix=hops)


def import_models() -> None:
    """Every feature's tables, so the metadata (and Alembic) sees the whole schema."""
    for feature in FEATURES:
        try:
            importlib.import_module(f"reserve.{feature}.models")
        except ModuleNotFoundError as exc:
            if exc.name != f"reserve.{feature}.models":
                raise
    for module in EXTRA_MODELS:
        importlib.import_module(module)


def init_extensions(app: Flask) -> None:
    from reserve.db import configure_sqlite
    from reserve.extensions import babel, csrf, db, limiter, login_manager, migrate
    from reserve.i18n import install_template_gettext, select_locale

    db.init_app(app)
    migrate.init_app(app, db, directory=os.path.join(app.root_path, "migrations"))
    csrf.init_app(app)
    babel.init_app(
        app,
        locale_selector=select_locale,
        default_translation_directories=os.path.join(app.root_path, "translations"),
    )
    install_template_gettext(app)
    login_manager.init_app(app)
    limiter.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = None
    login_manager.session_protection = "strong"
    with app.app_context():
        configure_sqlite(db.engine)

    from reserve.auth.sessions import load_user

    login_manager.user_loader(load_user)  # checks the session version (sessions that end)


def register_blueprints(app: Flask) -> None:
    from reserve.api import bp as api_bp
    from reserve.extensions import csrf
    from reserve.forms import register_input_bounds

    register_input_bounds(app)  # before any rule is added: ``<int:…>`` is a bounded id
    for feature in FEATURES:
        module = importlib.import_module(f"reserve.{feature}.views")
        app.register_blueprint(module.bp)
    for feature in FEATURES:  # each feature's api.py adds its routes to the one API blueprint
        try:
            importlib.import_module(f"reserve.{feature}.api")
        except ModuleNotFoundError as exc:
            if exc.name != f"reserve.{feature}.api":
                raise
    for name in EXTRA_BLUEPRINTS:
        app.register_blueprint(importlib.import_module(name).bp)
    for name in EXTRA_API:
        importlib.import_module(name)
    csrf.exempt(api_bp)  # token auth, no cookies: CSRF does not apply
    app.register_blueprint(api_bp)


def register_security(app: Flask) -> None:
    from flask import jsonify, render_template, request
    from flask_babel import lazy_gettext as _l
    from flask_login import current_user

    from reserve.auth.permissions import enforce_permissions
    from reserve.errors import Forbidden

    app.before_request(enforce_permissions)

    csp = (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'self'; "
        "form-action 'self'; frame-ancestors 'none'"
    )

    @app.after_request
    def security_headers(response):
        response.headers.setdefault("Content-Security-Policy", csp)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        if app.config.get("HSTS_SECONDS"):
            response.headers.setdefault(
                "Strict-Transport-Security",
                f"max-age={int(app.config['HSTS_SECONDS'])}; includeSubDomains",
            )
        if response.mimetype in ("text/html", "application/json") and _signed_in():
            response.headers["Cache-Control"] = "no-store"  # no copy in a shared cache or disk
        return response

    def _signed_in() -> bool:
        from flask import g

        if request.endpoint == "static":
            return False
        return g.get("api_user") is not None or current_user.is_authenticated

    @app.errorhandler(Forbidden)  # a refusal names nothing: not the document, not its number
    def forbidden(error: Forbidden):
        from reserve.errors import wants_json

        if wants_json():  # the API, or a page's script asking for JSON
            # 职责分离 names only the actor's own act on a document they see: say why
            message = error.message if error.shown_where_acted else Forbidden.default_message
            return jsonify({"error": error.code, "message": str(message)}), 403
        return render_template("errors/403.html", status=403), 403

    @app.errorhandler(429)  # Flask-Limiter's RateLimitExceeded, and our own for bad tokens
    def too_many_requests(error):
        message = _l("Too many requests. Wait a minute, then try again.")
        if request.path.startswith("/api/"):
            response = jsonify({"error": "too_many_requests", "message": str(message)})
        else:
            response = app.make_response(
                render_template("errors/429.html", status=429, message=message)
            )
        response.status_code = 429
        response.headers.setdefault("Retry-After", "60")
        return response


def register_error_handlers(app: Flask) -> None:
    from reserve.errors import register_error_handlers as register

    register(app)


def register_cli(app: Flask) -> None:
    from reserve.cli import register

    register(app)


def register_template_filters(app: Flask) -> None:
    from reserve.templating import register

    register(app)
