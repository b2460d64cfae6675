"""Scan operations (扫码移库, 扫码盘点): each client operation id applied at most once, a replay
answered with the first result, and a replay that no longer fits refused as a conflict —
nothing changed, the movements counted before and after."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from reserve.audit.models import AuditEntry
from reserve.errors import Forbidden, ValidationError
from reserve.labels.codes import ALPHABET
from reserve.labels.models import Label
from reserve.labels.operations import (
    ScanConflict,
    refused_code,
    scan_count,
    scan_move,
    scan_target,
)
from reserve.labels.scan_models import ScanOperation
from reserve.labels.service import UnreadableCode
from reserve.stock.service import move_stock
from reserve.stocktakes.models import StocktakeLine
from reserve.stocktakes.service import cancel_stocktake, open_stocktake
from tests.labels.scan.conftest import movements, on_hand

OP = "0b7f3c2e-5d1a-4f7e-9a61-1c2d3e4f5a6b"


def _move(db, world, key, *, op=OP, qty=4, to=None, code=None):
    return scan_move(
        db,
        actor=world.actor,
        operation_id=op,
        code=code or world.stock_code,
        to=to or world.a2_code,
        qty=qty,
        key=key,
    )


def _operations(db) -> int:
    return db.scalar(sa.select(sa.func.count()).select_from(ScanOperation))


def test_a_scanned_move_moves_the_stock_and_keeps_its_operation_id(db, scan_world, scan_key):
    before = movements(db)
    applied = _move(db, scan_world, scan_key)
    assert not applied.replayed and applied.kind == "move"
    assert on_hand(db, scan_world.a1, scan_world.batch) == 6
    assert on_hand(db, scan_world.a2, scan_world.batch) == 4
    assert movements(db) == before + 2  # out of A-01-01, into A-01-02
    row = db.scalar(sa.select(ScanOperation).where(ScanOperation.operation_id == OP))
    assert row.stock_move_id == applied.result["move"]["id"]
    assert "A-01-02" in applied.result["message"]


def test_a_replay_of_an_applied_operation_returns_the_first_answer_and_moves_nothing(
    db, scan_world, scan_key
):
    first = _move(db, scan_world, scan_key)
    before = movements(db)
    again = _move(db, scan_world, scan_key)
    assert again.replayed and again.result == first.result
    assert movements(db) == before and _operations(db) == 1
    assert on_hand(db, scan_world.a2, scan_world.batch) == 4


def test_the_same_operation_id_for_another_operation_is_a_conflict(db, scan_world, scan_key):
    _move(db, scan_world, scan_key, qty=4)
    before = movements(db)
    with pytest.raises(ScanConflict) as refused:
        _move(db, scan_world, scan_key, qty=5)
    assert refused.value.status == 409 and "different operation" in str(refused.value.message)
    assert movements(db) == before


def test_a_typed_location_code_is_a_target_too(db, scan_world, scan_key):
    _move(db, scan_world, scan_key, to=" b-01-01 ")
    assert on_hand(db, scan_world.b1, scan_world.batch) == 4


def test_moving_more_than_is_there_is_a_conflict_that_changes_nothing(db, scan_world, scan_key):
    before = movements(db)
    with pytest.raises(ScanConflict) as refused, db.begin_nested():
        _move(db, scan_world, scan_key, qty=11)
    message = str(refused.value.message)
    assert "Only 10" in message and "Nothing was moved" in message
    assert movements(db) == before and _operations(db) == 0
    # nothing was applied under that id: the keeper's retry with the right quantity goes through
    assert not _move(db, scan_world, scan_key, qty=10).replayed
    assert on_hand(db, scan_world.a1, scan_world.batch) == 0


def test_a_queued_move_replayed_after_the_stock_moved_meanwhile_is_a_conflict(
    db, scan_world, scan_key
):
    move_stock(  # someone else moved most of it while the phone was offline
        db,
        warehouse_id=scan_world.warehouse.id,
        from_location_id=scan_world.a1.id,
        to_location_id=scan_world.b1.id,
        batch_id=scan_world.batch.id,
        qty=7,
        actor=scan_world.actor,
    )
    before = movements(db)
    with pytest.raises(ScanConflict) as refused, db.begin_nested():
        _move(db, scan_world, scan_key, qty=8)
    assert "Only 3" in str(refused.value.message)
    assert movements(db) == before


def test_a_revoked_label_no_longer_moves(db, scan_world, scan_key):
    label = db.get(Label, scan_world.stock.id)
    label.revoked_at, label.revoked_by_name, label.revoke_reason = sa.func.now(), "test", "丢失"
    db.flush()
    before = movements(db)
    with pytest.raises(ScanConflict) as refused:
        _move(db, scan_world, scan_key)
    assert "revoked" in str(refused.value.message)
    assert movements(db) == before


def test_another_warehouses_label_is_refused(db, scan_world, scan_key):
    before = movements(db)
    with pytest.raises(Forbidden) as refused:
        _move(db, scan_world, scan_key, code=scan_world.far_code)
    assert "do not keep" in str(refused.value.message)
    with pytest.raises(Forbidden):  # a location of another warehouse as the target
        _move(db, scan_world, scan_key, op=OP + "x", to=scan_world.far_location_code)
    assert movements(db) == before


def test_a_stock_label_is_not_a_target_location(db, scan_world, scan_key):
    with pytest.raises(ValidationError) as refused:
        _move(db, scan_world, scan_key, to=scan_world.stock_code)
    assert refused.value.field == "to"


def _one_changed(code: str) -> str:
    swap = ALPHABET[(ALPHABET.index(code[3]) + 1) % len(ALPHABET)]
    return code[:3] + swap + code[4:]


def test_a_code_with_one_character_changed_is_refused_and_logged(db, scan_world, scan_key):
    before = movements(db)
    bad = _one_changed(scan_world.stock_code)
    refused = refused_code(db, scan_world.actor, code=bad, key=scan_key)
    assert isinstance(refused, UnreadableCode) and refused.reason == "mac"
    assert db.scalar(
        sa.select(sa.func.count()).select_from(AuditEntry).where(AuditEntry.action == "refuse_code")
    )
    with pytest.raises(UnreadableCode):
        _move(db, scan_world, scan_key, code=bad)
    assert movements(db) == before


def test_a_location_code_typed_as_the_target_is_not_a_refused_label(db, scan_world, scan_key):
    assert (
        refused_code(db, scan_world.actor, code=scan_world.stock_code, to="A-01-02", key=scan_key)
        is None
    )
    bad_target = _one_changed(scan_world.a2_code)
    assert refused_code(
        db, scan_world.actor, code=scan_world.stock_code, to=bad_target, key=scan_key
    )


@pytest.mark.parametrize(
    "text, words",
    [("", "Nothing was scanned"), ("   ", "Nothing was scanned"), ("X" * 10_240, "not a label")],
)
def test_an_empty_scan_or_a_long_paste_is_refused_with_a_message(
    db, scan_world, scan_key, text, words
):
    before = movements(db)
    with pytest.raises(ValidationError) as refused:
        scan_target(db, scan_world.actor, text, key=scan_key)
    assert words in str(refused.value.message)
    with pytest.raises(ValidationError):
        _move(db, scan_world, scan_key, code=text or " ")
    assert movements(db) == before


@pytest.fixture
def counting(db, scan_world):
    return open_stocktake(db, warehouse_id=scan_world.warehouse.id, actor=scan_world.actor)


def _count(db, world, key, *, op=OP, qty=9, **fields):
    return scan_count(
        db,
        actor=world.actor,
        operation_id=op,
        code=world.stock_code,
        counted_qty=qty,
        key=key,
        **fields,
    )


def _line(db, stocktake, world) -> StocktakeLine:
    return db.scalar(
        sa.select(StocktakeLine).where(
            StocktakeLine.stocktake_id == stocktake.id,
            StocktakeLine.location_id == world.a1.id,
            StocktakeLine.batch_id == world.batch.id,
        )
    )


def test_a_scanned_count_is_recorded_in_the_open_stocktake_once(db, scan_world, scan_key, counting):
    applied = _count(db, scan_world, scan_key, replaces="none")
    line = _line(db, counting, scan_world)
    assert (line.counted_qty, line.variance) == (9, -1)
    assert applied.result["count"]["stocktake_no"] == counting.no
    again = _count(db, scan_world, scan_key, replaces="none")
    assert again.replayed and again.result == applied.result


def test_a_count_recorded_meanwhile_is_a_conflict_not_an_overwrite(
    db, scan_world, scan_key, counting
):
    _count(db, scan_world, scan_key, op="first-count-0001", qty=7)
    with pytest.raises(ScanConflict) as refused, db.begin_nested():  # the request's rollback
        _count(db, scan_world, scan_key, qty=9, replaces="none")
    assert refused.value.details["counted_qty"] == 7
    assert _line(db, counting, scan_world).counted_qty == 7
    # the keeper saw it and chose to replace it: retried with what is there now
    _count(db, scan_world, scan_key, qty=9, replaces="7")
    assert _line(db, counting, scan_world).counted_qty == 9


def test_a_count_replayed_after_the_stocktake_closed_is_a_conflict(
    db, scan_world, scan_key, counting
):
    cancel_stocktake(db, stocktake_id=counting.id, actor=scan_world.actor, reason="重来")
    with pytest.raises(ScanConflict) as refused, db.begin_nested():
        _count(db, scan_world, scan_key, stocktake_id=counting.id)
    assert counting.no in str(refused.value.message)
    with pytest.raises(ScanConflict), db.begin_nested():  # none named: and none is open
        _count(db, scan_world, scan_key)
    assert _operations(db) == 0


def test_an_operation_id_is_checked(db, scan_world, scan_key):
    with pytest.raises(ValidationError) as refused:
        _move(db, scan_world, scan_key, op="short")
    assert refused.value.field == "operation_id"


@pytest.fixture
def generator(db, scan_world, scan_key, make_material, system_actor):
    """A serial-tracked generator at A-01-01, with its item label."""
    from datetime import date

    from reserve.labels.models import LabelKind
    from reserve.stock import ledger
    from reserve.stock.models import Batch, MovementKind, SerialItem

    material = make_material("柴油发电机", unit="台", tracking="serial")
    batch = Batch(material_id=material.id, batch_no="G-2026", source="purchase")
    db.add(batch)
    db.flush()
    ledger.post_movement(
        db,
        kind=MovementKind.RECEIPT,
        location_id=scan_world.a1.id,
        batch_id=batch.id,
        qty=1,
        document=ledger.DocumentRef("test", None, "TEST", date.today()),
        actor=system_actor,
        serial_nos=["GEN-001"],
    )
    item = db.scalar(sa.select(SerialItem).where(SerialItem.serial_no == "GEN-001"))
    label = Label(
        kind=LabelKind.ITEM.value,
        warehouse_id=scan_world.warehouse.id,
        serial_item_id=item.id,
        batch_id=batch.id,
        first_printed_by_name="test",
    )
    db.add(label)
    db.flush()
    return item, scan_world.code(label)


def test_a_scanned_serial_item_moves_as_one_unit(db, scan_world, scan_key, generator):
    item, code = generator
    with pytest.raises(ValidationError) as refused, db.begin_nested():
        _move(db, scan_world, scan_key, code=code, qty=2)
    assert refused.value.field == "qty"
    applied = _move(db, scan_world, scan_key, code=code, qty=1)
    assert applied.result["move"]["serial_no"] == "GEN-001"
    db.refresh(item)
    assert item.location_id == scan_world.a2.id


def test_a_scanned_serial_item_counts_as_here(db, scan_world, scan_key, generator, counting):
    item, code = generator
    applied = scan_count(
        db, actor=scan_world.actor, operation_id=OP, code=code, counted_qty=1, key=scan_key
    )
    assert applied.result["count"]["counted_qty"] == 1
    assert applied.result["count"]["serial_no"] == "GEN-001"
