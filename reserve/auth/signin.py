"""Sign-in (登录) and its throttles: by name and client address with growing delays, by address
across names, known-good addresses that keep working for their owner, and failed sign-ins
summarised in the audit log one row per burst."""

from __future__ import annotations

import ipaddress
import math
from collections.abc import Iterable
from datetime import datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash

from reserve.audit.service import record
from reserve.auth.actor import Actor
from reserve.auth.models import LoginAddress, LoginThrottle, Role, User
from reserve.auth.passwords import dummy_hash, hash_method
from reserve.auth.passwords import setting as _setting
from reserve.db import utcnow
from reserve.errors import NotFound, Unauthorized


class LoginRefused(Unauthorized):
    """One message whether or not the account exists, so names cannot be probed."""

    code = "login_refused"

    def __init__(self, *, locked_minutes: int | None = None):
        self.locked_minutes = locked_minutes
        if locked_minutes:
            message = _l(
                "Too many failed sign-ins from your address. Try again in %(minutes)s minutes.",
                minutes=locked_minutes,
            )
        else:
            message = _l("Wrong user name or password.")
        super().__init__(message)


def _throttle_key(username: str) -> str:
    return username.strip().lower()[:80]


def client_key(ip: str | None) -> str:
    """The address a throttle counts: an IPv4 address, or the /64 network of an IPv6 one (one
    subscriber's whole allocation, so that rotating addresses within it gains nothing)."""
    if not ip:
        return "-"
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return ip[:45]
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((address, 64), strict=False))
    return str(address)


def _find_user(session: Session, username: str) -> User | None:
    return session.scalar(select(User).where(func.lower(User.username) == _throttle_key(username)))


def _minutes_left(until: datetime, now: datetime) -> int:
    return max(1, math.ceil((until - now).total_seconds() / 60))


def _active_lock(rows: Iterable[LoginThrottle | None], now: datetime) -> datetime | None:
    ends = [r.locked_until for r in rows if r and r.locked_until and r.locked_until > now]
    return max(ends) if ends else None


def _burst_ended(row: LoginThrottle, now: datetime) -> bool:
    quiet_since = now - timedelta(minutes=_setting("LOGIN_BURST_QUIET_MINUTES", 60))
    return row.last_failed_at <= quiet_since and (
        row.locked_until is None or row.locked_until <= quiet_since
    )


def _throttle_actor(row: LoginThrottle) -> Actor:
    return Actor(user_id=None, username=(row.username or "-")[:40], ip=row.ip)


def _close_burst(session: Session, row: LoginThrottle, *, reason: str) -> None:
    """End a burst: write its one summary row (when there is more to say than the first
    failure's row already said) and drop the counter."""
    if row.failed_count > 1 if row.kind == "name" else row.strikes > 0:
        record(
            session,
            actor=_throttle_actor(row),
            action="login_failures" if row.kind == "name" else "login_address_failures",
            object_type="login",
            object_id=(row.username or row.ip)[:40],
            label=row.username or row.ip,
            after={
                "count": row.failed_count,
                "locks": row.strikes,
                "first_at": row.first_failed_at.isoformat(),
                "last_at": row.last_failed_at.isoformat(),
                "ended_by": reason,
            },
        )
    session.delete(row)
    session.flush()


