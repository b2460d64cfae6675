"""Read side of receipts: the list (paged by key) with its totals, a receipt's lines, the form's
choices and the printable document, each one query (no N+1)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session, aliased

from reserve.auth.actor import Actor
from reserve.auth.models import User
from reserve.catalog.models import Material
from reserve.db import KeyPage, seek_page
from reserve.receipts import pdf
from reserve.receipts.models import Receipt, ReceiptAttachment, ReceiptLine
from reserve.warehouses.models import Location, Warehouse


def _line_stat(expression):
    """A figure over one receipt's lines, read for the receipts of the page only (a correlated
    subquery on the receipt_id index, not a total over every line of every receipt)."""
    return (
        select(expression)
        .where(ReceiptLine.receipt_id == Receipt.id)
        .correlate(Receipt)
        .scalar_subquery()
    )


def receipt_search(
    *,
    actor: Actor,
    warehouse_id: int | None = None,
    status: str | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
    no: str | None = None,
) -> Select:
    """入库单列表: one row per receipt with its warehouse and line totals, newest first; a
    keeper sees only the warehouses they keep."""
    creator = aliased(User)
    stmt = (
        select(
            Receipt.id,
            Receipt.no,
            Receipt.document_date,
            Receipt.status,
            Receipt.source,
            Receipt.supplier,
            Receipt.funding_source,
            Receipt.paper_no,
            Receipt.created_by_name.label("created_by"),
            func.coalesce(func.nullif(creator.full_name, ""), Receipt.created_by_name).label(
                "created_by_full_name"
            ),
            Receipt.created_at,
            Receipt.posted_at,
            Receipt.warehouse_id,
            Warehouse.code.label("warehouse_code"),
            Warehouse.name.label("warehouse_name"),
            _line_stat(func.count()).label("line_count"),
            _line_stat(func.coalesce(func.sum(ReceiptLine.qty), 0)).label("total_qty"),
            _line_stat(func.sum(ReceiptLine.qty * ReceiptLine.unit_cost)).label("total_value"),
        )
        .join(Warehouse, Warehouse.id == Receipt.warehouse_id)
        .outerjoin(creator, creator.id == Receipt.created_by_id)
    )
    stmt = stmt.where(actor.visible(Receipt.warehouse_id))
    if warehouse_id:
        stmt = stmt.where(Receipt.warehouse_id == warehouse_id)
    if status:
        stmt = stmt.where(Receipt.status == status)
    if date_from:
        stmt = stmt.where(Receipt.document_date >= date_from)
    if date_to:
        stmt = stmt.where(Receipt.document_date <= date_to)
    no = (no or "").strip()
    if no:
        stmt = stmt.where(Receipt.no.ilike(f"%{no}%") | Receipt.paper_no.ilike(f"%{no}%"))
    return stmt.order_by(Receipt.document_date.desc(), Receipt.id.desc())


RECEIPT_KEYS = ((Receipt.document_date, True), (Receipt.id, True))  # newest paper first


def receipt_page(
    session: Session, *, actor: Actor, after: str | None = None, per_page: int = 50, **filters
) -> KeyPage:
    """One page of the receipt list after the page key ``after``."""
    stmt = receipt_search(actor=actor, **filters)
    return seek_page(session, stmt, RECEIPT_KEYS, after=after, per_page=per_page)


def receipt_lines(session: Session, receipt_id: int) -> list:
    """A receipt's lines with the material, location and (once posted) batch they refer to."""
    return list(
        session.execute(
            select(
                ReceiptLine.id,
                ReceiptLine.line_no,
                ReceiptLine.material_id,
                Material.code.label("material_code"),
                Material.name.label("material_name"),
                Material.spec,
                Material.unit,
                Material.tracking,
                ReceiptLine.batch_no,
                ReceiptLine.batch_id,
                ReceiptLine.production_date,
                ReceiptLine.expiry_date,
                ReceiptLine.qty,
                ReceiptLine.location_id,
                Location.code.label("location_code"),
                ReceiptLine.unit_cost,
                (ReceiptLine.qty * ReceiptLine.unit_cost).label("value"),
                ReceiptLine.serial_nos,
                ReceiptLine.expiry_reason,
                Material.near_expiry_days,
            )
            .join(Material, Material.id == ReceiptLine.material_id)
            .join(Location, Location.id == ReceiptLine.location_id)
            .where(ReceiptLine.receipt_id == receipt_id)
            .order_by(ReceiptLine.line_no)
        )
    )


@dataclass(frozen=True)
class Person:
    """Someone as a page shows them: the name (赵保管), the login in a tooltip."""

    name: str
    login: str


def receipt_people(session: Session, receipt: Receipt) -> dict[str, Person | None]:
    """Who created, posted and cancelled the receipt, by name (one query); the login kept on
    the receipt is the name when the user is gone or was the system."""
    verbs = ("created", "posted", "cancelled")
    ids = {getattr(receipt, f"{verb}_by_id") for verb in verbs} - {None}
    names = (
        dict(session.execute(select(User.id, User.full_name).where(User.id.in_(ids))).all())
        if ids
        else {}
    )
    people: dict[str, Person | None] = {}
    for verb in verbs:
        login = getattr(receipt, f"{verb}_by_name")
        if login is None:
            people[verb] = None
            continue
        name = names.get(getattr(receipt, f"{verb}_by_id")) or login
        people[verb] = Person(name=name, login=login)
    return people


