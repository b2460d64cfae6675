"""The floor in the browser, on a copy of the demo city: the keeper picks an approved order by
scanning its label and ships it, prints the delivery note; the dispatcher signs the site's paper
partially and the order shows the shortfall; an emergency order (先调后补) ships before any
approver has seen it and stays flagged; a return brings one damaged unit back into the scrap
flow. Approved orders come from tests/orders/floor_factories (as approval will make them)."""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from reserve import normalise_database_url
from reserve.auth.actor import Actor
from reserve.auth.models import User
from reserve.db import transaction
from reserve.labels.codes import label_key, label_url, make_code
from reserve.labels.models import Label
from reserve.orders.models import OrderSource
from reserve.stock.models import Batch, StockBalance
from reserve.warehouses.models import Location
from tests.browser.conftest import sign_in
from tests.conftest import test_app
from tests.orders.floor_factories import make_order

pytestmark = pytest.mark.browser

SECRET = "browser-tests"
BASE = "http://127.0.0.1:5000"  # PUBLIC_BASE_URL: what a printed label's QR holds


@dataclass
class Floor:
    url: str
    order_id: int
    order_no: str
    warehouse_id: int
    source_id: int
    label_code: str | None

    def scalar(self, sql: str, **params):
        engine = sa.create_engine(normalise_database_url(self.url))
        with engine.connect() as conn:
            value = conn.execute(sa.text(sql), params).scalar()
        engine.dispose()
        return value


def approved_order(demo_copy, *, qty: int, returnable: bool = False, emergency=False) -> Floor:
    """An approved dispatch of ``qty`` of a batch the demo keeper holds (with its label)."""
    app = test_app(normalise_database_url(demo_copy))
    with app.app_context(), transaction() as session:
        keeper = session.scalar(sa.select(User).where(User.username == "keeper"))
        dispatcher = session.scalar(sa.select(User).where(User.username == "dispatcher"))
        warehouse_id = sorted(keeper.warehouse_ids)[0]
        sourced = sa.orm.aliased(Batch)
        row = session.execute(
            sa.select(StockBalance, Batch)
            .join(Batch, Batch.id == StockBalance.batch_id)
            .join(Location, Location.id == StockBalance.location_id)
            .join(Label, (Label.location_id == Location.id) & (Label.batch_id == Batch.id))
            .where(
                StockBalance.warehouse_id == warehouse_id,
                StockBalance.qty - StockBalance.reserved >= qty,
                ~Location.is_receiving,
                Label.revoked_at.is_(None),
                (Batch.expiry_date.is_(None)) | (Batch.expiry_date > sa.func.current_date()),
            )
            .where(Batch.material.has(tracking="batch", is_returnable=returnable))
            .where(  # not a material the demo's own orders pick in this warehouse
                ~sa.exists().where(
                    OrderSource.warehouse_id == warehouse_id,
                    OrderSource.batch_id == sourced.id,
                    sourced.material_id == Batch.material_id,
                )
            )
            .order_by(StockBalance.id)
            .limit(1)
        ).one()
        balance, batch = row
        label_id = session.scalar(
            sa.select(Label.id).where(
                Label.location_id == balance.location_id,
                Label.batch_id == batch.id,
                Label.revoked_at.is_(None),
            )
        )
        location = session.get(Location, balance.location_id)
        order = make_order(
            session,
            lines=[(batch.material, [("stock", location, batch, qty)])],
            emergency=emergency,
            actor=Actor.for_user(dispatcher),
            no=f"DB-{emergency:d}{returnable:d}99-{balance.id:04d}",
        )
        floor = Floor(
            demo_copy,
            order.id,
            order.no,
            warehouse_id,
            order.lines[0].sources[0].id,
            make_code(label_id, key=label_key(SECRET)),
        )
    return floor


def _wedge(page, text: str) -> None:
    page.keyboard.type(text, delay=5)
    page.keyboard.press("Enter")


def scan_and_pick(page, floor: Floor, qty: int) -> None:
    page.goto("/scan")
    expect(page.locator("#scan-input")).to_be_focused()
    _wedge(page, label_url(BASE, floor.label_code))
    page.click("#action-pick")
    expect(page.locator("#pick-source")).to_contain_text(floor.order_no)
    page.fill("#pick-qty", str(qty))
    page.click("#pick-confirm")
    expect(page.locator("#scan-message")).to_have_class("alert mt-3 alert-success")


