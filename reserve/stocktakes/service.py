"""盘点: open a count of a warehouse (or part of it), record counts — from the page, the API and
later the label scanner, all through ``record_count`` —, submit, and approve (posting 盘盈/盘亏
through the ledger) or reject back to counting; cancel before posting. Each status change is one
conditional UPDATE (``reserve.documents.transition``)."""

from __future__ import annotations

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy import false, func, insert, literal, or_, select
from sqlalchemy.orm import Session

from reserve.audit.service import record, snapshot
from reserve.auth.actor import Actor
from reserve.catalog.models import Category, Material
from reserve.catalog.service import significant_prefix
from reserve.db import local_today
from reserve.documents import all_or_nothing, is_same_person, stamp, unstamp
from reserve.errors import Conflict, Forbidden, NotFound, SeparationOfDuties, ValidationError
from reserve.stock.ledger import DocumentRef, check_period_open, post_movement
from reserve.stock.models import (
    Batch,
    ItemStatus,
    MovementKind,
    SerialItem,
    StockBalance,
    StockMovement,
)
from reserve.stock.numbering import next_document_no
from reserve.stocktakes.counting import (  # noqa: F401  (the feature's services, in one place)
    APPROVER_ROLES,
    category_prefixes,
    check_count,
    claim_stocktake,
    clean_text,
    find_open_stocktake,
    get_stocktake,
    may_approve,
    may_count,
    record_count,
    resolve_batch,
    resolve_location,
    row_of,
    shows_system_qty,
    writable_stocktake,
)
from reserve.stocktakes.models import (
    OPEN_STATUSES,
    Stocktake,
    StocktakeItem,
    StocktakeLine,
    StocktakeStatus,
)
from reserve.warehouses.models import Location, Warehouse

# 开始盘点 ------------------------------------------------------------


def _check_overlap(
    session: Session, warehouse_id: int, location_ids: set[int], prefixes: list[str]
) -> None:
    """Two open stocktakes must not count the same stock: both would post its difference."""
    others = session.scalars(
        select(Stocktake).where(
            Stocktake.warehouse_id == warehouse_id, Stocktake.status.in_(OPEN_STATUSES)
        )
    )
    for other in others:
        theirs = {loc.id for loc in other.locations}
        if location_ids and theirs and not location_ids & theirs:
            continue
        their_prefixes = category_prefixes(other.categories)
        if (
            prefixes
            and their_prefixes
            and not any(
                a.startswith(b) or b.startswith(a) for a in prefixes for b in their_prefixes
            )
        ):
            continue
        raise Conflict(
            _l(
                "Stocktake %(no)s is still open for some of the same stock; finish or "
                "cancel it before opening another.",
                no=other.no,
            )
        )


def _snapshot(
    stocktake_id: int, warehouse_id: int, location_ids: list[int], prefixes: list[str]
) -> sa.Select:
    """Every (location, batch) balance in scope holding stock: the lines expected to be counted."""
    stmt = select(
        literal(stocktake_id, sa.Integer),
        StockBalance.location_id,
        StockBalance.batch_id,
        StockBalance.material_id,
        StockBalance.qty,
        false(),
    ).where(StockBalance.warehouse_id == warehouse_id, StockBalance.qty > 0)
    if location_ids:
        stmt = stmt.where(StockBalance.location_id.in_(location_ids))
    if prefixes:
        stmt = (
            stmt.join(Material, Material.id == StockBalance.material_id)
            .join(Category, Category.id == Material.category_id)
            .where(or_(*[Category.code.like(p + "%") for p in prefixes]))
        )
    return stmt


def _row_location_ids(session: Session, warehouse: Warehouse, rows) -> set[int]:
    """Every location in use in the given rows of the warehouse (not the receiving area)."""
    wanted = {str(row).strip() for row in rows or () if str(row).strip()}
    if not wanted:
        return set()
    found: dict[str, set[int]] = {}
    for location_id, code in session.execute(
        select(Location.id, Location.code).where(
            Location.warehouse_id == warehouse.id, Location.is_active, ~Location.is_receiving
        )
    ):
        found.setdefault(row_of(code), set()).add(location_id)
    unknown = sorted(wanted - found.keys())
    if unknown:
        raise ValidationError(
            _l(
                "%(name)s has no row %(rows)s: choose rows and locations of this warehouse.",
                name=warehouse.name,
                rows=", ".join(unknown),
            ),
            field="location_ids",
        )
    return set().union(*(found[row] for row in wanted))


