"""Call-ups in the browser: a dispatcher calls up from an agreement page of the demo
enterprise; the enterprise user finds it on its landing page, confirms the shipment (a wrong
plate is shown on its field first), then reports the replenishment; the line's outstanding
call-ups go back to what they were."""

from datetime import timedelta

import pytest
from playwright.sync_api import expect

from reserve.db import SHANGHAI, local_today, utcnow
from tests.browser.conftest import sign_in

pytestmark = pytest.mark.browser

OWN = "济南泉味源食品有限公司"  # the demo's enterprise user belongs to it


def _local(moment) -> str:
    return moment.astimezone(SHANGHAI).strftime("%Y-%m-%dT%H:%M")


def test_a_call_up_is_confirmed_by_the_enterprise_and_then_replenished(page):
    sign_in(page, "dispatcher")
    page.goto("/agreements?status=active&q=" + OWN)
    page.locator("#agreement-table tbody tr a").first.click()
    expect(page.locator("#agreement-call-ups")).to_be_visible()
    button = page.locator("a[id^=call-up-line-]").first
    line_no = button.get_attribute("id").removeprefix("call-up-line-")
    before = page.locator(f"#agreement-line-{line_no} .line-callable").inner_text()
    button.click()
    expect(page.locator("#call-up-form")).to_be_visible()
    page.fill("#qty", "3")
    page.fill("#needed_by", _local(utcnow() + timedelta(hours=6)))
    page.fill("#destination", "历城区唐冶安置点")
    page.fill("#purpose", "防汛抢险")
    page.click("#call-up-submit")
    expect(page.locator(".alert-success")).to_be_visible()
    no = page.locator("#call-up-no").inner_text()
    address = page.url
    expect(page.locator("#call-up-status")).to_have_text("待企业确认")

    page.context.clear_cookies()
    sign_in(page, "enterprise")
    expect(page.locator("#work-call-ups-awaiting")).to_be_visible()
    page.click("#work-call-ups-awaiting")
    page.locator("#call-up-table a", has_text=no).click()
    page.fill("#shipped_qty", "3")
    page.fill("#vehicle_plate", "AB123")
    page.fill("#driver_name", "张建国")
    page.fill("#driver_phone", "138 0531 0001")
    page.fill("#shipped_at", _local(utcnow()))
    page.click("#call-up-ship")
    expect(page.locator("#vehicle_plate-feedback")).to_contain_text("车牌号不正确")
    page.fill("#vehicle_plate", "鲁a12345")
    page.click("#call-up-ship")
    expect(page.locator(".alert-success")).to_be_visible()
    expect(page.locator("#call-up-status")).to_have_text("已发运，待补储")
    expect(page.locator("#call-up-vehicle")).to_contain_text("鲁A12345")
    page.fill("#replenished_qty", "3")
    page.fill("#replenished_on", local_today().isoformat())
    page.click("#call-up-replenish")
    expect(page.locator(".alert-success")).to_be_visible()
    expect(page.locator("#call-up-status")).to_have_text("已补储")
    expect(page.locator("#call-up-timeline li")).to_have_count(3)

    page.context.clear_cookies()
    sign_in(page, "dispatcher")
    page.goto(address)
    page.locator("#call-up-facts a").nth(1).click()  # back to the agreement
    expect(page.locator(f"#agreement-line-{line_no} .line-callable")).to_have_text(before)
