"""Accounts: passwords, sessions, users and their roles and scopes, API tokens (sign-in and its
throttles are in ``signin.py``, the password policy in ``passwords.py``)."""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Iterable
from datetime import timedelta
from functools import cache

from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, bindparam, select
from sqlalchemy.orm import Session, joinedload
from werkzeug.security import check_password_hash

from reserve.agreements.models import Enterprise
from reserve.audit.service import changes, record, snapshot
from reserve.auth.actor import Actor
from reserve.auth.models import ApiToken, Role, User, UserRole
from reserve.auth.passwords import check_password_rules, hash_password
from reserve.auth.signin import (  # noqa: F401  (the sign-in API, re-exported for the edges)
    LoginRefused,
    _find_user,
    authenticate,
    clear_failed_logins,
    client_key,
    close_ended_bursts,
    failed_logins_of,
    record_failed_login,
    unlock_user,
)
from reserve.db import utcnow
from reserve.errors import Conflict, Forbidden, NotFound, SeparationOfDuties, ValidationError
from reserve.forms import normalise_phone
from reserve.warehouses.models import Warehouse

USERNAME_PATTERN = re.compile(r"^[A-Za-z0-9_.-]{3,40}$")
TOKEN_PREFIX = "rsv_"


def change_password(
    session: Session, *, user_id: int, current: str, new: str, actor: Actor
) -> None:
    """修改密码：the user changes their own password, proving the current one."""
    user = get_user(session, user_id)
    if not check_password_hash(user.password_hash, current):
        raise ValidationError(_l("The current password is wrong."), field="current")
    if current == new:
        raise ValidationError(_l("The new password must differ from the current one."), field="new")
    try:
        check_password_rules(new, names=(user.username, user.full_name))
    except ValidationError as error:
        error.field = "new"
        raise
    user.password_hash = hash_password(new)
    user.must_change_password = False
    end_sessions(session, user=user)  # the caller keeps its own session with the new version
    record(session, actor=actor, action="password_change", obj=user, label=user.username)


def end_sessions(session: Session, *, user: User) -> int:
    """Make every session this user signed in before end at its next request (bumps
    ``session_version``). Returns the new version."""
    user.session_version += 1
    session.flush()
    return user.session_version


def sign_out(session: Session, *, user_id: int, actor: Actor, everywhere: bool = False) -> User:
    """退出登录 / 全部设备退出: end this user's sessions; the copied cookie of a signed-out
    session no longer opens anything (the version it carries is gone)."""
    user = get_user(session, user_id)
    if actor.user_id != user.id:
        raise Forbidden()
    end_sessions(session, user=user)
    if everywhere:
        revoke_user_tokens(session, user=user, actor=actor)
    record(
        session,
        actor=actor,
        action="sign_out_everywhere" if everywhere else "logout",
        obj=user,
        label=user.username,
    )
    return user


def revoke_user_tokens(session: Session, *, user: User, actor: Actor) -> int:
    """Revoke every live API token of ``user`` (each audited): after an admin's password reset
    (the account may be in other hands) and "sign out everywhere" (end every way in). A user's
    own routine password change keeps them: it would cut the PDAs and enterprise systems
    that use them. Returns how many were revoked."""
    live = session.scalars(
        select(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
    ).all()
    now = utcnow()
    for token in live:
        token.revoked_at = now
        record(
            session, actor=actor, action="revoke", obj=token, label=f"{user.username}: {token.name}"
        )
    return len(live)


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
    check_password_rules(password, names=(username, full_name))
    role_set, warehouses = _check_roles_and_scopes(session, roles, warehouse_ids, enterprise_id)
    user = User(
        username=username,
        full_name=full_name.strip(),
        phone=normalise_phone(phone, field="phone"),
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
        raise SeparationOfDuties(_l("You cannot remove your own administrator role."))
    user.full_name = full_name.strip()
    user.phone = normalise_phone(phone, field="phone")
    user.enterprise_id = enterprise_id
    current = {r.role for r in user.role_rows}
    wanted = {r.value for r in role_set}
    user.role_rows = [r for r in user.role_rows if r.role in wanted] + [
        UserRole(role=r) for r in sorted(wanted - current)
    ]
    user.warehouses = warehouses
    session.flush()
    old, new = changes(before, _user_summary(user))
    if {"roles", "warehouses", "enterprise_id"} & set(new):
        end_sessions(session, user=user)  # sessions signed in with the old rights end
    record(
        session, actor=actor, action="update", obj=user, label=user.username, before=old, after=new
    )
    return user


def set_user_enabled(session: Session, *, user_id: int, enabled: bool, actor: Actor) -> User:
    """停用/启用用户: a disabled user can no longer sign in or use tokens."""
    actor.require_role(Role.ADMIN)
    user = get_user(session, user_id)
    if user.id == actor.user_id and not enabled:
        raise SeparationOfDuties(_l("You cannot disable your own account."))
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
        if not enabled:
            end_sessions(session, user=user)
    return user


def reset_password(session: Session, *, user_id: int, new_password: str, actor: Actor) -> User:
    """重置密码：an admin sets a temporary password; the user must change it at next sign-in."""
    actor.require_role(Role.ADMIN)
    user = get_user(session, user_id)
    check_password_rules(new_password, names=(user.username, user.full_name))
    user.password_hash = hash_password(new_password)
    user.must_change_password = True
    clear_failed_logins(session, user=user, reason="password_reset")
    end_sessions(session, user=user)
    revoke_user_tokens(session, user=user, actor=actor)
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


@cache
def _token_with_user() -> Select:
    """Built once: every API request runs it. The token, its user, the user's roles and kept
    warehouses in one statement (their ``selectin`` loads would be two more round trips)."""
    return (
        select(ApiToken)
        .where(ApiToken.token_hash == bindparam("token_hash"))
        .options(
            joinedload(ApiToken.user).options(
                joinedload(User.role_rows), joinedload(User.warehouses)
            )
        )
    )


def user_for_api_token(session: Session, secret: str) -> User | None:
    """The enabled user behind a live token, or None. Marks the token used (``last_used_at``,
    at most every five minutes: the caller commits when the session is dirty)."""
    if not secret.startswith(TOKEN_PREFIX):
        return None
    token = (
        session.execute(_token_with_user(), {"token_hash": _token_hash(secret)})
        .unique()
        .scalar_one_or_none()
    )
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
