"""入库单: the ledger sums what was received; every bad input is named and changes nothing."""

from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from reserve.audit.models import AuditEntry
from reserve.auth.actor import Actor
from reserve.auth.models import Role
from reserve.db import transaction
from reserve.errors import Conflict, Forbidden, ValidationError
from reserve.receipts import checks, service
from reserve.receipts.models import Receipt
from reserve.stock import ledger
from reserve.stock.ledger import PeriodClosed
from reserve.stock.models import (
    Batch,
    ClosedMonth,
    ItemStatus,
    MovementKind,
    SerialItem,
    StockMovement,
)
from reserve.warehouses.models import Location
from tests.receipts.conftest import LAST_MONTH, TODAY, balance, counts, line, receipt_data


def _batch(db, material, batch_no) -> Batch:
    return db.scalar(
        select(Batch).where(Batch.material_id == material.id, Batch.batch_no == batch_no)
    )


def test_post_a_receipt_with_two_batches_and_serial_items(db, site):
    produced = TODAY - timedelta(days=100)
    data = receipt_data(
        site,
        line(site.tent, "T-2026-01", 10, unit_cost=Decimal("680.00")),
        line(site.tent, "T-2026-02", 5, location_id=site.a1.id),
        line(site.water, "W-01", 120, production_date=produced),
        line(site.pump, "P-01", 2, serials=("SN-001", " SN-002 ")),
    )
    before = counts(db)
    receipt = service.create_receipt(db, data=data, actor=site.keeper)
    assert receipt.status == "draft" and receipt.no.startswith(f"RK{TODAY:%Y%m%d}-")
    assert [ln.location_id for ln in receipt.lines] == [
        site.recv.id,
        site.a1.id,
        site.recv.id,
        site.recv.id,
    ]
    assert receipt.lines[2].expiry_date == produced + timedelta(days=730)  # from the shelf life
    assert counts(db)["StockMovement"] == before["StockMovement"]  # a draft moves nothing

    service.post_receipt(db, receipt_id=receipt.id, actor=site.keeper)
    assert receipt.status == "posted" and receipt.posted_by_name == site.keeper.username
    movements = db.scalars(
        select(StockMovement)
        .where(StockMovement.document_type == "receipt", StockMovement.document_id == receipt.id)
        .order_by(StockMovement.id)
    ).all()
    assert [(m.kind, m.qty, m.balance_after, m.document_no) for m in movements] == [
        (MovementKind.RECEIPT, 10, 10, receipt.no),
        (MovementKind.RECEIPT, 5, 5, receipt.no),
        (MovementKind.RECEIPT, 120, 120, receipt.no),
        (MovementKind.RECEIPT, 2, 2, receipt.no),
    ]
    first = _batch(db, site.tent, "T-2026-01")
    assert (first.source, first.supplier, first.funding_source, first.unit_cost) == (
        "purchase",
        "济南鲁锦家纺有限公司",
        "市级财政",
        Decimal("680.00"),
    )
    assert balance(db, site.recv, first.id) == 10
    assert balance(db, site.a1, _batch(db, site.tent, "T-2026-02").id) == 5
    water = _batch(db, site.water, "W-01")
    assert water.expiry_date == produced + timedelta(days=730)
    items = db.scalars(
        select(SerialItem)
        .where(SerialItem.material_id == site.pump.id)
        .order_by(SerialItem.serial_no)
    ).all()
    assert [(i.serial_no, i.status, i.location_id) for i in items] == [
        ("SN-001", ItemStatus.IN_STOCK, site.recv.id),
        ("SN-002", ItemStatus.IN_STOCK, site.recv.id),
    ]
    assert all(ln.batch_id for ln in receipt.lines)
    assert ledger.verify(db) == []
    actions = db.scalars(
        select(AuditEntry.action).where(
            AuditEntry.object_type == "receipts", AuditEntry.object_id == str(receipt.id)
        )
    ).all()
    assert sorted(actions) == ["create", "post"]


def test_an_existing_batch_is_reused(db, site):
    produced = TODAY - timedelta(days=10)
    first = service.create_receipt(
        db,
        data=receipt_data(site, line(site.water, "W-7", 50, production_date=produced)),
        actor=site.keeper,
    )
    service.post_receipt(db, receipt_id=first.id, actor=site.keeper)
    batches = counts(db)["Batch"]
    # the same batch again: dates left empty take the batch's, equal dates are fine
    second = service.create_receipt(
        db,
        data=receipt_data(
            site,
            line(site.water, "W-7", 30),
            line(site.water, "W-7", 20, production_date=produced, location_id=site.a1.id),
        ),
        actor=site.keeper,
    )
    assert second.lines[0].expiry_date == produced + timedelta(days=730)
    service.post_receipt(db, receipt_id=second.id, actor=site.keeper)
    batch = _batch(db, site.water, "W-7")
    assert counts(db)["Batch"] == batches
    assert balance(db, site.recv, batch.id) == 80
    assert balance(db, site.a1, batch.id) == 20


