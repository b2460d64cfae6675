"""The application secret (密钥) and the keys derived from it.

No secret is written in the code. Production must be given ``SECRET_KEY``; development (and a
bare ``gunicorn wsgi:app`` without ``RESERVE_ENV``) creates a random key on first start in
``instance/secret_key`` (mode 0600, created atomically, reused afterwards); tests use a random
key per process. Other features never use ``SECRET_KEY`` itself: they ask ``derive_key`` for a
key of their own, so that one key leaking (a label MAC, say) does not reveal the others."""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import os
import secrets
import stat
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # only a type here: codes derived from the secret need no Flask
    from flask import Flask

MIN_PRODUCTION_KEY_LENGTH = 32
_HKDF_SALT = b"reserve/derive_key/v1"  # a fixed, public domain separator, not a secret
_process_key: str | None = None


def ensure_secret_key(app: Flask) -> None:
    """Give the app a secret key, or refuse to start (production without one)."""
    key = app.config.get("SECRET_KEY")
    source = app.config.get("SECRET_KEY_SOURCE")
    if key:
        if source is None and len(str(key)) < MIN_PRODUCTION_KEY_LENGTH:
            raise RuntimeError(
                f"SECRET_KEY is too short: give at least {MIN_PRODUCTION_KEY_LENGTH} random "
                "characters, e.g. SECRET_KEY=\"$(python -c 'import secrets; "
                "print(secrets.token_hex(32))')\"."
            )
        return
    if source == "process":
        app.config["SECRET_KEY"] = process_secret_key()
    elif source == "instance":
        path = app.config.get("SECRET_KEY_FILE") or os.path.join(app.instance_path, "secret_key")
        app.config["SECRET_KEY"] = instance_secret_key(Path(path))
    else:
        raise RuntimeError(
            "SECRET_KEY is not set. In production export SECRET_KEY to a long random value, "
            "e.g. SECRET_KEY=\"$(python -c 'import secrets; print(secrets.token_hex(32))')\"."
        )


def process_secret_key() -> str:
    """A random key for this process only (tests): every app created in it shares it."""
    global _process_key
    if _process_key is None:
        _process_key = secrets.token_hex(32)
    return _process_key


def instance_secret_key(path: Path) -> str:
    """The key kept in ``path``, created (0600, atomically) on first use and reused after.

    The new key is written to a private temporary file and hard-linked into place, so a reader
    never sees a half-written file and two processes starting together agree on one key."""
    try:
        return _read_key(path)
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            handle.write(secrets.token_hex(32) + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        with contextlib.suppress(FileExistsError):  # another process won the race: use its key
            os.link(temporary, path)
    finally:
        os.unlink(temporary)
    return _read_key(path)


def _read_key(path: Path) -> str:
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise RuntimeError(
            f"{path} can be read by other users (mode {mode:o}); run `chmod 600 {path}`."
        )
    key = path.read_text(encoding="ascii").strip()
    if len(key) < MIN_PRODUCTION_KEY_LENGTH:
        raise RuntimeError(f"{path} holds no usable key; delete it to have a new one made.")
    return key


def derive_key(app: Flask, purpose: str, *, length: int = 32) -> bytes:
    """A key for one purpose (e.g. ``"label-mac"``), derived from SECRET_KEY by HKDF-SHA256."""
    return derive_from_secret(str(app.config["SECRET_KEY"]), purpose, length=length)


def derive_from_secret(secret_key: str, purpose: str, *, length: int = 32) -> bytes:
    """``derive_key`` from the secret itself, for code that runs without an app (label codes)."""
    if not purpose:
        raise ValueError("derive_key needs a purpose")
    if not 0 < length <= 255 * 32:
        raise ValueError("derive_key length out of range")
    secret = secret_key.encode()
    prk = hmac.new(_HKDF_SALT, secret, hashlib.sha256).digest()
    info = purpose.encode()
    block, output, counter = b"", b"", 1
    while len(output) < length:
        block = hmac.new(prk, block + info + bytes([counter]), hashlib.sha256).digest()
        output += block
        counter += 1
    return output[:length]