def attachment_rows(session: Session, receipt_id: int) -> list:
    """A receipt's attachments, oldest first, with the uploader's name (one query)."""
    uploader = aliased(User)
    return list(
        session.execute(
            select(
                ReceiptAttachment.id,
                ReceiptAttachment.receipt_id,
                ReceiptAttachment.filename,
                ReceiptAttachment.content_type,
                ReceiptAttachment.size_bytes,
                ReceiptAttachment.sha256,
                ReceiptAttachment.uploaded_at,
                ReceiptAttachment.uploaded_by_name.label("uploaded_by"),
                func.coalesce(
                    func.nullif(uploader.full_name, ""), ReceiptAttachment.uploaded_by_name
                ).label("uploaded_by_full_name"),
            )
            .outerjoin(uploader, uploader.id == ReceiptAttachment.uploaded_by_id)
            .where(ReceiptAttachment.receipt_id == receipt_id)
            .order_by(ReceiptAttachment.id)
        )
    )


def totals(lines: list) -> tuple[int, Decimal | None]:
    """Total quantity and value of some lines (value None when no line has a unit cost)."""
    values = [line.value for line in lines if line.value is not None]
    return sum(line.qty for line in lines), (sum(values, Decimal(0)) if values else None)


def receivable_warehouses(session: Session, actor: Actor) -> list[tuple[int, str]]:
    """The warehouses the actor may receive into: all in use for an admin, else the kept ones."""
    stmt = select(Warehouse.id, Warehouse.code, Warehouse.name).where(
        Warehouse.is_active, actor.writable(Warehouse.id)
    )
    return [
        (row.id, f"{row.code} {row.name}") for row in session.execute(stmt.order_by(Warehouse.code))
    ]


def visible_warehouses(session: Session, actor: Actor) -> list[tuple[int, str]]:
    """The warehouses the list can be filtered by."""
    stmt = select(Warehouse.id, Warehouse.code, Warehouse.name).where(actor.visible(Warehouse.id))
    return [
        (row.id, f"{row.code} {row.name}") for row in session.execute(stmt.order_by(Warehouse.code))
    ]


def warehouse_name(session: Session, warehouse_id: int) -> str:
    row = session.execute(
        select(Warehouse.code, Warehouse.name).where(Warehouse.id == warehouse_id)
    ).one()
    return f"{row.code} {row.name}"


def material_choices(session: Session) -> list[tuple[int, str]]:
    """Materials in use, as ``code name spec (unit)``, in code order."""
    rows = session.execute(
        select(Material.id, Material.code, Material.name, Material.spec, Material.unit)
        .where(Material.is_active)
        .order_by(Material.code)
    )
    return [
        (row.id, " ".join(p for p in (row.code, row.name, row.spec or "") if p) + f" ({row.unit})")
        for row in rows
    ]


def location_choices(session: Session, warehouse_id: int) -> list[tuple[int, str]]:
    """A warehouse's locations in use: the receiving area first, then by code."""
    rows = session.execute(
        select(Location.id, Location.code, Location.name, Location.is_receiving)
        .where(Location.warehouse_id == warehouse_id, Location.is_active)
        .order_by(Location.is_receiving.desc(), Location.code)
    )
    return [(row.id, f"{row.code} {row.name}" if row.name else row.code) for row in rows]


def material_ids_by_code(session: Session, codes: set[str]) -> dict[str, int]:
    if not codes:
        return {}
    rows = session.execute(select(Material.code, Material.id).where(Material.code.in_(codes)))
    return {row.code: row.id for row in rows}


def location_ids_by_code(session: Session, warehouse_id: int, codes: set[str]) -> dict[str, int]:
    if not codes:
        return {}
    rows = session.execute(
        select(Location.code, Location.id).where(
            Location.warehouse_id == warehouse_id, Location.code.in_(codes)
        )
    )
    return {row.code: row.id for row in rows}


def printable(session: Session, receipt: Receipt) -> pdf.ReceiptDocument:
    """The receipt as the plain data its PDF is printed from."""
    lines = receipt_lines(session, receipt.id)
    people = receipt_people(session, receipt)
    return pdf.ReceiptDocument(
        no=receipt.no,
        status=receipt.status,
        warehouse=warehouse_name(session, receipt.warehouse_id),
        source=pdf.SOURCE_NAMES.get(receipt.source, receipt.source),
        supplier=receipt.supplier,
        funding_source=receipt.funding_source,
        paper_no=receipt.paper_no,
        document_date=receipt.document_date,
        posted_at=receipt.posted_at,
        created_by=people["created"].name if people["created"] else None,
        posted_by=people["posted"].name if people["posted"] else None,
        note=receipt.note,
        lines=[
            pdf.ReceiptDocumentLine(
                code=line.material_code,
                name=line.material_name,
                spec=line.spec or "",
                unit=line.unit,
                batch_no=line.batch_no,
                production_date=line.production_date,
                expiry_date=line.expiry_date,
                location=line.location_code,
                qty=line.qty,
                unit_cost=line.unit_cost,
                serials=tuple(line.serial_nos or ()),
                expiry_reason=line.expiry_reason,
            )
            for line in lines
        ],
    )
