"""Each role clicks through the foundation: sign-in, language, scope, the catalogue."""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import sign_in

pytestmark = pytest.mark.browser


def test_a_failed_sign_in_shows_the_message(page):
    sign_in(page, "keeper", "wrong-password")
    expect(page.locator(".alert-danger")).to_contain_text("用户名或密码错误")
    expect(page).to_have_url(re.compile(r"/login"))


def test_keeper_sees_the_municipal_warehouse_and_not_the_others(page):
    sign_in(page, "keeper")
    expect(page.locator("#user-menu")).to_be_visible()
    page.click('nav a.nav-link[href="/warehouses"]')
    table = page.locator("#warehouse-table")
    expect(table).to_contain_text("济南市应急物资综合储备库")
    expect(table).not_to_contain_text("历下区")
    assert table.locator("tbody tr").count() == 1
    page.goto("/admin/users")
    expect(page.locator("#error-message")).to_contain_text("没有权限")


def test_switch_the_language(page):
    page.goto("/login")
    expect(page.locator("h1")).to_contain_text("登录")
    page.click("#lang-switch")
    expect(page.locator("h1")).to_contain_text("Sign in")
    sign_in(page, "viewer")
    expect(page.locator("nav")).to_contain_text("Materials")
    page.click("#lang-switch")
    expect(page.locator("nav")).to_contain_text("物资")


def test_admin_creates_a_material_and_finds_it_by_pinyin_initials(page):
    sign_in(page, "admin")
    page.goto("/catalog/materials")
    page.click("#material-new")
    page.select_option("#category_id", index=5)
    # a material code is its category's 7-digit code and 3 digits
    category_code = page.locator("#category_id option:checked").inner_text().split()[0]
    page.fill("#code", category_code + "999")
    page.fill("#name", "应急照明浮标")
    page.fill("#spec", "LED 太阳能 水面漂浮")
    page.fill("#unit", "台")
    page.select_option("#tracking", "serial")
    page.fill("#reference_price", "3200")
    page.click("#material-save")
    expect(page.locator(".alert-success")).to_be_visible()
    page.goto("/catalog/materials")
    page.fill("#material-q", "yjzmfb")
    page.click("#material-search")
    expect(page.locator("#material-table tbody")).to_contain_text("应急照明浮标")
    assert page.locator("#material-table tbody tr").count() == 1


def test_keeper_pages_fit_a_360px_phone(phone_page):
    sign_in(phone_page, "keeper")
    for url in ("/", "/warehouses", "/catalog/materials"):
        phone_page.goto(url)
        overflow = phone_page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, f"{url} overflows a 360 px screen by {overflow}px"
    phone_page.click(".navbar-toggler")
    expect(phone_page.locator("#user-menu")).to_be_visible()
