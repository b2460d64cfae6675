"""Accounts: sign-in with lockout, passwords, users and their roles and scopes, API tokens."""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Iterable
from datetime import timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from reserve.agreements.models import Enterprise
from reserve.audit.service import changes, record, snapshot
from reserve.auth.actor import Actor
from reserve.auth.models import ApiToken, LoginThrottle, Role, User, UserRole
from reserve.db import utcnow
from reserve.errors import Conflict, Forbidden, NotFound, Unauthorized, ValidationError
from reserve.warehouses.models import Warehouse

USERNAME_PATTERN = re.compile(r"^[A-Za-z0-9_.-]{3,40}$")
TOKEN_PREFIX = "rsv_"


class LoginRefused(Unauthorized):
    """One message whether or not the account exists, so names cannot be probed."""

    code = "login_refused"

    def __init__(self, *, locked_minutes: int | None = None):
        self.locked_minutes = locked_minutes
        if locked_minutes:
            message = _l(
                "Too many failed sign-ins. This account is locked for %(minutes)s minutes.",
                minutes=locked_minutes,
            )
        else:
            message = _l("Wrong user name or password.")
        super().__init__(message)


def _setting(name: str, default):
    return current_app.config.get(name, default) if current_app else default


def hash_password(password: str) -> str:
    return generate_password_hash(password, method=_setting("PASSWORD_HASH_METHOD", "scrypt"))


def check_password_rules(password: str) -> None:
    minimum = _setting("PASSWORD_MIN_LENGTH", 8)
    if len(password) < minimum:
        raise ValidationError(
            _l("The password must have at least %(n)s characters.", n=minimum), field="password"
        )
    if len(password) > 128:
        raise ValidationError(_l("The password is too long."), field="password")


def _throttle_key(username: str) -> str:
    return username.strip().lower()[:80]


def _find_user(session: Session, username: str) -> User | None:
    return session.scalar(select(User).where(func.lower(User.username) == _throttle_key(username)))


# A hash to check against when the name does not exist, so both paths take as long.
_DUMMY_HASH = generate_password_hash("not-a-real-password", method="pbkdf2:sha256:1000")


