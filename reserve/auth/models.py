"""Accounts, roles and scopes (用户、角色、数据范围), login throttling and API tokens."""

from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column, relationship

from reserve.db import Base, UTCDateTime, utcnow


class Role(enum.StrEnum):
    ADMIN = "admin"
    DISPATCHER = "dispatcher"
    APPROVER = "approver"
    KEEPER = "keeper"
    ENTERPRISE = "enterprise"
    VIEWER = "viewer"

    @property
    def label(self):
        return ROLE_LABELS[self]


ROLE_LABELS = {
    Role.ADMIN: _l("Administrator"),
    Role.DISPATCHER: _l("Dispatcher"),
    Role.APPROVER: _l("Approver"),
    Role.KEEPER: _l("Keeper"),
    Role.ENTERPRISE: _l("Enterprise"),
    Role.VIEWER: _l("Viewer"),
}

user_warehouses = sa.Table(
    "user_warehouses",
    Base.metadata,
    sa.Column("user_id", sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("warehouse_id", sa.ForeignKey("warehouses.id", ondelete="CASCADE"), primary_key=True),
    sa.Index("ix_user_warehouses_warehouse_id", "warehouse_id"),
)


class UserRole(Base):
    __tablename__ = "user_roles"

    user_id: Mapped[int] = mapped_column(
        sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    role: Mapped[str] = mapped_column(sa.String(20), primary_key=True)


class User(UserMixin, Base):
    """用户: a person who signs in; may hold several roles."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(sa.String(40), unique=True)
    full_name: Mapped[str] = mapped_column(sa.String(60))
    phone: Mapped[str | None] = mapped_column(sa.String(30))
    password_hash: Mapped[str] = mapped_column(sa.String(255))
    is_enabled: Mapped[bool] = mapped_column(default=True)
    must_change_password: Mapped[bool] = mapped_column(default=False)
    enterprise_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("enterprises.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Kept in the session cookie at sign-in and checked on every request: bumping it (sign-out,
    # sign-out everywhere, password change or reset, role or scope change, deactivation) ends
    # every session signed in before.
    session_version: Mapped[int] = mapped_column(default=0, server_default=sa.text("0"))

    role_rows: Mapped[list[UserRole]] = relationship(cascade="all, delete-orphan", lazy="selectin")
    warehouses: Mapped[list[Warehouse]] = relationship(  # noqa: F821
        secondary=user_warehouses, lazy="selectin", order_by="Warehouse.code"
    )
    enterprise: Mapped[Enterprise | None] = relationship(lazy="joined")  # noqa: F821

    @property
    def roles(self) -> frozenset[Role]:
        return frozenset(Role(r.role) for r in self.role_rows)

    @property
    def is_active(self) -> bool:  # Flask-Login: a disabled account cannot stay signed in
        return self.is_enabled

    def has_role(self, *roles: Role) -> bool:
        return bool(self.roles.intersection(roles))

    @property
    def warehouse_ids(self) -> frozenset[int]:
        return frozenset(w.id for w in self.warehouses)


class LoginThrottle(Base):
    """登录限制: failed sign-ins of one name from one client address (``kind`` "name"), or of
    every name from one address (``kind`` "address", ``username`` ""). Kept whether or not the
    name exists (no account probing). One row is one burst of failures: its first failure and
    its summary go to the audit log, the failures in between only count here."""

    __tablename__ = "login_throttles"
    __table_args__ = (
        sa.CheckConstraint("kind IN ('name', 'address')", name="kind"),
        sa.CheckConstraint(
            "failed_count >= 0 AND checked_count >= 0 AND strikes >= 0", name="counts"
        ),
        sa.Index("ix_login_throttles_last_failed_at", "last_failed_at"),
    )

    kind: Mapped[str] = mapped_column(sa.String(10), primary_key=True)
    username: Mapped[str] = mapped_column(sa.String(80), primary_key=True)
    ip: Mapped[str] = mapped_column(sa.String(45), primary_key=True)
    failed_count: Mapped[int] = mapped_column(default=0)  # every refused attempt of the burst
    checked_count: Mapped[int] = mapped_column(default=0)  # ... whose password was checked
    strikes: Mapped[int] = mapped_column(default=0)  # locks laid in this burst (the delay grows)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    first_failed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_failed_at: Mapped[datetime] = mapped_column(UTCDateTime)


class LoginAddress(Base):
    """A client address this user has signed in from successfully: a known-good address, from
    which the right password still works while a stranger's failures lock the name."""

    __tablename__ = "login_addresses"

    user_id: Mapped[int] = mapped_column(
        sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    ip: Mapped[str] = mapped_column(sa.String(45), primary_key=True)
    first_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ApiToken(Base):
    """API 令牌: shown once at creation, stored as a SHA-256 hash, revocable."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(sa.String(60))
    prefix: Mapped[str] = mapped_column(sa.String(12))
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship(lazy="joined")

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None
