"""The keeper's receipt lines in the browser: an expired batch asks for its reason on the line,
two bad lines show both errors on their fields, and a line is filled on a 360 px phone without
sideways scrolling."""

import time
from datetime import date, timedelta

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import sign_in

pytestmark = pytest.mark.browser

TENT = "1010101001"  # 单帐篷, by batch, no shelf life
WATER = "1030100001"  # 瓶装水, by batch, 730 days' shelf life, 60 days' warning


def _material_id(page, code: str) -> str:
    return page.locator("#lines-0-material_id option", has_text=code).first.get_attribute("value")


def _run() -> str:
    return str(int(time.time() * 1000))[-7:]


def test_an_expired_batch_asks_for_the_reason_on_its_line_then_posts_with_it(page):
    page.on("dialog", lambda dialog: dialog.accept())
    run = _run()
    sign_in(page, "keeper")
    page.goto("/receipts/new")
    water = _material_id(page, WATER)
    expired = (date.today() - timedelta(days=2)).isoformat()
    page.select_option("#lines-0-material_id", water)
    page.fill("#lines-0-batch_no", f"W-{run}")
    page.fill("#lines-0-qty", "12")
    page.fill("#lines-0-expiry_date", expired)
    expect(page.locator("#lines-0-expiry_reason")).to_be_hidden()  # asked only when needed
    page.click("#receipt-save")

    expect(page.locator("#lines-0-expiry_date")).to_have_class(
        "form-control form-control-sm is-invalid"
    )
    warning = page.locator(".receipt-cell-expiry_date .receipt-expiry-warning")
    expect(warning).to_contain_text(f"批号 W-{run} 已于 {expired} 到期（过期）")
    expect(warning).to_contain_text("请填写理由确认")
    reason = page.locator("#lines-0-expiry_reason")
    expect(reason).to_be_visible()
    expect(page.locator("#lines-0-qty")).to_have_value("12")  # what was typed stays
    reason.fill("上级调拨应急饮用水，当日发放")
    page.click("#receipt-save")

    expect(page.locator(".alert-success")).to_be_visible()
    line = page.locator("#receipt-line-1")
    expect(line.locator("[data-expiry=expired]")).to_have_text("过期")
    expect(line).to_contain_text("上级调拨应急饮用水，当日发放")
    page.click("#receipt-post")
    expect(page.locator("#receipt-posted")).to_be_visible()
    expect(page.locator("#receipt-posted-by")).to_have_text("赵保管")
    expect(page.locator("#receipt-posted-by")).to_have_attribute("title", "keeper")


def test_a_receipt_with_two_bad_lines_shows_both_errors_on_their_fields(page):
    run = _run()
    sign_in(page, "keeper")
    page.goto("/receipts")
    listed = page.locator("#receipt-table tbody tr").count()
    page.goto("/receipts/new")
    tent, water = _material_id(page, TENT), _material_id(page, WATER)
    page.select_option("#lines-0-material_id", tent)
    page.fill("#lines-0-batch_no", f"T-{run}")
    page.fill("#lines-0-qty", "0")
    page.select_option("#lines-1-material_id", water)
    page.fill("#lines-1-qty", "5")  # no batch number, and water has a shelf life
    page.click("#receipt-save")

    summary = page.locator(".alert-danger")
    expect(summary).to_contain_text("共 2 处错误")
    expect(summary).to_contain_text("第 1 行")
    expect(summary).to_contain_text("第 2 行")
    qty = page.locator("#lines-0-qty")
    expect(qty).to_have_class("form-control form-control-sm is-invalid")
    expect(page.locator(".receipt-cell-qty .invalid-feedback").first).to_be_visible()
    expect(page.locator(".receipt-cell-qty .invalid-feedback").first).to_contain_text("第 1 行")
    batch = page.locator("#lines-1-batch_no")
    expect(batch).to_have_class("form-control form-control-sm is-invalid")
    feedback = (
        page.locator(".receipt-line").nth(1).locator(".receipt-cell-batch_no .invalid-feedback")
    )
    expect(feedback).to_contain_text("有保质期")
    # red: Bootstrap's invalid colour on both fields
    for field in (qty, batch):
        colour = field.evaluate("el => getComputedStyle(el).borderColor")
        assert colour == "rgb(220, 53, 69)", colour
    # nothing was saved
    page.goto("/receipts")
    expect(page.locator("#receipt-table tbody tr")).to_have_count(listed)


def test_a_keeper_fills_a_receipt_line_on_a_360px_phone(phone_page):
    page = phone_page
    sign_in(page, "keeper")
    page.goto("/receipts/new")
    expect(page.locator("#receipt-form")).to_be_visible()
    expect(page.locator("#receipt-lines thead")).to_be_hidden()
    width = page.evaluate("window.innerWidth")
    assert width == 360
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    for name in ("material_id", "batch_no", "qty", "location_id", "expiry_date", "unit_cost"):
        field = page.locator(f"#lines-0-{name}")
        if name == "material_id":  # the material picker draws its own box over the select
            field = page.locator("#lines-0-material_id ~ .ts-wrapper").first
        box = field.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= width, (name, box)
        assert box["height"] >= 24  # big enough to tap
    # each field is labelled in its card
    label = page.locator(".receipt-line").first.locator(".receipt-cell-qty")
    assert "数量" in label.evaluate("el => getComputedStyle(el, '::before').content")

    page.select_option("#lines-0-material_id", _material_id(page, TENT))
    page.locator("#lines-0-qty").tap()
    page.fill("#lines-0-qty", "6")  # no batch number: made from the receipt number
    page.locator("#receipt-save").tap()
    expect(page.locator(".alert-success")).to_be_visible()
    receipt_no = page.locator("#receipt-no").inner_text().strip()
    expect(page.locator("#receipt-line-1")).to_contain_text(f"{receipt_no}-1")
