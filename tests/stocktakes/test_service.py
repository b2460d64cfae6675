"""盘点 services: the snapshot, counts, submission, approval through the ledger, and every way a
bad count or a wrong person is refused without changing anything."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from reserve.audit.models import AuditEntry
from reserve.auth.actor import Actor
from reserve.auth.models import Role
from reserve.errors import Conflict, Forbidden, InsufficientStock, NotFound, ValidationError
from reserve.stock.ledger import PeriodClosed, verify
from reserve.stock.models import (
    ClosedMonth,
    ItemStatus,
    MovementKind,
    SerialItem,
    StockBalance,
    StockMovement,
)
from reserve.stocktakes import service
from reserve.stocktakes.models import StocktakeLine, StocktakeStatus


def lines_of(db, stocktake) -> dict[tuple[int, int], StocktakeLine]:
    rows = db.scalars(select(StocktakeLine).where(StocktakeLine.stocktake_id == stocktake.id))
    return {(line.location_id, line.batch_id): line for line in rows}


def balance(db, location, batch) -> int:
    return (
        db.scalar(
            select(StockBalance.qty).where(
                StockBalance.location_id == location.id, StockBalance.batch_id == batch.id
            )
        )
        or 0
    )


def open_(db, s, **fields):
    return service.open_stocktake(db, warehouse_id=s.warehouse.id, actor=s.keeper_actor, **fields)


def count(db, s, stocktake, location, batch, qty, reason=None, actor=None, **fields):
    return service.record_count(
        db,
        stocktake_id=stocktake.id,
        location_id=location.id,
        batch_id=batch.id,
        counted_qty=qty,
        reason=reason,
        actor=actor or s.keeper_actor,
        **fields,
    )


def count_all(db, s, stocktake, **overrides):
    """Count every expected line at its book quantity, except the overrides (qty, reason)."""
    for (location_id, batch_id), line in lines_of(db, stocktake).items():
        qty, reason = overrides.get((location_id, batch_id), (line.system_qty, None))
        service.record_count(
            db,
            stocktake_id=stocktake.id,
            location_id=location_id,
            batch_id=batch_id,
            counted_qty=qty,
            reason=reason,
            actor=s.keeper_actor,
        )


# 开始盘点 ------------------------------------------------------------


def test_opening_snapshots_every_balance_in_scope_with_stock(db, stocked, move, make_batch):
    s = stocked
    empty = make_batch(s.tent, "T-EMPTY")
    move(s.shelf, empty, 4)
    move(s.shelf, empty, -4, MovementKind.ISSUE)  # a balance at zero is not expected
    stocktake = open_(db, s, note="月度盘点")
    assert stocktake.no.startswith("PD") and stocktake.status == StocktakeStatus.COUNTING
    lines = lines_of(db, stocktake)
    assert {key: line.system_qty for key, line in lines.items()} == {
        (s.shelf.id, s.tent_batch.id): 10,
        (s.shelf.id, s.quilt_batch.id): 5,
        (s.recv.id, s.quilt_batch.id): 3,
    }
    assert all(line.counted_qty is None and not line.is_found for line in lines.values())
    entry = db.scalar(select(AuditEntry).where(AuditEntry.object_type == "stocktakes"))
    assert entry.action == "create" and entry.after["lines"] == 3


def test_a_scope_of_locations_or_categories_limits_the_snapshot(db, stocked):
    s = stocked
    by_location = open_(db, s, location_ids=[s.recv.id])
    assert set(lines_of(db, by_location)) == {(s.recv.id, s.quilt_batch.id)}
    service.cancel_stocktake(db, stocktake_id=by_location.id, actor=s.keeper_actor)
    by_category = open_(db, s, category_ids=[s.tent.category_id])
    assert set(lines_of(db, by_category)) == {(s.shelf.id, s.tent_batch.id)}


def test_opening_is_refused_outside_the_keepers_warehouse(db, stocked, make_warehouse, make_user):
    s = stocked
    other = make_warehouse()
    with pytest.raises(Forbidden):
        service.open_stocktake(db, warehouse_id=other.id, actor=s.keeper_actor)
    from reserve.warehouses.models import Location

    foreign = db.scalar(select(Location).where(Location.warehouse_id == other.id))
    with pytest.raises(ValidationError) as error:
        open_(db, s, location_ids=[foreign.id])
    assert error.value.field == "location_ids"
    with pytest.raises(Forbidden):
        service.open_stocktake(
            db, warehouse_id=s.warehouse.id, actor=Actor.for_user(make_user(Role.DISPATCHER))
        )
    assert db.scalar(select(func.count()).select_from(StocktakeLine)) == 0


def test_two_open_stocktakes_may_not_count_the_same_stock(db, stocked):
    s = stocked
    first = open_(db, s, location_ids=[s.shelf.id])
    with pytest.raises(Conflict, match=first.no):
        open_(db, s)
    with pytest.raises(Conflict):
        open_(db, s, category_ids=[s.tent.category_id])
    open_(db, s, location_ids=[s.recv.id])  # another part of the warehouse: allowed


# 盘点录入 ------------------------------------------------------------


def test_a_count_records_book_qty_at_that_moment_and_a_recount_replaces_it(db, stocked, move):
    s = stocked
    stocktake = open_(db, s)
    line = count(db, s, stocktake, s.shelf, s.tent_batch, 8, reason="破损两顶")
    assert (line.system_qty, line.counted_qty, line.variance) == (10, 8, -2)
    assert line.counted_by_id == s.keeper.id and line.counted_at is not None
    move(s.shelf, s.tent_batch, 5)  # a receipt lands while counting
    line = count(db, s, stocktake, s.shelf, s.tent_batch, 15)
    assert (line.system_qty, line.counted_qty, line.variance) == (15, 15, 0)
    assert line.reason == "破损两顶"  # no reason given: the earlier one stays
    line = count(db, s, stocktake, s.shelf, s.tent_batch, 0, reason="")
    assert (line.counted_qty, line.variance, line.reason) == (0, -15, None)
    assert len(lines_of(db, stocktake)) == 3


@pytest.mark.parametrize("qty", [-1, 1.5, "3", True, None, 10**9 + 1])
def test_bad_quantities_change_nothing(db, stocked, qty):
    s = stocked
    stocktake = open_(db, s)
    audits = db.scalar(select(func.count()).select_from(AuditEntry))
    with pytest.raises(ValidationError) as error:
        count(db, s, stocktake, s.shelf, s.tent_batch, qty)
    assert error.value.field == "counted_qty"
    line = lines_of(db, stocktake)[(s.shelf.id, s.tent_batch.id)]
    assert line.counted_qty is None and line.counted_by_id is None
    assert db.scalar(select(func.count()).select_from(AuditEntry)) == audits


def test_found_stock_of_a_known_batch_is_a_new_line(db, stocked, make_batch):
    s = stocked
    stocktake = open_(db, s)
    line = count(db, s, stocktake, s.recv, s.tent_batch, 2, reason="收货区发现")
    assert line.is_found and (line.system_qty, line.variance) == (0, 2)
    with pytest.raises(NotFound, match="received first"):
        service.resolve_batch(db, batch_no="NO-SUCH", material_code=s.tent.code)
    assert (
        service.resolve_batch(db, batch_no="T-2026-01", material_code=s.tent.code.lower())
        == s.tent_batch.id
    )
    assert (
        service.resolve_location(db, warehouse_id=s.warehouse.id, location_code="a-01-01")
        == s.shelf.id
    )
    with pytest.raises(ValidationError):
        service.resolve_location(db, warehouse_id=s.warehouse.id, location_code="Z-99")


def test_counts_outside_the_scope_or_warehouse_are_refused(db, stocked, make_warehouse):
    s = stocked
    stocktake = open_(db, s, location_ids=[s.shelf.id], category_ids=[s.tent.category_id])
    with pytest.raises(ValidationError, match="RECV"):
        count(db, s, stocktake, s.recv, s.tent_batch, 1)
    with pytest.raises(ValidationError, match="棉被"):
        count(db, s, stocktake, s.shelf, s.quilt_batch, 1)
    other = make_warehouse()
    from reserve.warehouses.models import Location

    foreign = db.scalar(select(Location).where(Location.warehouse_id == other.id))
    with pytest.raises(ValidationError):
        count(db, s, stocktake, foreign, s.tent_batch, 1)
    assert len(lines_of(db, stocktake)) == 1


def test_a_keeper_of_another_warehouse_is_refused(db, stocked, make_user, make_warehouse):
    s = stocked
    stocktake = open_(db, s)
    stranger = Actor.for_user(make_user(Role.KEEPER, warehouses=[make_warehouse()]))
    with pytest.raises(Forbidden):
        service.get_stocktake(db, stocktake.id, actor=stranger)
    with pytest.raises(Forbidden):
        count(db, s, stocktake, s.shelf, s.tent_batch, 10, actor=stranger)
    with pytest.raises(Forbidden):
        service.submit_stocktake(db, stocktake_id=stocktake.id, actor=stranger)
    with pytest.raises(Forbidden):
        service.cancel_stocktake(db, stocktake_id=stocktake.id, actor=stranger)
    assert service.get_stocktake(db, stocktake.id, actor=s.approver_actor) is stocktake
    with pytest.raises(NotFound):
        service.get_stocktake(db, 999_999, actor=s.keeper_actor)


def test_serial_items_count_once_where_last_scanned(db, stocked, make_material, make_batch, move):
    s = stocked
    pump = make_material("排水泵", unit="台", tracking="serial")
    batch = make_batch(pump, "P-1")
    move(s.shelf, batch, 2, serial_nos=("SN-1", "SN-2"))
    stocktake = open_(db, s)
    line = count(db, s, stocktake, s.shelf, batch, 1, serial_no="SN-1")
    line = count(db, s, stocktake, s.shelf, batch, 1, serial_no="SN-1")  # scanned twice
    assert (line.counted_qty, line.variance) == (1, -1)
    found = count(db, s, stocktake, s.recv, batch, 1, serial_no="SN-1", reason="放错位置")
    assert found.counted_qty == 1 and line.counted_qty == 0  # it moved: counted there, not here
    line = count(db, s, stocktake, s.shelf, batch, 1, serial_no="SN-2")
    assert line.counted_qty == 1
    with pytest.raises(NotFound, match="SN-9"):
        count(db, s, stocktake, s.shelf, batch, 1, serial_no="SN-9")
    with pytest.raises(ValidationError):
        count(db, s, stocktake, s.shelf, batch, 2, serial_no="SN-2")
    with pytest.raises(ValidationError):
        count(db, s, stocktake, s.shelf, s.tent_batch, 1, serial_no="SN-2")
    line = count(db, s, stocktake, s.shelf, batch, 2)  # a count by number replaces the scans
    assert line.counted_qty == 2


def test_find_open_stocktake_for_a_scan(db, stocked):
    s = stocked
    assert service.find_open_stocktake(db, location_id=s.shelf.id, material_id=s.tent.id) is None
    stocktake = open_(db, s, location_ids=[s.shelf.id])
    assert (
        service.find_open_stocktake(db, location_id=s.shelf.id, material_id=s.tent.id) is stocktake
    )
    assert service.find_open_stocktake(db, location_id=s.recv.id, material_id=s.tent.id) is None


# 提交、审核 ------------------------------------------------------------


def test_submit_refuses_uncounted_lines_saying_how_many(db, stocked):
    s = stocked
    stocktake = open_(db, s)
    count(db, s, stocktake, s.shelf, s.tent_batch, 10)
    with pytest.raises(ValidationError, match="uncounted lines: 2"):
        service.submit_stocktake(db, stocktake_id=stocktake.id, actor=s.keeper_actor)
    assert stocktake.status == StocktakeStatus.COUNTING


def test_submit_refuses_a_difference_without_a_reason(db, stocked):
    s = stocked
    stocktake = open_(db, s)
    count_all(db, s, stocktake, **{})
    count(db, s, stocktake, s.recv, s.quilt_batch, 2)
    with pytest.raises(ValidationError, match="RECV 棉被 Q-2026-01"):
        service.submit_stocktake(db, stocktake_id=stocktake.id, actor=s.keeper_actor)
    count(db, s, stocktake, s.recv, s.quilt_batch, 2, reason="受潮报废未入账")
    service.submit_stocktake(db, stocktake_id=stocktake.id, actor=s.keeper_actor)
    assert stocktake.status == StocktakeStatus.SUBMITTED
    assert stocktake.submitted_by_id == s.keeper.id
    with pytest.raises(Conflict):
        count(db, s, stocktake, s.recv, s.quilt_batch, 3)


def test_approval_posts_surplus_and_shortage_and_balances_equal_the_counts(db, stocked):
    s = stocked
    stocktake = open_(db, s)
    count(db, s, stocktake, s.shelf, s.tent_batch, 8, reason="破损两顶")
    count(db, s, stocktake, s.shelf, s.quilt_batch, 5)
    count(db, s, stocktake, s.recv, s.quilt_batch, 4, reason="多收一床")
    count(db, s, stocktake, s.recv, s.tent_batch, 1, reason="收货区发现")
    service.submit_stocktake(db, stocktake_id=stocktake.id, actor=s.keeper_actor)
    movements = service.approve_stocktake(db, stocktake_id=stocktake.id, actor=s.approver_actor)
    posted = {(m.location_id, m.batch_id): (m.kind, m.qty, m.note) for m in movements}
    assert posted == {
        (s.shelf.id, s.tent_batch.id): (MovementKind.LOSS, -2, "破损两顶"),
        (s.recv.id, s.quilt_batch.id): (MovementKind.GAIN, 1, "多收一床"),
        (s.recv.id, s.tent_batch.id): (MovementKind.GAIN, 1, "收货区发现"),
    }
    assert all(
        m.document_type == "stocktake"
        and m.document_no == stocktake.no
        and m.document_id == stocktake.id
        for m in movements
    )
    for (location, batch), qty in {
        (s.shelf, s.tent_batch): 8,
        (s.shelf, s.quilt_batch): 5,
        (s.recv, s.quilt_batch): 4,
        (s.recv, s.tent_batch): 1,
    }.items():
        assert balance(db, location, batch) == qty
    assert verify(db) == []
    assert stocktake.status == StocktakeStatus.POSTED
    assert stocktake.approved_by_id == s.approver.id
    with pytest.raises(Conflict):
        service.approve_stocktake(db, stocktake_id=stocktake.id, actor=s.approver_actor)


def test_the_submitter_may_not_approve_and_a_keeper_may_not_either(db, stocked, make_user):
    s = stocked
    boss = make_user(Role.ADMIN)
    boss_actor = Actor.for_user(boss)
    stocktake = open_(db, s)
    count_all(db, s, stocktake)
    service.submit_stocktake(db, stocktake_id=stocktake.id, actor=boss_actor)
    with pytest.raises(Forbidden, match="segregation of duties"):
        service.approve_stocktake(db, stocktake_id=stocktake.id, actor=boss_actor)
    with pytest.raises(Forbidden):
        service.approve_stocktake(db, stocktake_id=stocktake.id, actor=s.keeper_actor)
    assert stocktake.status == StocktakeStatus.SUBMITTED
    assert (
        db.scalar(
            select(func.count())
            .select_from(StockMovement)
            .where(StockMovement.document_type == "stocktake")
        )
        == 0
    )
    assert service.approve_stocktake(db, stocktake_id=stocktake.id, actor=s.approver_actor) == []


def test_reject_sends_it_back_to_counting_with_the_reason(db, stocked):
    s = stocked
    stocktake = open_(db, s)
    count_all(db, s, stocktake)
    service.submit_stocktake(db, stocktake_id=stocktake.id, actor=s.keeper_actor)
    with pytest.raises(ValidationError):
        service.reject_stocktake(db, stocktake_id=stocktake.id, reason="  ", actor=s.approver_actor)
    with pytest.raises(Forbidden):
        service.reject_stocktake(db, stocktake_id=stocktake.id, reason="x", actor=s.keeper_actor)
    service.reject_stocktake(
        db, stocktake_id=stocktake.id, reason="A-01-01 请复盘", actor=s.approver_actor
    )
    assert stocktake.status == StocktakeStatus.COUNTING
    assert stocktake.reject_reason == "A-01-01 请复盘" and stocktake.submitted_by_id is None
    count(db, s, stocktake, s.shelf, s.tent_batch, 10)  # counting again
    service.submit_stocktake(db, stocktake_id=stocktake.id, actor=s.keeper_actor)
    assert stocktake.status == StocktakeStatus.SUBMITTED


def test_cancel_before_posting_only(db, stocked):
    s = stocked
    stocktake = open_(db, s)
    service.cancel_stocktake(db, stocktake_id=stocktake.id, actor=s.keeper_actor, reason="重开")
    assert stocktake.status == StocktakeStatus.CANCELLED
    with pytest.raises(Conflict):
        service.cancel_stocktake(db, stocktake_id=stocktake.id, actor=s.keeper_actor)
    with pytest.raises(Conflict):
        count(db, s, stocktake, s.shelf, s.tent_batch, 10)
    posted = open_(db, s)  # the cancelled one no longer blocks a new one
    count_all(db, s, posted)
    service.submit_stocktake(db, stocktake_id=posted.id, actor=s.keeper_actor)
    service.approve_stocktake(db, stocktake_id=posted.id, actor=s.approver_actor)
    with pytest.raises(Conflict):
        service.cancel_stocktake(db, stocktake_id=posted.id, actor=s.keeper_actor)


def test_nothing_posts_into_a_closed_month(db, stocked):
    s = stocked
    stocktake = open_(db, s)
    count_all(db, s, stocktake)
    count(db, s, stocktake, s.shelf, s.tent_batch, 9, reason="丢失")
    service.submit_stocktake(db, stocktake_id=stocktake.id, actor=s.keeper_actor)
    db.add(ClosedMonth(month=service.local_today().strftime("%Y-%m"), closed_by="test"))
    db.flush()
    with pytest.raises(PeriodClosed):
        service.approve_stocktake(db, stocktake_id=stocktake.id, actor=s.approver_actor)
    assert stocktake.status == StocktakeStatus.SUBMITTED
    assert balance(db, s.shelf, s.tent_batch) == 10


def test_stock_that_moved_since_counting_makes_the_whole_approval_fail(db, stocked, move):
    s = stocked
    stocktake = open_(db, s)
    count(db, s, stocktake, s.shelf, s.tent_batch, 10)
    count(db, s, stocktake, s.recv, s.quilt_batch, 4, reason="多收一床")
    count(db, s, stocktake, s.shelf, s.quilt_batch, 1, reason="短少四床")
    service.submit_stocktake(db, stocktake_id=stocktake.id, actor=s.keeper_actor)
    move(s.shelf, s.quilt_batch, -3, MovementKind.ISSUE)  # issued after the count: 2 left
    with pytest.raises(InsufficientStock), db.begin_nested():  # the caller's rollback
        service.approve_stocktake(db, stocktake_id=stocktake.id, actor=s.approver_actor)
    db.expire_all()
    assert service.get_stocktake(db, stocktake.id).status == StocktakeStatus.SUBMITTED
    assert (
        db.scalar(
            select(func.count())
            .select_from(StockMovement)
            .where(StockMovement.document_type == "stocktake")
        )
        == 0
    )
    assert balance(db, s.recv, s.quilt_batch) == 3


# 单品盘点的过账 ---------------------------------------------------------


@pytest.fixture
def pumps(db, stocked, make_material, make_batch, move):
    """Three numbered pumps on the shelf, one at the receiving area."""
    s = stocked
    pump = make_material("排水泵", unit="台", tracking="serial")
    batch = make_batch(pump, "P-1")
    move(s.shelf, batch, 3, serial_nos=("SN-1", "SN-2", "SN-3"))
    move(s.recv, batch, 1, serial_nos=("SN-4",))
    return batch


def _items(db, batch):
    return {
        item.serial_no: (item.status, item.location_id)
        for item in db.scalars(select(SerialItem).where(SerialItem.batch_id == batch.id))
    }


def _submit_and_approve(db, s, stocktake):
    service.submit_stocktake(db, stocktake_id=stocktake.id, actor=s.keeper_actor)
    return service.approve_stocktake(db, stocktake_id=stocktake.id, actor=s.approver_actor)


def test_approval_writes_off_the_serial_items_not_found_and_books_those_found(db, stocked, pumps):
    s = stocked
    stocktake = open_(db, s)
    count_all(db, s, stocktake)  # quantities as booked; the pumps are then scanned one by one
    count(db, s, stocktake, s.shelf, pumps, 0, reason="未找到")  # nothing scanned yet
    for serial_no in ("SN-1", "SN-4"):  # SN-4 was booked at RECV: misplaced onto the shelf
        count(db, s, stocktake, s.shelf, pumps, 1, reason="盘点差异", serial_no=serial_no)
    count(db, s, stocktake, s.recv, pumps, 0, reason="放错位置")
    movements = _submit_and_approve(db, s, stocktake)
    items = _items(db, pumps)
    assert items["SN-1"] == ("in_stock", s.shelf.id)
    assert items["SN-4"] == ("in_stock", s.shelf.id)  # found on the shelf: booked there now
    assert items["SN-2"][0] == items["SN-3"][0] == "lost"  # not found anywhere
    kinds = sorted((m.kind, m.qty) for m in movements if m.batch_id == pumps.id)
    assert kinds == [("gain", 1), ("loss", -2), ("loss", -1)]
    assert verify(db) == []  # the balances and the items in stock agree
    assert ItemStatus("lost").label  # a status with a name in the reader's language


def test_two_swapped_items_are_booked_though_the_numbers_are_right(db, stocked, pumps):
    s = stocked
    stocktake = open_(db, s)
    count_all(db, s, stocktake)
    count(db, s, stocktake, s.shelf, pumps, 0)
    count(db, s, stocktake, s.recv, pumps, 0)
    for serial_no in ("SN-1", "SN-2", "SN-4"):  # SN-4 on the shelf, SN-3 at RECV: swapped
        count(db, s, stocktake, s.shelf, pumps, 1, serial_no=serial_no)
    line = count(db, s, stocktake, s.recv, pumps, 1, serial_no="SN-3")
    assert line.variance == 0  # three and one, as booked
    _submit_and_approve(db, s, stocktake)
    items = _items(db, pumps)
    assert items["SN-4"] == ("in_stock", s.shelf.id) and items["SN-3"] == ("in_stock", s.recv.id)
    assert verify(db) == []


def test_a_serial_line_that_differs_counted_by_number_is_refused_at_submission(db, stocked, pumps):
    s = stocked
    stocktake = open_(db, s)
    count_all(db, s, stocktake)
    count(db, s, stocktake, s.shelf, pumps, 2, reason="少一台")  # by number: which one?
    before = db.scalar(select(func.count()).select_from(StockMovement))
    with pytest.raises(ValidationError, match="serial number"):
        service.submit_stocktake(db, stocktake_id=stocktake.id, actor=s.keeper_actor)
    assert stocktake.status == StocktakeStatus.COUNTING
    assert db.scalar(select(func.count()).select_from(StockMovement)) == before
    assert _items(db, pumps)["SN-3"] == ("in_stock", s.shelf.id)