def _without_covered(categories: list[Category]) -> list[Category]:
    """The chosen categories less those a chosen parent already includes (a branch ticked in
    the tree is recorded once, as its top)."""
    prefixes = {c.id: significant_prefix(c.code) for c in categories}
    return [
        c
        for c in categories
        if not any(
            other.id != c.id and prefixes[c.id].startswith(prefixes[other.id])
            for other in categories
        )
    ]


def open_stocktake(
    session: Session,
    *,
    warehouse_id: int,
    actor: Actor,
    location_ids=(),
    location_rows=(),
    category_ids=(),
    is_blind: bool = False,
    note: str | None = None,
) -> Stocktake:
    """开始盘点：number the stocktake and snapshot the expected lines of its scope: the given
    locations and every location of the given rows (排), or the whole warehouse when neither
    is given; the given categories with their sub-categories, or all of them."""
    # The warehouse row is held (not the document's own lifecycle) so that two stocktakes of
    # overlapping scope cannot open at once: the overlap check below runs one at a time.
    warehouse = session.scalars(
        select(Warehouse)
        .where(Warehouse.id == warehouse_id)
        .with_for_update(key_share=True, of=Warehouse)
    ).first()
    if warehouse is None:
        raise NotFound(_l("No such warehouse."))
    actor.require_write(warehouse.id)
    if not warehouse.is_active:
        raise Conflict(_l("Warehouse %(name)s is not in use.", name=warehouse.name))
    note = clean_text(note, "note")
    wanted_locations = {int(i) for i in location_ids or ()}
    wanted_locations |= _row_location_ids(session, warehouse, location_rows)
    locations = list(session.scalars(select(Location).where(Location.id.in_(wanted_locations))))
    if len(locations) != len(wanted_locations) or any(
        loc.warehouse_id != warehouse.id for loc in locations
    ):
        raise ValidationError(
            _l("Choose locations of %(name)s only.", name=warehouse.name), field="location_ids"
        )
    wanted_categories = {int(i) for i in category_ids or ()}
    categories = list(session.scalars(select(Category).where(Category.id.in_(wanted_categories))))
    if len(categories) != len(wanted_categories):
        raise ValidationError(_l("Unknown category."), field="category_ids")
    categories = _without_covered(categories)
    prefixes = category_prefixes(categories)
    _check_overlap(session, warehouse.id, wanted_locations, prefixes)
    day = local_today()
    check_period_open(session, day)
    stocktake = Stocktake(
        no=next_document_no(session, "stocktake", day),
        warehouse_id=warehouse.id,
        is_blind=bool(is_blind),
        note=note,
        **stamp("created", actor),
        status=StocktakeStatus.COUNTING.value,
        locations=locations,
        categories=categories,
    )
    session.add(stocktake)
    session.flush()
    session.execute(
        insert(StocktakeLine).from_select(
            ["stocktake_id", "location_id", "batch_id", "material_id", "system_qty", "is_found"],
            _snapshot(stocktake.id, warehouse.id, sorted(wanted_locations), prefixes),
        )
    )
    lines = session.scalar(select(func.count()).where(StocktakeLine.stocktake_id == stocktake.id))
    record(
        session,
        actor=actor,
        action="create",
        obj=stocktake,
        label=f"{stocktake.no} {warehouse.code}",
        after={
            **snapshot(stocktake),
            "location_ids": sorted(wanted_locations),
            "category_ids": sorted(wanted_categories),
            "lines": lines,
        },
    )
    return stocktake


# 提交、审核、驳回、作废 ------------------------------------------------------------


def _line_names(session: Session, condition, limit: int = 5) -> str:
    rows = session.execute(
        select(Location.code, Material.name, Batch.batch_no)
        .select_from(StocktakeLine)
        .join(Location, Location.id == StocktakeLine.location_id)
        .join(Batch, Batch.id == StocktakeLine.batch_id)
        .join(Material, Material.id == StocktakeLine.material_id)
        .where(condition)
        .order_by(Location.code, Material.code, Batch.batch_no)
        .limit(limit)
    )
    return "; ".join(f"{r.code} {r.name} {r.batch_no}" for r in rows)


