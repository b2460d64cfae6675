"""Law 1, checked in the source and at run time: only the ledger writes the stock tables
(balances, movements, reservations, and the status and place of serial items)."""

import re
from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy import select, text, update

from reserve.stock import ledger
from reserve.stock.guard import LedgerGuardError, refused_sql
from reserve.stock.models import SerialItem, StockBalance, StockMovement, StockReservation
from tests.stock.conftest import post, reserve

PACKAGE = Path(__file__).resolve().parents[2] / "reserve"
MODELS = r"(?:StockBalance|StockMovement|StockReservation|SerialItem)"
TABLES = r"(?:stock_balances|stock_movements|stock_reservations|serial_items)"
WRITES = re.compile(
    rf"(?:insert|update|delete)\(\s*{MODELS}\b"
    rf"|\b{MODELS}\("
    rf"|\b{MODELS}\.__table__\.(?:insert|update|delete)\("
    rf"|\b(?:sa\.)?table\(\s*[\"']{TABLES}[\"']"
    rf"|(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+\"?{TABLES}"
    r"|bulk_(?:insert|update)_mappings\(|bulk_save_objects\(",
    re.IGNORECASE,
)
# the ledger and the modules it calls inside its guarded writes
LEDGER = ("stock/ledger.py", "stock/serials.py", "stock/models.py", "stock/guard.py")
# schema changes that fill a new column of their own, under ledger_writes(), named one by one
BACKFILLS = ("migrations/versions/since0001_verify_since_reads_changes.py",)


def test_only_the_ledger_writes_stock():
    offenders = []
    for path in PACKAGE.rglob("*.py"):
        if path.relative_to(PACKAGE).as_posix() in LEDGER + BACKFILLS:
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if WRITES.search(line):
                offenders.append(f"{path.relative_to(PACKAGE)}:{number}: {line.strip()}")
    assert offenders == []


@pytest.mark.parametrize(
    "line",
    [
        "session.execute(update(StockBalance).values(qty=1))",
        'db.execute(text("UPDATE stock_balances SET qty = 0"))',
        "session.add(StockMovement(qty=1))",
        "session.add(StockReservation(qty=1))",
        "session.add(SerialItem(serial_no='X'))",
        "session.execute(StockBalance.__table__.update().values(qty=1))",
        "conn.execute(StockMovement.__table__.delete())",
        "conn.execute(SerialItem.__table__.insert(), rows)",
        "session.execute(sa.table('stock_reservations').insert())",
        "session.bulk_insert_mappings(Whatever, rows)",
        "session.bulk_update_mappings(Whatever, rows)",
        "session.execute(delete(StockReservation))",
    ],
)
def test_the_source_scan_catches_a_write(line):
    assert WRITES.search(line)


def test_the_source_scan_lets_reads_pass():
    assert not WRITES.search("select(StockBalance.qty)")
    assert not WRITES.search("select(SerialItem).where(SerialItem.status == 'in_stock')")


# At run time -----------------------------------------------------------------------------


def test_an_orm_change_to_a_balance_is_refused(db, place):
    post(db, place, 10)
    balance = db.scalar(select(StockBalance))
    balance.qty = 999
    with pytest.raises(LedgerGuardError):
        db.flush()
    db.rollback()


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE stock_balances SET qty = 0",
        "UPDATE stock_balances SET reserved = 0",
        "DELETE FROM stock_movements",
        "UPDATE stock_reservations SET released_qty = qty",
        "INSERT INTO serial_items (material_id, batch_id, serial_no) VALUES (1, 1, 'X')",
        "UPDATE serial_items SET location_id = NULL",
        "DELETE FROM serial_items",
    ],
)
def test_raw_sql_writes_to_stock_tables_are_refused(db, place, statement):
    post(db, place, 10)
    with pytest.raises(LedgerGuardError):
        db.execute(text(statement))
    with pytest.raises(LedgerGuardError):
        db.connection().exec_driver_sql(statement)
    assert db.scalar(select(StockBalance.qty)) == 10


def test_core_table_writes_are_refused(db, place):
    post(db, place, 10)
    with pytest.raises(LedgerGuardError):
        db.connection().execute(StockBalance.__table__.update().values(qty=1))
    with pytest.raises(LedgerGuardError):
        db.execute(update(StockReservation).values(qty=1))
    with pytest.raises(LedgerGuardError):
        db.execute(sa.insert(SerialItem).values(material_id=1, batch_id=1, serial_no="X"))


