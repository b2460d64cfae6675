"""Passwords (密码): hashing by the configured method, and the policy a new password must meet.

The policy asks zxcvbn for a score of at least PASSWORD_MIN_SCORE (3 of 4: "safely
unguessable") and refuses any password holding the user's name; the reason is ours, in the
reader's language (zxcvbn's own feedback is English and never shown)."""

from __future__ import annotations

import functools
import re
import secrets
from collections.abc import Iterable

from flask import current_app
from flask_babel import lazy_gettext as _l
from werkzeug.security import generate_password_hash
from zxcvbn import zxcvbn

from reserve.errors import ValidationError

MAX_LENGTH = 128
_SCORED_LENGTH = 64  # zxcvbn's cost grows with length; 64 characters already score 4

REASONS = {
    "user_inputs": _l("It must not contain your user name or your name."),
    "passwords": _l("It is one of the most common passwords."),
    "repeat": _l("Repeated characters or words (like aaa or abcabc) are easy to guess."),
    "sequence": _l("Sequences (like abc or 1234) are easy to guess."),
    "spatial": _l("Keyboard patterns (like qwerty or 1qaz) are easy to guess."),
    "date": _l("Dates and years are easy to guess."),
    "dictionary": _l("A common word or name on its own is easy to guess."),
    "other": _l("It is too short or too simple."),
}


def setting(name: str, default):
    return current_app.config.get(name, default) if current_app else default


def hash_method() -> str:
    return setting("PASSWORD_HASH_METHOD", "scrypt")


def hash_password(password: str) -> str:
    return generate_password_hash(password, method=hash_method())


@functools.cache
def dummy_hash(method: str) -> str:
    """A hash of a random password by the configured method and cost, to check against when
    the name does not exist, so that a missing name takes as long as a wrong password."""
    return generate_password_hash(secrets.token_urlsafe(16), method=method)


def _name_parts(names: Iterable[str | None]) -> list[str]:
    parts: list[str] = []
    for name in names:
        if not name:
            continue
        name = name.strip().lower()
        parts.append(name)
        parts.extend(p for p in re.split(r"[\s._\-·]+", name) if p and p != name)
    return [p for p in parts if len(p) >= 2]


def check_password_rules(password: str, *, names: Iterable[str | None] = ()) -> None:
    """密码规则: long enough, not holding the user's names, and hard to guess (zxcvbn >= 3).

    ``names`` are the user name and the full name; the reason for a refusal is one of ours."""
    minimum = setting("PASSWORD_MIN_LENGTH", 8)
    if len(password) < minimum:
        raise ValidationError(
            _l("The password must have at least %(n)s characters.", n=minimum), field="password"
        )
    if len(password) > MAX_LENGTH:
        raise ValidationError(_l("The password is too long."), field="password")
    parts = _name_parts(names)
    lowered = password.lower()
    if any(len(p) >= 3 and p in lowered for p in parts) or lowered in parts:
        _refuse("user_inputs")
    result = zxcvbn(password[:_SCORED_LENGTH], user_inputs=parts)
    if result["score"] < setting("PASSWORD_MIN_SCORE", 3):
        _refuse(_weakest(result["sequence"]))


def _weakest(sequence: list[dict]) -> str:
    """Which of our reasons fits zxcvbn's analysis: its longest guessable part decides."""
    for match in sorted(sequence, key=lambda m: len(m.get("token", "")), reverse=True):
        pattern = match.get("pattern")
        if pattern == "dictionary":
            name = match.get("dictionary_name")
            return name if name in ("user_inputs", "passwords") else "dictionary"
        if pattern in ("repeat", "sequence", "spatial", "date"):
            return pattern
        if pattern == "regex" and match.get("regex_name") == "recent_year":
            return "date"
    return "other"


def _refuse(reason: str) -> None:
    raise ValidationError(
        _l(
            "This password is too easy to guess. %(reason)s "
            "Use a longer one, for example three or four unrelated words.",
            reason=REASONS[reason],
        ),
        field="password",
    )