def close_ended_bursts(session: Session, *, limit: int = 100) -> int:
    """登录失败汇总: summarise the bursts that have gone quiet (a bounded batch per call)."""
    quiet_since = utcnow() - timedelta(minutes=_setting("LOGIN_BURST_QUIET_MINUTES", 60))
    rows = session.scalars(
        select(LoginThrottle)
        .where(
            LoginThrottle.last_failed_at <= quiet_since,
            or_(LoginThrottle.locked_until.is_(None), LoginThrottle.locked_until <= quiet_since),
        )
        .order_by(LoginThrottle.last_failed_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    ).all()
    for row in rows:
        _close_burst(session, row, reason="quiet")
    return len(rows)


def _throttles(session: Session, key: str, address: str) -> tuple[LoginThrottle | None, ...]:
    """This name's and this address's counters, row-locked (PostgreSQL) so that concurrent
    failures count one after the other."""
    return tuple(
        session.get(LoginThrottle, pk, with_for_update=True, populate_existing=True)
        for pk in (("name", key, address), ("address", "", address))
    )


def _insert_if_missing(session: Session, model: type, **values) -> bool:
    """INSERT … ON CONFLICT DO NOTHING (two first failures, or two first sign-ins from an
    address, may race); True when this call made the row."""
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    key = next(iter(model.__table__.primary_key.columns))
    statement = insert(model).values(**values).on_conflict_do_nothing().returning(key)
    return session.execute(statement).first() is not None


def _open_burst(session: Session, kind: str, username: str, address: str) -> tuple:
    now = utcnow()
    created = _insert_if_missing(
        session,
        LoginThrottle,
        kind=kind,
        username=username,
        ip=address,
        failed_count=0,
        checked_count=0,
        strikes=0,
        first_failed_at=now,
        last_failed_at=now,
    )
    pk = (kind, username, address)
    row = session.get(LoginThrottle, pk, with_for_update=True, populate_existing=True)
    return row, created


def _is_known_good(session: Session, user: User, address: str) -> bool:
    return session.get(LoginAddress, (user.id, address)) is not None


def authenticate(session: Session, *, username: str, password: str, ip: str | None = None) -> User:
    """登录：return the user, or raise ``LoginRefused`` (the caller then records the failure).

    While failures lock this name from this address (or every name from this address), the
    password is not even checked, unless the address is one this user signed in from before:
    a stranger's failures cannot lock the owner out of their own desk."""
    close_ended_bursts(session)
    now = utcnow()
    key, address = _throttle_key(username), client_key(ip)
    name_row, address_row = _throttles(session, key, address)
    user = _find_user(session, username)
    locked_until = _active_lock((name_row, address_row), now)
    if locked_until and (user is None or not _is_known_good(session, user, address)):
        raise LoginRefused(locked_minutes=_minutes_left(locked_until, now))
    if user is None:
        check_password_hash(dummy_hash(hash_method()), password)
        raise LoginRefused()
    if not check_password_hash(user.password_hash, password) or not user.is_enabled:
        raise LoginRefused()
    if name_row:
        _close_burst(session, name_row, reason="success")
    if not _insert_if_missing(
        session, LoginAddress, user_id=user.id, ip=address, first_at=now, last_at=now
    ):
        session.get(LoginAddress, (user.id, address)).last_at = now
    user.last_login_at = now
    record(session, actor=Actor.for_user(user, ip), action="login", obj=user, label=user.username)
    return user


def _lock_minutes(strikes: int) -> int:
    """The growing delay: the first lock, then twice as long each time, up to the cap."""
    first = _setting("LOGIN_LOCK_MINUTES", 1)
    cap = _setting("LOGIN_LOCK_MAX_MINUTES", 60)
    return min(first * 2 ** min(strikes, 20), cap)


def record_failed_login(
    session: Session, *, username: str, ip: str | None = None, checked: bool = True
) -> LoginRefused:
    """登录失败：count a failed sign-in for the name from this address and for the address.

    ``checked`` is False when the attempt was refused by a lock without its password being
    checked: it is counted (for the summary) but lays no new lock. After LOGIN_MAX_FAILURES
    checked failures of a name from one address (or LOGIN_MAX_FAILURES_PER_ADDRESS of any
    names), each further one locks for longer: 1, 2, 4 … minutes, up to the cap. The first
    failure of a burst is audited at once, the rest only when the burst ends. Returns the
    error to show."""
    close_ended_bursts(session)
    now = utcnow()
    key, address = _throttle_key(username), client_key(ip)
    name_row, address_row = _throttles(session, key, address)
    for row in (name_row, address_row):
        if row is not None and _burst_ended(row, now):
            _close_burst(session, row, reason="quiet")
    name_row, address_row = _throttles(session, key, address)
    address_locked = _active_lock((address_row,), now) is not None
    if name_row is None and not address_locked:  # a locked address opens no new rows
        name_row, created = _open_burst(session, "name", key, address)
        if created:
            record(
                session,
                actor=_throttle_actor(name_row),
                action="login_failed",
                object_type="login",
                object_id=key[:40],
                label=key,
                after={"ip": address},
            )
    if address_row is None:
        address_row, _created = _open_burst(session, "address", "", address)
    limits = {
        "name": _setting("LOGIN_MAX_FAILURES", 5),
        "address": _setting("LOGIN_MAX_FAILURES_PER_ADDRESS", 20),
    }
    for row in (name_row, address_row):
        if row is None:
            continue
        row.failed_count += 1
        row.last_failed_at = now
        locked = row.locked_until is not None and row.locked_until > now
        if checked and not locked:
            row.checked_count += 1
            if row.checked_count >= limits[row.kind]:
                row.locked_until = now + timedelta(minutes=_lock_minutes(row.strikes))
                row.strikes += 1
                if row.kind == "address" and row.strikes == 1:
                    record(
                        session,
                        actor=_throttle_actor(row),
                        action="login_address_locked",
                        object_type="login",
                        object_id=address[:40],
                        label=address,
                        after={"count": row.failed_count},
                    )
    session.flush()
    locked_until = _active_lock((name_row, address_row), now)
    if locked_until:
        return LoginRefused(locked_minutes=_minutes_left(locked_until, now))
    return LoginRefused()


def failed_logins_of(session: Session, *, user_id: int) -> list[LoginThrottle]:
    """The running bursts of failed sign-ins for this user's name, one per client address."""
    user = _get_user(session, user_id)
    return list(
        session.scalars(
            select(LoginThrottle)
            .where(
                LoginThrottle.kind == "name",
                LoginThrottle.username == _throttle_key(user.username),
            )
            .order_by(LoginThrottle.last_failed_at.desc())
        )
    )


def clear_failed_logins(session: Session, *, user: User, reason: str) -> list[str]:
    """Clear the running bursts of this user's name, and of the addresses they came from, each
    summarised in the audit log first. Returns those addresses."""
    rows = failed_logins_of(session, user_id=user.id)
    addresses = sorted({row.ip for row in rows})
    for row in rows:
        _close_burst(session, row, reason=reason)
    if addresses:
        for row in session.scalars(
            select(LoginThrottle).where(
                LoginThrottle.kind == "address", LoginThrottle.ip.in_(addresses)
            )
        ):
            _close_burst(session, row, reason=reason)
    return addresses


def unlock_user(session: Session, *, user_id: int, actor: Actor) -> list[str]:
    """解除锁定：an admin clears the failed sign-ins of a user's name (and of the addresses
    they came from). Returns the addresses cleared."""
    actor.require_role(Role.ADMIN)
    user = _get_user(session, user_id)
    addresses = clear_failed_logins(session, user=user, reason="unlock")
    record(
        session,
        actor=actor,
        action="unlock",
        obj=user,
        label=user.username,
        after={"addresses": addresses},
    )
    return addresses


def _get_user(session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(_l("No such user."))
    return user
