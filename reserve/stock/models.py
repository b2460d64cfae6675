"""批次, 单品, 库存余额, 库存流水 and 预留: the stock ledger's tables.

Only ``reserve.stock.ledger`` writes ``stock_balances``, ``stock_movements``,
``stock_reservations`` and the status and place of ``serial_items``. The database guards it too:
movements are append-only (a trigger), reversed at most once (a unique index), and the CHECKs
below hold whatever writes."""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Mapped, mapped_column, relationship

from reserve.catalog.models import Material
from reserve.db import Base, Code, UTCDateTime, utcnow
from reserve.warehouses.models import Location


class BatchSource(enum.StrEnum):
    PURCHASE = "purchase"
    DONATION = "donation"
    TRANSFER_IN = "transfer_in"
    HIGHER_ALLOCATION = "higher_allocation"
    RETURN = "return"
    AGREEMENT_CALL_UP = "agreement_call_up"  # 协议调用: goods of a call-up (reserve.agreements)

    @property
    def label(self):
        return {
            "purchase": _l("Purchase"),
            "donation": _l("Donation"),
            "transfer_in": _l("Transfer in"),
            "higher_allocation": _l("Allocated from above"),
            "return": _l("Return"),
            "agreement_call_up": _l("Agreement call-up"),
        }[self.value]


