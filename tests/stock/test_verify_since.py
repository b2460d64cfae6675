"""``flask stock verify --since``: only the balances touched since the last clean run, recorded
run by run; the full run still finds what --since leaves alone."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from reserve.db import clock_at, utcnow
from reserve.stock import ledger
from reserve.stock.models import VerificationRun
from reserve.stock.verification import IN_FLIGHT
from tests.stock.conftest import post, reserve
from tests.stock.tamper import behind_the_ledgers_back


def _verify(app, *args):
    return app.test_cli_runner().invoke(args=["stock", "verify", *args])


def _tamper(db, location, batch, qty):
    with behind_the_ledgers_back(db) as run:
        run(
            "UPDATE stock_balances SET qty = :qty WHERE location_id = :loc AND batch_id = :b",
            qty=qty,
            loc=location.id,
            b=batch.id,
        )


def _runs(db):
    return db.scalars(select(VerificationRun).order_by(VerificationRun.id)).all()


def test_no_recorded_run_means_a_full_run(app, db, place):
    post(db, place, 10)
    _tamper(db, place.a1, place.batch, 7)
    result = _verify(app, "--since")
    assert result.exit_code == 1, result.output
    assert "没有" in result.output and "A-01-01" in result.output  # "no clean run: everything"
    (run,) = _runs(db)
    assert not run.incremental and run.differences == 1 and run.places == 1


def _earlier(db, place):
    """Stock posted an hour ago: well before the next run, outside ``IN_FLIGHT``."""
    with clock_at(utcnow() - timedelta(hours=1)):
        post(db, place, 10)
        post(db, place, 5, location=place.a2)


def test_since_finds_a_tampered_balance_touched_after_the_last_clean_run(app, db, place):
    _earlier(db, place)
    assert _verify(app).exit_code == 0
    clean = _runs(db)[-1]
    assert clean.differences == 0 and not clean.incremental and clean.places == 2

    post(db, place, 1, location=place.a2)  # touched after the clean run
    _tamper(db, place.a2, place.batch, 99)
    result = _verify(app, "--since")
    assert result.exit_code == 1, result.output
    assert "A-01-02" in result.output and "99" in result.output
    run = _runs(db)[-1]
    assert run.incremental and run.since_run_id == clean.id
    assert run.places == 1 and run.differences == 1


def test_an_untouched_tampered_balance_is_found_by_the_full_run_only(app, db, place):
    _earlier(db, place)
    assert _verify(app).exit_code == 0
    _tamper(db, place.a1, place.batch, 3)  # behind the ledger's back, no movement
    post(db, place, 2, location=place.a2)  # another place is touched

    result = _verify(app, "--since")
    assert result.exit_code == 0, result.output
    assert "1" in result.output  # checked 1 place
    assert _runs(db)[-1].places == 1

    result = _verify(app)
    assert result.exit_code == 1 and "A-01-01" in result.output
    assert _verify(app, "--since").exit_code == 0  # the last clean run is the --since one


def test_since_counts_reservations_opened_since(app, db, place):
    post(db, place, 10)
    assert _verify(app).exit_code == 0
    reserve(db, place, 4)  # no movement, but the place is touched
    with behind_the_ledgers_back(db) as run:
        run(
            "UPDATE stock_balances SET reserved = 1 WHERE location_id = :loc AND batch_id = :b",
            loc=place.a1.id,
            b=place.batch.id,
        )
    result = _verify(app, "--since")
    assert result.exit_code == 1, result.output
    assert _runs(db)[-1].incremental


def _tamper_reserved(db, place, reserved):
    with behind_the_ledgers_back(db) as run:
        run(
            "UPDATE stock_balances SET reserved = :r WHERE location_id = :loc AND batch_id = :b",
            r=reserved,
            loc=place.a1.id,
            b=place.batch.id,
        )


def test_since_counts_a_reservation_released_in_part(app, db, place):
    post(db, place, 10)
    reservation = reserve(db, place, 4)
    assert _verify(app).exit_code == 0
    before = reservation.changed_at
    ledger.release(db, reservation_id=reservation.id, qty=1, actor=place.actor)
    db.refresh(reservation)
    assert reservation.status == "open" and reservation.changed_at > before  # still open
    _tamper_reserved(db, place, 4)  # the cache forgets the release
    result = _verify(app, "--since")
    assert result.exit_code == 1, result.output
    run = _runs(db)[-1]
    assert run.incremental and run.places == 1 and run.differences == 1


def _in_flight(db, place, minutes_before_the_run):
    """A clean run that began ``minutes_before_the_run`` after a movement was written, and
    read a highest id at or above it: the movement was committed after the run looked."""
    post(db, place, 10)
    movement = post(db, place, 5, location=place.a2)
    clean = VerificationRun(
        started_at=movement.posted_at + timedelta(minutes=minutes_before_the_run),
        through_movement_id=movement.id,
        incremental=False,
        places=2,
        differences=0,
        seconds=0.1,
    )
    db.add(clean)
    db.flush()
    _tamper(db, place.a2, place.batch, 99)


def test_since_reads_a_movement_committed_after_the_last_run_read_the_highest_id(app, db, place):
    _in_flight(db, place, minutes_before_the_run=1)
    result = _verify(app, "--since")
    assert result.exit_code == 1, result.output
    assert "A-01-02" in result.output and "99" in result.output


def test_what_was_posted_long_before_the_last_run_is_left_to_the_full_run(app, db, place):
    _in_flight(db, place, minutes_before_the_run=IN_FLIGHT.total_seconds() / 60 + 5)
    assert _verify(app, "--since").exit_code == 0  # outside the window: not read again
    assert _verify(app).exit_code == 1  # the full run finds it