def test_an_existing_batch_with_other_dates_is_refused(db, site, unchanged):
    def create(*lines):
        return service.create_receipt(db, data=receipt_data(site, *lines), actor=site.keeper)

    receipt = create(line(site.water, "W-8", 5, production_date=TODAY - timedelta(days=3)))
    service.post_receipt(db, receipt_id=receipt.id, actor=site.keeper)
    error = unchanged(
        ValidationError,
        lambda: create(
            line(site.tent, "X", 1),
            line(site.water, "W-8", 5, production_date=TODAY - timedelta(days=4)),
        ),
        field="lines-1-batch_no",
    )
    assert "Line 2" in str(error.message) and "W-8" in str(error.message)
    # two lines of one receipt may not disagree about a new batch either
    unchanged(
        ValidationError,
        lambda: create(
            line(site.tent, "NEW", 1, expiry_date=TODAY + timedelta(days=99)),
            line(site.tent, "NEW", 1, expiry_date=TODAY + timedelta(days=98)),
        ),
        field="lines-1-batch_no",
    )


@pytest.fixture
def unchanged(db):
    """Run a call in a transaction, expect the error, and check nothing was written."""

    def check(error_type, call, field=None, contains=None):
        db.commit()  # keep what the test did so far (a savepoint); the call's rollback must not
        before = counts(db)
        with pytest.raises(error_type) as info, transaction(db):
            call()
        assert counts(db) == before
        if field:
            assert info.value.field == field, info.value.message
        if contains:
            assert contains in str(info.value.message), info.value.message
        return info.value

    return check


def _bad_lines(site, other_location, inactive_location):
    """(lines, field, words of the message) for each bad input."""
    future = TODAY + timedelta(days=3)
    return [
        ((line(site.tent, qty=0),), "lines-0-qty", "greater than zero"),
        ((line(site.tent, qty=-3),), "lines-0-qty", "greater than zero"),
        ((line(site.tent, qty=1.5),), "lines-0-qty", "whole number"),
        ((line(site.tent, qty=Decimal("2.5")),), "lines-0-qty", "whole number"),
        ((line(site.tent, qty=10**9 + 1),), "lines-0-qty", "implausibly large"),
        (
            (
                line(site.tent),
                line(site.water, production_date=TODAY, expiry_date=TODAY - timedelta(days=1)),
            ),
            "lines-1-expiry_date",
            "Line 2: the expiry date",
        ),
        ((line(site.tent, production_date=future),), "lines-0-production_date", "future"),
        (
            (line(site.tent, location_id=other_location.id),),
            "lines-0-location_id",
            "not in the warehouse",
        ),
        ((line(site.tent, location_id=inactive_location.id),), "lines-0-location_id", "not in use"),
        (
            (line(site.pump, qty=3, serials=("A", "B")),),
            "lines-0-serials",
            "one per unit, 3 in all (2 given)",
        ),
        ((line(site.pump, qty=1),), "lines-0-serials", "one per unit"),
        ((line(site.tent, serials=("X1",)),), "lines-0-serials", "tracked by batch"),
        ((line(site.water, batch_no="  "),), "lines-0-batch_no", "has a shelf life"),
        ((line(site.tent, batch_no="B" * 41),), "lines-0-batch_no", "too long"),
        (
            (line(site.pump, "P1", 1, serials=("S1",)), line(site.pump, "P2", 1, serials=("S1",))),
            "lines-1-serials",
            "S1 is given twice (lines 1 and 2)",
        ),
        ((line(site.pump, "P1", 2, serials=("S1", "S1")),), "lines-0-serials", "twice"),
        ((line(site.tent, unit_cost=Decimal("-1")),), "lines-0-unit_cost", "negative"),
        ((line(site.tent, unit_cost=Decimal("1.234")),), "lines-0-unit_cost", "2 decimals"),
        (
            (service.ReceiptLineData(material_id=0, batch_no="B", qty=1),),
            "lines-0-material_id",
            "choose the material",
        ),
        ((), "lines", "at least one line"),
        (tuple(line(site.tent, f"B{i}", 1) for i in range(201)), "lines", "at most 200"),
    ]


