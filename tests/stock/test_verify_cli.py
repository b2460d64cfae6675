"""``flask stock verify`` and ``flask stock close-month`` through the CLI: clean on a small
fixture, and exit 1 naming the difference for each kind of corruption."""

from datetime import date

import pytest
from sqlalchemy import select

from reserve.stock.models import Batch, ClosedMonth, SerialItem
from tests.stock.conftest import post, reserve
from tests.stock.tamper import behind_the_ledgers_back


@pytest.fixture
def stocked(db, place, make_material):
    """Tents at two places, one reservation, and two serial pumps."""
    post(db, place, 10)
    post(db, place, 4, location=place.a2)
    reservation = reserve(db, place, 3)
    pump = make_material("排水泵", code="PUMP", unit="台", tracking="serial")
    pumps = Batch(material_id=pump.id, batch_no="P1", source="purchase")
    db.add(pumps)
    db.flush()
    post(db, place, 2, batch=pumps, serial_nos=["SN-1", "SN-2"])
    return place, reservation, pumps


def _verify(app):
    return app.test_cli_runner().invoke(args=["stock", "verify"])


def test_verify_is_clean_on_a_small_fixture(app, db, stocked):
    result = _verify(app)
    assert result.exit_code == 0, result.output
    assert "一致" in result.output and "差异" not in result.output


def test_verify_names_a_tampered_quantity(app, db, stocked):
    place, _reservation, _pumps = stocked
    with behind_the_ledgers_back(db) as run:
        run(
            "UPDATE stock_balances SET qty = 9 WHERE location_id = :loc AND batch_id = :b",
            loc=place.a2.id,
            b=place.batch.id,
        )
    result = _verify(app)
    assert result.exit_code == 1
    assert "A-01-02" in result.output and "单帐篷" in result.output
    assert "余额为 9" in result.output and "流水合计为 4" in result.output
    assert "1 处" in result.output


def test_verify_names_a_tampered_reserved(app, db, stocked):
    place, _reservation, _pumps = stocked
    with behind_the_ledgers_back(db) as run:
        run(
            "UPDATE stock_balances SET reserved = 5 WHERE location_id = :loc AND batch_id = :b",
            loc=place.a1.id,
            b=place.batch.id,
        )
    result = _verify(app)
    assert result.exit_code == 1
    assert "A-01-01" in result.output
    assert "余额中预留 5" in result.output and "未结预留合计 3" in result.output


def test_verify_names_an_orphan_reservation(app, db, stocked):
    """A reservation left open by a document that is gone (the cache was given back, the row
    was not): the open reservations no longer match the cache."""
    place, _reservation, _pumps = stocked
    with behind_the_ledgers_back(db) as run:
        run(
            "INSERT INTO stock_reservations (location_id, batch_id, material_id, warehouse_id,"
            " document_type, document_id, qty, consumed_qty, released_qty, status, username,"
            " created_at, changed_at) VALUES (:loc, :b, :m, :w, 'order', 999999, 2, 0, 0,"
            " 'open', 'ghost', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)",
            loc=place.a2.id,
            b=place.batch.id,
            m=place.material.id,
            w=place.warehouse.id,
        )
    result = _verify(app)
    assert result.exit_code == 1
    assert "A-01-02" in result.output
    assert "余额中预留 0" in result.output and "未结预留合计 2" in result.output


def test_verify_names_a_serial_item_at_the_wrong_place(app, db, stocked):
    place, _reservation, pumps = stocked
    item = db.scalar(select(SerialItem).where(SerialItem.serial_no == "SN-2"))
    with behind_the_ledgers_back(db) as run:
        run(
            "UPDATE serial_items SET location_id = :loc WHERE id = :id", loc=place.a2.id, id=item.id
        )
    result = _verify(app)
    assert result.exit_code == 1
    lines = [line for line in result.output.splitlines() if "排水泵" in line]
    assert len(lines) == 2, result.output
    one_item = [line for line in lines if "在库单品为 1 件" in line]
    assert any("A-01-01" in line and "余额为 2" in line for line in one_item), result.output
    assert any("A-01-02" in line and "余额为 0" in line for line in one_item), result.output


def test_close_month_from_the_cli(app, db):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["stock", "close-month", "2026-01"])
    assert result.exit_code == 0, result.output
    assert db.scalar(select(ClosedMonth.closed_by).where(ClosedMonth.month == "2026-01")) == "cli"
    again = runner.invoke(args=["stock", "close-month", "2026-01"])
    assert again.exit_code == 1 and "已结账" in again.output
    current = runner.invoke(args=["stock", "close-month", date.today().strftime("%Y-%m")])
    assert current.exit_code == 1
    bad = runner.invoke(args=["stock", "close-month", "2026-13"])
    assert bad.exit_code == 1 and "YYYY-MM" in bad.output
