"""A material that is in stock, or on an unfinished document, cannot be taken out of use (停用):
the refusal says how much and where, and changes nothing."""

import pytest
import sqlalchemy as sa
from flask_babel import force_locale

from reserve.audit.models import AuditEntry
from reserve.catalog import service
from reserve.catalog.models import Material
from reserve.catalog.service import MaterialData
from reserve.db import local_today, transaction
from reserve.errors import Conflict
from reserve.receipts.service import ReceiptData, ReceiptLineData, cancel_receipt, create_receipt
from reserve.stock import ledger
from reserve.stock.models import Batch, MovementKind
from reserve.warehouses.models import Location


def data_of(material: Material, **changes) -> MaterialData:
    values = dict(
        code=material.code,
        name=material.name,
        unit=material.unit,
        category_id=material.category_id,
        tracking=material.tracking,
        is_active=material.is_active,
    )
    values.update(changes)
    return MaterialData(**values)


def location(db, warehouse, code: str) -> Location:
    return db.scalar(
        sa.select(Location).where(Location.warehouse_id == warehouse.id, Location.code == code)
    )


def move(db, actor, material, place: Location, qty: int, batch_no: str = "B1") -> None:
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
        location_id=place.id,
        batch_id=batch.id,
        qty=qty,
        document=ledger.DocumentRef("test", None, "T-1", local_today()),
        actor=actor,
    )


def deactivate(db, material, actor):
    return lambda: service.update_material(
        db, material_id=material.id, data=data_of(material, is_active=False), actor=actor
    )


def refused(db, call) -> tuple[str, str]:
    db.commit()
    before = (
        sorted(db.execute(sa.select(Material.id, Material.is_active, Material.name)).all()),
        db.scalar(sa.select(sa.func.count()).select_from(AuditEntry)),
    )
    with pytest.raises(Conflict) as info, transaction(db):
        call()
    assert info.value.field == "is_active"
    assert (
        sorted(db.execute(sa.select(Material.id, Material.is_active, Material.name)).all()),
        db.scalar(sa.select(sa.func.count()).select_from(AuditEntry)),
    ) == before
    with force_locale("zh_CN"):
        zh = str(info.value.message)
    with force_locale("en"):
        en = str(info.value.message)
    return zh, en


def test_a_material_in_stock_cannot_be_deactivated(
    app_ctx, db, make_warehouse, make_material, system_actor
):
    north, south = make_warehouse(code="WH-N"), make_warehouse(code="WH-S")
    tent = make_material("单帐篷", code="TENT-X", unit="顶")
    move(db, system_actor, tent, location(db, north, "A-01-01"), 80)
    move(db, system_actor, tent, location(db, south, "RECV"), 40, "B2")
    zh, en = refused(db, deactivate(db, tent, system_actor))
    assert "物资 TENT-X 单帐篷 仍有 120 顶库存（WH-N A-01-01 WH-S RECV）" in zh
    assert "120 顶 in stock (WH-N A-01-01 WH-S RECV)" in en


def test_a_material_on_a_draft_receipt_cannot_be_deactivated_until_it_is_cancelled(
    app_ctx, db, make_warehouse, make_material, system_actor
):
    warehouse = make_warehouse(code="WH-R")
    tent, rope = make_material("单帐篷", code="TENT-Y"), make_material("救生绳", code="ROPE-Y")
    receipt = create_receipt(
        db,
        data=ReceiptData(
            warehouse_id=warehouse.id,
            source="purchase",
            document_date=local_today(),
            lines=(
                ReceiptLineData(
                    material_id=tent.id,
                    batch_no="N1",
                    qty=3,
                    location_id=location(db, warehouse, "RECV").id,
                ),
            ),
        ),
        actor=system_actor,
    )
    zh, _en = refused(db, deactivate(db, tent, system_actor))
    assert f"仍有 1 张未完成单据（{receipt.no}）" in zh and "库存（" not in zh
    with transaction(db):  # another material, on no document and in no stock, goes freely
        deactivate(db, rope, system_actor)()
    with transaction(db):
        cancel_receipt(db, receipt_id=receipt.id, actor=system_actor)
    with transaction(db):
        deactivate(db, tent, system_actor)()
    db.refresh(tent)
    assert (tent.is_active, rope.is_active) == (False, False)


def test_a_material_whose_stock_is_gone_is_deactivated_and_edited(
    app_ctx, db, make_warehouse, make_material, system_actor
):
    place = location(db, make_warehouse(code="WH-E"), "A-01-01")
    tent = make_material("单帐篷", code="TENT-Z")
    move(db, system_actor, tent, place, 5)
    with transaction(db):  # in stock: still renamed like any other edit
        service.update_material(
            db, material_id=tent.id, data=data_of(tent, name="单帐篷（旧）"), actor=system_actor
        )
    move(db, system_actor, tent, place, -5)
    with transaction(db):
        deactivate(db, tent, system_actor)()
    db.refresh(tent)
    assert (tent.name, tent.is_active) == ("单帐篷（旧）", False)
