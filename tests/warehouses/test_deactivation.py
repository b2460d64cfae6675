"""Taking a warehouse or a location out of use (停用) while it still holds stock or unfinished
documents is refused with a message saying how much and where, and changes nothing."""

import pytest
import sqlalchemy as sa
from flask_babel import force_locale

from reserve.audit.models import AuditEntry
from reserve.auth.actor import Actor
from reserve.auth.models import Role
from reserve.db import local_today, transaction
from reserve.disposals.lines import DisposalLineData
from reserve.disposals.rotations import create_rotation
from reserve.disposals.scraps import request_scrap
from reserve.errors import Conflict
from reserve.receipts.service import ReceiptData, ReceiptLineData, cancel_receipt, create_receipt
from reserve.stock import ledger
from reserve.stock.models import Batch, MovementKind, StockBalance
from reserve.stocktakes.service import cancel_stocktake, open_stocktake
from reserve.warehouses import service
from reserve.warehouses.models import Location, Warehouse
from reserve.warehouses.service import WarehouseData


@pytest.fixture
def site(db, make_warehouse, make_material):
    warehouse = make_warehouse(code="WH-D", name="停用测试库")
    locations = {
        loc.code: loc
        for loc in db.scalars(sa.select(Location).where(Location.warehouse_id == warehouse.id))
    }
    b1 = Location(warehouse_id=warehouse.id, code="B-01-01")
    db.add(b1)
    db.flush()
    locations["B-01-01"] = b1
    return warehouse, locations, make_material("单帐篷", code="TENT-D", unit="顶")


def receive(db, actor, material, location, qty: int, batch_no: str = "B1") -> Batch:
    batch = db.scalar(
        sa.select(Batch).where(Batch.material_id == material.id, Batch.batch_no == batch_no)
    )
    if batch is None:
        batch = Batch(material_id=material.id, batch_no=batch_no, source="purchase")
        db.add(batch)
        db.flush()
    ledger.post_movement(
        db,
        kind=MovementKind.RECEIPT if qty > 0 else MovementKind.ISSUE,
        location_id=location.id,
        batch_id=batch.id,
        qty=qty,
        document=ledger.DocumentRef("test", None, "T-1", local_today()),
        actor=actor,
    )
    return batch


def draft_receipt(db, actor, warehouse, material, location):
    return create_receipt(
        db,
        data=ReceiptData(
            warehouse_id=warehouse.id,
            source="purchase",
            document_date=local_today(),
            lines=(
                ReceiptLineData(
                    material_id=material.id, batch_no="NEW-1", qty=5, location_id=location.id
                ),
            ),
        ),
        actor=actor,
    )


def data_of(warehouse: Warehouse, **changes) -> WarehouseData:
    values = dict(
        code=warehouse.code,
        name=warehouse.name,
        level=warehouse.level,
        region_id=warehouse.region_id,
        is_active=warehouse.is_active,
    )
    values.update(changes)
    return WarehouseData(**values)


def state(db) -> dict:
    return {
        "active": sorted(db.execute(sa.select(Warehouse.code, Warehouse.is_active)).all())
        + sorted(db.execute(sa.select(Location.id, Location.is_active)).all()),
        "audit": db.scalar(sa.select(sa.func.count()).select_from(AuditEntry)),
        "stock": sorted(db.execute(sa.select(StockBalance.id, StockBalance.qty)).all()),
    }


def refused(db, call) -> str:
    """Run ``call`` in a transaction: a Conflict, and the database exactly as before."""
    db.commit()
    before = state(db)
    with pytest.raises(Conflict) as info, transaction(db):
        call()
    assert info.value.field == "is_active"
    assert state(db) == before
    with force_locale("zh_CN"):
        zh = str(info.value.message)
    with force_locale("en"):
        en = str(info.value.message)
    return zh + "\n" + en


def deactivate(db, warehouse, actor):
    return lambda: service.update_warehouse(
        db, warehouse_id=warehouse.id, data=data_of(warehouse, is_active=False), actor=actor
    )


def test_a_warehouse_holding_stock_cannot_be_deactivated(app_ctx, db, site, system_actor):
    warehouse, loc, tent = site
    receive(db, system_actor, tent, loc["A-01-01"], 100)
    receive(db, system_actor, tent, loc["B-01-01"], 20, "B2")
    zh, en = refused(db, deactivate(db, warehouse, system_actor)).split("\n")
    assert "仓库 WH-D 停用测试库 仍有" in zh
    assert "1 种物资 120 件库存（A-01-01 B-01-01）" in zh
    assert "1 materials, 120 units in stock (A-01-01 B-01-01)" in en
    assert "unfinished" not in en


def test_a_warehouse_with_a_draft_receipt_and_no_stock_cannot_be_deactivated(
    app_ctx, db, site, system_actor
):
    warehouse, loc, tent = site
    receive(db, system_actor, tent, loc["A-01-01"], 10)
    receive(db, system_actor, tent, loc["A-01-01"], -10)  # all issued: a balance at 0
    receipt = draft_receipt(db, system_actor, warehouse, tent, loc["RECV"])
    zh, en = refused(db, deactivate(db, warehouse, system_actor)).split("\n")
    assert f"仍有 1 张未完成单据（{receipt.no}）" in zh
    assert f"1 unfinished documents ({receipt.no})" in en and "in stock" not in en

    with transaction(db):
        cancel_receipt(db, receipt_id=receipt.id, actor=system_actor)
    with transaction(db):
        deactivate(db, warehouse, system_actor)()
    db.refresh(warehouse)
    assert warehouse.is_active is False


