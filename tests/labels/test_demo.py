"""The demo city's municipal warehouse has its labels: every batch at a location, every serial
item in stock, every location — and the demo keeper's scan of one resolves."""

from __future__ import annotations

from sqlalchemy import func, select

from reserve.auth.actor import Actor
from reserve.auth.models import User
from reserve.labels.codes import label_key, make_code
from reserve.labels.models import Label
from reserve.labels.service import resolve
from reserve.stock.models import StockBalance
from reserve.warehouses.models import Location, Warehouse


def test_the_demo_labels_the_municipal_warehouse(app, db):
    result = app.test_cli_runner().invoke(args=["demo", "--password", "demo-pass-1"])
    assert result.exit_code == 0, result.output
    municipal = db.scalar(select(Warehouse).order_by(Warehouse.id).limit(1))
    kinds = dict(
        db.execute(
            select(Label.kind, func.count())
            .where(Label.warehouse_id == municipal.id)
            .group_by(Label.kind)
        ).all()
    )
    places = db.scalar(
        select(func.count()).select_from(Location).where(Location.warehouse_id == municipal.id)
    )
    assert kinds["location"] == places
    assert kinds["stock"] > 100 and kinds["item"] > 10
    assert db.scalar(select(func.count()).select_from(Label)) == sum(kinds.values())
    held = db.scalar(
        select(func.count())
        .select_from(StockBalance)
        .where(StockBalance.warehouse_id == municipal.id, StockBalance.qty > 0)
    )
    assert kinds["stock"] <= held
    keeper = Actor.for_user(db.scalar(select(User).where(User.username == "keeper")))
    label = db.scalar(select(Label).where(Label.kind == "stock").order_by(Label.id).limit(1))
    key = label_key(app.config["SECRET_KEY"])
    target = resolve(db, keeper, make_code(label.id, key=key), key=key)
    assert target.warehouse_id == municipal.id and "move" in target.actions
