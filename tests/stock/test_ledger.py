from datetime import date

import pytest
from sqlalchemy import func, select, update

from reserve.errors import Conflict, InsufficientStock, ValidationError
from reserve.stock import ledger
from reserve.stock.models import ClosedMonth, MovementKind, StockBalance, StockMovement
from tests.stock.conftest import post


def _balance(db, place, location=None, batch=None):
    return db.scalar(
        select(StockBalance)
        .where(
            StockBalance.location_id == (location or place.a1).id,
            StockBalance.batch_id == (batch or place.batch).id,
        )
        .execution_options(populate_existing=True)
    )


def _counts(db):
    return (
        db.scalar(select(func.count()).select_from(StockMovement)),
        db.scalar(select(func.coalesce(func.sum(StockBalance.qty), 0))),
    )


def test_a_receipt_creates_the_balance_and_an_immutable_movement(db, place):
    movement = post(db, place, 100)
    assert movement.balance_after == 100 and movement.qty == 100
    assert movement.warehouse_id == place.warehouse.id
    assert movement.material_id == place.material.id
    balance = _balance(db, place)
    assert (balance.qty, balance.reserved) == (100, 0)
    post(db, place, -30)
    assert _balance(db, place).qty == 70
    assert ledger.verify(db) == []


def test_running_balance_after_each_movement(db, place):
    afters = [post(db, place, n).balance_after for n in (10, 5, -3, -12)]
    assert afters == [10, 15, 12, 0]


def test_decrement_past_available_is_refused_with_a_clear_message(db, place):
    post(db, place, 10)
    ledger.reserve_qty(db, location_id=place.a1.id, batch_id=place.batch.id, qty=4)
    before = _counts(db)
    with pytest.raises(InsufficientStock) as error:
        post(db, place, -7)
    message = str(error.value.message)
    assert "单帐篷" in message and "测试库" in message and "A-01-01" in message
    assert "6" in message and error.value.details["available"] == 6
    assert _counts(db) == before


def test_issue_from_reserved_consumes_the_reservation(db, place):
    post(db, place, 10)
    ledger.reserve_qty(db, location_id=place.a1.id, batch_id=place.batch.id, qty=4)
    post(db, place, -4, from_reserved=True)
    balance = _balance(db, place)
    assert (balance.qty, balance.reserved) == (6, 0)


def test_release_more_than_reserved_is_refused(db, place):
    post(db, place, 10)
    ledger.reserve_qty(db, location_id=place.a1.id, batch_id=place.batch.id, qty=2)
    with pytest.raises(Conflict):
        ledger.release_qty(db, location_id=place.a1.id, batch_id=place.batch.id, qty=3)
    ledger.release_qty(db, location_id=place.a1.id, batch_id=place.batch.id, qty=2)
    assert _balance(db, place).reserved == 0


@pytest.mark.parametrize("qty", [0, 1.5, True, "3", 10**9 + 1, -(10**9) - 1])
def test_bad_quantities_change_nothing(db, place, qty):
    post(db, place, 5)
    before = _counts(db)
    with pytest.raises(ValidationError):
        post(db, place, qty, kind=MovementKind.RECEIPT)
    assert _counts(db) == before


def test_the_sign_must_fit_the_kind(db, place):
    with pytest.raises(ValidationError):
        post(db, place, -5, kind=MovementKind.RECEIPT)
    with pytest.raises(ValidationError):
        post(db, place, 5, kind=MovementKind.SCRAP)


def test_nothing_posts_into_a_closed_month(db, place):
    db.add(ClosedMonth(month="2026-01", closed_by="test"))
    db.flush()
    with pytest.raises(ledger.PeriodClosed):
        post(db, place, 5, doc_date=date(2026, 1, 31))
    assert post(db, place, 5, doc_date=date(2026, 2, 1)).qty == 5


def test_a_backdated_document_keeps_posting_order(db, place):
    first = post(db, place, 10, doc_date=date(2026, 3, 10))
    second = post(db, place, 5, doc_date=date(2026, 2, 1))
    assert second.id > first.id and second.balance_after == 15
    assert db.get(StockMovement, first.id).balance_after == 10


def test_reversal_posts_the_opposite_and_only_once(db, place):
    original = post(db, place, 10)
    reversal = ledger.reverse_movement(
        db,
        movement_id=original.id,
        actor=place.actor,
        reason="录入错误",
        document_date=date.today(),
    )
    assert reversal.qty == -10 and reversal.reverses_id == original.id
    assert reversal.kind == MovementKind.REVERSAL.value
    assert _balance(db, place).qty == 0
    with pytest.raises(Conflict):
        ledger.reverse_movement(
            db,
            movement_id=original.id,
            actor=place.actor,
            reason="again",
            document_date=date.today(),
        )
    with pytest.raises(Conflict):
        ledger.reverse_movement(
            db, movement_id=reversal.id, actor=place.actor, reason="x", document_date=date.today()
        )


def test_a_reversal_that_would_go_negative_is_refused(db, place):
    original = post(db, place, 10)
    post(db, place, -8)
    with pytest.raises(InsufficientStock):
        ledger.reverse_movement(
            db, movement_id=original.id, actor=place.actor, reason="x", document_date=date.today()
        )


def test_verify_reports_a_tampered_balance(db, place):
    post(db, place, 10)
    post(db, place, 3, location=place.a2)
    assert ledger.verify(db) == []
    with ledger._ledger_writes():  # simulate corruption behind the ledger's back
        db.execute(
            update(StockBalance)
            .where(StockBalance.location_id == place.a2.id)
            .values(qty=7)
            .execution_options(synchronize_session=False)
        )
    found = ledger.verify(db)
    assert len(found) == 1
    assert (found[0].balance_qty, found[0].ledger_qty) == (7, 3)


def test_no_other_code_may_write_stock_tables(db, place):
    post(db, place, 10)
    balance = _balance(db, place)
    balance.qty = 999
    with pytest.raises(RuntimeError, match="only reserve.stock.ledger"):
        db.flush()
    db.rollback()


def test_no_other_code_may_run_dml_on_stock_tables(db, place):
    with pytest.raises(RuntimeError, match="only reserve.stock.ledger"):
        db.execute(update(StockBalance).values(qty=1))


def test_fefo_orders_by_expiry_then_receipt(db, place, make_batch):
    from reserve.stock.queries import fefo_sources

    late = make_batch(place.material, "LATE", expiry=date(2027, 6, 1))
    early = make_batch(place.material, "EARLY", expiry=date(2026, 12, 1))
    post(db, place, 5, batch=place.batch)  # no expiry, received first
    post(db, place, 5, batch=late)
    post(db, place, 5, batch=early, location=place.a2)
    post(db, place, 4, batch=place.batch2)  # no expiry, received later
    ledger.reserve_qty(db, location_id=place.a1.id, batch_id=late.id, qty=5)  # none available
    order = [s.batch_no for s in fefo_sources(db, material_id=place.material.id)]
    assert order == ["EARLY", "B1", "B2"]
    assert fefo_sources(db, material_id=place.material.id, warehouse_ids=[]) == []
