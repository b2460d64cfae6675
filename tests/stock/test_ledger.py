from datetime import date, timedelta

import pytest
from sqlalchemy import func, select, update

from reserve.errors import Conflict, InsufficientStock, NotFound, ValidationError
from reserve.stock import ledger
from reserve.stock.models import (
    ClosedMonth,
    MovementKind,
    ReservationStatus,
    SerialItem,
    StockBalance,
    StockMovement,
    StockReservation,
)
from tests.stock.conftest import post, reserve


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
    reserve(db, place, 4)
    before = _counts(db)
    with pytest.raises(InsufficientStock) as error:
        post(db, place, -7)
    message = str(error.value.message)
    assert "单帐篷" in message and "测试库" in message and "A-01-01" in message
    assert "6" in message and error.value.details["available"] == 6
    assert _counts(db) == before


def test_a_reservation_is_a_row_with_who_and_which_document(db, place, make_user):
    from reserve.auth.actor import Actor
    from reserve.auth.models import Role

    keeper = Actor.for_user(make_user(Role.KEEPER, warehouses=[place.warehouse]))
    post(db, place, 10)
    reservation = ledger.reserve(
        db,
        location_id=place.a1.id,
        batch_id=place.batch.id,
        qty=4,
        document=ledger.DocumentRef("order", 42, "DB-1", date.today()),
        line_id=7,
        actor=keeper,
    )
    assert (reservation.document_type, reservation.document_id, reservation.line_id) == (
        "order",
        42,
        7,
    )
    assert (reservation.user_id, reservation.username) == (keeper.user_id, keeper.username)
    assert (reservation.material_id, reservation.warehouse_id) == (
        place.material.id,
        place.warehouse.id,
    )
    assert reservation.status == ReservationStatus.OPEN.value and reservation.created_at
    assert _balance(db, place).reserved == 4
    assert ledger.verify(db) == []


def test_reserving_more_than_available_is_refused_and_changes_nothing(db, place):
    post(db, place, 10)
    reserve(db, place, 7)
    with pytest.raises(InsufficientStock):
        reserve(db, place, 4)
    assert _balance(db, place).reserved == 7
    assert db.scalar(select(func.count()).select_from(StockReservation)) == 1


def test_issue_from_reserved_consumes_the_reservation(db, place):
    post(db, place, 10)
    reservation = reserve(db, place, 4)
    post(db, place, -3, from_reserved=reservation.id)
    db.refresh(reservation)
    assert (reservation.consumed_qty, reservation.status) == (3, ReservationStatus.OPEN.value)
    assert (_balance(db, place).qty, _balance(db, place).reserved) == (7, 1)
    post(db, place, -1, from_reserved=reservation.id)
    db.refresh(reservation)
    assert (reservation.consumed_qty, reservation.status) == (4, ReservationStatus.CONSUMED.value)
    assert reservation.closed_at is not None
    balance = _balance(db, place)
    assert (balance.qty, balance.reserved) == (6, 0)
    assert ledger.verify(db) == []


def test_shipping_more_than_the_reservation_holds_is_refused(db, place):
    post(db, place, 10)
    small = reserve(db, place, 2)
    reserve(db, place, 5)  # the balance has 7 reserved, but this reservation only 2
    before = _counts(db)
    with pytest.raises(Conflict, match="2"):
        post(db, place, -3, from_reserved=small.id)
    assert _counts(db) == before and _balance(db, place).reserved == 7


def test_shipping_from_a_reservation_of_another_balance_is_refused(db, place):
    post(db, place, 10)
    post(db, place, 10, location=place.a2)
    elsewhere = reserve(db, place, 5, location=place.a2)
    with pytest.raises(Conflict):
        post(db, place, -5, from_reserved=elsewhere.id)
    with pytest.raises(NotFound):
        post(db, place, -1, from_reserved=elsewhere.id + 1000)
    assert _balance(db, place).qty == 10 and _balance(db, place, place.a2).reserved == 5