class Batch(Base):
    """批次: one lot of a material, with its dates and where it came from."""

    __tablename__ = "batches"
    __table_args__ = (
        sa.UniqueConstraint("material_id", "batch_no"),
        # a batch number typed or scanned is a prefix search: LIKE 'X%' needs text_pattern_ops
        # on PostgreSQL (whatever the collation); SQLite's range form uses the plain index
        sa.Index(
            "ix_batches_batch_no", "batch_no", postgresql_ops={"batch_no": "text_pattern_ops"}
        ),
        # the stock list and pivot read a page's batches by material, expiry in the index
        sa.Index("ix_batches_material_expiry", "material_id", "id", "expiry_date"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    material_id: Mapped[int] = mapped_column(sa.ForeignKey("materials.id"))
    batch_no: Mapped[str] = mapped_column(Code(40))
    production_date: Mapped[date | None]
    expiry_date: Mapped[date | None] = mapped_column(index=True)
    source: Mapped[str] = mapped_column(sa.String(20))
    supplier: Mapped[str | None] = mapped_column(sa.String(100))
    funding_source: Mapped[str | None] = mapped_column(sa.String(60))
    unit_cost: Mapped[Decimal | None] = mapped_column(sa.Numeric(12, 2))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    material: Mapped[Material] = relationship(lazy="joined")


class ItemStatus(enum.StrEnum):
    IN_STOCK = "in_stock"
    ISSUED = "issued"
    IN_USE = "in_use"
    REPAIR = "repair"
    SCRAPPED = "scrapped"
    LOST = "lost"  # not found at a stocktake (盘亏): written off by its approval

    @property
    def label(self):
        return {
            "in_stock": _l("In stock"),
            "issued": _l("Issued"),
            "in_use": _l("In use"),
            "repair": _l("Under repair"),
            "scrapped": _l("Scrapped"),
            "lost": _l("Lost at a stocktake"),
        }[self.value]


class SerialItem(Base):
    """单品: one numbered piece of equipment (a generator, a pump)."""

    __tablename__ = "serial_items"
    __table_args__ = (
        sa.UniqueConstraint("material_id", "serial_no"),
        sa.Index(
            "ix_serial_items_serial_no",
            "serial_no",
            postgresql_ops={"serial_no": "text_pattern_ops"},
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    material_id: Mapped[int] = mapped_column(sa.ForeignKey("materials.id"))
    batch_id: Mapped[int] = mapped_column(sa.ForeignKey("batches.id"), index=True)
    serial_no: Mapped[str] = mapped_column(Code(60))
    status: Mapped[str] = mapped_column(sa.String(12), default=ItemStatus.IN_STOCK.value)
    location_id: Mapped[int | None] = mapped_column(sa.ForeignKey("locations.id"), index=True)
    last_maintained_on: Mapped[date | None]
    next_maintenance_on: Mapped[date | None] = mapped_column(index=True)

    material: Mapped[Material] = relationship(lazy="joined")
    batch: Mapped[Batch] = relationship()
    location: Mapped[Location | None] = relationship()


class StockBalance(Base):
    """库存余额: quantity and reserved quantity of one batch at one location — a cache of the
    movements, kept in the same transaction and rebuilt by ``flask stock verify``."""

    __tablename__ = "stock_balances"
    __table_args__ = (
        sa.UniqueConstraint("location_id", "batch_id"),
        sa.CheckConstraint("qty >= 0", name="qty_not_negative"),
        sa.CheckConstraint("reserved >= 0 AND reserved <= qty", name="reserved_within_qty"),
        sa.Index("ix_stock_balances_material_warehouse", "material_id", "warehouse_id"),
        sa.Index("ix_stock_balances_warehouse_material", "warehouse_id", "material_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    location_id: Mapped[int] = mapped_column(sa.ForeignKey("locations.id"))
    batch_id: Mapped[int] = mapped_column(sa.ForeignKey("batches.id"), index=True)
    material_id: Mapped[int] = mapped_column(sa.ForeignKey("materials.id"))
    warehouse_id: Mapped[int] = mapped_column(sa.ForeignKey("warehouses.id"))
    qty: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    reserved: Mapped[int] = mapped_column(sa.BigInteger, default=0)


class MovementKind(enum.StrEnum):
    RECEIPT = "receipt"
    ISSUE = "issue"
    TRANSFER_OUT = "transfer_out"
    TRANSFER_IN = "transfer_in"
    MOVE_OUT = "move_out"
    MOVE_IN = "move_in"
    GAIN = "gain"
    LOSS = "loss"
    ROTATE_OUT = "rotate_out"
    SCRAP = "scrap"
    REVERSAL = "reversal"

    @property
    def label(self):
        return MOVEMENT_LABELS[self]


MOVEMENT_LABELS = {
    MovementKind.RECEIPT: _l("Received"),
    MovementKind.ISSUE: _l("Issue"),
    MovementKind.TRANSFER_OUT: _l("Transfer out"),
    MovementKind.TRANSFER_IN: _l("Transfer in"),
    MovementKind.MOVE_OUT: _l("Move out"),
    MovementKind.MOVE_IN: _l("Move in"),
    MovementKind.GAIN: _l("Count surplus"),
    MovementKind.LOSS: _l("Count shortage"),
    MovementKind.ROTATE_OUT: _l("Rotated out"),
    MovementKind.SCRAP: _l("Scrapped"),
    MovementKind.REVERSAL: _l("Reversal"),
}


class StockMovement(Base):
    """库存流水: one immutable change of quantity. The id order is the posting order."""

    __tablename__ = "stock_movements"
    __table_args__ = (
        # qty in the index: the stock card's running balance sums without reading the table
        sa.Index("ix_stock_movements_material_id", "material_id", "id", "qty"),
        sa.Index(
            "ix_stock_movements_warehouse_material", "warehouse_id", "material_id", "id", "qty"
        ),
        sa.Index("ix_stock_movements_balance", "location_id", "batch_id", "id"),
        sa.Index("ix_stock_movements_document", "document_type", "document_id"),
        # verify --since: what was posted shortly before the last clean run began
        sa.Index("ix_stock_movements_posted_at", "posted_at"),
        # the stock card's date range is a range of document dates (one time axis, README)
        sa.Index("ix_stock_movements_material_date", "material_id", "document_date", "id", "qty"),
        sa.Index(
            "ix_stock_movements_warehouse_material_date",
            "warehouse_id",
            "material_id",
            "document_date",
            "id",
            "qty",
        ),
        # a movement is reversed at most once, even by two concurrent reversals
        sa.Index("uq_stock_movements_reverses_id", "reverses_id", unique=True),
        sa.CheckConstraint("qty <> 0", name="qty_not_zero"),
    )

    id: Mapped[int] = mapped_column(
        sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True
    )
    posted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    document_date: Mapped[date]
    kind: Mapped[str] = mapped_column(sa.String(16))
    material_id: Mapped[int] = mapped_column(sa.ForeignKey("materials.id"))
    batch_id: Mapped[int] = mapped_column(sa.ForeignKey("batches.id"), index=True)
    location_id: Mapped[int] = mapped_column(sa.ForeignKey("locations.id"))
    warehouse_id: Mapped[int] = mapped_column(sa.ForeignKey("warehouses.id"))
    qty: Mapped[int] = mapped_column(sa.BigInteger)
    balance_after: Mapped[int] = mapped_column(sa.BigInteger)
    document_type: Mapped[str] = mapped_column(sa.String(20))
    document_id: Mapped[int | None]
    document_no: Mapped[str | None] = mapped_column(sa.String(40))
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    username: Mapped[str] = mapped_column(sa.String(40))
    note: Mapped[str | None] = mapped_column(sa.String(200))
    reverses_id: Mapped[int | None] = mapped_column(sa.ForeignKey("stock_movements.id"))


# Append-only in the database, as audit_entries: the same trigger the migration creates, for a
# schema made by ``create_all`` (tests while models are in flux).
_MOVEMENTS_APPEND_ONLY = "stock movements are append-only"
for _event in ("UPDATE", "DELETE"):
    sa.event.listen(
        StockMovement.__table__,
        "after_create",
        sa.DDL(
            f"CREATE TRIGGER stock_movements_no_{_event.lower()} BEFORE {_event} ON "
            f"stock_movements BEGIN SELECT RAISE(ABORT, '{_MOVEMENTS_APPEND_ONLY}'); END"
        ).execute_if(dialect="sqlite"),
    )
sa.event.listen(
    StockMovement.__table__,
    "after_create",
    sa.DDL(
        "CREATE FUNCTION stock_movements_append_only() RETURNS trigger LANGUAGE plpgsql AS "
        f"$$ BEGIN RAISE EXCEPTION '{_MOVEMENTS_APPEND_ONLY}'; END $$"
    ).execute_if(dialect="postgresql"),
)
sa.event.listen(
    StockMovement.__table__,
    "after_create",
    sa.DDL(
        "CREATE TRIGGER stock_movements_append_only BEFORE UPDATE OR DELETE ON stock_movements "
        "FOR EACH ROW EXECUTE FUNCTION stock_movements_append_only()"
    ).execute_if(dialect="postgresql"),
)
sa.event.listen(
    StockMovement.__table__,
    "before_drop",
    sa.DDL("DROP FUNCTION IF EXISTS stock_movements_append_only() CASCADE").execute_if(
        dialect="postgresql"
    ),
)


class ReservationStatus(enum.StrEnum):
    OPEN = "open"
    CONSUMED = "consumed"  # closed by shipping what was reserved
    RELEASED = "released"  # closed by giving (the rest of) it back

    @property
    def label(self):
        return {
            "open": _l("Open"),
            "consumed": _l("Consumed"),
            "released": _l("Released"),
        }[self.value]


class StockReservation(Base):
    """预留: stock set aside at one (location, batch) for one document line. Open while
    ``qty - consumed_qty - released_qty > 0``; the balance's ``reserved`` is the sum of the open
    remainders, and ``flask stock verify`` rebuilds it from them."""

    __tablename__ = "stock_reservations"
    __table_args__ = (
        sa.CheckConstraint("qty > 0", name="qty_positive"),
        sa.CheckConstraint(
            "consumed_qty >= 0 AND released_qty >= 0 AND consumed_qty + released_qty <= qty",
            name="consumed_released_within_qty",
        ),
        sa.CheckConstraint(
            "(status = 'open') = (consumed_qty + released_qty < qty)", name="open_iff_remaining"
        ),
        sa.CheckConstraint("status IN ('open', 'consumed', 'released')", name="status_known"),
        sa.Index("ix_stock_reservations_balance", "location_id", "batch_id", "status"),
        sa.Index("ix_stock_reservations_document", "document_type", "document_id"),
        # verify --since: the reservations changed since the last clean run
        sa.Index("ix_stock_reservations_changed_at", "changed_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    location_id: Mapped[int] = mapped_column(sa.ForeignKey("locations.id"))
    batch_id: Mapped[int] = mapped_column(sa.ForeignKey("batches.id"))
    material_id: Mapped[int] = mapped_column(sa.ForeignKey("materials.id"))
    warehouse_id: Mapped[int] = mapped_column(sa.ForeignKey("warehouses.id"), index=True)
    document_type: Mapped[str] = mapped_column(sa.String(20))
    document_id: Mapped[int | None]
    document_no: Mapped[str | None] = mapped_column(sa.String(40))
    line_id: Mapped[int | None]
    qty: Mapped[int] = mapped_column(sa.BigInteger)
    consumed_qty: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    released_qty: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    status: Mapped[str] = mapped_column(sa.String(10), default=ReservationStatus.OPEN.value)
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    username: Mapped[str] = mapped_column(sa.String(40))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # every change (opened, part consumed, part released, closed): ``verify --since`` reads it
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    released_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    released_by: Mapped[str | None] = mapped_column(sa.String(40))

    @property
    def open_qty(self) -> int:
        return self.qty - self.consumed_qty - self.released_qty

    @property
    def status_label(self):
        return ReservationStatus(self.status).label


class ClosedMonth(Base):
    """已结账月份: nothing posts with a document date in a closed month. Written by
    ``reserve.stock.periods.close_month`` (月结), which waits for postings in flight."""

    __tablename__ = "closed_months"

    month: Mapped[str] = mapped_column(sa.String(7), primary_key=True)  # "2026-10"
    closed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    closed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    closed_by: Mapped[str] = mapped_column(sa.String(40))


class DocumentCounter(Base):
    """The last number given per document prefix and day (RK20261124-0001 …)."""

    __tablename__ = "document_counters"

    prefix: Mapped[str] = mapped_column(sa.String(8), primary_key=True)
    day: Mapped[date] = mapped_column(primary_key=True)
    last: Mapped[int] = mapped_column(default=0)


class StockMove(Base):
    """移库单: stock moved between two locations of one warehouse."""

    __tablename__ = "stock_moves"
    __table_args__ = (sa.CheckConstraint("qty > 0", name="qty_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    no: Mapped[str] = mapped_column(sa.String(20), unique=True)
    warehouse_id: Mapped[int] = mapped_column(sa.ForeignKey("warehouses.id"), index=True)
    from_location_id: Mapped[int] = mapped_column(sa.ForeignKey("locations.id"))
    to_location_id: Mapped[int] = mapped_column(sa.ForeignKey("locations.id"))
    batch_id: Mapped[int] = mapped_column(sa.ForeignKey("batches.id"))
    qty: Mapped[int]
    document_date: Mapped[date]
    note: Mapped[str | None] = mapped_column(sa.String(200))
    # Attribution (reserve.documents.stamp): who, as a user id and the username kept for the record.
    moved_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    moved_by_name: Mapped[str] = mapped_column(sa.String(40))
    moved_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class VerificationRun(Base):
    """核对记录: one run of ``flask stock verify``. A run checked every movement up to
    ``through_movement_id`` (the highest when it began); ``verify --since`` starts after the
    last clean one (``differences == 0``) and checks only the places touched since."""

    __tablename__ = "verification_runs"
    __table_args__ = (
        sa.CheckConstraint("differences >= 0", name="differences_not_negative"),
        sa.CheckConstraint("places >= 0", name="places_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    through_movement_id: Mapped[int] = mapped_column(sa.BigInteger)
    incremental: Mapped[bool] = mapped_column(default=False)
    since_run_id: Mapped[int | None] = mapped_column(sa.ForeignKey("verification_runs.id"))
    places: Mapped[int]  # (location, batch) places checked; a full run counts every balance
    differences: Mapped[int]
    seconds: Mapped[float] = mapped_column(sa.Float)
