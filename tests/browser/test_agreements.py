"""The virtual reserve in the browser: a dispatcher drafts an agreement with a stock line and a
capacity line and puts it in force; the enterprise user sees its own agreements and never
another's (not in its list, and a guessed address is "not found")."""

import time

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import sign_in

pytestmark = pytest.mark.browser

OWN = "济南泉味源食品有限公司"  # the demo's enterprise user belongs to it
OTHER = "济南南山泉饮品有限公司"
TENT = "1010101002"  # in no demo agreement of the enterprise
QUILT = "1020100003"


def _option(page, select: str, text: str) -> str:
    return page.locator(f"{select} option", has_text=text).first.get_attribute("value")


def test_a_dispatcher_drafts_an_agreement_with_stock_and_capacity_and_puts_it_in_force(page):
    page.on("dialog", lambda dialog: dialog.accept())  # putting in force asks to confirm
    run = str(int(time.time() * 1000))[-7:]
    sign_in(page, "dispatcher")
    page.click("#nav-reserve")  # the virtual reserve's menu
    page.click("#nav-agreements")
    expect(page.locator("#agreement-table")).to_be_visible()
    page.click("#agreement-new")
    expect(page.locator("#agreement-form")).to_be_visible()
    page.fill("#no", f"JNYJ-T-{run}")
    page.select_option("#enterprise_id", _option(page, "#enterprise_id", OWN))
    page.fill("#valid_from", "2026-01-01")
    page.fill("#valid_to", "2028-12-31")
    page.fill("#response_hours", "12")
    page.fill("#storage_fee", "1.50")
    page.locator('input[name="region_ids"]').first.check()
    page.select_option("#lines-0-material_id", _option(page, "#lines-0-material_id", TENT))
    page.select_option("#lines-0-kind", "stock")
    page.fill("#lines-0-committed_qty", "300")
    page.fill("#lines-0-unit_price", "680")
    page.select_option("#lines-1-material_id", _option(page, "#lines-1-material_id", QUILT))
    page.select_option("#lines-1-kind", "capacity")
    page.fill("#lines-1-committed_qty", "20000")
    page.fill("#lines-1-daily_qty", "2000")
    page.fill("#lines-1-lead_hours", "48")
    page.click("#agreement-save")

    expect(page.locator(".alert-success")).to_be_visible()
    expect(page.locator("#agreement-no")).to_have_text(f"JNYJ-T-{run}")
    expect(page.locator("#agreement-stock-lines tbody tr")).to_have_count(1)
    expect(page.locator("#agreement-stock-lines")).to_contain_text("300")
    expect(page.locator("#agreement-capacity-lines tbody tr")).to_have_count(1)
    expect(page.locator("#agreement-capacity-lines .capacity-within")).to_contain_text("2,000")
    page.click("#agreement-activate")
    expect(page.locator(".alert-success")).to_contain_text(f"JNYJ-T-{run}")
    expect(page.locator("#agreement-activate")).to_have_count(0)
    page.click("#agreement-enterprise")
    expect(page.locator("#enterprise-name")).to_contain_text(OWN)
    expect(page.locator("#agreement-table")).to_contain_text(f"JNYJ-T-{run}")
    row = page.locator("#enterprise-commitments tr", has_text=QUILT)
    expect(row.locator(".commitment-within")).to_contain_text("2,000")
    expect(row.locator(".commitment-stock")).to_have_text("—")  # capacity is not stock


def test_a_bad_agreement_is_shown_on_its_field(page):
    sign_in(page, "dispatcher")
    page.goto("/agreements/new")
    page.fill("#no", "JNYJ-BAD")
    page.select_option("#enterprise_id", _option(page, "#enterprise_id", OWN))
    page.fill("#valid_from", "2026-06-01")
    page.fill("#valid_to", "2026-05-01")
    page.fill("#response_hours", "12")
    page.select_option("#lines-0-material_id", _option(page, "#lines-0-material_id", TENT))
    page.fill("#lines-0-committed_qty", "0")
    page.click("#agreement-save")
    expect(page.locator("#valid_to-feedback")).to_be_visible()
    expect(page.locator(".alert-danger")).to_be_visible()


def test_the_enterprise_user_sees_its_own_agreements_and_not_another(page, live_server):
    sign_in(page, "admin")  # find another enterprise's agreement, as the office sees it
    page.goto("/agreements?q=" + OTHER)
    expect(page.locator("#agreement-table tbody tr").first).to_contain_text(OTHER)
    theirs = page.locator("#agreement-table tbody tr a").first
    their_no = theirs.inner_text().strip()
    their_url = theirs.get_attribute("href")
    page.context.clear_cookies()

    sign_in(page, "enterprise")
    page.click("#nav-agreements")
    table = page.locator("#agreement-table")
    expect(table).to_be_visible()
    expect(table.locator("tbody tr").first).to_be_visible()
    expect(table).not_to_contain_text(their_no)
    expect(page.locator("body")).not_to_contain_text(OTHER)
    table.locator("tbody tr a").first.click()
    expect(page.locator("#agreement-enterprise")).to_have_text(OWN)
    expect(page.locator("#agreement-activate")).to_have_count(0)
    expect(page.locator("#agreement-terminate")).to_have_count(0)
    page.click("#nav-my-enterprise")
    expect(page.locator("#enterprise-name")).to_contain_text(OWN)
    expect(page.locator("#enterprise-duty-contact")).to_be_visible()
    response = page.goto(their_url)
    assert response.status == 404
    expect(page.locator("body")).not_to_contain_text(their_no)
