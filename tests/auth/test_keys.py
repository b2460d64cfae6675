"""No known secret: the key is made at first start (development), given (production) or random
per process (tests); feature keys derive from it by purpose."""

import re
import stat
from pathlib import Path

import pytest
from flask import Flask
from flask_login.utils import _create_identifier

from reserve import create_app
from reserve.auth.keys import derive_key, instance_secret_key
from reserve.auth.models import Role

ROOT = Path(__file__).resolve().parents[2]
OLD_DEVELOPMENT_KEY = "dev-only-not-" + "secret"  # the key that used to be written in config.py


@pytest.fixture
def development_app(monkeypatch, tmp_path, database_url):
    """The development config, as ``gunicorn wsgi:app`` without RESERVE_ENV starts it."""
    from reserve.config import DevelopmentConfig

    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.delenv("RESERVE_SECRET_KEY", raising=False)
    monkeypatch.setenv("RESERVE_SECRET_KEY_FILE", str(tmp_path / "instance" / "secret_key"))
    monkeypatch.setenv("DATABASE_URL", database_url)

    def make():
        return create_app(DevelopmentConfig)

    make.key_file = tmp_path / "instance" / "secret_key"
    return make


def _forge_session(app: Flask, key: str, payload: dict) -> str:
    forger = Flask("forger")
    forger.secret_key = key
    return forger.session_interface.get_signing_serializer(forger).dumps(payload)


def test_a_cookie_forged_with_the_old_development_key_opens_nothing(development_app, make_user):
    app = development_app()
    admin = make_user(Role.ADMIN)
    client = app.test_client()
    with app.test_request_context(environ_base={"REMOTE_ADDR": "127.0.0.1"}):
        identifier = _create_identifier()  # what session protection "strong" expects
    forged = _forge_session(
        app,
        OLD_DEVELOPMENT_KEY,
        {"_user_id": str(admin.id), "_fresh": True, "_id": identifier, "_sv": 0},
    )
    client.set_cookie("session", forged)
    response = client.get("/admin/users")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_development_key_file_is_private_and_reused(development_app):
    first = development_app()
    key_file = development_app.key_file
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    second = development_app()
    assert first.config["SECRET_KEY"] == second.config["SECRET_KEY"]
    assert len(first.config["SECRET_KEY"]) >= 32
    assert key_file.read_text().strip() == first.config["SECRET_KEY"]
    assert sorted(p.name for p in key_file.parent.iterdir()) == ["secret_key"]  # no temp left


def test_a_key_file_readable_by_others_is_refused(tmp_path):
    path = tmp_path / "secret_key"
    instance_secret_key(path)
    path.chmod(0o644)
    with pytest.raises(RuntimeError, match="chmod 600"):
        instance_secret_key(path)


def test_production_refuses_a_short_key(monkeypatch):
    from reserve.config import ProductionConfig

    monkeypatch.setenv("SECRET_KEY", "short")
    monkeypatch.setenv("DATABASE_URL", "postgresql://u@127.0.0.1/none")
    with pytest.raises(RuntimeError, match="too short"):
        create_app(ProductionConfig)


def test_tests_get_a_random_key(app):
    assert len(app.config["SECRET_KEY"]) == 64
    assert app.config["SECRET_KEY"] != OLD_DEVELOPMENT_KEY


def test_derived_keys_differ_by_purpose_and_are_stable(app):
    label = derive_key(app, "label-mac")
    assert len(label) == 32 and label == derive_key(app, "label-mac")
    assert label != derive_key(app, "other-purpose")
    assert app.config["SECRET_KEY"].encode() not in label
    assert len(derive_key(app, "label-mac", length=64)) == 64
    with pytest.raises(ValueError):
        derive_key(app, "")


def test_no_secret_literal_in_the_code():
    assignment = re.compile(
        r"""^\s*(?:[\w.]+\.)?(?:SECRET_KEY|secret_key)\s*(?::[^=]+)?=\s*[rbf]?["']"""
        r"""|\[["'](?:SECRET_KEY|secret_key)["']\]\s*=\s*[rbf]?["']"""
        r"""|(?:SECRET_KEY|secret_key)["']?\s*[:,]\s*[rbf]?["'][^"'\s]{4,}["']"""
    )
    offenders = []
    for path in [ROOT / "wsgi.py", *(ROOT / "reserve").rglob("*.py")]:
        text = path.read_text(encoding="utf-8")
        if OLD_DEVELOPMENT_KEY in text or "testing-not-secret" in text:
            offenders.append(f"{path}: old key")
        for line in text.splitlines():
            if assignment.search(line):
                offenders.append(f"{path}: {line.strip()}")
    assert offenders == []
