"""标签随货: where a stock (carton or pallet) label's goods are after they move.

A stock label names its batch and the location its goods were *last known* at
(``Label.location_id``: where it was printed, until a move takes its goods elsewhere):

- **A move that takes all of the batch from a location takes its labels along.** ``move_stock``
  (移库 from the stock page, the scan page and the API alike) calls ``follow_move`` when the
  move leaves none of the batch at the source: every live stock label of that batch there is
  re-pointed to the target, in the move's transaction (one UPDATE, one audit entry). All the
  cartons there went, so did their labels.
- **A partial move leaves the labels where they are.** The cartons left behind still carry
  them, and nothing says which carton went: a pallet label stays with the pallet when a few
  units are taken off it for a pick face, and a scan there still shows what is left. The part
  that moved has no label at its new place; print one for it there.
- **Stock that leaves a location otherwise** (a stocktake's 盘亏 at one location and 盘盈 of
  the same batch at another, a move made before this rule) is not followed by a write. The
  resolver falls back instead (``where_now``): a stock label whose location holds none of its
  batch resolves to where the batch is in the label's warehouse, when that is one location;
  when the batch is nowhere there, or at several locations, to its own, empty, location (the
  batch's stock page, which ``/s/<code>`` opens, lists all of them).

Serial item labels need none of this: they name the item, which is wherever the ledger put it.
A transfer to another warehouse leaves the label in its own warehouse (the goods get the
receiving warehouse's labels)."""

from __future__ import annotations

from functools import cache
from typing import Any

from sqlalchemy import Select, bindparam, select, update
from sqlalchemy.orm import Session

from reserve.audit.service import record
from reserve.auth.actor import Actor
from reserve.labels.models import Label, LabelKind
from reserve.stock.models import StockBalance, StockMove
from reserve.warehouses.models import Location


def follow_move(session: Session, *, move: StockMove, actor: Actor) -> list[int]:
    """随货：re-point the live stock labels of the moved batch at the move's source to its
    target (the move took all of it: the caller knows from the source's balance after). The
    ids of the labels that followed; audited as one act, named by the move."""
    followed = list(
        session.scalars(
            update(Label)
            .where(
                Label.kind == LabelKind.STOCK.value,
                Label.batch_id == move.batch_id,
                Label.location_id == move.from_location_id,
                Label.revoked_at.is_(None),
            )
            .values(location_id=move.to_location_id)
            .returning(Label.id)
            .execution_options(synchronize_session="fetch")
        )
    )
    if followed:
        record(
            session,
            actor=actor,
            action="follow",
            object_type="labels",
            object_id=followed[0],
            label=move.no,
            before={"location_id": move.from_location_id},
            after={
                "location_id": move.to_location_id,
                "labels": len(followed),
                "ids": sorted(followed)[:50],
            },
        )
    return followed


@cache
def _places_of_batch() -> Select:
    return (
        select(
            StockBalance.location_id,
            Location.code,
            Location.name,
            StockBalance.qty,
            StockBalance.reserved,
        )
        .join(Location, Location.id == StockBalance.location_id)
        .where(
            StockBalance.batch_id == bindparam("batch_id"),
            StockBalance.warehouse_id == bindparam("warehouse_id"),
            StockBalance.qty > 0,
        )
        .limit(2)
    )


def where_now(session: Session, *, batch_id: int, warehouse_id: int) -> Any | None:
    """The one location of the warehouse holding the batch (location_id, code, name, qty,
    reserved), for a stock label whose own location holds none; None when the batch is
    nowhere in the warehouse or at several locations (the label keeps its own)."""
    rows = session.execute(
        _places_of_batch(), {"batch_id": batch_id, "warehouse_id": warehouse_id}
    ).all()
    return rows[0] if len(rows) == 1 else None
