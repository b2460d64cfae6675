"""Codes match in any letter case: material, warehouse and location codes, batch and serial numbers
are stored normalised (``reserve.db.Code``: stripped, ASCII upper-case) and every value compared
with them is normalised the same way, so the index serves the lookup; uniqueness holds across
case; and migration edge0001 normalises the rows already stored, refusing to merge two codes."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.migration import MigrationContext
from alembic.operations import Operations

from reserve.catalog import queries as catalog_queries
from reserve.catalog import service as catalog_service
from reserve.catalog.models import Material
from reserve.db import normalise_code
from reserve.errors import Conflict, ValidationError
from reserve.stock.guard import ledger_writes
from reserve.stock.models import Batch, SerialItem
from reserve.warehouses import service as warehouse_service
from reserve.warehouses.models import Location, Warehouse

MIGRATION = (
    Path(__file__).resolve().parents[1]
    / "reserve/migrations/versions/edge0001_codes_stored_normalised.py"
)


def test_normalise_code():
    assert normalise_code("  a-01-01\t") == "A-01-01"
    assert normalise_code("sn-ß-帐篷") == "SN-ß-帐篷"  # only ASCII letters change: both DBs agree
    assert normalise_code(None) is None


def test_material_codes(db, make_material, make_category, system_actor):
    material = make_material(code=" t-0001 ")
    assert material.code == "T-0001"
    assert db.scalar(sa.select(Material.id).where(Material.code == "t-0001")) == material.id
    page = catalog_queries.material_page(db, q="t-00")
    assert [m.id for m in page.items] == [material.id]
    data = catalog_service.MaterialData(
        code="T-0001", name="另一个", unit="个", category_id=make_category().id
    )
    with pytest.raises((Conflict, ValidationError)):
        catalog_service.create_material(db, data=data, actor=system_actor)


def test_warehouse_and_location_codes(db, make_warehouse, system_actor):
    warehouse = make_warehouse(code="jn-07")
    assert warehouse.code == "JN-07"
    assert db.scalar(sa.select(Warehouse.id).where(Warehouse.code == " Jn-07")) == warehouse.id
    location = warehouse_service.create_location(
        db, warehouse_id=warehouse.id, code="b-02-03", name=None, actor=system_actor
    )
    assert location.code == "B-02-03"
    found = db.scalar(
        sa.select(Location.id).where(
            Location.warehouse_id == warehouse.id, Location.code == "b-02-03"
        )
    )
    assert found == location.id
    with pytest.raises((Conflict, ValidationError)):
        warehouse_service.create_location(
            db, warehouse_id=warehouse.id, code="B-02-03", name=None, actor=system_actor
        )


def test_batch_and_serial_numbers_are_unique_across_case(db, make_material):
    pump = make_material("排水泵", tracking="serial")
    batch = Batch(material_id=pump.id, batch_no="p-2026-01", source="purchase")
    db.add(batch)
    db.flush()
    assert batch.batch_no == "P-2026-01"
    assert db.scalar(sa.select(Batch.id).where(Batch.batch_no == "P-2026-01 ")) == batch.id
    with pytest.raises(sa.exc.IntegrityError), db.begin_nested():
        db.add(Batch(material_id=pump.id, batch_no="P-2026-01", source="purchase"))
        db.flush()
    item = SerialItem(material_id=pump.id, batch_id=batch.id, serial_no="sn-001")
    with ledger_writes():  # serial items are the ledger's; this test looks at the column type
        db.add(item)
        db.flush()
    assert db.scalar(sa.select(SerialItem.id).where(SerialItem.serial_no == "SN-001")) == item.id
    assert db.scalars(
        sa.select(SerialItem.id).where(SerialItem.serial_no.in_(["sn-001", "x"]))
    ).all() == [item.id]
    with pytest.raises(sa.exc.IntegrityError), db.begin_nested(), ledger_writes():
        db.add(SerialItem(material_id=pump.id, batch_id=batch.id, serial_no="SN-001"))
        db.flush()


def test_the_lookup_by_code_uses_the_index(db, make_material):
    if db.get_bind().dialect.name != "sqlite":
        pytest.skip("the plan is read from SQLite's EXPLAIN QUERY PLAN")
    make_material(code="IDX-1")
    statement = sa.select(Material.id).where(Material.code == "idx-1")
    sql = str(statement.compile(db.get_bind()))
    assert "upper" not in sql.lower()  # the column is compared as it is, so its index applies
    connection = db.connection()
    plan = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}", ("IDX-1",)).all()
    assert any("INDEX" in str(row) for row in plan), plan
    assert db.execute(statement).scalar() is not None


# Migration edge0001 --------------------------------------------------------------------------


def _migration():
    spec = importlib.util.spec_from_file_location("edge0001", MIGRATION)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _run_upgrade(db) -> None:
    connection = db.connection()
    with Operations.context(MigrationContext.configure(connection)):
        _migration().upgrade()


def _raw(db, sql: str, **params):
    """Write past the Code type, as rows stored before it did."""
    return db.execute(sa.text(sql), params)


def test_the_migration_normalises_stored_codes(db, make_material, make_warehouse):
    tent = make_material(code="MIG-1")
    warehouse = make_warehouse(code="MIG-WH")
    batch = Batch(material_id=tent.id, batch_no="M-1", source="purchase")
    db.add(batch)
    db.flush()
    _raw(db, "UPDATE materials SET code = ' mig-1' WHERE id = :id", id=tent.id)
    _raw(db, "UPDATE warehouses SET code = 'mig-wh' WHERE id = :id", id=warehouse.id)
    _raw(db, "UPDATE locations SET code = 'a-01-01' WHERE warehouse_id = :id AND code = 'A-01-01'",
         id=warehouse.id)  # fmt: skip
    _raw(db, "UPDATE batches SET batch_no = 'm-1' WHERE id = :id", id=batch.id)
    _run_upgrade(db)
    assert _raw(db, "SELECT code FROM materials WHERE id = :id", id=tent.id).scalar() == "MIG-1"
    assert _raw(db, "SELECT code FROM warehouses WHERE id = :id", id=warehouse.id).scalar() == (
        "MIG-WH"
    )
    codes = _raw(db, "SELECT code FROM locations WHERE warehouse_id = :id", id=warehouse.id)
    assert sorted(codes.scalars()) == ["A-01-01", "RECV"]
    assert _raw(db, "SELECT batch_no FROM batches WHERE id = :id", id=batch.id).scalar() == "M-1"


def test_the_migration_refuses_to_merge_two_codes_and_changes_nothing(db, make_warehouse):
    warehouse = make_warehouse(code="MIG-2")
    _raw(
        db,
        "INSERT INTO locations (warehouse_id, code, is_receiving, is_active) "
        "VALUES (:id, 'a-01-01', :no, :yes)",
        id=warehouse.id,
        no=False,
        yes=True,
    )
    _raw(db, "UPDATE warehouses SET code = 'mig-2' WHERE id = :id", id=warehouse.id)
    with pytest.raises(RuntimeError, match="'A-01-01' and 'a-01-01'"):
        _run_upgrade(db)
    assert _raw(db, "SELECT code FROM warehouses WHERE id = :id", id=warehouse.id).scalar() == (
        "mig-2"
    )
