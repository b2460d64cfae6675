"""Rotation and scrap, clicked through on the demo city: the keeper keeps JN-SJ-01, whose demo
stock includes near-expiry and expired batches."""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import sign_in

pytestmark = pytest.mark.browser

# A batch-tracked balance (serial-tracked ones would need serial numbers).
BATCH_STOCK = '#lines-0-stock option:not([value=""]):not([data-serial])'


def _switch_user(page, username: str) -> None:
    page.context.clear_cookies()
    sign_in(page, username)
    expect(page.locator("#user-menu")).to_be_visible()


def test_keeper_requests_a_scrap_the_approver_approves_and_the_keeper_posts(page):
    """The approver finds the request on the landing page, clicks through, sees the value at
    stake and confirms; the keeper posts through the same confirm step."""
    sign_in(page, "keeper")
    page.goto("/scraps/new")
    expect(page.locator("#document-warehouse")).to_contain_text("JN-SJ-01")
    stock = page.locator(BATCH_STOCK).first.get_attribute("value")
    page.select_option("#lines-0-stock", stock)
    page.fill("#lines-0-qty", "1")
    page.select_option("#reason", "damaged")
    page.fill("#reason_text", "搬运时包装破损")
    page.click("#scrap-save")
    expect(page.locator(".alert-success")).to_be_visible()
    expect(page.locator("#scrap-status")).to_have_attribute("data-status", "requested")
    expect(page.locator("#scrap-lines tbody tr")).to_have_count(1)
    expect(page.locator("#scrap-approve")).to_have_count(0)  # not the keeper's to decide
    url = page.url
    no = page.locator("h1 small").inner_text()
    total = page.locator("#scrap-lines-total").inner_text()

    _switch_user(page, "approver")
    page.goto("/")
    task = page.locator("#work-scraps-to-approve")
    expect(task).to_be_visible()
    expect(task).to_contain_text("待审批的报废申请")
    task.click()
    expect(page).to_have_url(re.compile(r"/scraps\?status=requested"))
    page.get_by_role("link", name=no).click()
    expect(page).to_have_url(url)
    page.click("#scrap-approve")
    expect(page.locator("#confirm-question")).to_contain_text(no)
    expect(page.locator("#confirm-total")).to_have_text(total)
    expect(page.locator("#confirm-lines tbody tr")).to_have_count(1)
    page.fill("#confirm-note", "同意报废")
    page.click("#confirm-submit")
    expect(page.locator(".alert-success")).to_be_visible()
    expect(page.locator("#scrap-status")).to_have_attribute("data-status", "approved")
    expect(page.locator("#scrap-post")).to_have_count(0)  # posting is the keeper's

    _switch_user(page, "keeper")
    page.goto("/")
    page.click("#work-scraps-to-post")
    page.get_by_role("link", name=no).click()
    page.click("#scrap-post")
    expect(page.locator("#confirm-total")).to_have_text(total)
    page.click("#confirm-submit")
    expect(page.locator(".alert-success")).to_be_visible()
    expect(page.locator("#scrap-status")).to_have_attribute("data-status", "posted")
    expect(page.locator("#scrap-decision")).to_contain_text("同意报废")


def test_rotation_candidates_show_a_near_expiry_batch_and_prefill_a_rotation(page):
    sign_in(page, "keeper")
    page.goto("/rotations/candidates")
    rows = page.locator("#candidate-table tbody tr[data-days-left]")
    expect(rows.first).to_be_visible()
    days_left = [
        int(d) for d in rows.evaluate_all("rows => rows.map(r => r.getAttribute('data-days-left'))")
    ]
    assert days_left == sorted(days_left)  # soonest first; expired (negative) at the top
    if days_left[0] < 0:
        expect(rows.first.locator("[data-expiry=expired]")).to_be_visible()
    row_id = rows.first.get_attribute("id")  # candidate-<location>-<batch>
    location_id, batch_id = re.match(r"candidate-(\d+)-(\d+)", row_id).groups()
    rows.first.locator(".candidate-rotate").click()
    expect(page.locator("#rotation-form")).to_be_visible()
    expect(page.locator("#lines-0-stock")).to_have_value(f"{location_id}:{batch_id}")
    expect(page.locator("#lines-0-qty")).not_to_have_value("")


def test_disposal_pages_fit_a_360px_phone(phone_page):
    sign_in(phone_page, "keeper")
    for url in ("/rotations/candidates", "/rotations", "/scraps", "/scraps/new", "/rotations/new"):
        phone_page.goto(url)
        overflow = phone_page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, f"{url} overflows a 360 px screen by {overflow}px"
