"""A keeper receives goods (入库) through the pages, then finds them in the stock and on the
stock card."""

import re
import time

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import sign_in

pytestmark = pytest.mark.browser

TENT = "1010101001"  # 单帐篷, by batch
PURIFIER = "2010100001"  # 净水设备, by serial number


def _material_id(page, code: str) -> str:
    return page.locator("#lines-0-material_id option", has_text=code).first.get_attribute("value")


def test_a_keeper_receives_two_batches_and_a_serial_item_then_sees_the_stock(page):
    page.on("dialog", lambda dialog: dialog.accept())  # the post button asks to confirm
    run = str(int(time.time() * 1000))[-7:]
    sign_in(page, "keeper")
    page.goto("/receipts/new")
    expect(page.locator("#receipt-form")).to_be_visible()  # the only kept warehouse is chosen
    tent_id = _material_id(page, TENT)
    purifier_id = _material_id(page, PURIFIER)

    page.select_option("#source", "purchase")
    page.fill("#supplier", "济南鲁锦家纺有限公司")
    page.fill("#paper_no", f"JNCG-{run}")
    page.select_option("#lines-0-material_id", tent_id)
    page.fill("#lines-0-batch_no", f"T-{run}-A")
    page.fill("#lines-0-qty", "20")
    page.fill("#lines-0-unit_cost", "680")
    page.select_option("#lines-1-material_id", tent_id)
    page.fill("#lines-1-batch_no", f"T-{run}-B")
    page.fill("#lines-1-qty", "8")
    page.select_option("#lines-1-location_id", index=1)  # a rack location, not the receiving area
    # a sixth row from the "add line" button, for the serial-tracked purifier
    page.click("#receipt-add-line")
    expect(page.locator("#receipt-lines .receipt-line")).to_have_count(6)
    page.select_option("#lines-5-material_id", purifier_id)
    page.fill("#lines-5-batch_no", f"P-{run}")
    page.fill("#lines-5-qty", "2")
    page.fill("#lines-5-serials", f"SN-{run}-1\nSN-{run}-2")
    page.click("#receipt-save")

    expect(page.locator(".alert-success")).to_be_visible()
    expect(page.locator("#receipt-line-table tbody tr")).to_have_count(3)
    expect(page.locator("#receipt-line-table")).to_contain_text(f"SN-{run}-1")
    expect(page.locator("#receipt-total-qty")).to_have_text("30")
    receipt_no = page.locator("#receipt-no").inner_text().strip()
    assert re.fullmatch(r"RK\d{8}-\d{4}", receipt_no)
    page.click("#receipt-post")
    expect(page.locator("#receipt-posted")).to_be_visible()
    expect(page.locator("#receipt-post")).to_have_count(0)

    page.goto("/stock")
    expect(page.locator("#stock-table")).to_contain_text(TENT)
    page.goto(f"/stock/materials/{tent_id}/card")
    card = page.locator("#stock-card-table")
    expect(card).to_contain_text(receipt_no)
    expect(card.locator("tbody tr", has_text=receipt_no)).to_have_count(2)  # two batches
    page.goto(f"/stock/materials/{purifier_id}/card")
    expect(page.locator("#stock-card-table")).to_contain_text(receipt_no)


def test_the_receipt_pages_fit_a_360px_phone(phone_page):
    sign_in(phone_page, "keeper")
    for url in ("/receipts", "/receipts/new"):
        phone_page.goto(url)
        overflow = phone_page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, f"{url} overflows a 360 px screen by {overflow}px"
