"""Stock to rotate and scrap: a batch received into a location through the ledger, and clients
for users holding several roles."""

from __future__ import annotations

from datetime import date, timedelta
from itertools import count

import pytest
import sqlalchemy as sa

from reserve.auth.actor import Actor
from reserve.auth.models import Role
from reserve.disposals.queries import local_today
from reserve.stock import ledger
from reserve.stock.models import Batch, MovementKind, SerialItem, StockBalance, StockMovement
from reserve.warehouses.models import Location
from tests.conftest import AuthActions


def days(n: int) -> date:
    """A date ``n`` days from today (negative: in the past)."""
    return local_today() + timedelta(days=n)


@pytest.fixture
def put_stock(db, system_actor):
    """Receive ``qty`` of a new batch of ``material`` at ``location_code`` of ``warehouse``;
    serial-tracked materials get one in-stock item per serial number. Returns (location,
    batch)."""
    numbers = count(1)

    def put(
        material,
        warehouse,
        qty: int,
        *,
        expiry_date: date | None = None,
        batch_no: str | None = None,
        location_code: str = "A-01-01",
        serial_nos: tuple[str, ...] = (),
    ):
        location = db.scalar(
            sa.select(Location).where(
                Location.warehouse_id == warehouse.id, Location.code == location_code
            )
        )
        batch = Batch(
            material_id=material.id,
            batch_no=batch_no or f"B{next(numbers):04d}",
            expiry_date=expiry_date,
            source="purchase",
        )
        db.add(batch)
        db.flush()
        ledger.post_movement(
            db,
            kind=MovementKind.RECEIPT,
            location_id=location.id,
            batch_id=batch.id,
            qty=qty,
            actor=system_actor,
            document=ledger.DocumentRef("receipt", None, None, local_today()),
            serial_nos=serial_nos,  # the ledger creates the serial items with their stock
        )
        return location, batch

    return put


@pytest.fixture
def balance(db):
    def qty(location, batch) -> int:
        return (
            db.scalar(
                sa.select(StockBalance.qty).where(
                    StockBalance.location_id == location.id, StockBalance.batch_id == batch.id
                )
            )
            or 0
        )

    return qty


@pytest.fixture
def ledger_state(db):
    """Everything a failed attempt must leave as it was: movements, balances, documents,
    serial item statuses."""
    from reserve.disposals.models import Rotation, RotationLine, Scrap, ScrapLine

    def state() -> tuple:
        def n(model):
            return db.scalar(sa.select(sa.func.count()).select_from(model))

        balances = tuple(
            db.execute(
                sa.select(
                    StockBalance.location_id,
                    StockBalance.batch_id,
                    StockBalance.qty,
                    StockBalance.reserved,
                ).order_by(StockBalance.id)
            ).all()
        )
        serials = tuple(
            db.execute(
                sa.select(SerialItem.serial_no, SerialItem.status).order_by(SerialItem.id)
            ).all()
        )
        return (
            n(StockMovement),
            balances,
            n(Rotation),
            n(RotationLine),
            n(Scrap),
            n(ScrapLine),
            serials,
        )

    return state


@pytest.fixture
def actor_for():
    return Actor.for_user


@pytest.fixture
def login_user(app):
    """A client signed in as an existing user (e.g. one holding keeper and approver roles)."""

    def login(user):
        client = app.test_client()
        response = AuthActions(client).login(user.username)
        assert response.status_code == 302
        client.user = user
        return client

    return login


@pytest.fixture
def keeper_and_approver(make_user, make_warehouse):
    """A person holding both roles in one warehouse: may request, must not approve their own."""

    def make(warehouse=None):
        return make_user(Role.KEEPER, Role.APPROVER, warehouses=[warehouse or make_warehouse()])

    return make
