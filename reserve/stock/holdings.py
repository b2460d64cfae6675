"""What still sits in a warehouse, a location or on a material: stock on hand and unfinished
documents. A place or a material that holds either cannot be taken out of use (停用), or its
stock would drop out of every list while it still counts (the books must stay straight)."""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, Select, exists, func, literal, or_, select, union_all
from sqlalchemy.orm import Session

from reserve.disposals.models import (
    Rotation,
    RotationLine,
    RotationStatus,
    Scrap,
    ScrapLine,
    ScrapStatus,
)
from reserve.receipts.models import Receipt, ReceiptLine, ReceiptStatus
from reserve.stock.models import Batch, StockBalance
from reserve.stocktakes.models import OPEN_STATUSES, Stocktake, StocktakeLine, stocktake_locations
from reserve.warehouses.models import Location, Warehouse

SHOWN = 3  # places and document numbers named in the message; the rest is "…"


@dataclass(frozen=True)
class Holdings:
    """Stock on hand (qty > 0) and unfinished documents of a warehouse, location or material."""

    materials: int
    qty: int
    places: list[str]
    place_count: int
    documents: list[str]
    document_count: int

    @property
    def is_empty(self) -> bool:
        return self.qty == 0 and self.document_count == 0

    def describe(self, *, unit: str | None = None):
        """The stock and the documents, e.g. "3 种物资 120 件库存（A-01-01 …），以及 2 张未完成单据
        （RK-… PD-…）"; with ``unit``, one material's quantity in its unit ("120 顶库存（…）")."""
        parts = []
        if self.qty:
            places = _shown(self.places, self.place_count)
            if unit is None:
                parts.append(
                    _l(
                        "%(materials)s materials, %(qty)s units in stock (%(places)s)",
                        materials=self.materials,
                        qty=self.qty,
                        places=places,
                    )
                )
            else:
                parts.append(
                    _l(
                        "%(qty)s %(unit)s in stock (%(places)s)",
                        qty=self.qty,
                        unit=unit,
                        places=places,
                    )
                )
        if self.document_count:
            parts.append(
                _l(
                    "%(count)s unfinished documents (%(numbers)s)",
                    count=self.document_count,
                    numbers=_shown(self.documents, self.document_count),
                )
            )
        if len(parts) == 2:
            return _l("%(stock)s, and %(documents)s", stock=parts[0], documents=parts[1])
        return parts[0] if parts else ""


def _shown(names: list[str], total: int) -> str:
    return " ".join(names[:SHOWN]) + (" …" if total > SHOWN else "")


def holdings(
    session: Session,
    *,
    warehouse_id: int | None = None,
    location_id: int | None = None,
    material_id: int | None = None,
) -> Holdings:
    """在库与未完成单据：stock and open documents of exactly one warehouse, location or material."""
    if sum(x is not None for x in (warehouse_id, location_id, material_id)) != 1:
        raise ValueError("holdings() takes exactly one of warehouse_id, location_id, material_id")
    if warehouse_id is not None:
        where = StockBalance.warehouse_id == warehouse_id
    elif location_id is not None:
        where = StockBalance.location_id == location_id
    else:
        where = StockBalance.material_id == material_id
    stocked = (StockBalance.qty > 0, where)
    materials, qty, place_count = session.execute(
        select(
            func.count(func.distinct(StockBalance.material_id)),
            func.coalesce(func.sum(StockBalance.qty), 0),
            func.count(func.distinct(StockBalance.location_id)),
        ).where(*stocked)
    ).one()
    place = (
        Warehouse.code + literal(" ") + Location.code if material_id is not None else Location.code
    )
    places = session.scalars(
        select(place)
        .select_from(StockBalance)
        .join(Location, Location.id == StockBalance.location_id)
        .join(Warehouse, Warehouse.id == StockBalance.warehouse_id)
        .where(*stocked)
        .group_by(Warehouse.code, Location.code)
        .order_by(Warehouse.code, Location.code)
        .limit(SHOWN)
    ).all()
    documents = session.scalars(
        _open_documents(warehouse_id=warehouse_id, location_id=location_id, material_id=material_id)
    ).all()
    return Holdings(
        materials=materials,
        qty=int(qty),
        places=list(places),
        place_count=place_count,
        documents=list(documents),
        document_count=len(documents),
    )


def _open_documents(
    *, warehouse_id: int | None, location_id: int | None, material_id: int | None
) -> Select:
    """The numbers of draft receipts, open stocktakes, draft rotations and pending scraps that
    touch the warehouse, the location or the material (one statement)."""

    def touches(document, line, line_fk, line_material: ColumnElement | None, *extra):
        """The document's own warehouse, or one of its lines at the location / of the material."""
        if warehouse_id is not None:
            return document.warehouse_id == warehouse_id
        if location_id is not None:
            return or_(
                exists().where(line_fk == document.id, line.location_id == location_id), *extra
            )
        return exists().where(line_fk == document.id, line_material == material_id)

    def batch_material(line):
        return select(Batch.material_id).where(Batch.id == line.batch_id).scalar_subquery()

    receipts = select(Receipt.no).where(
        Receipt.status == ReceiptStatus.DRAFT.value,
        touches(Receipt, ReceiptLine, ReceiptLine.receipt_id, ReceiptLine.material_id),
    )
    stocktakes = select(Stocktake.no).where(
        Stocktake.status.in_(OPEN_STATUSES),
        touches(
            Stocktake,
            StocktakeLine,
            StocktakeLine.stocktake_id,
            StocktakeLine.material_id,
            exists().where(
                stocktake_locations.c.stocktake_id == Stocktake.id,
                stocktake_locations.c.location_id == location_id,
            ),
        ),
    )
    rotations = select(Rotation.no).where(
        Rotation.status == RotationStatus.DRAFT.value,
        touches(Rotation, RotationLine, RotationLine.rotation_id, batch_material(RotationLine)),
    )
    scraps = select(Scrap.no).where(
        Scrap.status.in_((ScrapStatus.REQUESTED.value, ScrapStatus.APPROVED.value)),
        touches(Scrap, ScrapLine, ScrapLine.scrap_id, batch_material(ScrapLine)),
    )
    documents = union_all(receipts, stocktakes, rotations, scraps).subquery()
    return select(documents.c.no).order_by(documents.c.no)