def submit_stocktake(session: Session, *, stocktake_id: int, actor: Actor) -> Stocktake:
    """提交盘点：every line counted, every difference explained; then it awaits approval."""
    writable_stocktake(session, stocktake_id, actor)
    with all_or_nothing(session):  # a refused submission leaves the stocktake being counted
        stocktake = claim_stocktake(
            session,
            stocktake_id,
            from_states=(StocktakeStatus.COUNTING,),
            to_state=StocktakeStatus.SUBMITTED,
            values=stamp("submitted", actor),
        )
        _check_complete(session, stocktake)
        _differences(session, stocktake)  # a serial line must name its items: refused now
    record(
        session,
        actor=actor,
        action="submit",
        obj=stocktake,
        label=stocktake.no,
        before={"status": StocktakeStatus.COUNTING.value},
        after={"status": stocktake.status},
    )
    return stocktake


def _check_complete(session: Session, stocktake: Stocktake) -> None:
    mine = StocktakeLine.stocktake_id == stocktake.id
    uncounted = session.scalar(
        select(func.count()).where(mine, StocktakeLine.counted_qty.is_(None))
    )
    if uncounted:
        raise ValidationError(
            _l(
                "Stocktake %(no)s still has uncounted lines: %(n)s. Count every line "
                "(enter 0 when nothing is there) before submitting.",
                n=uncounted,
                no=stocktake.no,
            )
        )
    unexplained = sa.and_(mine, StocktakeLine.variance != 0, StocktakeLine.reason.is_(None))
    missing = session.scalar(select(func.count()).where(unexplained))
    if missing:
        raise ValidationError(
            _l(
                "Lines that differ from the books but have no reason: %(n)s "
                "(%(lines)s). Give the reason for each difference before submitting.",
                n=missing,
                lines=_line_names(session, unexplained),
            ),
            field="reason",
        )


def _require_approver(actor: Actor) -> None:
    if not actor.has_role(*APPROVER_ROLES):
        raise Forbidden(_l("Only an approver reviews a stocktake."))


def _require_other_person(actor: Actor, stocktake: Stocktake) -> None:
    if is_same_person(actor, stocktake, "submitted"):
        raise SeparationOfDuties(
            _l(
                "You submitted stocktake %(no)s, so another approver must approve it "
                "(segregation of duties).",
                no=stocktake.no,
            )
        )


def approve_stocktake(session: Session, *, stocktake_id: int, actor: Actor) -> list[StockMovement]:
    """盘点审核：post each difference as a surplus (盘盈) or shortage (盘亏) movement."""
    _require_approver(actor)
    stocktake = get_stocktake(session, stocktake_id)
    _require_other_person(actor, stocktake)
    day = local_today()
    check_period_open(session, day)
    with all_or_nothing(session):  # the claim and the movements stand or fall together
        stocktake = claim_stocktake(
            session,
            stocktake_id,
            from_states=(StocktakeStatus.SUBMITTED,),
            to_state=StocktakeStatus.POSTED,
            values=stamp("approved", actor),
        )
        _require_other_person(actor, stocktake)  # as submitted when claimed
        document = DocumentRef("stocktake", stocktake.id, stocktake.no, day)
        movements = [
            post_movement(
                session,
                kind=MovementKind.GAIN if qty > 0 else MovementKind.LOSS,
                location_id=line.location_id,
                batch_id=line.batch_id,
                qty=qty,
                document=document,
                actor=actor,
                note=line.reason,
                serial_nos=serial_nos,
            )
            for line, qty, serial_nos in _differences(session, stocktake)
        ]
    record(
        session,
        actor=actor,
        action="approve",
        obj=stocktake,
        label=stocktake.no,
        before={"status": StocktakeStatus.SUBMITTED.value},
        after={"status": stocktake.status, "movements": [m.id for m in movements]},
    )
    return movements


