"""The actor: who is doing something, handed to every service (services never read
``current_user`` or ``request``)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from flask_babel import lazy_gettext as _l

from reserve.auth.models import Role, User
from reserve.errors import Forbidden


@dataclass(frozen=True)
class Actor:
    user_id: int | None
    username: str
    roles: frozenset[Role] = field(default_factory=frozenset)
    warehouse_ids: frozenset[int] = field(default_factory=frozenset)
    enterprise_id: int | None = None
    ip: str | None = None

    @classmethod
    def for_user(cls, user: User, ip: str | None = None) -> Actor:
        return cls(
            user_id=user.id,
            username=user.username,
            roles=user.roles,
            warehouse_ids=user.warehouse_ids,
            enterprise_id=user.enterprise_id,
            ip=ip,
        )

    @classmethod
    def system(cls, name: str = "system") -> Actor:
        """The CLI and the demo loader act as the system, with every role."""
        return cls(user_id=None, username=name, roles=frozenset(Role), ip=None)

    def has_role(self, *roles: Role) -> bool:
        return bool(self.roles.intersection(roles))

    @property
    def sees_all_warehouses(self) -> bool:
        """Everyone but a keeper-only user (and enterprise users) sees every warehouse."""
        return self.has_role(Role.ADMIN, Role.DISPATCHER, Role.APPROVER, Role.VIEWER)

    def visible_warehouse_ids(self) -> frozenset[int] | None:
        """None means all warehouses; otherwise the kept ones."""
        return None if self.sees_all_warehouses else self.warehouse_ids

    def require_role(self, *roles: Role) -> None:
        if not self.has_role(*roles):
            raise Forbidden()

    def require_keeps(self, warehouse_ids: Iterable[int]) -> None:
        """A keeper may only act on the warehouses they keep; admins act anywhere."""
        if self.has_role(Role.ADMIN):
            return
        missing = set(warehouse_ids) - self.warehouse_ids
        if missing:
            raise Forbidden(_l("You do not keep this warehouse."))
