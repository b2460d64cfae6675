"""Label pages: ``/s/<code>``, the link in every label's QR, opening the labelled thing's page."""

from __future__ import annotations

from flask import Blueprint, redirect, url_for

from reserve.labels.edge import resolve_here
from reserve.labels.models import LabelKind
from reserve.labels.service import ScanTarget

bp = Blueprint("labels", __name__)


def target_page(target: ScanTarget) -> str:
    """The page of what a label points at: the batch at its location, the item among its
    material's items, or the location in its warehouse."""
    if target.kind is LabelKind.LOCATION:
        return url_for(
            "warehouses.warehouse_detail",
            warehouse_id=target.warehouse_id,
            _anchor=f"location-{target.location_id}",
        )
    anchor = f"item-{target.serial_item_id}" if target.kind is LabelKind.ITEM else None
    return url_for(
        "stock.material_stock",
        material_id=target.material_id,
        batch=target.batch_id,
        warehouse=target.warehouse_id,
        _anchor=anchor,
    )


@bp.get("/s/<code>")
@bp.get("/S/<code>", endpoint="label_open_upper")  # the capitals a compact QR holds
def label_open(code: str):
    return redirect(target_page(resolve_here(code)))
