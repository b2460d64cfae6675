"""调拨单流程: which action takes an order from which states to which, and who may take it.

One table, read by the services (``check_action`` before they write, then
``reserve.documents.transition`` to claim the order with one conditional UPDATE), by the pages
(which buttons to draw) and by the tests (every action × every role × every state). Scope — which
orders a user may touch at all — is the services' other check (``reserve.orders.queries``).

- 先调后补: ``approve_emergency`` lets the dispatcher approve at once; the order carries
  ``is_emergency`` and waits for an approver's ``sign_off`` (补批), which changes no status.
- ``ship`` moves to *shipped* only when every source has shipped; until then a partial shipment
  keeps the order in *picking* (``ship`` may start from *approved* too: a keeper who ships what
  is on the pallet has picked it). Likewise ``receive`` moves to *received* only when everything
  shipped has been signed for.
- ``cancel`` releases everything reserved and cancels the call-ups: only before anything ships
  (from *picking* the service checks that no source has shipped).
- ``close`` ends an order that has been received, or shipped with the shortfall accepted; what is
  still reserved is released."""

from __future__ import annotations

from dataclasses import dataclass

from reserve.auth.permissions import (
    APPROVERS,
    KEEPERS,
    ORDER_CANCELLERS,
    ORDER_RECEIVERS,
    ORDER_WRITERS,
)
from reserve.orders.models import OrderStatus as S


@dataclass(frozen=True)
class Transition:
    action: str
    sources: frozenset[str]
    target: str | None  # None: the status does not change (sign-off), or the service decides
    roles: frozenset[str]


def _t(action: str, sources: tuple[S, ...], target: S | None, roles: frozenset) -> Transition:
    return Transition(
        action,
        frozenset(s.value for s in sources),
        target.value if target else None,
        frozenset(r.value for r in roles),
    )


_BEFORE_SHIPMENT = (S.DRAFT, S.SUBMITTED, S.REJECTED, S.APPROVED, S.PICKING)

TRANSITIONS: dict[str, Transition] = {
    t.action: t
    for t in (
        _t("edit", (S.DRAFT, S.REJECTED), None, ORDER_WRITERS),
        _t("submit", (S.DRAFT, S.REJECTED), S.SUBMITTED, ORDER_WRITERS),
        _t("reject", (S.SUBMITTED,), S.REJECTED, APPROVERS),
        _t("approve", (S.SUBMITTED,), S.APPROVED, APPROVERS),
        _t(
            "approve_emergency",
            (S.DRAFT, S.SUBMITTED, S.REJECTED),
            S.APPROVED,
            ORDER_WRITERS,
        ),
        _t(
            "sign_off",
            (S.APPROVED, S.PICKING, S.SHIPPED, S.RECEIVED, S.CLOSED),
            None,
            APPROVERS,
        ),
        _t("pick", (S.APPROVED, S.PICKING), S.PICKING, KEEPERS),
        _t("ship", (S.APPROVED, S.PICKING), None, KEEPERS),
        _t(
            "receive",
            (S.PICKING, S.SHIPPED),
            None,
            ORDER_RECEIVERS,
        ),
        _t("close", (S.SHIPPED, S.RECEIVED), S.CLOSED, ORDER_WRITERS),
        _t(
            "cancel",
            _BEFORE_SHIPMENT,
            S.CANCELLED,
            ORDER_CANCELLERS,
        ),
        _t("return", (S.RECEIVED, S.CLOSED), None, KEEPERS),
    )
}


def allowed(action: str, status: str, roles: frozenset[str] | set[str]) -> bool:
    """May a user with these roles take this action on an order in this status?"""
    t = TRANSITIONS[action]
    return status in t.sources and not t.roles.isdisjoint(roles)


def actions_for(status: str, roles: frozenset[str] | set[str]) -> list[str]:
    """The actions a user with these roles may take on an order in this status (the buttons)."""
    return [
        a for a, t in TRANSITIONS.items() if status in t.sources and not t.roles.isdisjoint(roles)
    ]
