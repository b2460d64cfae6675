"""代储企业 and 代储协议: the custodian enterprises of the virtual reserve, their contacts, and
the agreements under which they hold stock (实物代储) or keep capacity (产能储备) for the bureau.

Shaped for what comes later (stock reports, verifications, call-ups and replenishment):
- an agreement line is the unit everything refers to (``agreement_lines.id``): a report or a
  verification counts one line, a call-up reserves on one line;
- ``AgreementLine.called_qty`` is what outstanding call-ups hold on the line. A call-up
  decrements what is left with ONE conditional statement
  (``UPDATE agreement_lines SET called_qty = called_qty + :n WHERE id = :id AND
  committed_qty - called_qty >= :n``), and the CHECK ``called_qty <= committed_qty`` holds it
  in the database too. Nothing here writes it: it stays 0 until the call-up service exists.
- Agreement quantities are never stock: nothing here touches the stock ledger."""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Mapped, mapped_column, relationship

from reserve.attached import AttachedFile
from reserve.db import Base, UTCDateTime, local_today, utcnow
from reserve.warehouses.models import Region


class EnterpriseType(enum.StrEnum):
    """企业类型."""

    PRODUCTION = "production"
    TRADE = "trade"
    LOGISTICS = "logistics"
    OTHER = "other"

    @property
    def label(self):
        return {
            "production": _l("Production"),
            "trade": _l("Trade"),
            "logistics": _l("Logistics"),
            "other": _l("Other"),
        }[self.value]


class EnterpriseStatus(enum.StrEnum):
    ACTIVE = "active"
    SUSPENDED = "suspended"

    @property
    def label(self):
        return {"active": _l("Active"), "suspended": _l("Suspended")}[self.value]


