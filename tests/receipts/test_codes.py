"""Batch and serial numbers typed on a receipt match in any letter case: a batch typed in lower
case is the batch already on record, a serial item coming back is found, and a number given
twice in two cases is caught as given twice."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from reserve.db import local_today
from reserve.errors import ValidationError
from reserve.receipts import service
from reserve.stock import ledger
from reserve.stock.models import Batch, ItemStatus, MovementKind, SerialItem
from tests.receipts.conftest import balance, line, receipt_data


def _post(db, site, *lines, **fields):
    receipt = service.create_receipt(
        db, data=receipt_data(site, *lines, **fields), actor=site.keeper
    )
    return service.post_receipt(db, receipt_id=receipt.id, actor=site.keeper)


def test_a_batch_number_in_another_case_is_the_same_batch(db, site):
    _post(db, site, line(site.tent, "T-2026-01", 5))
    _post(db, site, line(site.tent, " t-2026-01", 3))
    batches = db.scalars(select(Batch).where(Batch.material_id == site.tent.id)).all()
    assert [b.batch_no for b in batches] == ["T-2026-01"]
    assert balance(db, site.recv, batches[0].id) == 8


def test_a_returned_serial_item_is_found_in_any_case(db, site):
    _post(db, site, line(site.pump, "P1", 1, serials=("SN-R1",)))
    item = db.scalar(select(SerialItem).where(SerialItem.serial_no == "SN-R1"))
    ledger.post_movement(  # it leaves with a shipment, through the ledger
        db,
        kind=MovementKind.ISSUE,
        location_id=item.location_id,
        batch_id=item.batch_id,
        qty=-1,
        document=ledger.DocumentRef("test", None, "TEST", local_today()),
        actor=site.keeper,
        serial_nos=["SN-R1"],
        serial_status=ItemStatus.ISSUED,
    )
    assert item.status == ItemStatus.ISSUED
    _post(
        db,
        site,
        line(site.pump, "p1", 1, serials=("sn-r1",), location_id=site.a1.id),
        source="return",
    )
    assert (item.status, item.location_id) == (ItemStatus.IN_STOCK, site.a1.id)
    assert db.scalar(select(func.count()).select_from(SerialItem)) == 1


def test_one_serial_number_in_two_cases_is_given_twice(db, site):
    with pytest.raises(ValidationError, match="given twice"):
        service.create_receipt(
            db,
            data=receipt_data(site, line(site.pump, "P2", 2, serials=("SN-9", "sn-9"))),
            actor=site.keeper,
        )