def test_release_part_then_the_rest(db, place):
    post(db, place, 10)
    reservation = reserve(db, place, 5)
    ledger.release(db, reservation_id=reservation.id, qty=2, actor=place.actor)
    assert (reservation.released_qty, reservation.status) == (2, ReservationStatus.OPEN.value)
    assert _balance(db, place).reserved == 3
    with pytest.raises(Conflict):
        ledger.release(db, reservation_id=reservation.id, qty=4, actor=place.actor)
    ledger.release(db, reservation_id=reservation.id, actor=place.actor)  # all that is open
    assert (reservation.released_qty, reservation.status) == (5, ReservationStatus.RELEASED.value)
    assert reservation.released_by == place.actor.username and reservation.closed_at
    assert _balance(db, place).reserved == 0
    with pytest.raises(Conflict):
        ledger.release(db, reservation_id=reservation.id, actor=place.actor)
    assert ledger.verify(db) == []


def test_the_database_refuses_a_reservation_of_nothing(db, place):
    import sqlalchemy as sa

    post(db, place, 10)
    reservation = reserve(db, place, 3)
    with pytest.raises(sa.exc.IntegrityError), db.begin_nested(), ledger._ledger_writes():
        db.execute(
            update(StockReservation)
            .where(StockReservation.id == reservation.id)
            .values(consumed_qty=3, released_qty=1)
        )
    with pytest.raises(sa.exc.IntegrityError), db.begin_nested(), ledger._ledger_writes():
        db.execute(
            update(StockReservation).where(StockReservation.id == reservation.id).values(qty=0)
        )


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
    assert len(found) == 1 and found[0].kind is ledger.DiscrepancyKind.QTY
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
    from reserve.db import local_today
    from reserve.stock.queries import fefo_sources

    today = local_today()  # dates relative to today: an expired batch is never offered
    late = make_batch(place.material, "LATE", expiry=today + timedelta(days=180))
    early = make_batch(place.material, "EARLY", expiry=today + timedelta(days=30))
    post(db, place, 5, batch=place.batch)  # no expiry, received first
    post(db, place, 5, batch=late)
    post(db, place, 5, batch=early, location=place.a2)
    post(db, place, 4, batch=place.batch2)  # no expiry, received later
    reserve(db, place, 5, batch=late)  # none available
    order = [s.batch_no for s in fefo_sources(db, material_id=place.material.id)]
    assert order == ["EARLY", "B1", "B2"]
    assert fefo_sources(db, material_id=place.material.id, warehouse_ids=[]) == []


def test_every_movement_of_a_serial_material_names_its_items_its_reversal_too(
    db, place, make_material, make_batch
):
    pump = make_material("排水泵", code="PUMP", unit="台", tracking="serial")
    batch = make_batch(pump, "P-1")
    before = db.scalar(select(func.count()).select_from(StockMovement))
    with pytest.raises(ValidationError, match="serial"):
        post(db, place, 2, batch=batch)  # two pumps, but which?
    assert db.scalar(select(func.count()).select_from(StockMovement)) == before
    post(db, place, 2, batch=batch, serial_nos=("SN-1", "SN-2"))
    issue = post(db, place, -1, batch=batch, serial_nos=("SN-1",))
    with pytest.raises(ValidationError, match="serial"):
        ledger.reverse_movement(
            db, movement_id=issue.id, actor=place.actor, reason="发错", document_date=date.today()
        )
    ledger.reverse_movement(
        db,
        movement_id=issue.id,
        actor=place.actor,
        reason="发错",
        document_date=date.today(),
        serial_nos=("SN-1",),
    )
    items = db.scalars(select(SerialItem).where(SerialItem.batch_id == batch.id)).all()
    assert {(i.serial_no, i.status, i.location_id) for i in items} == {
        ("SN-1", "in_stock", place.a1.id),
        ("SN-2", "in_stock", place.a1.id),
    }
    assert ledger.verify(db) == []
