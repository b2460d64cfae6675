"""What a user sees of the forms: the keeper picks a material by typing its pinyin initials
(zp: 帐篷) in the receipt's searchable picker, the dispatcher-free move form narrows the
picker to the warehouse's stock, and the admin sees the field that is wrong in red with why."""

import re
import time

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import sign_in

pytestmark = pytest.mark.browser


def test_a_keeper_picks_a_tent_by_its_pinyin_initials(page):
    page.on("dialog", lambda dialog: dialog.accept())
    run = str(int(time.time() * 1000))[-7:]
    sign_in(page, "keeper")
    page.goto("/receipts/new")
    expect(page.locator("#receipt-form")).to_be_visible()
    picker = page.locator("#lines-0-material_id-ts-control")
    expect(picker).to_be_visible()  # the select became a search box
    # the picker asks the server (the options shown first may be the select's own)
    with page.expect_response(lambda r: "/materials/pick" in r.url, timeout=20_000) as answer:
        picker.fill("dzp")  # 单帐篷
    assert answer.value.status == 200
    option = page.locator(".ts-dropdown .option", has_text="1010101001 单帐篷")
    expect(option).to_be_visible(timeout=20_000)
    expect(page.locator(".ts-dropdown .option", has_text="棉被")).to_have_count(0)
    option.click()
    value = page.eval_on_selector("#lines-0-material_id", "el => el.value")
    assert value and value != ""
    expect(page.locator(".receipt-line").first.locator(".ts-control .item")).to_contain_text(
        "1010101001 单帐篷"
    )
    page.fill("#paper_no", f"PICK-{run}")
    page.fill("#lines-0-batch_no", f"Z-{run}")
    page.fill("#lines-0-qty", "3")
    page.click("#receipt-save")
    expect(page.locator(".alert-success")).to_be_visible()
    expect(page.locator("#receipt-line-table")).to_contain_text("单帐篷")

    # a line added later gets its own picker
    page.goto("/receipts/new")
    page.click("#receipt-add-line")
    last = page.locator(".receipt-line").last
    expect(last.locator(".ts-control input")).to_have_count(1)
    last.locator(".ts-control input").fill("zp")
    expect(page.locator(".ts-dropdown .option", has_text="帐篷").first).to_be_visible(
        timeout=20_000
    )


def test_the_move_picker_offers_what_the_warehouse_holds(page):
    sign_in(page, "keeper")
    page.goto("/stock/moves/new")
    picker = page.locator("#material_id-ts-control")
    expect(picker).to_be_visible()
    with page.expect_response(lambda r: "/materials/pick" in r.url, timeout=20_000) as answered:
        picker.fill("zp")
    assert answered.value.status == 200
    options = page.locator(".ts-dropdown .option")
    expect(options.first).to_be_visible(timeout=20_000)
    page.wait_for_timeout(300)  # the dropdown redrawn from the server's answer
    warehouse = page.eval_on_selector("#warehouse_id", "el => el.value")
    answer = page.request.get(f"/catalog/materials/pick?q=zp&warehouse_id={warehouse}").json()
    held = {item["code"] for item in answer["items"]}
    shown = {text.split()[0] for text in options.all_inner_texts()}
    assert held and shown <= held, (shown, held)  # only what this warehouse holds


def test_the_wrong_field_is_red_and_says_why(page):
    sign_in(page, "admin")
    page.goto("/catalog/materials/new")
    page.fill("#code", "ZP-01")
    page.fill("#name", "测试帐篷")
    page.fill("#unit", "顶")
    page.select_option("#category_id", index=3)
    page.fill("#shelf_life_days", "")
    page.click("#material-save")
    code = page.locator("#code")
    expect(code).to_have_class(re.compile(r"\bis-invalid\b"))
    expect(code).to_have_attribute("aria-invalid", "true")
    feedback = page.locator("#code-feedback")
    expect(feedback).to_be_visible()
    expect(feedback).to_contain_text("3 位顺序号")
    color = code.evaluate("el => getComputedStyle(el).borderColor")
    assert color.startswith("rgb(220, 53, 69)"), color  # Bootstrap's danger red
    expect(page.locator("#name")).not_to_have_class(re.compile(r"\bis-invalid\b"))
