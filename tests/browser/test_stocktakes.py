"""盘点 in the browser: the keeper counts blind on a phone, one line short, and submits; the
approver reviews the difference and approves; the stock page shows the new quantity."""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import sign_in

pytestmark = pytest.mark.browser


def _number(text: str) -> int:
    return int(re.sub(r"[^\d]", "", text))


def _stock_row(page, warehouse_id: str, code: str):
    page.goto(f"/stock?warehouse={warehouse_id}&q={code}")
    return page.locator("#stock-table tbody tr", has=page.locator("code", has_text=code)).first


def test_blind_count_one_short_then_approved_and_the_stock_follows(page, phone_page):
    keeper, approver = phone_page, page
    keeper.on("dialog", lambda dialog: dialog.accept())
    approver.on("dialog", lambda dialog: dialog.accept())

    # The keeper opens a blind stocktake of one location that holds stock (JN-SJ-01).
    sign_in(keeper, "keeper")
    keeper.goto("/stocktakes")
    keeper.click("#stocktake-new")
    warehouse_id = keeper.locator("#stocktake-form input[name=warehouse_id]").input_value()
    option = keeper.locator("#location_ids option:not([data-stocked='0'])").first
    keeper.select_option("#location_ids", option.get_attribute("value"))
    keeper.check("#is_blind")
    keeper.click("#stocktake-open")
    expect(keeper.locator(".alert-success")).to_be_visible()
    expect(keeper.locator("#blind-notice")).to_be_visible()
    assert keeper.locator("[id^=system-]").count() == 0
    assert keeper.locator("[id^=variance-]").count() == 0
    sheet_url = keeper.url.split("#")[0]
    overflow = keeper.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0, f"the count sheet overflows a 360 px screen by {overflow}px"

    # The approver (who sees the books) tells us what the shelves should hold.
    sign_in(approver, "approver")
    approver.goto(sheet_url)
    rows = approver.locator("#count-sheet tbody tr")
    book = {}
    for i in range(rows.count()):
        row = rows.nth(i)
        line_id = row.get_attribute("id").removeprefix("line-")
        book[line_id] = (
            _number(row.locator(f"#system-{line_id}").inner_text()),
            row.get_attribute("data-material"),
            row.get_attribute("data-unit"),
        )
    assert book, "the chosen location holds stock, so the sheet has lines"
    short_id = max(book, key=lambda line_id: book[line_id][0])
    qty, code, unit = book[short_id]
    before = _stock_row(approver, warehouse_id, code)
    total_before = _number(before.locator("td").nth(4).inner_text())

    # The keeper counts every line, the fullest one short by one, and submits.
    for line_id, (book_qty, _code, _unit) in book.items():
        keeper.fill(f"#counted-{line_id}", str(book_qty - 1 if line_id == short_id else book_qty))
        if line_id == short_id:
            keeper.fill(f"#reason-{line_id}", "包装破损，少一件")
        keeper.click(f"#save-{line_id}")
        expect(keeper.locator(".alert-success")).to_be_visible()
    expect(keeper.locator("#total-uncounted")).to_have_text("0")
    keeper.click("#stocktake-submit")
    expect(keeper.locator("#stocktake-status [data-status=submitted]")).to_be_visible()

    # The approver sees the shortage and approves; the stock page shows one less.
    approver.goto(sheet_url)
    expect(approver.locator(f"#variance-{short_id}")).to_contain_text("-1")
    expect(approver.locator("#total-shortage")).to_have_text("1")
    approver.click("#stocktake-approve")
    expect(approver.locator(".alert-success")).to_be_visible()
    expect(approver.locator("#stocktake-status [data-status=posted]")).to_be_visible()
    after = _stock_row(approver, warehouse_id, code)
    expect(after.locator("td").nth(4)).to_contain_text(f"{total_before - 1:,} {unit}")
