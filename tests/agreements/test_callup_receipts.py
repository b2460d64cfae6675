"""协议调用: called-up goods arrive through a normal receipt linked to the call-up — only from a
shipped call-up, only its material, never more than it shipped across its receipts; the source
and the link go together (in the database too); the goods enter the ledger only by posting."""

from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from reserve.agreements import callups
from reserve.agreements.callup_queries import call_up_receipts
from reserve.agreements.callups import CallUpData
from reserve.auth.actor import Actor
from reserve.auth.models import Role
from reserve.db import local_today, utcnow
from reserve.errors import ValidationError
from reserve.receipts import service as receipts
from reserve.receipts.models import Receipt
from reserve.receipts.service import ReceiptData, ReceiptLineData
from reserve.stock.models import StockMovement


@pytest.fixture
def keeper(db, site, make_warehouse, make_user):
    warehouse = make_warehouse(code="WH-CU", name="市级综合库")
    user = make_user(Role.KEEPER, warehouses=[warehouse])
    return warehouse, Actor.for_user(user)


@pytest.fixture
def call(db, make_agreement, system_actor, site):
    line = make_agreement(activate=True).lines[0]
    made = callups.call_up(
        db,
        data=CallUpData(
            line_id=line.id, qty=100, needed_by=utcnow() + timedelta(hours=6), destination="库"
        ),
        actor=system_actor,
    )
    return made


def _ship(db, call, qty=80):
    return callups.confirm_shipped(
        db,
        call_up_id=call.id,
        shipped_qty=qty,
        vehicle_plate="鲁A12345",
        driver_name="王师傅",
        driver_phone="13812345678",
        shipped_at=utcnow(),
        actor=Actor.system("qiye"),
    )


def _data(warehouse, material, qty, call_up_id, source="agreement_call_up") -> ReceiptData:
    return ReceiptData(
        warehouse_id=warehouse.id,
        source=source,
        document_date=local_today(),
        supplier="济南统一企业有限公司",
        call_up_id=call_up_id,
        lines=(ReceiptLineData(material_id=material.id, batch_no="", qty=qty),),
    )


def _receipts(db) -> int:
    return db.scalar(sa.select(sa.func.count()).select_from(Receipt))


def test_the_goods_of_a_shipped_call_up_come_in_through_a_linked_receipt(db, keeper, call, site):
    warehouse, actor = keeper
    _ship(db, call, 80)
    draft = receipts.create_receipt(db, data=_data(warehouse, site.water, 50, call.id), actor=actor)
    assert db.scalar(sa.select(sa.func.count()).select_from(StockMovement)) == 0  # not yet
    posted = receipts.post_receipt(db, receipt_id=draft.id, actor=actor)
    assert (posted.status, posted.source, posted.call_up_id) == (
        "posted",
        "agreement_call_up",
        call.id,
    )
    moved = db.scalars(sa.select(StockMovement.qty)).all()
    assert moved == [50]
    second = receipts.create_receipt(
        db, data=_data(warehouse, site.water, 30, call.id), actor=actor
    )
    assert [(r.no, r.qty) for r in call_up_receipts(db, call.id)] == [
        (draft.no, 50),
        (second.no, 30),
    ]


def test_more_than_shipped_across_receipts_is_refused(db, keeper, call, site):
    warehouse, actor = keeper
    _ship(db, call, 80)
    receipts.create_receipt(db, data=_data(warehouse, site.water, 60, call.id), actor=actor)
    before = _receipts(db)
    with pytest.raises(ValidationError, match="at most 20 more can be received, not 21"):
        receipts.create_receipt(db, data=_data(warehouse, site.water, 21, call.id), actor=actor)
    assert _receipts(db) == before


@pytest.mark.parametrize(
    ("case", "match"),
    [
        ("not_shipped", "has not been shipped"),
        ("other_material", "is for 瓶装饮用水"),
        ("no_link", "Choose the call-up"),
        ("link_without_source", "Only a receipt whose source is an agreement call-up"),
        ("unknown", "No such call-up"),
    ],
)
def test_bad_links_are_refused_and_change_nothing(db, keeper, call, site, case, match):
    warehouse, actor = keeper
    if case != "not_shipped":
        _ship(db, call)
    data = {
        "not_shipped": _data(warehouse, site.water, 10, call.id),
        "other_material": _data(warehouse, site.quilt, 10, call.id),
        "no_link": _data(warehouse, site.water, 10, None),
        "link_without_source": _data(warehouse, site.water, 10, call.id, source="purchase"),
        "unknown": _data(warehouse, site.water, 10, 987654),
    }[case]
    with pytest.raises(ValidationError, match=match):
        receipts.create_receipt(db, data=data, actor=actor)
    assert _receipts(db) == 0


def test_the_database_keeps_the_source_and_the_link_together(db, keeper, call, site):
    warehouse, actor = keeper
    _ship(db, call)
    receipt = receipts.create_receipt(
        db, data=_data(warehouse, site.water, 10, call.id), actor=actor
    )
    with pytest.raises(IntegrityError), db.begin_nested():
        db.execute(sa.update(Receipt).where(Receipt.id == receipt.id).values(source="purchase"))
    with pytest.raises(IntegrityError), db.begin_nested():
        db.execute(sa.update(Receipt).where(Receipt.id == receipt.id).values(call_up_id=None))


def test_the_call_up_page_shows_its_receipts(db, login_as, keeper, call, site):
    warehouse, actor = keeper
    _ship(db, call)
    receipt = receipts.create_receipt(
        db, data=_data(warehouse, site.water, 10, call.id), actor=actor
    )
    page = login_as(Role.DISPATCHER).get(f"/call-ups/{call.id}").get_data(as_text=True)
    assert receipt.no in page
    detail = login_as(Role.ADMIN).get(f"/receipts/{receipt.id}").get_data(as_text=True)
    assert call.no in detail and "协议调用" in detail
