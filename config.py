"""Configuration classes. Everything can be overridden from the environment:
``RESERVE_<KEY>`` (Flask's prefixed env) and, explicitly, ``DATABASE_URL``, ``SECRET_KEY``,
``PUBLIC_BASE_URL``. Nothing here validates or crashes at import; the factory validates."""

import os
from datetime import timedelta
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent
INSTANCE_DIR = BASE_DIR / "instance"


class Config:
    SECRET_KEY: str | None = None
    SQLALCHEMY_DATABASE_URI = f"sqlite:///{INSTANCE_DIR / 'reserve.db'}"
    SQLALCHEMY_ENGINE_OPTIONS: dict = {}
    PUBLIC_BASE_URL = "http://127.0.0.1:5000"
    BABEL_DEFAULT_LOCALE = "zh_CN"
    BABEL_DEFAULT_TIMEZONE = "Asia/Shanghai"
    LANGUAGES = ("zh_CN", "en")
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = False
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    PERMANENT_SESSION_LIFETIME = timedelta(hours=12)
    WTF_CSRF_TIME_LIMIT = None
    LOGIN_MAX_FAILURES = 5
    LOGIN_LOCK_MINUTES = 15
    PASSWORD_MIN_LENGTH = 8
    PAGE_SIZE = 50
    MAX_CONTENT_LENGTH = 16 * 1024 * 1024
    API_MAX_BODY_BYTES = 1024 * 1024  # a JSON body of the API; uploads go through the pages
    API_MAX_JSON_DEPTH = 32
    IDEMPOTENCY_KEY_HOURS = 24  # how long a stored response answers a replayed request
    DOCUMENT_DATE_MIN = "2000-01-01"  # the earliest date a document's paper may carry


class DevelopmentConfig(Config):
    SECRET_KEY = "dev-only-not-secret"


class TestingConfig(Config):
    TESTING = True
    SECRET_KEY = "testing-not-secret"
    SQLALCHEMY_DATABASE_URI = "sqlite://"
    WTF_CSRF_ENABLED = False
    LOGIN_MAX_FAILURES = 5


class ProductionConfig(Config):
    SESSION_COOKIE_SECURE = True
    REMEMBER_COOKIE_SECURE = True
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}


CONFIGS = {
    "development": DevelopmentConfig,
    "testing": TestingConfig,
    "production": ProductionConfig,
}


def config_from_environment() -> type[Config]:
    """The config class named by ``RESERVE_ENV`` (development when unset)."""
    return CONFIGS[os.environ.get("RESERVE_ENV", "development")]