def ship(page, floor: Floor) -> None:
    page.goto(f"/orders/{floor.order_id}/ship/{floor.warehouse_id}")
    page.fill("#vehicle_plate", "鲁A 3K721")
    page.fill("#driver_name", "王建国")
    page.fill("#driver_phone", "13905310001")
    page.click("#ship-submit")
    expect(page.locator("#delivery-note-pdf")).to_be_visible()


def test_keeper_picks_by_scan_ships_and_the_site_signs_short(page, demo_copy):
    floor = approved_order(demo_copy, qty=20)
    sign_in(page, "keeper")
    page.goto("/pick-lists")
    expect(page.locator("#pick-list-table")).to_contain_text(floor.order_no)
    # a wrong quantity first: more than the pick list says is refused, nothing recorded
    page.goto("/scan")
    _wedge(page, label_url(BASE, floor.label_code))
    page.click("#action-pick")
    page.fill("#pick-qty", "21")
    page.click("#pick-confirm")
    expect(page.locator("#scan-message")).to_have_class("alert mt-3 alert-danger")
    assert floor.scalar(f"SELECT count(*) FROM order_picks WHERE order_id = {floor.order_id}") == 0
    scan_and_pick(page, floor, 20)
    ship(page, floor)
    note = page.request.get(page.locator("#delivery-note-pdf").get_attribute("href"))
    assert note.ok and note.headers["content-type"] == "application/pdf"
    assert floor.scalar("SELECT status FROM allocation_orders WHERE id = :i", i=floor.order_id) == (
        "shipped"
    )
    # the destination's paper, signed short, recorded by the dispatcher
    page.context.clear_cookies()
    sign_in(page, "dispatcher")
    page.goto(f"/orders/{floor.order_id}/receive")
    page.fill(f"#qty-{floor.source_id}", "17")
    page.click("#receive-submit")
    expect(page.locator(f"#reason-{floor.source_id}")).to_be_visible()  # refused: no reason
    assert (
        floor.scalar(f"SELECT count(*) FROM order_receipts WHERE order_id = {floor.order_id}") == 0
    )
    page.fill(f"#qty-{floor.source_id}", "17")
    page.fill(f"#reason-{floor.source_id}", "3 件途中损坏，现场拒收")
    page.fill("#signed_by", "平阴县王主任")
    page.click("#receive-submit")
    expect(page.locator("#floor-shortfall")).to_contain_text("3 件途中损坏")
    expect(page.locator(f"#floor-source-{floor.source_id}")).to_contain_text("17")
    assert floor.scalar("SELECT status FROM allocation_orders WHERE id = :i", i=floor.order_id) == (
        "received"
    )


def test_an_emergency_order_ships_before_approval_and_stays_flagged(page, demo_copy):
    floor = approved_order(demo_copy, qty=5, emergency=True)
    sign_in(page, "keeper")
    scan_and_pick(page, floor, 5)
    ship(page, floor)
    page.goto(f"/orders/{floor.order_id}/floor")
    expect(page.locator("#order-status")).to_have_text(re.compile("已发运|Shipped"))
    expect(page.locator("h1")).to_contain_text("待补批")
    signed = floor.scalar(
        "SELECT signed_off_at FROM allocation_orders WHERE id = :i", i=floor.order_id
    )
    assert signed is None  # 补批 is the approver's (ordcore's sign_off), not the floor's


def test_a_return_with_one_damaged_unit(page, demo_copy):
    floor = approved_order(demo_copy, qty=4, returnable=True)
    sign_in(page, "keeper")
    scan_and_pick(page, floor, 4)
    ship(page, floor)
    page.context.clear_cookies()
    sign_in(page, "dispatcher")
    page.goto(f"/orders/{floor.order_id}/receive")
    page.click("#receive-submit")
    expect(page.locator("#floor-return")).to_have_count(0)  # the keeper's step
    page.context.clear_cookies()
    sign_in(page, "keeper")
    page.goto(f"/orders/{floor.order_id}/floor")
    page.click("#floor-return")
    page.select_option("#warehouse_id", str(floor.warehouse_id))
    page.fill(f"#good-{floor.source_id}", "3")
    page.fill(f"#scrap-{floor.source_id}", "1")
    page.fill(f"#note-{floor.source_id}", "篷布撕裂")
    page.click("#return-submit")
    expect(page.locator(f"#floor-source-{floor.source_id}")).to_contain_text("4")
    assert (
        floor.scalar(f"SELECT count(*) FROM order_returns WHERE order_id = {floor.order_id}") == 1
    )
    assert floor.scalar("SELECT status FROM scraps ORDER BY id DESC LIMIT 1") == "requested"