def test_bulk_mappings_are_refused(db, place):
    movement = post(db, place, 10)
    with pytest.raises(LedgerGuardError), db.begin_nested():
        db.bulk_update_mappings(
            StockBalance, [{"id": db.scalar(select(StockBalance.id)), "qty": 1}]
        )
    with pytest.raises(LedgerGuardError), db.begin_nested():
        db.bulk_insert_mappings(
            StockMovement,
            [
                {
                    "document_date": date.today(),
                    "kind": "receipt",
                    "material_id": movement.material_id,
                    "batch_id": movement.batch_id,
                    "location_id": movement.location_id,
                    "warehouse_id": movement.warehouse_id,
                    "qty": 5,
                    "balance_after": 15,
                    "document_type": "forged",
                    "username": "x",
                }
            ],
        )
    assert ledger.verify(db) == []


def test_a_reservation_changed_outside_the_ledger_is_refused(db, place):
    post(db, place, 10)
    reservation = reserve(db, place, 4)
    reservation.released_qty = 4
    with pytest.raises(LedgerGuardError):
        db.flush()
    db.rollback()


def test_serial_item_place_is_the_ledgers_but_maintenance_dates_are_not(db, place, make_material):
    from reserve.stock.models import Batch

    pump = make_material("排水泵", code="PUMP", tracking="serial")
    batch = Batch(material_id=pump.id, batch_no="P1", source="purchase")
    db.add(batch)
    db.flush()
    post(db, place, 1, batch=batch, serial_nos=["SN-1"])
    item = db.scalar(select(SerialItem))
    item.next_maintenance_on = date(2027, 1, 1)  # anyone may record maintenance
    db.flush()
    db.execute(text("UPDATE serial_items SET next_maintenance_on = '2027-02-01'"))
    item.location_id = place.a2.id
    with pytest.raises(LedgerGuardError):
        db.flush()
    db.rollback()


def test_the_guard_reads_which_serial_columns_an_update_sets():
    assert refused_sql("UPDATE serial_items SET status=? WHERE serial_items.id = ?")
    assert refused_sql('UPDATE "serial_items" SET "location_id"=%(x)s WHERE id = 1')
    assert not refused_sql("UPDATE serial_items SET next_maintenance_on=? WHERE status = ?")
    assert not refused_sql("SELECT * FROM stock_balances FOR UPDATE")
    assert not refused_sql("UPDATE receipts SET status = 'posted'")


# In the database --------------------------------------------------------------------------


def test_movements_are_append_only_in_the_database(db, place):
    post(db, place, 10)
    with ledger._ledger_writes():  # past the Python guard: the trigger still refuses
        with pytest.raises(sa.exc.DatabaseError, match="append-only"), db.begin_nested():
            db.execute(text("UPDATE stock_movements SET qty = 99"))
        with pytest.raises(sa.exc.DatabaseError, match="append-only"), db.begin_nested():
            db.execute(text("DELETE FROM stock_movements"))
    assert db.scalar(select(StockMovement.qty)) == 10


def test_the_database_refuses_a_movement_of_nothing_and_a_second_reversal(db, place):
    original = post(db, place, 10)
    reversal = ledger.reverse_movement(
        db, movement_id=original.id, actor=place.actor, reason="x", document_date=date.today()
    )
    row = {
        c.key: getattr(reversal, c.key) for c in StockMovement.__table__.columns if c.key != "id"
    }
    with ledger._ledger_writes():
        with pytest.raises(sa.exc.IntegrityError), db.begin_nested():
            db.execute(sa.insert(StockMovement).values({**row, "qty": 0, "reverses_id": None}))
        with pytest.raises(sa.exc.IntegrityError), db.begin_nested():
            db.execute(sa.insert(StockMovement).values(row))  # reverses the original again


def test_document_lines_must_carry_a_quantity(db):
    names = {
        (table.name, constraint.name)
        for table in StockMovement.metadata.tables.values()
        for constraint in table.constraints
        if isinstance(constraint, sa.CheckConstraint)
    }
    for table in ("receipt_lines", "rotation_lines", "scrap_lines", "stock_moves"):
        assert (table, f"ck_{table}_qty_positive") in names
    inspector = sa.inspect(db.connection())
    for table in ("receipt_lines", "rotation_lines", "scrap_lines", "stock_moves"):
        checks = {c["name"] for c in inspector.get_check_constraints(table)}
        assert f"ck_{table}_qty_positive" in checks, table
