"""Lists page by key in the browser (issue 10): "Next page" and "First page" on the demo city,
with the sort and the filters kept, every row once, and a keeper kept to their warehouse."""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import sign_in

pytestmark = pytest.mark.browser


def _row_ids(page, table: str) -> list[str]:
    return page.locator(f"#{table} tbody tr[id]").evaluate_all("rows => rows.map(r => r.id)")


def test_an_admin_pages_the_materials_by_name_and_back(page):
    sign_in(page, "admin")
    page.goto("/catalog/materials")
    page.locator("#material-table thead a", has_text="名称").click()
    expect(page).to_have_url(re.compile(r"sort=name"))
    first = _row_ids(page, "material-table")
    assert len(first) == 50
    page.click("#next-page")
    expect(page).to_have_url(re.compile(r"sort=name.*after=|after=.*sort=name"))
    second = _row_ids(page, "material-table")
    assert second and len(second) <= 50 and not set(first) & set(second)
    page.get_by_role("link", name="第一页").click()
    expect(page).not_to_have_url(re.compile(r"after="))
    assert _row_ids(page, "material-table") == first


def test_an_admin_walks_the_audit_log_without_a_repeat(page):
    sign_in(page, "admin")
    page.goto("/admin/audit")
    expect(page.locator("#audit-count")).to_be_visible()
    seen: list[str] = []
    for _ in range(3):
        rows = _row_ids(page, "audit-table")
        assert 0 < len(rows) <= 50
        seen += rows
        older = page.locator("#audit-older")
        if not older.count():
            break
        with page.expect_navigation():
            older.click()
    assert len(seen) == len(set(seen)) and len(seen) > 50


def test_a_keeper_pages_the_materials_with_a_filter_kept(page):
    sign_in(page, "keeper")
    page.goto("/catalog/materials?tracking=batch")
    first = _row_ids(page, "material-table")
    assert len(first) == 50
    page.click("#next-page")
    expect(page).to_have_url(re.compile(r"tracking=batch"))
    second = _row_ids(page, "material-table")
    assert second and not set(first) & set(second)


def test_a_keeper_pages_the_locations_of_their_warehouse(page):
    sign_in(page, "keeper")  # keeps the municipal warehouse only (160 rack locations + RECV)
    page.goto("/warehouses")
    rows = page.locator("#warehouse-table tbody tr[id]")
    expect(rows).to_have_count(1)
    rows.first.locator("a").click()
    expect(page.locator("#location-table")).to_be_visible()
    first = _row_ids(page, "location-table")
    assert len(first) == 50
    expect(page.locator("#location-table tbody tr").first).to_contain_text("收货区")
    page.click("#location-next-page")
    expect(page).to_have_url(re.compile(r"after="))
    second = _row_ids(page, "location-table")
    assert len(second) == 50 and not set(first) & set(second)
