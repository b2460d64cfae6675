"""The dispatcher's availability view in the browser: from the menu, filtered by region and
material, then one material's warehouses and agreement lines."""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import sign_in

pytestmark = pytest.mark.browser


def test_the_dispatcher_filters_the_availability_view_and_drills_into_a_material(page):
    sign_in(page, "dispatcher")
    page.click("#nav-availability")
    expect(page.locator("#availability-table")).to_be_visible()
    expect(page.locator("#availability-table tbody tr[data-material]").first).to_be_visible()

    region = page.locator("#availability-region option", has_text="济南市").first
    page.select_option("#availability-region", region.get_attribute("value"))
    page.fill("#availability-q", "瓶装水")
    page.click("#availability-search")
    expect(page).to_have_url(re.compile(r"region=\d+"))
    rows = page.locator("#availability-table tbody tr[data-material]")
    expect(rows.first).to_be_visible()
    for name in rows.locator(".availability-material").all_inner_texts():
        assert "瓶装水" in name
    # physical stock and agreement stock side by side on the row
    first = rows.first
    expect(first.locator(".physical-available")).to_be_visible()
    expect(first.locator(".agreement-callable")).to_be_visible()

    first.locator(".availability-material").click()
    expect(page.locator("#availability-material-name")).to_contain_text("瓶装水")
    expect(page.locator("#availability-summary")).to_be_visible()
    expect(page.locator("#availability-warehouses")).to_be_visible()
    lines = page.locator("#availability-stock-lines tbody tr[id^=availability-line-]")
    expect(lines.first).to_be_visible()
    # each line names its agreement and how fast it answers, and its flags or a dash
    expect(lines.first.locator("a").nth(1)).to_have_text(re.compile(r"\S+"))
    expect(page.locator("#availability-region")).to_have_value(region.get_attribute("value"))