def test_every_bad_line_is_named_and_changes_nothing(db, site, make_warehouse, unchanged):
    other = make_warehouse(code="WH-O")
    other_location = db.scalar(select(Location).where(Location.warehouse_id == other.id))
    inactive = Location(warehouse_id=site.warehouse.id, code="Z-99", is_active=False)
    db.add(inactive)
    db.flush()
    for lines, field, words in _bad_lines(site, other_location, inactive):
        data = replace(receipt_data(site), lines=lines)
        unchanged(
            ValidationError,
            lambda d=data: service.create_receipt(db, data=d, actor=site.keeper),
            field=field,
            contains=words,
        )


@pytest.mark.parametrize(
    "fields, field, words",
    [
        (dict(document_date=TODAY + timedelta(days=2)), "document_date", "future"),
        (dict(source="bought"), "source", "where the goods came from"),
        (dict(supplier="供" * 101), "supplier", "too long"),
        (dict(paper_no="文" * 61), "paper_no", "too long"),
        (dict(note="x" * 501), "note", "too long"),
        (dict(warehouse_id=0), "warehouse_id", "Choose the warehouse"),
    ],
)
def test_bad_header_is_named_and_changes_nothing(db, site, unchanged, fields, field, words):
    unchanged(
        ValidationError,
        lambda: service.create_receipt(db, data=receipt_data(site, **fields), actor=site.keeper),
        field=field,
        contains=words,
    )


def test_inactive_material_is_refused(db, site, unchanged):
    site.tent.is_active = False
    db.flush()
    unchanged(
        ValidationError,
        lambda: service.create_receipt(db, data=receipt_data(site), actor=site.keeper),
        field="lines-0-material_id",
        contains="TENT-1",
    )


def test_a_closed_month_is_refused(db, site, unchanged):
    db.add(ClosedMonth(month=LAST_MONTH.strftime("%Y-%m"), closed_by="admin"))
    db.flush()
    unchanged(
        PeriodClosed,
        lambda: service.create_receipt(
            db, data=receipt_data(site, document_date=LAST_MONTH), actor=site.keeper
        ),
    )


def test_a_serial_number_in_stock_cannot_be_received_again(db, site, unchanged):
    first = service.create_receipt(
        db, data=receipt_data(site, line(site.pump, "P1", 1, serials=("SN-9",))), actor=site.keeper
    )
    service.post_receipt(db, receipt_id=first.id, actor=site.keeper)
    error = unchanged(
        ValidationError,
        lambda: service.create_receipt(
            db,
            data=receipt_data(site, line(site.pump, "P2", 2, serials=("SN-8", "SN-9"))),
            actor=site.keeper,
        ),
        field="lines-0-serials",
    )
    assert "SN-9 is already in stock" in str(error.message)


def test_posting_rechecks_and_a_failure_leaves_the_draft(db, site, unchanged):
    """Between draft and posting the world changes: posting checks again, all or nothing."""
    receipt = service.create_receipt(
        db,
        data=receipt_data(
            site, line(site.tent, "T1", 4), line(site.pump, "P1", 1, serials=("SN-5",))
        ),
        actor=site.keeper,
    )
    other = service.create_receipt(
        db, data=receipt_data(site, line(site.pump, "P9", 1, serials=("SN-5",))), actor=site.keeper
    )
    service.post_receipt(db, receipt_id=other.id, actor=site.keeper)
    unchanged(
        ValidationError,
        lambda: service.post_receipt(db, receipt_id=receipt.id, actor=site.keeper),
        field="lines-1-serials",
        contains="SN-5",
    )
    assert db.scalar(select(Receipt.status).where(Receipt.id == receipt.id)) == "draft"
    assert _batch(db, site.tent, "T1") is None


def test_a_posted_receipt_cannot_change_or_post_again(db, site, unchanged):
    receipt = service.create_receipt(db, data=receipt_data(site), actor=site.keeper)
    service.post_receipt(db, receipt_id=receipt.id, actor=site.keeper)
    error = unchanged(
        Conflict, lambda: service.post_receipt(db, receipt_id=receipt.id, actor=site.keeper)
    )
    assert receipt.no in str(error.message) and "already been posted" in str(error.message)
    unchanged(
        Conflict,
        lambda: service.update_receipt(
            db, receipt_id=receipt.id, data=receipt_data(site), actor=site.keeper
        ),
    )
    unchanged(
        Conflict, lambda: service.cancel_receipt(db, receipt_id=receipt.id, actor=site.keeper)
    )


