"""Typed text, the two rules every service applies to it, written once: blank is nothing
(``clean_text``), and nothing longer than its column (``check_length``, with the same message
everywhere). Shared like ``db.py``: no feature owns it."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from reserve.errors import ValidationError


def clean_text(value: str | None) -> str | None:
    """The text without surrounding blanks, or None when nothing is left."""
    return (value or "").strip() or None


def check_length(value: str | None, column, field: str) -> None:
    """Refuse a text longer than its column holds (``column``: a mapped String column)."""
    if value and len(value) > column.type.length:
        raise ValidationError(
            _l("Too long: at most %(n)s characters.", n=column.type.length), field=field
        )


def checked_text(value: str | None, column, field: str) -> str | None:
    """``clean_text`` then ``check_length``: what a service keeps of an optional text."""
    value = clean_text(value)
    check_length(value, column, field)
    return value
