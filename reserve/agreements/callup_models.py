"""调用单 (call-ups): the bureau calls on an agreement line for a quantity; the enterprise ships
it and then owes its replenishment (补储) until it reports the goods back on its shelves.

A call-up holds its quantity on the line (``AgreementLine.called_qty``) from the call until it
is replenished or cancelled; what has been shipped is ``AgreementLine.shipped_qty`` meanwhile.
Every step moves those figures with ONE conditional UPDATE of the line, in the same transaction
as the call-up's own status change (``reserve.agreements.callups``). Agreement quantities never
enter the stock ledger: goods that arrive at a bureau warehouse come in through a receipt whose
source is 协议调用, linked here (``receipts.call_up_id``)."""

from __future__ import annotations

import enum
from datetime import date, datetime

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Mapped, mapped_column, relationship

from reserve.agreements.models import Agreement, AgreementLine, Enterprise
from reserve.db import Base, UTCDateTime, local_today, utcnow


class CallUpStatus(enum.StrEnum):
    """调用单状态: requested → shipped → replenished; requested → cancelled."""

    REQUESTED = "requested"
    SHIPPED = "shipped"
    REPLENISHED = "replenished"
    CANCELLED = "cancelled"

    @property
    def label(self):
        return {
            "requested": _l("Awaiting the enterprise"),
            "shipped": _l("Shipped, awaiting replenishment"),
            "replenished": _l("Replenished"),
            "cancelled": _l("Cancelled"),
        }[self.value]


class CallUp(Base):
    """调用单: one call on one agreement line (stock or capacity), its delivery and the
    replenishment duty it leaves."""

    __tablename__ = "call_ups"
    __table_args__ = (
        sa.CheckConstraint("qty > 0", name="qty_positive"),
        sa.CheckConstraint(
            "status IN ('requested', 'shipped', 'replenished', 'cancelled')", name="status_known"
        ),
        sa.CheckConstraint(
            "warehouse_id IS NOT NULL OR destination IS NOT NULL", name="deliver_somewhere"
        ),
        sa.CheckConstraint(
            "shipped_qty IS NULL OR (shipped_qty > 0 AND shipped_qty <= qty)",
            name="shipped_within_called",
        ),
        sa.CheckConstraint(
            "status NOT IN ('shipped', 'replenished') OR (shipped_qty IS NOT NULL"
            " AND vehicle_plate IS NOT NULL AND driver_name IS NOT NULL"
            " AND driver_phone IS NOT NULL AND shipped_at IS NOT NULL"
            " AND replenish_due_on IS NOT NULL)",
            name="shipped_facts",
        ),
        sa.CheckConstraint(
            "status <> 'replenished' OR (replenished_qty IS NOT NULL"
            " AND replenished_qty = shipped_qty AND replenished_on IS NOT NULL)",
            name="replenished_facts",
        ),
        sa.CheckConstraint(
            "status <> 'cancelled' OR cancel_reason IS NOT NULL", name="cancelled_why"
        ),
        sa.Index("ix_call_ups_requested_id", "requested_at", "id"),  # the list's order, by key
        # an enterprise's call-ups in the list's order (its portal, the enterprise filter)
        sa.Index("ix_call_ups_enterprise_requested", "enterprise_id", "requested_at", "id"),
        sa.Index("ix_call_ups_status_due", "status", "replenish_due_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    no: Mapped[str] = mapped_column(sa.String(20), unique=True)
    line_id: Mapped[int] = mapped_column(sa.ForeignKey("agreement_lines.id"), index=True)
    # the line's agreement and enterprise, kept on the call-up for the scope and the filters
    agreement_id: Mapped[int] = mapped_column(sa.ForeignKey("agreements.id"), index=True)
    enterprise_id: Mapped[int] = mapped_column(sa.ForeignKey("enterprises.id"))
    qty: Mapped[int] = mapped_column(sa.BigInteger)
    needed_by: Mapped[datetime] = mapped_column(UTCDateTime)
    respond_by: Mapped[datetime] = mapped_column(UTCDateTime)
    warehouse_id: Mapped[int | None] = mapped_column(sa.ForeignKey("warehouses.id"), index=True)
    destination: Mapped[str | None] = mapped_column(sa.String(200))
    purpose: Mapped[str | None] = mapped_column(sa.String(200))
    note: Mapped[str | None] = mapped_column(sa.String(500))
    # 来源: what the call-up was made for (an allocation order's number, a drill), free text
    source: Mapped[str | None] = mapped_column(sa.String(60))
    status: Mapped[str] = mapped_column(sa.String(12), default=CallUpStatus.REQUESTED.value)
    requested_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    requested_by_name: Mapped[str] = mapped_column(sa.String(40))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # 发运确认 (the enterprise)
    shipped_qty: Mapped[int | None] = mapped_column(sa.BigInteger)
    vehicle_plate: Mapped[str | None] = mapped_column(sa.String(10))
    driver_name: Mapped[str | None] = mapped_column(sa.String(40))
    driver_phone: Mapped[str | None] = mapped_column(sa.String(30))
    shipped_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    replenish_due_on: Mapped[date | None] = mapped_column(sa.Date)
    confirmed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    confirmed_by_name: Mapped[str | None] = mapped_column(sa.String(40))
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # 补储 (the enterprise reports the goods back on its shelves)
    replenished_qty: Mapped[int | None] = mapped_column(sa.BigInteger)
    replenished_on: Mapped[date | None] = mapped_column(sa.Date)
    replenish_note: Mapped[str | None] = mapped_column(sa.String(200))
    replenished_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    replenished_by_name: Mapped[str | None] = mapped_column(sa.String(40))
    replenished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # 撤销 (the bureau, before shipment)
    cancel_reason: Mapped[str | None] = mapped_column(sa.String(200))
    cancelled_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    cancelled_by_name: Mapped[str | None] = mapped_column(sa.String(40))
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    line: Mapped[AgreementLine] = relationship()
    agreement: Mapped[Agreement] = relationship()
    enterprise: Mapped[Enterprise] = relationship()

    # What the loser of a race is told (reserve.documents.transition).
    state_notes = {
        CallUpStatus.SHIPPED.value: (
            "confirmed",
            lambda no, name: _l(
                "Call-up %(no)s has already been confirmed as shipped (by %(name)s).",
                no=no,
                name=name,
            ),
        ),
        CallUpStatus.REPLENISHED.value: (
            "replenished",
            lambda no, name: _l(
                "Call-up %(no)s has already been reported replenished (by %(name)s).",
                no=no,
                name=name,
            ),
        ),
        CallUpStatus.CANCELLED.value: (
            "cancelled",
            lambda no, name: _l("Call-up %(no)s was cancelled (by %(name)s).", no=no, name=name),
        ),
    }

    def __str__(self) -> str:
        return self.no

    @property
    def status_label(self):
        return CallUpStatus(self.status).label

    @property
    def is_overdue(self) -> bool:
        """补储逾期: shipped, not replenished, and the due date has passed."""
        return (
            self.status == CallUpStatus.SHIPPED.value
            and self.replenish_due_on is not None
            and self.replenish_due_on < local_today()
        )