def test_update_replaces_lines_and_cancel_ends_a_draft(db, site, unchanged):
    receipt = service.create_receipt(db, data=receipt_data(site), actor=site.keeper)
    service.update_receipt(
        db,
        receipt_id=receipt.id,
        data=receipt_data(
            site,
            line(site.water, "W1", 3),
            line(site.tent, "T9", 7),
            source="donation",
            supplier=None,
        ),
        actor=site.keeper,
    )
    db.expire_all()
    receipt = db.get(Receipt, receipt.id)
    assert receipt.source == "donation" and receipt.supplier is None
    assert [(ln.line_no, ln.batch_no, ln.qty) for ln in receipt.lines] == [
        (1, "W1", 3),
        (2, "T9", 7),
    ]
    service.cancel_receipt(db, receipt_id=receipt.id, actor=site.keeper)
    assert receipt.status == "cancelled"
    error = unchanged(
        Conflict, lambda: service.post_receipt(db, receipt_id=receipt.id, actor=site.keeper)
    )
    assert "cancelled" in str(error.message)


def test_a_keeper_cannot_receive_into_another_warehouse(
    db, site, make_warehouse, make_user, unchanged
):
    other = make_warehouse(code="WH-X")
    outsider = Actor.for_user(make_user(Role.KEEPER, warehouses=[other]))
    unchanged(
        Forbidden, lambda: service.create_receipt(db, data=receipt_data(site), actor=outsider)
    )
    receipt = service.create_receipt(db, data=receipt_data(site), actor=site.keeper)
    unchanged(Forbidden, lambda: service.post_receipt(db, receipt_id=receipt.id, actor=outsider))
    unchanged(Forbidden, lambda: service.cancel_receipt(db, receipt_id=receipt.id, actor=outsider))
    with pytest.raises(Forbidden):
        service.get_receipt(db, receipt.id, actor=outsider)
    viewer = Actor.for_user(make_user(Role.VIEWER))
    assert service.get_receipt(db, receipt.id, actor=viewer) is receipt
    unchanged(Forbidden, lambda: service.post_receipt(db, receipt_id=receipt.id, actor=viewer))


def test_a_returned_serial_item_comes_back_into_stock(db, site):
    first = service.create_receipt(
        db, data=receipt_data(site, line(site.pump, "P1", 1, serials=("SN-R",))), actor=site.keeper
    )
    service.post_receipt(db, receipt_id=first.id, actor=site.keeper)
    item = db.scalar(select(SerialItem).where(SerialItem.serial_no == "SN-R"))
    ledger.post_movement(  # a shipment takes it out
        db,
        kind=MovementKind.ISSUE,
        location_id=item.location_id,
        batch_id=item.batch_id,
        qty=-1,
        document=ledger.DocumentRef("test", None, None, TODAY),
        actor=site.keeper,
        serial_nos=["SN-R"],
    )
    assert item.status == ItemStatus.ISSUED
    back = service.create_receipt(
        db,
        data=receipt_data(
            site,
            line(site.pump, "P1", 1, serials=("SN-R",), location_id=site.a1.id),
            source="return",
        ),
        actor=site.keeper,
    )
    service.post_receipt(db, receipt_id=back.id, actor=site.keeper)
    assert (item.status, item.location_id) == (ItemStatus.IN_STOCK, site.a1.id)
    assert (
        db.scalar(
            select(SerialItem.id)
            .where(SerialItem.serial_no == "SN-R")
            .where(SerialItem.id != item.id)
        )
        is None
    )


@pytest.mark.parametrize("same_dates", [True, False])
def test_a_batch_created_by_a_concurrent_receipt(db, site, monkeypatch, unchanged, same_dates):
    """Two receipts of the same new batch posted at once: the later one finds the unique batch
    taken, uses it when the dates agree, and says so when they do not."""
    receipt = service.create_receipt(
        db, data=receipt_data(site, line(site.tent, "RACE", 3)), actor=site.keeper
    )
    rival = Batch(
        material_id=site.tent.id,
        batch_no="RACE",
        source="purchase",
        expiry_date=None if same_dates else TODAY + timedelta(days=9),
    )
    db.add(rival)
    db.flush()
    real, calls = service.existing_batches, []

    def unseen_by_the_check(session, keys):
        calls.append(sorted(keys))  # the check saw none: the rival was not committed yet
        return {}

    def after_the_insert_skipped_it(session, keys):
        calls.append(sorted(keys))  # the insert found the number taken: look it up
        return real(session, keys)

    monkeypatch.setattr(checks, "existing_batches", unseen_by_the_check)
    monkeypatch.setattr(service, "existing_batches", after_the_insert_skipped_it)
    post = lambda: service.post_receipt(db, receipt_id=receipt.id, actor=site.keeper)  # noqa: E731
    if same_dates:
        post()
        assert balance(db, site.recv, rival.id) == 3
    else:
        unchanged(ValidationError, post, field="lines-0-batch_no", contains="RACE")
    assert calls == [[(site.tent.id, "RACE")]] * 2  # the check, then after the skipped insert
