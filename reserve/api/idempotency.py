"""Idempotent API writes (幂等写入): a write sent with an ``Idempotency-Key`` header is done
once; a retry with the same key and the same request gets the first response again.

How it holds under failure and concurrency:

- **The stored response commits with the work, or not at all.** The whole request runs in one
  transaction: the key is claimed first, the view runs with its own ``with transaction()``
  turned into a flush, then the response is stored and everything commits together. A crash
  or an error before the commit leaves neither the work nor the key, so a retry does the work
  once; a crash after it leaves both, so a retry is answered from the stored response.
- **Claimed first.** On PostgreSQL the key is claimed with a transaction-scoped advisory lock
  taken at once (``pg_try_advisory_xact_lock``): a second request with the same key while the
  first is running gets 409 at once instead of waiting. On SQLite writers are serialised by
  ``BEGIN IMMEDIATE``: the second waits for the first and is then answered from its response
  (409 only if it waited longer than the busy timeout). The unique (user, key) constraint is
  the database's own guarantee underneath both.
- Errors (4xx raised by the service, 5xx) roll back and are not stored: nothing was done, so a
  retry with the same key is right to try again.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from functools import wraps

import sqlalchemy as sa
from flask import Response, current_app, g, request
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from reserve.api.models import IdempotencyKey
from reserve.db import transaction, utcnow
from reserve.errors import (
    IdempotencyKeyInUse,
    IdempotencyKeyReused,
    ValidationError,
)

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
_KEY = re.compile(r"[\x21-\x7e]{1,255}")  # visible ASCII, as in a UUID or a ULID
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})

HEADER_PARAMETER = {
    "name": HEADER,
    "in": "header",
    "required": False,
    "description": "any unique string (a UUID): a retry with the same key and body returns "
    "the first response (with `Idempotent-Replayed: true`) instead of doing the work again; "
    "the same key with another body is a 422; kept 24 hours",
    "schema": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[!-~]+$"},
}


def fingerprint() -> str:
    """What makes two requests the same request: method, path, query and body. A multipart
    body (an upload) counts by its fields and files, not its bytes: a client's retry of the same
    file comes with a new boundary."""
    digest = hashlib.sha256()
    for part in (request.method.encode(), request.path.encode(), request.query_string):
        digest.update(part)
        digest.update(b"\n")
    if request.mimetype == "multipart/form-data":
        for name, value in sorted(request.form.items(multi=True)):
            digest.update(f"{name}={value}\n".encode())
        for name, upload in sorted(request.files.items(multi=True), key=lambda item: item[0]):
            content = upload.stream.read()
            upload.stream.seek(0)
            digest.update(f"{name}:{upload.filename}:".encode())
            digest.update(hashlib.sha256(content).digest())
    else:
        digest.update(request.get_data(cache=True))
    return digest.hexdigest()


def _checked_key(value: str) -> str:
    if not _KEY.fullmatch(value):
        raise ValidationError(
            _l("The Idempotency-Key header is 1 to 255 visible ASCII characters."),
            field=HEADER,
        )
    return value


def _claim(session: Session, user_id: int, key: str) -> None:
    """Take the key for this transaction, or say at once that another request holds it."""
    if session.get_bind().dialect.name != "postgresql":
        return  # SQLite: BEGIN IMMEDIATE already made this the only writer
    lock_id = int.from_bytes(
        hashlib.sha256(f"idempotency:{user_id}:{key}".encode()).digest()[:8], "big", signed=True
    )
    if not session.scalar(sa.select(sa.func.pg_try_advisory_xact_lock(lock_id))):
        raise IdempotencyKeyInUse()


@contextmanager
def _one_transaction(session: Session) -> Iterator[None]:
    """Inside, a ``session.commit()`` (the view's ``transaction()``) only flushes: the view's
    work, the stored response and the claim commit together, when the outer block ends."""
    session.commit = session.flush  # an instance attribute hides the method for this block
    try:
        yield
    finally:
        del session.commit


def _replay(stored: IdempotencyKey, print_: str) -> Response:
    if stored.fingerprint != print_:
        raise IdempotencyKeyReused()
    response = Response(stored.body, status=stored.status, mimetype="application/json")
    response.headers[REPLAYED_HEADER] = "true"
    return response


def purge_expired(session: Session) -> int:
    """Forget the keys older than the configured lifetime (an index range: cheap)."""
    cutoff = utcnow() - timedelta(hours=current_app.config["IDEMPOTENCY_KEY_HOURS"])
    result = session.execute(sa.delete(IdempotencyKey).where(IdempotencyKey.created_at < cutoff))
    return result.rowcount or 0


def idempotent(view: Callable) -> Callable:
    """Wrap an API write so that it honours the ``Idempotency-Key`` header (see the module)."""

    @wraps(view)
    def wrapper(**kwargs):
        raw_key = request.headers.get(HEADER)
        user = g.get("api_user")
        if raw_key is None or user is None:
            return view(**kwargs)
        key = _checked_key(raw_key)
        user_id = user.id
        print_ = fingerprint()
        lifetime = timedelta(hours=current_app.config["IDEMPOTENCY_KEY_HOURS"])
        try:
            with transaction() as session:
                _claim(session, user_id, key)
                stored = session.scalar(
                    sa.select(IdempotencyKey).where(
                        IdempotencyKey.user_id == user_id, IdempotencyKey.key == key
                    )
                )
                if stored is not None and stored.created_at >= utcnow() - lifetime:
                    return _replay(stored, print_)
                if stored is not None:  # expired, not yet purged: the key is free again
                    session.delete(stored)
                    session.flush()
                record = IdempotencyKey(
                    user_id=user_id, key=key, fingerprint=print_, status=0, body=b""
                )
                session.add(record)
                session.flush()  # the unique (user, key) row is claimed before the work
                with _one_transaction(session):
                    response = current_app.make_response(view(**kwargs))
                record.status = response.status_code
                record.body = response.get_data()
        except (sa.exc.IntegrityError, sa.exc.OperationalError) as exc:
            # The unique row was taken by a request that got there first, or SQLite's write
            # lock was not free within the busy timeout: either way, the key is in use.
            if IdempotencyKey.__tablename__ not in str(exc) and "database is locked" not in str(
                exc
            ):
                raise
            raise IdempotencyKeyInUse() from exc
        try:  # the work has committed: a busy database must not turn its answer into a 500
            with transaction() as session:
                purge_expired(session)
        except sa.exc.OperationalError:
            current_app.logger.warning("Idempotency keys not purged (database busy); next time")
        return response

    return wrapper
