"""The actor: who is doing something, handed to every service (services never read
``current_user`` or ``request``)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, true

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

    # --- Scope: the one rule for "which warehouses may this actor see, and act in". ---
    # Every service and query asks these; nothing outside ``reserve.auth`` decides scope by
    # itself (a source scan in tests/auth/test_scope.py keeps it so).

    @property
    def is_admin(self) -> bool:
        return Role.ADMIN in self.roles

    @property
    def sees_all_warehouses(self) -> bool:
        """Everyone but a keeper-only user (and enterprise users) sees every warehouse."""
        return self.has_role(Role.ADMIN, Role.DISPATCHER, Role.APPROVER, Role.VIEWER)

    def visible_warehouse_ids(self) -> frozenset[int] | None:
        """None means all warehouses; otherwise the kept ones (empty for an enterprise user)."""
        if self.sees_all_warehouses:
            return None
        return self.warehouse_ids if Role.KEEPER in self.roles else frozenset()

    @property
    def sees_region_totals(self) -> bool:
        """Whether figures summed over a region's warehouses (a district's or the city's reserve
        standard) are for this actor: only one who sees every warehouse of it."""
        return self.sees_all_warehouses

    def may_see(self, warehouse_id: int | None) -> bool:
        visible = self.visible_warehouse_ids()
        return visible is None or warehouse_id in visible

    def writable_warehouse_ids(self) -> frozenset[int] | None:
        """Where this actor may write stock documents: None means every warehouse (an admin);
        a keeper writes in the warehouses they keep; nobody else writes anywhere. Warehouses
        carried by a user without the keeper role (a dispatcher, say) give no write scope."""
        if self.is_admin:
            return None
        if Role.KEEPER in self.roles:
            return self.warehouse_ids
        return frozenset()

    def may_write_somewhere(self) -> bool:
        """Whether any warehouse takes this actor's stock documents (the "new" buttons)."""
        writable = self.writable_warehouse_ids()
        return writable is None or bool(writable)

    def may_write(self, warehouse_id: int | None) -> bool:
        """仓库范围: admin anywhere; a keeper in the warehouses they keep."""
        writable = self.writable_warehouse_ids()
        return writable is None or warehouse_id in writable

    def require_write(self, *warehouse_ids: int | None) -> None:
        """Refuse (403) unless the actor may write in every one of these warehouses."""
        if not all(self.may_write(w) for w in warehouse_ids):
            raise Forbidden(_l("You do not keep this warehouse."))

    def require_see(self, *warehouse_ids: int | None) -> None:
        """Refuse (403) unless the actor sees every one of these warehouses."""
        if not all(self.may_see(w) for w in warehouse_ids):
            raise Forbidden(_l("You do not keep this warehouse."))

    def visible(self, column: ColumnElement[int]) -> ColumnElement[bool]:
        """A WHERE clause limiting ``column`` (a warehouse id) to what this actor sees."""
        ids = self.visible_warehouse_ids()
        return true() if ids is None else column.in_(sorted(ids) or [-1])

    def writable(self, column: ColumnElement[int]) -> ColumnElement[bool]:
        """A WHERE clause limiting ``column`` (a warehouse id) to where this actor writes."""
        ids = self.writable_warehouse_ids()
        return true() if ids is None else column.in_(sorted(ids) or [-1])

    # --- Enterprise scope (代储企业): the same pattern. An enterprise user sees only their own
    # enterprise; the office roles see every one; anyone else (a keeper-only user) none.

    @property
    def sees_all_enterprises(self) -> bool:
        return self.has_role(Role.ADMIN, Role.DISPATCHER, Role.APPROVER, Role.VIEWER)

    def visible_enterprise_ids(self) -> frozenset[int] | None:
        """None means every enterprise; otherwise the actor's own (or none)."""
        if self.sees_all_enterprises:
            return None
        if Role.ENTERPRISE in self.roles and self.enterprise_id is not None:
            return frozenset({self.enterprise_id})
        return frozenset()

    @property
    def may_see_some_enterprise(self) -> bool:
        """The office roles, and an enterprise user (even one not yet given its enterprise:
        it then sees none, and any id is "not found" to it); a keeper-only user is refused."""
        return self.sees_all_enterprises or Role.ENTERPRISE in self.roles

    def may_see_enterprise(self, enterprise_id: int | None) -> bool:
        visible = self.visible_enterprise_ids()
        return visible is None or enterprise_id in visible

    def require_see_enterprise(self, *enterprise_ids: int | None) -> None:
        if not all(self.may_see_enterprise(e) for e in enterprise_ids):
            raise Forbidden()

    def visible_enterprise(self, column: ColumnElement[int]) -> ColumnElement[bool]:
        """A WHERE clause limiting ``column`` (an enterprise id) to what this actor sees."""
        ids = self.visible_enterprise_ids()
        return true() if ids is None else column.in_(sorted(ids) or [-1])

    def require_role(self, *roles: Role) -> None:
        if not self.has_role(*roles):
            raise Forbidden()

    def require_keeps(self, warehouse_ids: Iterable[int]) -> None:
        """Deprecated spelling of :meth:`require_write` (kept until every caller has moved)."""
        self.require_write(*warehouse_ids)
