"""Reserve standards in the browser, on a copy of the demo city: the admin opens the shortfall,
edits the most severe standard on screen, and the shortfall page changes; a viewer reads the
shortfall but has no edit link."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import sign_in

pytestmark = pytest.mark.browser


def test_the_admin_edits_a_standard_and_the_shortfall_changes(page):
    sign_in(page, "admin")
    page.goto("/shortfall")
    first = page.locator("#shortfall-table tbody tr").first
    expect(first).to_have_attribute("data-severity", "critical")
    row_id = first.get_attribute("id")
    standard_id = int(row_id.removeprefix("shortfall-"))
    critical = int(page.locator("#shortfall-counts strong").first.inner_text())
    page.goto(f"/standards/{standard_id}/edit")
    page.fill("#required_qty", "1")
    page.fill("#min_physical_pct", "0")
    with page.expect_navigation():
        page.click("#standard-save")
    expect(page.locator(".alert-success")).to_contain_text(re.compile("已保存|saved"))
    page.goto("/shortfall")
    expect(page.locator(f"#{row_id}")).to_have_attribute("data-severity", "met")
    expect(page.locator(f"#{row_id} .shortfall-qty")).to_have_text("0")
    expect(page.locator("#shortfall-counts strong").first).to_have_text(str(critical - 1))
    page.goto(f"/standards/{standard_id}/edit")
    expect(page.locator("#standard-history")).to_contain_text("admin")


def test_a_viewer_reads_the_shortfall_without_editing(page):
    sign_in(page, "viewer")
    page.goto("/shortfall")
    expect(page.locator("#shortfall-table tbody tr").first).to_be_visible()
    page.goto("/standards")
    expect(page.locator("#standard-new")).to_have_count(0)
    expect(page.locator("#standard-table a[href*='/edit']")).to_have_count(0)