def authenticate(session: Session, *, username: str, password: str, ip: str | None = None) -> User:
    """登录：return the user, or raise ``LoginRefused`` (the caller then records the failure)."""
    now = utcnow()
    throttle = session.get(LoginThrottle, _throttle_key(username))
    if throttle and throttle.locked_until and throttle.locked_until > now:
        minutes = int((throttle.locked_until - now).total_seconds() // 60) + 1
        raise LoginRefused(locked_minutes=minutes)
    user = _find_user(session, username)
    if user is None:
        check_password_hash(_DUMMY_HASH, password)
        raise LoginRefused()
    if not check_password_hash(user.password_hash, password) or not user.is_enabled:
        raise LoginRefused()
    if throttle:
        session.delete(throttle)
    user.last_login_at = now
    record(session, actor=Actor.for_user(user, ip), action="login", obj=user, label=user.username)
    return user


def record_failed_login(session: Session, *, username: str, ip: str | None = None) -> LoginRefused:
    """Count a failed sign-in; the fifth in a row locks the name. Returns the error to show."""
    now = utcnow()
    key = _throttle_key(username)
    throttle = session.get(LoginThrottle, key) or LoginThrottle(username=key, failed_count=0)
    session.add(throttle)
    if throttle.locked_until and throttle.locked_until > now:
        minutes = int((throttle.locked_until - now).total_seconds() // 60) + 1
        return LoginRefused(locked_minutes=minutes)
    throttle.failed_count += 1
    throttle.last_failed_at = now
    max_failures = _setting("LOGIN_MAX_FAILURES", 5)
    if throttle.failed_count >= max_failures:
        minutes = _setting("LOGIN_LOCK_MINUTES", 15)
        throttle.locked_until = now + timedelta(minutes=minutes)
        throttle.failed_count = 0
        record(
            session,
            actor=Actor(user_id=None, username=key, ip=ip),
            action="login_locked",
            object_type="login",
            object_id=key,
            label=key,
        )
        return LoginRefused(locked_minutes=minutes)
    return LoginRefused()


def change_password(
    session: Session, *, user_id: int, current: str, new: str, actor: Actor
) -> None:
    """修改密码：the user changes their own password, proving the current one."""
    user = get_user(session, user_id)
    if not check_password_hash(user.password_hash, current):
        raise ValidationError(_l("The current password is wrong."), field="current")
    check_password_rules(new)
    if current == new:
        raise ValidationError(_l("The new password must differ from the current one."), field="new")
    user.password_hash = hash_password(new)
    user.must_change_password = False
    record(session, actor=actor, action="password_change", obj=user, label=user.username)


def get_user(session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(_l("No such user."))
    return user


def _check_roles_and_scopes(
    session: Session,
    roles: Iterable[str],
    warehouse_ids: Iterable[int],
    enterprise_id: int | None,
) -> tuple[set[Role], list]:
    try:
        role_set = {Role(r) for r in roles}
    except ValueError as exc:
        raise ValidationError(_l("Unknown role."), field="roles") from exc
    if not role_set:
        raise ValidationError(_l("Give the user at least one role."), field="roles")
    ids = sorted(set(warehouse_ids))
    warehouses = (
        list(session.scalars(select(Warehouse).where(Warehouse.id.in_(ids)))) if ids else []
    )
    if len(warehouses) != len(ids):
        raise ValidationError(_l("Unknown warehouse."), field="warehouse_ids")
    if Role.KEEPER in role_set and not warehouses:
        raise ValidationError(
            _l("A keeper must keep at least one warehouse."), field="warehouse_ids"
        )
    if Role.ENTERPRISE in role_set:
        if enterprise_id is None or session.get(Enterprise, enterprise_id) is None:
            raise ValidationError(
                _l("An enterprise user must belong to an enterprise."), field="enterprise_id"
            )
    elif enterprise_id is not None:
        raise ValidationError(
            _l("Only enterprise users belong to an enterprise."), field="enterprise_id"
        )
    return role_set, warehouses


def _user_summary(user: User) -> dict:
    data = snapshot(user)
    data["roles"] = sorted(user.roles)
    data["warehouses"] = [w.code for w in user.warehouses]
    return data


def create_user(
    session: Session,
    *,
    username: str,
    full_name: str,
    password: str,
    roles: Iterable[str],
    warehouse_ids: Iterable[int] = (),
    enterprise_id: int | None = None,
    phone: str | None = None,
    must_change_password: bool = True,
    actor: Actor,
) -> User:
    """新建用户：an admin creates an account with its roles and scopes."""
    actor.require_role(Role.ADMIN)
    username = username.strip()
    if not USERNAME_PATTERN.match(username):
        raise ValidationError(
            _l("A user name has 3 to 40 letters, digits, dots, dashes or underscores."),
            field="username",
        )
    if _find_user(session, username) is not None:
        raise Conflict(_l("The user name %(name)s is taken.", name=username), field="username")
    check_password_rules(password)
    role_set, warehouses = _check_roles_and_scopes(session, roles, warehouse_ids, enterprise_id)
    user = User(
        username=username,
        full_name=full_name.strip(),
        phone=(phone or "").strip() or None,
        password_hash=hash_password(password),
        must_change_password=must_change_password,
        enterprise_id=enterprise_id,
        role_rows=[UserRole(role=r.value) for r in sorted(role_set)],
        warehouses=warehouses,
    )
    session.add(user)
    session.flush()
    record(
        session, actor=actor, action="create", obj=user, label=username, after=_user_summary(user)
    )
    return user


def update_user(
    session: Session,
    *,
    user_id: int,
    full_name: str,
    roles: Iterable[str],
    warehouse_ids: Iterable[int] = (),
    enterprise_id: int | None = None,
    phone: str | None = None,
    actor: Actor,
) -> User:
    """修改用户：change a user's name, roles and scopes."""
    actor.require_role(Role.ADMIN)
    user = get_user(session, user_id)
    before = _user_summary(user)
    role_set, warehouses = _check_roles_and_scopes(session, roles, warehouse_ids, enterprise_id)
    if user.id == actor.user_id and Role.ADMIN not in role_set:
        raise Forbidden(_l("You cannot remove your own administrator role."))
    user.full_name = full_name.strip()
    user.phone = (phone or "").strip() or None
    user.enterprise_id = enterprise_id
    current = {r.role for r in user.role_rows}
    wanted = {r.value for r in role_set}
    user.role_rows = [r for r in user.role_rows if r.role in wanted] + [
        UserRole(role=r) for r in sorted(wanted - current)
    ]
    user.warehouses = warehouses
    session.flush()
    old, new = changes(before, _user_summary(user))
    record(
        session, actor=actor, action="update", obj=user, label=user.username, before=old, after=new
    )
    return user


def set_user_enabled(session: Session, *, user_id: int, enabled: bool, actor: Actor) -> User:
    """停用/启用用户: a disabled user can no longer sign in or use tokens."""
    actor.require_role(Role.ADMIN)
    user = get_user(session, user_id)
    if user.id == actor.user_id and not enabled:
        raise Forbidden(_l("You cannot disable your own account."))
    if user.is_enabled != enabled:
        record(
            session,
            actor=actor,
            action="enable" if enabled else "disable",
            obj=user,
            label=user.username,
            before={"is_enabled": user.is_enabled},
            after={"is_enabled": enabled},
        )
        user.is_enabled = enabled
    return user


def reset_password(session: Session, *, user_id: int, new_password: str, actor: Actor) -> User:
    """重置密码：an admin sets a temporary password; the user must change it at next sign-in."""
    actor.require_role(Role.ADMIN)
    user = get_user(session, user_id)
    check_password_rules(new_password)
    user.password_hash = hash_password(new_password)
    user.must_change_password = True
    session.query(LoginThrottle).filter_by(username=_throttle_key(user.username)).delete()
    record(session, actor=actor, action="password_reset", obj=user, label=user.username)
    return user


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_api_token(
    session: Session, *, user_id: int, name: str, actor: Actor
) -> tuple[ApiToken, str]:
    """创建 API 令牌：return the stored token and the secret, which is shown once only."""
    if actor.user_id != user_id and not actor.has_role(Role.ADMIN):
        raise Forbidden()
    user = get_user(session, user_id)
    name = name.strip()
    if not name or len(name) > 60:
        raise ValidationError(_l("Give the token a name of at most 60 characters."), field="name")
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(user=user, name=name, prefix=secret[:10], token_hash=_token_hash(secret))
    session.add(token)
    session.flush()
    record(session, actor=actor, action="create", obj=token, label=f"{user.username}: {name}")
    return token, secret


def revoke_api_token(session: Session, *, token_id: int, actor: Actor) -> ApiToken:
    """吊销 API 令牌：by its owner or an admin."""
    token = session.get(ApiToken, token_id)
    if token is None:
        raise NotFound(_l("No such token."))
    if token.user_id != actor.user_id and not actor.has_role(Role.ADMIN):
        raise Forbidden()
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        record(
            session,
            actor=actor,
            action="revoke",
            obj=token,
            label=f"{token.user.username}: {token.name}",
        )
    return token


def user_for_api_token(session: Session, secret: str) -> User | None:
    """The enabled user behind a live token, or None."""
    if not secret.startswith(TOKEN_PREFIX):
        return None
    token = session.scalar(select(ApiToken).where(ApiToken.token_hash == _token_hash(secret)))
    if token is None or token.revoked_at is not None or not token.user.is_enabled:
        return None
    now = utcnow()
    if token.last_used_at is None or now - token.last_used_at > timedelta(minutes=5):
        token.last_used_at = now
    return token.user


def tokens_of(session: Session, user_id: int) -> list[ApiToken]:
    return list(
        session.scalars(
            select(ApiToken).where(ApiToken.user_id == user_id).order_by(ApiToken.created_at.desc())
        )
    )
