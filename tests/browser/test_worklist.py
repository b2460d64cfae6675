"""The landing page of work (待办) as every role, its links, and the list of stock moves, on
the demo city (the keeper keeps the municipal warehouse; its stock has expired batches)."""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import sign_in

pytestmark = pytest.mark.browser


@pytest.mark.parametrize(
    "username", ["admin", "dispatcher", "approver", "keeper", "enterprise", "viewer"]
)
def test_every_role_lands_on_its_work(page, username):
    sign_in(page, username)
    expect(page.locator("#work-waiting")).to_be_visible()
    expect(page.locator("#work-waiting h2")).to_have_text(re.compile("我的待办"))
    expect(page.locator("#site-name")).to_have_count(1)
    expect(page.locator("nav")).not_to_contain_text("应急物资储备应急物资储备")
    if username == "enterprise":
        expect(page.locator("#home-enterprise")).to_have_text("济南泉味源食品有限公司")
        expect(page.locator("#work-attention")).to_have_count(0)
        expect(page.locator("#stat-materials-link")).to_be_visible()
        return
    expect(page.locator("#work-attention")).to_contain_text("过期库存")
    for link in page.locator("#work-attention a, #home-counters a").all():
        href = link.get_attribute("href")
        response = page.request.get(href)
        assert response.status == 200, f"{username}: {href} -> {response.status}"


def test_the_keeper_follows_expired_stock_to_the_candidates(page):
    sign_in(page, "keeper")
    line = page.locator("#work-expired")
    count = int(line.locator("[data-count]").get_attribute("data-count"))
    assert count > 0  # the demo city holds expired batches in the municipal warehouse
    line.click()
    expect(page).to_have_url(re.compile(r"/rotations/candidates\?state=expired"))
    rows = page.locator("#candidate-table tbody tr[data-days-left]")
    expect(rows.first).to_be_visible()
    expect(page.locator("#candidate-table [data-expiry=near]")).to_have_count(0)
    assert rows.count() == min(count, 50)
    expect(rows.first.locator("[data-expiry=expired]")).to_be_visible()


def test_the_keeper_moves_stock_and_finds_the_move_in_the_list(page):
    sign_in(page, "keeper")
    page.goto("/stock/moves/new")
    page.select_option("#material_id", index=1)
    expect(page).to_have_url(re.compile(r"material_id=\d+"))  # the next choices narrow
    page.wait_for_load_state()  # the reloaded page's script listens for the next change
    page.select_option("#batch_id", index=1)
    expect(page).to_have_url(re.compile(r"batch_id=\d+"))
    page.wait_for_load_state()
    page.select_option("#from_location_id", index=1)
    source = page.locator("#from_location_id option:checked").inner_text().split(" · ")[0]
    targets = page.locator("#to_location_id option").all_inner_texts()
    target = next(t for t in targets[1:] if not t.startswith(source))
    page.select_option("#to_location_id", label=target)
    page.fill("#qty", "1")
    page.click("#move-submit")
    expect(page.locator(".alert-success")).to_be_visible()
    expect(page.locator("#move-qty")).to_contain_text("1")
    no = page.locator("h1 small").inner_text()
    expect(page.locator("#move-facts")).to_contain_text("赵保管")
    page.click("#move-list-link")
    expect(page.locator("#move-table tbody tr").first).to_contain_text(no)
    # from the menu too, as a reader
    page.context.clear_cookies()
    sign_in(page, "viewer")
    page.click("#nav-documents")
    page.click("#nav-moves")
    expect(page.locator("#move-table")).to_contain_text(no)
    expect(page.locator("#move-new")).to_have_count(0)  # the viewer moves nothing


def test_the_landing_page_and_the_move_list_fit_a_360px_phone(phone_page):
    sign_in(phone_page, "approver")
    for url in ("/", "/stock/moves", "/scraps"):
        phone_page.goto(url)
        overflow = phone_page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, f"{url} overflows a 360 px screen by {overflow}px"
    phone_page.goto("/")
    expect(phone_page.locator("#work-waiting")).to_be_in_viewport()
