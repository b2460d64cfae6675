"""Web sessions that end (会话): the user's ``session_version`` is written into the session
cookie at sign-in and compared on every request by the user loader. Bumping it (sign-out,
sign-out everywhere, a password change or reset, a change of roles or scope, deactivation)
turns every cookie issued before into an anonymous one, copies included.

A plain sign-out bumps the version too, rather than keeping a nonce per session on the
server: one integer on the user row that the loader reads anyway, no session table to clean
up, no extra query per request. The price is that signing out on one device signs that user
out on the others as well, which for shared warehouse terminals is the safer behaviour."""

from __future__ import annotations

from functools import cache

from flask import session
from flask_login import login_user
from sqlalchemy import Select, bindparam, select
from sqlalchemy.orm import joinedload

from reserve.auth.models import User
from reserve.extensions import db

SESSION_VERSION_KEY = "_sv"


@cache
def _user_with_scope() -> Select:
    """Built once (at the first request, when every model is mapped): the loader runs on
    every request, and building the statement cost as much as running it."""
    return (
        select(User)
        .where(User.id == bindparam("user_id"))
        .options(joinedload(User.role_rows), joinedload(User.warehouses))
    )


def load_user(user_id: str) -> User | None:
    """Flask-Login's user loader: the user, only while the session's version is current.

    One statement a request: the roles and kept warehouses joined to the user row (their
    ``selectin`` loads would be two more round trips on every page)."""
    try:
        key = int(user_id)
    except (TypeError, ValueError):
        return None
    user = db.session.execute(_user_with_scope(), {"user_id": key}).unique().scalar_one_or_none()
    if user is None or session.get(SESSION_VERSION_KEY) != user.session_version:
        return None
    return user


def begin_session(user: User) -> None:
    """Sign the user in on this browser, with the current session version."""
    login_user(user)
    keep_session(user)


def keep_session(user: User) -> None:
    """After this browser's own action bumped the version (a password change), keep it."""
    session[SESSION_VERSION_KEY] = user.session_version