class Enterprise(Base):
    """代储企业: holds reserve stock or capacity for the bureau under agreement."""

    __tablename__ = "enterprises"
    __table_args__ = (
        sa.CheckConstraint(
            "enterprise_type IN ('production', 'trade', 'logistics', 'other')",
            name="type_known",
        ),
        sa.CheckConstraint("status IN ('active', 'suspended')", name="status_known"),
        sa.CheckConstraint("lat IS NULL OR (lat >= -90 AND lat <= 90)", name="lat_range"),
        sa.CheckConstraint("lng IS NULL OR (lng >= -180 AND lng <= 180)", name="lng_range"),
        sa.CheckConstraint("(lat IS NULL) = (lng IS NULL)", name="lat_lng_together"),
        sa.Index("ix_enterprises_name_id", "name", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(100), unique=True)
    uscc: Mapped[str] = mapped_column(sa.String(18), unique=True)
    region_id: Mapped[int | None] = mapped_column(sa.ForeignKey("regions.id"), index=True)
    address: Mapped[str | None] = mapped_column(sa.String(200))
    legal_rep: Mapped[str | None] = mapped_column(sa.String(40))
    kind: Mapped[str | None] = mapped_column(sa.String(40))
    enterprise_type: Mapped[str] = mapped_column(
        sa.String(12), default=EnterpriseType.OTHER.value, server_default="other"
    )
    status: Mapped[str] = mapped_column(
        sa.String(12), default=EnterpriseStatus.ACTIVE.value, server_default="active", index=True
    )
    lat: Mapped[Decimal | None] = mapped_column(sa.Numeric(9, 6))
    lng: Mapped[Decimal | None] = mapped_column(sa.Numeric(9, 6))
    pinyin_initials: Mapped[str] = mapped_column(
        sa.String(60), default="", server_default="", index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    region: Mapped[Region | None] = relationship(lazy="joined")
    contacts: Mapped[list[EnterpriseContact]] = relationship(
        back_populates="enterprise",
        cascade="all, delete-orphan",
        order_by="EnterpriseContact.position",
    )

    def __str__(self) -> str:
        return self.name

    @property
    def is_active(self) -> bool:
        return self.status == EnterpriseStatus.ACTIVE.value

    @property
    def type_label(self):
        return EnterpriseType(self.enterprise_type).label

    @property
    def status_label(self):
        return EnterpriseStatus(self.status).label


class EnterpriseContact(Base):
    """联系人: a person at the enterprise and their phone; at most one is on 24-hour duty
    (值班联系人), which a partial unique index keeps so in the database too."""

    __tablename__ = "enterprise_contacts"
    __table_args__ = (
        sa.UniqueConstraint("enterprise_id", "position"),
        sa.Index(
            "uq_enterprise_contacts_one_duty",
            "enterprise_id",
            unique=True,
            sqlite_where=sa.text("is_duty"),
            postgresql_where=sa.text("is_duty"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(
        sa.ForeignKey("enterprises.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(sa.SmallInteger)
    name: Mapped[str] = mapped_column(sa.String(40))
    title: Mapped[str | None] = mapped_column(sa.String(40))
    phone: Mapped[str] = mapped_column(sa.String(30))
    is_duty: Mapped[bool] = mapped_column(default=False)

    enterprise: Mapped[Enterprise] = relationship(back_populates="contacts")


class AgreementStatus(enum.StrEnum):
    """协议状态. ``expired`` is never stored: an active agreement past its end date reads as
    expired (computed at read time, no cron)."""

    DRAFT = "draft"
    ACTIVE = "active"
    EXPIRED = "expired"
    TERMINATED = "terminated"

    @property
    def label(self):
        return {
            "draft": _l("Draft"),
            "active": _l("In force"),
            "expired": _l("Expired"),
            "terminated": _l("Terminated"),
        }[self.value]


STORED_STATUSES = ("draft", "active", "terminated")


def effective_status(status: str, valid_to: date, today: date | None = None) -> str:
    """The status a reader sees: an active agreement whose end date has passed is expired."""
    if status == AgreementStatus.ACTIVE.value and valid_to < (today or local_today()):
        return AgreementStatus.EXPIRED.value
    return status


agreement_regions = sa.Table(
    "agreement_regions",
    Base.metadata,
    sa.Column(
        "agreement_id",
        sa.ForeignKey("agreements.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("region_id", sa.ForeignKey("regions.id"), primary_key=True, index=True),
)


class Agreement(Base):
    """代储协议: what one enterprise holds or can produce for the bureau, from when to when,
    how fast it delivers and where, and what it is paid."""

    __tablename__ = "agreements"
    __table_args__ = (
        sa.CheckConstraint("valid_to >= valid_from", name="valid_range"),
        sa.CheckConstraint("response_hours > 0", name="response_positive"),
        sa.CheckConstraint("storage_fee IS NULL OR storage_fee >= 0", name="fee_not_negative"),
        sa.CheckConstraint("status IN ('draft', 'active', 'terminated')", name="status_known"),
        sa.CheckConstraint(
            "status <> 'terminated' OR termination_reason IS NOT NULL", name="terminated_why"
        ),
        sa.Index("ix_agreements_enterprise_status", "enterprise_id", "status", "valid_to"),
        sa.Index("ix_agreements_valid_to_id", "valid_to", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    no: Mapped[str] = mapped_column(sa.String(40), unique=True)
    enterprise_id: Mapped[int] = mapped_column(sa.ForeignKey("enterprises.id"))
    signed_on: Mapped[date]
    valid_from: Mapped[date]
    valid_to: Mapped[date]
    response_hours: Mapped[int] = mapped_column(sa.Integer)
    rotation_duty: Mapped[str | None] = mapped_column(sa.String(500))
    storage_fee: Mapped[Decimal | None] = mapped_column(sa.Numeric(12, 2))
    compensation_note: Mapped[str | None] = mapped_column(sa.String(500))
    note: Mapped[str | None] = mapped_column(sa.String(500))
    status: Mapped[str] = mapped_column(sa.String(12), default=AgreementStatus.DRAFT.value)
    termination_reason: Mapped[str | None] = mapped_column(sa.String(200))
    renewed_from_id: Mapped[int | None] = mapped_column(sa.ForeignKey("agreements.id"))
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    created_by_name: Mapped[str] = mapped_column(sa.String(40))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    activated_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    activated_by_name: Mapped[str | None] = mapped_column(sa.String(40))
    activated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    terminated_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    terminated_by_name: Mapped[str | None] = mapped_column(sa.String(40))
    terminated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    enterprise: Mapped[Enterprise] = relationship(lazy="joined")
    lines: Mapped[list[AgreementLine]] = relationship(
        back_populates="agreement",
        cascade="all, delete-orphan",
        order_by="AgreementLine.line_no",
    )
    regions: Mapped[list[Region]] = relationship(secondary=agreement_regions, order_by=Region.code)

    # What the loser of a race is told (reserve.documents.transition).
    state_notes = {
        AgreementStatus.ACTIVE.value: (
            "activated",
            lambda no, name: _l(
                "Agreement %(no)s is already in force (activated by %(name)s).", no=no, name=name
            ),
        ),
        AgreementStatus.TERMINATED.value: (
            "terminated",
            lambda no, name: _l("Agreement %(no)s was terminated (by %(name)s).", no=no, name=name),
        ),
    }

    def __str__(self) -> str:
        return self.no

    @property
    def region_ids(self) -> list[int]:
        return [region.id for region in self.regions]

    @property
    def shown_status(self) -> str:
        return effective_status(self.status, self.valid_to)

    @property
    def status_label(self):
        return AgreementStatus(self.shown_status).label

    @property
    def is_draft(self) -> bool:
        return self.status == AgreementStatus.DRAFT.value


class LineKind(enum.StrEnum):
    """实物代储 (stock held for the bureau) or 产能储备 (capacity to produce on call)."""

    STOCK = "stock"
    CAPACITY = "capacity"

    @property
    def label(self):
        return {"stock": _l("Stock held"), "capacity": _l("Production capacity")}[self.value]


class AgreementLine(Base):
    """协议明细: one material of an agreement, of one kind.

    - stock (实物代储): ``committed_qty`` is 协议储备数量, with the agreed unit price;
    - capacity (产能储备): ``daily_qty`` a day from ``lead_hours`` after the call, up to
      ``committed_qty`` in all (the maximum total).
    ``called_qty`` is what call-ups hold on the line (see the module's docstring).

    What the line can still give (可调用数量) is written once, here, for the call-up's
    conditional UPDATE, the availability view and the API alike (``callable_qty`` and
    ``callable_expr``)::

        callable = max(0, min(committed_qty, capped_qty ?? committed_qty) - called_qty)

    - ``called_qty``: outstanding call-ups, from the call until the enterprise reports the
      goods replenished (补储) or the call-up is cancelled;
    - ``shipped_qty``: the part of ``called_qty`` already shipped (gone from the enterprise's
      shelves, not yet replenished);
    - ``reported_qty`` / ``reported_at``: the newest stock report (库存申报) of the line, as
      reported; ``verified_qty`` / ``verified_on`` / ``verification_passed``: the newest
      verification (核查), as counted;
    - ``capped_qty``: the cap the newest evidence puts on the line, in the same terms as
      ``committed_qty`` (what was held *plus* ``shipped_qty`` at that moment, because shipped
      goods are already counted by ``called_qty``). A report below commitment or a failed
      verification sets it; a report that meets the commitment clears it unless the newest
      verification failed (only a passed verification lifts that one). NULL: no cap.
    Only stock lines carry reports, verifications and a cap; a capacity line is a promise to
    produce and is capped by ``committed_qty`` (its maximum total) alone."""

    __tablename__ = "agreement_lines"
    __table_args__ = (
        sa.UniqueConstraint("agreement_id", "line_no"),
        sa.UniqueConstraint("agreement_id", "material_id", "kind"),
        sa.CheckConstraint("kind IN ('stock', 'capacity')", name="kind_known"),
        sa.CheckConstraint("committed_qty > 0", name="committed_positive"),
        sa.CheckConstraint(
            "called_qty >= 0 AND called_qty <= committed_qty", name="called_within_committed"
        ),
        sa.CheckConstraint(
            "shipped_qty >= 0 AND shipped_qty <= called_qty", name="shipped_within_called"
        ),
        sa.CheckConstraint("capped_qty IS NULL OR capped_qty >= 0", name="cap_not_negative"),
        sa.CheckConstraint(
            "reported_qty IS NULL OR reported_qty >= 0", name="reported_not_negative"
        ),
        sa.CheckConstraint(
            "verified_qty IS NULL OR verified_qty >= 0", name="verified_not_negative"
        ),
        sa.CheckConstraint(
            "kind = 'stock' OR (capped_qty IS NULL AND reported_qty IS NULL"
            " AND verified_qty IS NULL)",
            name="evidence_on_stock_lines",
        ),
        sa.CheckConstraint("unit_price IS NULL OR unit_price >= 0", name="price_not_negative"),
        sa.CheckConstraint(
            "(kind = 'stock' AND daily_qty IS NULL AND lead_hours IS NULL)"
            " OR (kind = 'capacity' AND daily_qty IS NOT NULL AND lead_hours IS NOT NULL"
            " AND daily_qty > 0 AND daily_qty <= committed_qty"
            " AND lead_hours >= 0)",
            name="fields_of_kind",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    agreement_id: Mapped[int] = mapped_column(
        sa.ForeignKey("agreements.id", ondelete="CASCADE"), index=True
    )
    line_no: Mapped[int] = mapped_column(sa.SmallInteger)
    material_id: Mapped[int] = mapped_column(sa.ForeignKey("materials.id"), index=True)
    kind: Mapped[str] = mapped_column(sa.String(10))
    committed_qty: Mapped[int] = mapped_column(sa.BigInteger)
    unit_price: Mapped[Decimal | None] = mapped_column(sa.Numeric(12, 2))
    daily_qty: Mapped[int | None] = mapped_column(sa.BigInteger)
    lead_hours: Mapped[int | None] = mapped_column(sa.Integer)
    called_qty: Mapped[int] = mapped_column(sa.BigInteger, default=0, server_default="0")
    shipped_qty: Mapped[int] = mapped_column(sa.BigInteger, default=0, server_default="0")
    capped_qty: Mapped[int | None] = mapped_column(sa.BigInteger)
    reported_qty: Mapped[int | None] = mapped_column(sa.BigInteger)
    reported_at: Mapped[datetime | None] = mapped_column(UTCDateTime(timezone=True))
    verified_qty: Mapped[int | None] = mapped_column(sa.BigInteger)
    verified_on: Mapped[date | None] = mapped_column(sa.Date)
    verification_passed: Mapped[bool | None] = mapped_column(sa.Boolean)

    agreement: Mapped[Agreement] = relationship(back_populates="lines")

    @property
    def kind_label(self):
        return LineKind(self.kind).label

    @property
    def callable_qty(self) -> int:
        """可调用数量 of a loaded line (the rule in the class docstring)."""
        return callable_qty(self.committed_qty, self.called_qty, self.capped_qty)

    @classmethod
    def callable_expr(cls) -> sa.ColumnElement[int]:
        """The same rule in SQL, for a conditional UPDATE or an aggregate; portable (no LEAST
        or GREATEST, which SQLite spells MIN and MAX)."""
        ceiling = sa.case(
            (
                sa.and_(cls.capped_qty.is_not(None), cls.capped_qty < cls.committed_qty),
                cls.capped_qty,
            ),
            else_=cls.committed_qty,
        )
        return sa.case((ceiling - cls.called_qty > 0, ceiling - cls.called_qty), else_=0)


def callable_qty(committed: int, called: int, capped: int | None) -> int:
    """可调用数量: ``max(0, min(committed, capped ?? committed) - called)``."""
    ceiling = committed if capped is None else min(committed, capped)
    return max(0, ceiling - called)


class AgreementAttachment(AttachedFile, Base):
    """协议附件: the signed scan (PDF or images) of an agreement, stored under the instance
    folder like a receipt's papers (``reserve.files``)."""

    __tablename__ = "agreement_attachments"
    storage_folder = "agreements"
    owner_key = "agreement_id"

    agreement_id: Mapped[int] = mapped_column(
        sa.ForeignKey("agreements.id", ondelete="CASCADE"), index=True
    )