def test_stock_and_every_kind_of_open_document_are_named(app_ctx, db, site, system_actor):
    warehouse, loc, tent = site
    batch = receive(db, system_actor, tent, loc["A-01-01"], 50)
    line = (DisposalLineData(location_id=loc["A-01-01"].id, batch_id=batch.id, qty=5),)
    today = local_today()
    rotation = create_rotation(
        db,
        warehouse_id=warehouse.id,
        disposition="drill",
        document_date=today,
        lines=line,
        actor=system_actor,
    )
    scrap = request_scrap(
        db,
        warehouse_id=warehouse.id,
        reason="damaged",
        document_date=today,
        lines=line,
        actor=system_actor,
    )
    stocktake = open_stocktake(
        db, warehouse_id=warehouse.id, location_ids=[loc["B-01-01"].id], actor=system_actor
    )
    receipt = draft_receipt(db, system_actor, warehouse, tent, loc["RECV"])
    zh, en = refused(db, deactivate(db, warehouse, system_actor)).split("\n")
    numbers = " ".join(sorted([rotation.no, scrap.no, stocktake.no, receipt.no])[:3])
    assert f"1 种物资 50 件库存（A-01-01），以及 4 张未完成单据（{numbers} …）" in zh
    assert f"and 4 unfinished documents ({numbers} …)" in en


def test_an_empty_warehouse_is_deactivated_and_other_edits_still_work(
    app_ctx, db, site, system_actor
):
    warehouse, loc, tent = site
    receive(db, system_actor, tent, loc["A-01-01"], 7)
    with transaction(db):  # a warehouse holding stock can still be renamed
        service.update_warehouse(
            db,
            warehouse_id=warehouse.id,
            data=data_of(warehouse, name="新名字"),
            actor=system_actor,
        )
    receive(db, system_actor, tent, loc["A-01-01"], -7)
    with transaction(db):
        deactivate(db, warehouse, system_actor)()
    db.refresh(warehouse)
    assert (warehouse.name, warehouse.is_active) == ("新名字", False)
    with transaction(db):  # and an inactive one is edited (or reactivated) freely
        service.update_warehouse(
            db,
            warehouse_id=warehouse.id,
            data=data_of(warehouse, is_active=True),
            actor=system_actor,
        )
    assert warehouse.is_active is True


# 库位 -------------------------------------------------------------------------------------------


def deactivate_location(db, location, actor):
    return lambda: service.update_location(
        db,
        location_id=location.id,
        code=location.code,
        name=location.name,
        is_active=False,
        actor=actor,
    )


def test_a_location_holding_stock_cannot_be_deactivated(app_ctx, db, site, system_actor):
    warehouse, loc, tent = site
    receive(db, system_actor, tent, loc["A-01-01"], 30)
    receive(db, system_actor, tent, loc["A-01-01"], 12, "B2")
    zh, en = refused(db, deactivate_location(db, loc["A-01-01"], system_actor)).split("\n")
    assert "库位 WH-D/A-01-01 仍有 1 种物资 42 件库存（A-01-01）" in zh
    assert "Location WH-D/A-01-01 still has 1 materials, 42 units in stock" in en

    with transaction(db):  # the empty location next to it goes out of use
        deactivate_location(db, loc["B-01-01"], system_actor)()
    assert loc["B-01-01"].is_active is False


def test_a_location_named_by_an_open_document_cannot_be_deactivated(
    app_ctx, db, site, system_actor
):
    warehouse, loc, tent = site
    stocktake = open_stocktake(
        db, warehouse_id=warehouse.id, location_ids=[loc["B-01-01"].id], actor=system_actor
    )
    zh, _en = refused(db, deactivate_location(db, loc["B-01-01"], system_actor)).split("\n")
    assert f"1 张未完成单据（{stocktake.no}）" in zh
    receipt = draft_receipt(db, system_actor, warehouse, tent, loc["A-01-01"])
    zh, _en = refused(db, deactivate_location(db, loc["A-01-01"], system_actor)).split("\n")
    assert f"1 张未完成单据（{receipt.no}）" in zh

    with transaction(db):
        cancel_stocktake(db, stocktake_id=stocktake.id, actor=system_actor)
    with transaction(db):
        deactivate_location(db, loc["B-01-01"], system_actor)()
    assert loc["B-01-01"].is_active is False


def test_the_edit_page_shows_the_refusal_and_keeps_the_warehouse(db, login_as, site):
    warehouse, loc, tent = site
    admin = login_as(Role.ADMIN)
    receive(db, Actor.system("test"), tent, loc["A-01-01"], 9)
    form = {
        "code": warehouse.code,
        "name": warehouse.name,
        "level": warehouse.level,
        "region_id": warehouse.region_id,
        "is_active": "",
    }
    response = admin.post(f"/warehouses/{warehouse.id}/edit", data=form)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "1 种物资 9 件库存（A-01-01）" in page
    db.refresh(warehouse)
    assert warehouse.is_active is True
