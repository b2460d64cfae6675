"""Configuration classes. Everything can be overridden from the environment:
``RESERVE_<KEY>`` (Flask's prefixed env) and, explicitly, ``DATABASE_URL``, ``SECRET_KEY``,
``PUBLIC_BASE_URL``. Nothing here validates or crashes at import; the factory validates."""

import os
from datetime import timedelta
from pathlib import Path

# The instance folder (SQLite file, secret key, uploads) is the working directory's ``instance/``
# unless RESERVE_INSTANCE_PATH names another: a clone keeps it beside the code, an installed
# package wherever the service is started from.
INSTANCE_DIR = Path(os.environ.get("RESERVE_INSTANCE_PATH") or Path.cwd() / "instance").resolve()


class Config:
    SECRET_KEY: str | None = None  # never written here: see reserve/auth/keys.py
    # Where a missing SECRET_KEY comes from: "instance" (a random key made once in
    # instance/secret_key), "process" (random per process, tests) or None (refuse to start).
    SECRET_KEY_SOURCE: str | None = "instance"
    SECRET_KEY_FILE: str | None = None  # default: <instance_path>/secret_key
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
    # Sign-in throttles (reserve/auth/signin.py): after LOGIN_MAX_FAILURES failures of one
    # name from one address, or LOGIN_MAX_FAILURES_PER_ADDRESS of any names, each further
    # failure locks for LOGIN_LOCK_MINUTES, then twice as long each time, up to the cap. A
    # burst of failures ends after LOGIN_BURST_QUIET_MINUTES without one (and is summarised).
    LOGIN_MAX_FAILURES = 5
    LOGIN_MAX_FAILURES_PER_ADDRESS = 20
    LOGIN_LOCK_MINUTES = 1
    LOGIN_LOCK_MAX_MINUTES = 60
    LOGIN_BURST_QUIET_MINUTES = 60
    # Flask-Limiter, per client address (RATELIMIT_STORAGE_URI for a store shared by workers).
    RATELIMIT_STORAGE_URI = "memory://"
    RATELIMIT_HEADERS_ENABLED = True
    RATELIMIT_LOGIN = "20 per minute;200 per hour"
    RATELIMIT_TOKENS = "10 per minute"
    RATELIMIT_API_BAD_TOKEN = "30 per minute"
    PASSWORD_HASH_METHOD = "scrypt"
    PASSWORD_MIN_LENGTH = 8
    PASSWORD_MIN_SCORE = 3  # zxcvbn, 0-4
    HSTS_SECONDS = 0  # Strict-Transport-Security max-age; 0 sends none
    # Reverse proxies in front of the app (nginx: 1) whose X-Forwarded-For/-Proto/-Host are
    # believed: the sign-in throttles, the rate limits and the audit log then see the reader's
    # address, not the proxy's. 0 (the default) believes no such header: a client sets them.
    TRUSTED_PROXIES = 0
    PAGE_SIZE = 50
    MAX_CONTENT_LENGTH = 16 * 1024 * 1024
    API_MAX_BODY_BYTES = 1024 * 1024  # a JSON body of the API; uploads go through the pages
    API_MAX_JSON_DEPTH = 32
    IDEMPOTENCY_KEY_HOURS = 24  # how long a stored response answers a replayed request
    DOCUMENT_DATE_MIN = "2000-01-01"  # the earliest date a document's paper may carry
    ATTACHMENTS_DIR: str | None = None  # default: <instance_path>/attachments (backed up)
    RECEIPT_ATTACHMENT_MAX_BYTES = 10 * 1024 * 1024  # one scanned paper; below MAX_CONTENT_LENGTH
    CALL_UP_REPLENISH_DAYS = 30  # 补储期限: days after a call-up ships to replenish the stock
    # 调拨单 suggestions (reserve/orders/suggest.py): road distance = great-circle × factor;
    # a warehouse source arrives after loading + distance / speed.
    ORDER_ROAD_FACTOR = 1.3
    ORDER_TRUCK_KMH = 60
    ORDER_LOADING_HOURS = 2
    # Agreement lines' flags (reserve/agreements/flags.py): a newest verification older than
    # this many days is overdue; a newest report (monthly) older than the period plus the grace.
    VERIFICATION_PERIOD_DAYS = 90
    REPORT_PERIOD_DAYS = 31
    REPORT_GRACE_DAYS = 10


class DevelopmentConfig(Config):
    pass


class TestingConfig(Config):
    TESTING = True
    SECRET_KEY_SOURCE = "process"
    SQLALCHEMY_DATABASE_URI = "sqlite://"
    WTF_CSRF_ENABLED = False
    LOGIN_MAX_FAILURES = 5
    # Every test signs in from 127.0.0.1: the rate-limit tests set their own limits.
    RATELIMIT_LOGIN = "100000 per minute"
    RATELIMIT_TOKENS = "100000 per minute"
    RATELIMIT_API_BAD_TOKEN = "100000 per minute"


class ProductionConfig(Config):
    SECRET_KEY_SOURCE = None  # SECRET_KEY must be given
    HSTS_SECONDS = 365 * 24 * 3600
    SESSION_COOKIE_SECURE = True
    REMEMBER_COOKIE_SECURE = True
    # Connections renewed after half an hour instead of pinged before every checkout: the
    # ping was one round trip more on every request to PostgreSQL. After a database restart
    # the first request on each stale pooled connection fails once (a 500), then the pool
    # replaces it; set RESERVE_SQLALCHEMY_ENGINE_OPTIONS='{"pool_pre_ping": true}' to prefer
    # the ping.
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_recycle": 1800}


CONFIGS = {
    "development": DevelopmentConfig,
    "testing": TestingConfig,
    "production": ProductionConfig,
}


def config_from_environment() -> type[Config]:
    """The config class named by ``RESERVE_ENV`` (development when unset)."""
    return CONFIGS[os.environ.get("RESERVE_ENV", "development")]
