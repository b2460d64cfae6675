import pytest
from sqlalchemy import select

from reserve.auth.actor import Actor
from reserve.auth.models import Role
from reserve.errors import Forbidden, InsufficientStock, ValidationError
from reserve.stock.models import Batch, ItemStatus, SerialItem, StockBalance
from reserve.stock.service import move_stock
from tests.stock.conftest import post


def _move(db, place, qty, **kwargs):
    fields = dict(
        warehouse_id=place.warehouse.id,
        from_location_id=place.a1.id,
        to_location_id=place.a2.id,
        batch_id=place.batch.id,
        qty=qty,
        actor=place.actor,
    )
    fields.update(kwargs)
    return move_stock(db, **fields)


def test_move_keeps_the_total_and_moves_it(db, place):
    post(db, place, 10)
    _move(db, place, 4)
    rows = dict(db.execute(select(StockBalance.location_id, StockBalance.qty)).all())
    assert rows == {place.a1.id: 6, place.a2.id: 4}


@pytest.mark.parametrize(
    "changes, error",
    [
        (dict(qty=0), ValidationError),
        (dict(qty=-1), ValidationError),
        (dict(qty=11), InsufficientStock),
        (dict(to_location_id=None), ValidationError),
    ],
)
def test_bad_moves_change_nothing(db, place, changes, error):
    post(db, place, 10)
    if changes.get("to_location_id", 0) is None:
        changes["to_location_id"] = place.a1.id
    with pytest.raises(error), db.begin_nested():
        _move(db, place, **{"qty": 1, **changes})
    assert db.scalar(select(StockBalance.qty).where(StockBalance.location_id == place.a1.id)) == 10


def test_a_keeper_moves_only_in_a_warehouse_they_keep(db, place, make_user):
    post(db, place, 10)
    keeper = make_user(Role.KEEPER)
    with pytest.raises(Forbidden):
        _move(db, place, 1, actor=Actor.for_user(keeper))


def test_serial_items_follow_the_move(db, place, make_material):
    generator = make_material("发电机", code="GEN", tracking="serial")
    batch = Batch(material_id=generator.id, batch_no="G1", source="purchase")
    db.add(batch)
    db.flush()
    post(db, place, 2, batch=batch, serial_nos=["S0", "S1"])
    items = db.scalars(select(SerialItem).order_by(SerialItem.serial_no)).all()
    assert [(i.serial_no, i.status, i.location_id) for i in items] == [
        ("S0", ItemStatus.IN_STOCK, place.a1.id),
        ("S1", ItemStatus.IN_STOCK, place.a1.id),
    ]
    with pytest.raises(ValidationError), db.begin_nested():
        _move(db, place, 1, batch_id=batch.id, serial_nos=["NOPE"])
    _move(db, place, 1, batch_id=batch.id, serial_nos=["S1"])
    assert db.get(SerialItem, items[1].id).location_id == place.a2.id
    assert db.get(SerialItem, items[0].id).location_id == place.a1.id
