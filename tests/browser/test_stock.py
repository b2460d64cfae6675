"""The dispatcher answers "how many tents, and where?" in three clicks from the landing page,
and the stock pages keep their key numbers on a 360 px phone without sideways scrolling."""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import sign_in

pytestmark = pytest.mark.browser

TENT = "1010101001"  # 单帐篷 in the demo city


def test_a_dispatcher_finds_how_many_tents_and_where_in_three_clicks(page):
    sign_in(page, "dispatcher")
    page.goto("/")
    # click 1: the stock search, from the navigation of the landing page
    page.locator("nav a.nav-link", has_text="库存").first.click()
    expect(page.locator("#stock-q")).to_be_visible()
    page.fill("#stock-q", "帐篷")
    # click 2: 查询 — the totals per unit and, per tent, the warehouses holding it by name
    page.click("#stock-search")
    totals = page.locator("#stock-totals")
    expect(totals).to_contain_text("可用")
    expect(totals.locator('[data-unit="顶"]')).to_contain_text("顶")
    row = page.locator(f'#stock-table tr[data-material="{TENT}"]')
    expect(row).to_be_visible()
    expect(row.locator("[data-available]")).to_have_text(re.compile(r"[\d,]+ 顶"))
    expect(row.locator("[data-holders] a").first).to_have_text(re.compile(r"库"))
    # click 3: the material by warehouse, the same search
    page.click("#stock-pivot-link")
    pivot = page.locator("#pivot-table")
    tent = pivot.locator(f'tr[data-material="{TENT}"]')
    expect(tent).to_be_visible()
    total = tent.locator("[data-total]").inner_text()
    cells = [c for c in tent.locator("td[data-warehouse] a").all_inner_texts()]
    assert cells and sum(int(c.replace(",", "")) for c in cells) == int(total.replace(",", ""))
    assert "帐篷" in page.locator("#stock-q").input_value()


def test_the_stock_pages_show_the_key_numbers_on_a_360px_phone(phone_page):
    page = phone_page
    sign_in(page, "keeper")
    page.goto("/stock")
    card = page.locator("#stock-cards .stock-card-item").first
    expect(card).to_be_visible()
    for field in ("[data-qty]", "[data-available]", "[data-expiry]"):
        expect(card.locator(field)).to_be_visible()
    expect(page.locator("#stock-table")).to_be_hidden()
    material_url = card.locator("a").first.get_attribute("href")
    for url in ("/stock", material_url, "/stock/pivot"):
        page.goto(url)
        overflow = page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, f"{url} overflows a 360 px screen by {overflow}px"
    page.goto(material_url)
    balance = page.locator("#balance-cards .card").first
    expect(balance).to_be_visible()
    for field in ("[data-qty]", "[data-available]", "[data-expiry]"):
        expect(balance.locator(field)).to_be_visible()
    # the stock card: the numbers columns stay, the rest steps aside
    card_url = page.locator("a", has_text="台账").first.get_attribute("href")
    page.goto(card_url)
    overflow = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0, f"{card_url} overflows a 360 px screen by {overflow}px"
    header = page.locator("#stock-card-table thead").inner_text()
    assert "结存" in header or "余额" in header