def _differences(
    session: Session, stocktake: Stocktake
) -> list[tuple[StocktakeLine, int, list[str]]]:
    """What approving posts: (line, signed quantity, serial numbers), every shortage before any
    surplus (if stock moved since counting, fail early; and an item found at another place of
    the same stocktake leaves the place it is booked at before it comes in where it was found).

    A serial-tracked line names its items: those in stock there and not scanned are lost
    (盘亏, status ``lost``), those scanned there and not in stock there come in (盘盈). Such a
    line may differ with no difference in number (two items swapped); one counted by number
    alone cannot say which items, and is refused."""
    lines = session.execute(
        select(StocktakeLine, Material.tracking)
        .join(Material, Material.id == StocktakeLine.material_id)
        .where(
            StocktakeLine.stocktake_id == stocktake.id,
            or_(
                StocktakeLine.variance != 0,
                StocktakeLine.id.in_(select(StocktakeItem.line_id)),
                Material.tracking == "serial",
            ),
        )
        .order_by(StocktakeLine.id)
    ).all()
    serial_lines = [line for line, tracking in lines if tracking == "serial"]
    booked: dict[int, set[str]] = {line.id: set() for line in serial_lines}
    found: dict[int, set[str]] = {line.id: set() for line in serial_lines}
    if serial_lines:
        places = {(line.location_id, line.batch_id): line.id for line in serial_lines}
        for location_id, batch_id, serial_no in session.execute(
            select(SerialItem.location_id, SerialItem.batch_id, SerialItem.serial_no).where(
                sa.tuple_(SerialItem.location_id, SerialItem.batch_id).in_(list(places)),
                SerialItem.status == ItemStatus.IN_STOCK.value,
            )
        ):
            booked[places[(location_id, batch_id)]].add(serial_no)
        for line_id, serial_no in session.execute(
            select(StocktakeItem.line_id, SerialItem.serial_no)
            .join(SerialItem, SerialItem.id == StocktakeItem.serial_item_id)
            .where(StocktakeItem.stocktake_id == stocktake.id)
        ):
            found.setdefault(line_id, set()).add(serial_no)
    scanned = {line_id for line_id, numbers in found.items() if numbers}
    shortages, surpluses = [], []
    for line, tracking in lines:
        if tracking != "serial":
            if line.variance:
                (surpluses if line.variance > 0 else shortages).append((line, line.variance, []))
            continue
        if line.id not in scanned and (line.variance == 0 or line.counted_qty):
            if line.variance == 0:
                continue  # counted by number, as booked: nothing to name
            lost = gained = None  # counted by number, and it differs: which items?
        else:  # scanned item by item, or nothing found there (every booked item is lost)
            lost = sorted(booked[line.id] - found[line.id])
            gained = sorted(found[line.id] - booked[line.id])
        if lost is None or len(gained) - len(lost) != line.variance:
            raise ValidationError(
                _l(
                    "%(line)s is tracked by serial number: scan each item found there, so "
                    "that the difference names the items (and count it again if its stock "
                    "changed since it was counted).",
                    line=_line_names(session, StocktakeLine.id == line.id),
                ),
                field="serial_no",
            )
        if lost:
            shortages.append((line, -len(lost), lost))
        if gained:
            surpluses.append((line, len(gained), gained))
    return shortages + surpluses


def reject_stocktake(
    session: Session, *, stocktake_id: int, reason: str, actor: Actor
) -> Stocktake:
    """盘点驳回：back to counting, with the approver's reason."""
    _require_approver(actor)
    reason = clean_text(reason, "reason")
    if not reason:
        raise ValidationError(_l("Give the reason for sending the stocktake back."), field="reason")
    stocktake = claim_stocktake(
        session,
        stocktake_id,
        from_states=(StocktakeStatus.SUBMITTED,),
        to_state=StocktakeStatus.COUNTING,
        values={**stamp("rejected", actor), **unstamp("submitted"), "reject_reason": reason},
    )
    record(
        session,
        actor=actor,
        action="reject",
        obj=stocktake,
        label=stocktake.no,
        before={"status": StocktakeStatus.SUBMITTED.value},
        after={"status": stocktake.status, "reason": reason},
    )
    return stocktake


def cancel_stocktake(
    session: Session, *, stocktake_id: int, actor: Actor, reason: str | None = None
) -> Stocktake:
    """盘点作废：abandon a stocktake that has not been posted; nothing was posted."""
    before = writable_stocktake(session, stocktake_id, actor).status
    reason = clean_text(reason, "reason")
    stocktake = claim_stocktake(
        session,
        stocktake_id,
        from_states=(StocktakeStatus.COUNTING, StocktakeStatus.SUBMITTED),
        to_state=StocktakeStatus.CANCELLED,
        values=stamp("cancelled", actor),
    )
    record(
        session,
        actor=actor,
        action="cancel",
        obj=stocktake,
        label=stocktake.no,
        before={"status": before},
        after={"status": stocktake.status, "reason": reason},
    )
    return stocktake
