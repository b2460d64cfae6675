"""Disaster-day speed, on a copy of the demo city, counted: from the landing page the dispatcher
turns "500 tents and 2,000 quilts to 平阴县, needed by tonight" into a submitted order with its
suggested sources (≤ 10 clicks), the approver approves it from the landing page (≤ 3 more); an
emergency order (先调后补) by the dispatcher alone (≤ 12 in all), signed off afterwards by an
approver from the list of orders awaiting sign-off. Each flow prints its clicks, keystrokes and
the seconds its pages took."""

from __future__ import annotations

import re
import time

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from reserve import normalise_database_url
from tests.browser.conftest import sign_in

pytestmark = pytest.mark.browser


class Counted:
    """A page driven by clicks and keys, counted (typing a text is one key per character)."""

    def __init__(self, page):
        self.page = page
        self.clicks = 0
        self.keys = 0
        self.started = time.monotonic()

    def click(self, selector: str) -> None:
        self.clicks += 1
        self.page.click(selector)

    def click_picker(self, selector: str) -> None:
        """A click into a material picker's search box (tom-select's input is a 1-character
        box Playwright calls "outside of the viewport": focused, as the click does)."""
        self.clicks += 1
        self.page.locator(selector).focus()

    def type(self, text: str) -> None:
        self.keys += len(text)
        self.page.keyboard.type(text)

    def press(self, key: str) -> None:
        self.keys += 1
        self.page.keyboard.press(key)

    @property
    def seconds(self) -> float:
        return time.monotonic() - self.started


def _pick(c: Counted, search: str, label: str) -> None:
    """The material picker: type pinyin initials, take the first match with Enter."""
    with c.page.expect_response(lambda r: "/materials/pick" in r.url, timeout=20_000):
        c.type(search)
    expect(c.page.locator(".ts-dropdown .option.active", has_text=label)).to_be_visible(
        timeout=20_000
    )
    c.press("Enter")


def draft_tents_and_quilts(c: Counted) -> None:
    """From the landing page to a saved draft: 3 clicks (the rest is typed)."""
    c.click("#home-new-order")
    expect(c.page.locator("#order-form")).to_be_visible()
    c.click("#requesting_unit")
    c.type("平阴县应急管理局")
    c.press("Tab")  # the destination warehouse (a transfer's): skipped
    c.press("Tab")
    c.type("平阴县玫瑰镇安置点")
    c.click_picker("#lines-0-material_id-ts-control")
    _pick(c, "dzp", "单帐篷")
    c.press("Tab")
    c.type("500")
    c.press("Tab")
    _pick(c, "mb", "棉被")
    c.press("Tab")
    c.type("2000")
    c.press("Enter")  # submits the form; "tonight" is the needed-by chosen by default
    expect(c.page.locator("#order-accept-suggestions")).to_be_visible()


def _status(url: str, order_no: str) -> tuple[str, bool, bool]:
    engine = sa.create_engine(normalise_database_url(url))
    with engine.connect() as conn:
        row = conn.execute(
            sa.text(
                "SELECT status, is_emergency, signed_off_at IS NOT NULL"
                " FROM allocation_orders WHERE no = :no"
            ),
            {"no": order_no},
        ).one()
        sources = conn.execute(
            sa.text(
                "SELECT count(*) FROM order_sources s JOIN allocation_orders o"
                " ON o.id = s.order_id WHERE o.no = :no"
            ),
            {"no": order_no},
        ).scalar()
    engine.dispose()
    assert sources > 0
    return row[0], bool(row[1]), bool(row[2])


def _order_no(page) -> str:
    return page.locator("h1 code").inner_text().strip()


def test_a_dispatcher_submits_in_ten_clicks_and_an_approver_approves_in_three(page, demo_copy):
    sign_in(page, "dispatcher")
    c = Counted(page)
    draft_tents_and_quilts(c)
    c.click("#order-accept-suggestions")
    expect(page.locator("#order-sources")).to_be_visible()
    c.click("#order-submit")
    expect(page.locator("#order-status")).to_have_text(re.compile("待审批|Awaiting approval"))
    order_no = _order_no(page)
    print(f"\ndispatcher: {c.clicks} clicks, {c.keys} keys, {c.seconds:.1f} s to submit {order_no}")
    assert c.clicks <= 10
    dispatcher_clicks = c.clicks

    page.context.clear_cookies()
    sign_in(page, "approver")
    a = Counted(page)
    a.click("#home-orders-to-approve")
    a.click(f"text={order_no}")
    a.click("#order-approve")
    expect(page.locator("#order-status")).to_have_text(re.compile("已批准|Approved"))
    print(f"approver: {a.clicks} clicks, {a.seconds:.1f} s to approve")
    assert a.clicks <= 3 and dispatcher_clicks + a.clicks <= 13
    assert _status(demo_copy, order_no) == ("approved", False, False)


def test_an_emergency_order_by_the_dispatcher_alone_then_signed_off(page, demo_copy):
    sign_in(page, "dispatcher")
    c = Counted(page)
    draft_tents_and_quilts(c)
    c.click("#order-accept-suggestions")
    expect(page.locator("#order-sources")).to_be_visible()
    c.click("#order-approve-emergency")
    expect(page.locator("#order-status")).to_have_text(re.compile("已批准|Approved"))
    expect(page.locator("#order-awaits-sign-off")).to_be_visible()
    order_no = _order_no(page)
    print(f"\nemergency: {c.clicks} clicks, {c.keys} keys, {c.seconds:.1f} s, {order_no}")
    assert c.clicks <= 12
    assert _status(demo_copy, order_no) == ("approved", True, False)

    page.context.clear_cookies()
    sign_in(page, "approver")
    a = Counted(page)
    a.click("#home-orders-to-sign-off")
    expect(page.locator("h1")).to_contain_text(re.compile("待补批|Awaiting sign-off"))
    a.click(f"text={order_no}")
    a.click("#order-sign-off")
    expect(page.locator("#order-awaits-sign-off")).to_have_count(0)
    print(f"sign-off: {a.clicks} clicks, {a.seconds:.1f} s")
    assert _status(demo_copy, order_no) == ("approved", True, True)
