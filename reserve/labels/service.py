"""扫码解析: what a scanned label code stands for, and what the scanning actor may do with it now.

``resolve`` is the one entry for every scan — the ``/s/<code>`` link a phone camera opens, the
scan page, the API a PDA calls. A code is checked by its MAC before anything is read (a
forged or mistyped code costs no query, and is written to the audit log); a good one is read
in one statement by primary key (the label, its place, batch, material, item and balance,
and whether a stocktake is being counted in its warehouse), a second only when such a
stocktake exists and the actor could count in it, and one more for a stock label whose location
holds none of its batch (where the batch is now: ``reserve.labels.follow``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import cache
from types import SimpleNamespace

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, bindparam, case, exists, func, select
from sqlalchemy.orm import Session, aliased

from reserve.audit.service import record
from reserve.auth.actor import Actor
from reserve.catalog.models import Material
from reserve.db import local_today
from reserve.errors import Forbidden, InvalidLabel, NotFound
from reserve.labels.codes import BadCode, make_code, parse_code
from reserve.labels.follow import where_now
from reserve.labels.models import Label, LabelKind
from reserve.stock.expiry import ExpiryState, expiry_state
from reserve.stock.models import Batch, ItemStatus, SerialItem, StockBalance
from reserve.stock.queries import available_of
from reserve.stocktakes.counting import find_open_stocktake
from reserve.stocktakes.models import Stocktake, StocktakeStatus
from reserve.warehouses.models import Location, Warehouse

__all__ = [  # the refusals a caller catches, the app's own among them
    "BadCode",
    "Forbidden",
    "LabelRevoked",
    "NotFound",
    "ScanTarget",
    "UnreadableCode",
    "resolve",
]

VIEW, MOVE, COUNT = "view", "move", "count"  # the orders issue adds "pick"


class UnreadableCode(BadCode, InvalidLabel):
    """A refused code at the edges: a ``BadCode`` (for callers that catch it) that is also the
    app's ``InvalidLabel`` (422 in the API, a message on the pages)."""

    status = 422
    # a bad MAC's audit entry, added to the session by ``resolve``, and what it was made of (to
    # write it again if a wrapper rolled the request's transaction back: ``edge.keep_refusal``)
    audit_entry = None
    audit_fields: dict | None = None

    def __init__(self, reason: str, text: str = ""):
        BadCode.__init__(self, reason, text)
        message = (
            _l("This is not a label code. Scan the label again, or type the code under its QR.")
            if reason == "malformed"
            else _l(
                "This label code is not valid: a character is wrong, or the label was not "
                "printed by this system. Check the code under the QR and try again."
            )
        )
        InvalidLabel.__init__(self, message, field="code", reason=reason)


class LabelRevoked(InvalidLabel):
    """A label revoked (lost, damaged): it no longer scans."""

    code = "label_revoked"
    status = 410
    default_message = _l("This label was revoked and no longer scans.")


@dataclass(frozen=True)
class ScanTarget:
    """What a label points at, as the scanning actor sees it, and what they may do now."""

    label_id: int
    code: str
    kind: LabelKind
    url: str  # the /s/<code> path
    warehouse_id: int
    warehouse_code: str
    warehouse_name: str
    location_id: int | None
    location_code: str | None
    material_id: int | None
    material_code: str | None
    material_name: str | None
    spec: str | None
    unit: str | None
    tracking: str | None
    batch_id: int | None
    batch_no: str | None
    expiry_date: date | None
    expiry_state: ExpiryState | None
    serial_item_id: int | None
    serial_no: str | None
    item_status: str | None
    qty: int | None  # on hand of the batch at the location (stock); 1/0 for an item
    available: int | None  # by reserve.stock.queries' rule
    actions: tuple[str, ...]
    qty_at_label: int | None = None
    stocktake_id: int | None = None  # the open stocktake "count" goes to
    stocktake_no: str | None = None
    location_name: str | None = None
    # a stock label resolved to where its batch is now, its own location being empty: that one
    labelled_location_code: str | None = None


def label_path(code: str) -> str:
    return f"/s/{code}"


def _refuse(session: Session, actor: Actor, error: BadCode) -> UnreadableCode:
    refused = UnreadableCode(error.reason, error.text)
    if error.reason == "mac":  # a forgery or a mistyped code: kept in the audit log
        refused.audit_fields = {
            "actor": actor,
            "action": "refuse_code",
            "object_type": "labels",
            "label": error.text or None,
            "after": {"reason": error.reason},
        }
        refused.audit_entry = record(session, **refused.audit_fields)
    return refused


@cache
def _statement():
    """The one statement of a scan, built once (building it costs more than running it)."""
    location = aliased(Location)
    # an item is where it is now, and nowhere once out of stock (issued, in repair …); stock
    # and location labels are where they were printed
    place_id = case(
        (
            Label.kind == LabelKind.ITEM.value,
            case(
                (SerialItem.status == ItemStatus.IN_STOCK.value, SerialItem.location_id),
                else_=None,
            ),
        ),
        else_=Label.location_id,
    )
    counting = (
        exists()
        .where(
            Stocktake.warehouse_id == Warehouse.id,
            Stocktake.status == StocktakeStatus.COUNTING.value,
        )
        .correlate(Warehouse)
    )
    return (
        select(
            Label.id,
            Label.kind,
            Label.revoked_at,
            Label.revoke_reason,
            Label.qty_at_label,
            Warehouse.id.label("warehouse_id"),
            Warehouse.code.label("warehouse_code"),
            Warehouse.name.label("warehouse_name"),
            location.id.label("location_id"),
            location.code.label("location_code"),
            location.name.label("location_name"),
            Material.id.label("material_id"),
            Material.code.label("material_code"),
            Material.name.label("material_name"),
            Material.spec,
            Material.unit,
            Material.tracking,
            Material.near_expiry_days,
            Batch.id.label("batch_id"),
            Batch.batch_no,
            Batch.expiry_date,
            SerialItem.id.label("serial_item_id"),
            SerialItem.serial_no,
            SerialItem.status.label("item_status"),
            StockBalance.qty,
            StockBalance.reserved,
            counting.label("counting"),
        )
        .select_from(Label)
        .outerjoin(SerialItem, SerialItem.id == Label.serial_item_id)
        .outerjoin(location, location.id == place_id)
        .join(Warehouse, Warehouse.id == func.coalesce(location.warehouse_id, Label.warehouse_id))
        .outerjoin(Batch, Batch.id == func.coalesce(Label.batch_id, SerialItem.batch_id))
        .outerjoin(Material, Material.id == Batch.material_id)
        .outerjoin(
            StockBalance,
            and_(
                Label.kind == LabelKind.STOCK.value,
                StockBalance.location_id == Label.location_id,
                StockBalance.batch_id == Label.batch_id,
            ),
        )
        .where(Label.id == bindparam("label_id"))
    )


def resolve(session: Session, actor: Actor, text: str, *, key: bytes) -> ScanTarget:
    """扫码：the thing a scanned or typed label code stands for. A bad code raises BadCode (an
    ``UnreadableCode``) before any read, and a bad MAC adds an audit entry to the session: the
    caller commits it even though the scan failed (``reserve.labels.edge.resolve_here``). A
    revoked label raises LabelRevoked; one of a warehouse the actor does not see, Forbidden;
    an unknown one, NotFound."""
    try:
        label_id = parse_code(text, key=key)
    except BadCode as error:
        raise _refuse(session, actor, error) from None
    today = local_today()
    # on the connection: plain rows, without the ORM's result machinery (a scan is hot)
    row = session.connection().execute(_statement(), {"label_id": label_id}).one_or_none()
    if row is None:
        raise NotFound(_l("There is no label with this code."))
    actor.require_see(row.warehouse_id)
    if row.revoked_at is not None:
        raise LabelRevoked(
            _l(
                "This label was revoked (%(reason)s) and no longer scans. Use the new label, "
                "or ask for one to be printed.",
                reason=row.revoke_reason,
            ),
            revoked_at=row.revoked_at.isoformat(),
        )
    kind = LabelKind(row.kind)
    labelled_at = None
    if kind is LabelKind.STOCK and not row.qty:  # its goods left by other than a full move
        now = where_now(session, batch_id=row.batch_id, warehouse_id=row.warehouse_id)
        if now is not None:
            labelled_at = row.location_code
            row = SimpleNamespace(
                **{
                    **row._asdict(),
                    "location_id": now.location_id,
                    "location_code": now.code,
                    "location_name": now.name,
                    "qty": now.qty,
                    "reserved": now.reserved,
                }
            )
    state = (
        expiry_state(row.expiry_date, row.near_expiry_days, today)
        if row.batch_id is not None
        else None
    )
    qty, available = _quantities(kind, row, state)
    stocktake = None
    writes = actor.may_write(row.warehouse_id)
    if row.counting and writes and kind is not LabelKind.LOCATION and row.location_id:
        stocktake = find_open_stocktake(
            session, location_id=row.location_id, material_id=row.material_id
        )
    actions = [VIEW]
    if writes and kind is not LabelKind.LOCATION and qty:
        actions.append(MOVE)
    if stocktake is not None:
        actions.append(COUNT)
    code = make_code(label_id, key=key)
    return ScanTarget(
        label_id=label_id,
        code=code,
        kind=kind,
        url=label_path(code),
        warehouse_id=row.warehouse_id,
        warehouse_code=row.warehouse_code,
        warehouse_name=row.warehouse_name,
        location_id=row.location_id,
        location_code=row.location_code,
        location_name=row.location_name,
        material_id=row.material_id,
        material_code=row.material_code,
        material_name=row.material_name,
        spec=row.spec,
        unit=row.unit,
        tracking=row.tracking,
        batch_id=row.batch_id,
        batch_no=row.batch_no,
        expiry_date=row.expiry_date,
        expiry_state=state,
        serial_item_id=row.serial_item_id,
        serial_no=row.serial_no,
        item_status=row.item_status,
        qty=qty,
        available=available,
        actions=tuple(actions),
        qty_at_label=row.qty_at_label,
        stocktake_id=stocktake.id if stocktake else None,
        stocktake_no=stocktake.no if stocktake else None,
        labelled_location_code=labelled_at,
    )


def _quantities(kind: LabelKind, row, state: ExpiryState | None) -> tuple[int | None, int | None]:
    if kind is LabelKind.STOCK:
        qty, reserved = row.qty or 0, row.reserved or 0
        return qty, available_of(qty, reserved, state)
    if kind is LabelKind.ITEM:
        here = 1 if row.item_status == ItemStatus.IN_STOCK.value and row.location_id else 0
        return here, available_of(here, 0, state)
    return None, None
