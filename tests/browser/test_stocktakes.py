"""盘点 in the browser: the keeper counts blind on a phone, one line short, and submits; the
approver reviews the difference and approves; the stock page shows the new quantity."""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import sign_in

pytestmark = pytest.mark.browser

STOCKED = "input[data-leaf]:not([data-stocked='0'])"  # a location the books hold stock at


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
    row = keeper.locator("#location-tree li.scope-row", has=keeper.locator(STOCKED)).first
    row.locator("summary .text-muted").click()  # open the row (排) to pick one location in it
    row.locator(STOCKED).first.check()
    expect(keeper.locator("#location-count")).to_contain_text("1")
    overflow = keeper.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0, f"the scope tree overflows a 360 px screen by {overflow}px"
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
        expect(keeper.locator(f"#saved-{line_id}")).to_be_visible()  # saved, no reload
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


def test_keeper_ticks_a_row_and_counts_three_lines_without_a_reload(page):
    keeper = page
    sign_in(keeper, "keeper")
    keeper.goto("/stocktakes/new")
    # One click on a row (排) ticks every location in it and says how many are chosen.
    row = keeper.locator("#location-tree li.scope-row", has=keeper.locator(STOCKED)).first
    leaves = row.locator("input[data-leaf]")
    row.locator("input[name=location_rows]").check()
    assert leaves.count() > 1
    for i in range(leaves.count()):
        assert leaves.nth(i).is_checked()
    expect(keeper.locator("#location-count")).to_contain_text(str(leaves.count()))
    expect(keeper.locator("#whole_warehouse")).not_to_be_checked()
    assert keeper.evaluate("document.getElementById('whole_warehouse').indeterminate")
    # Unticking one location leaves the row half-ticked, and counts one less.
    row.locator("summary .text-muted").click()
    leaves.first.uncheck()
    assert (
        keeper.evaluate(
            "document.querySelector('#location-tree li.scope-row input[name=location_rows]')"
            ".indeterminate"
        )
        or not row.locator("input[name=location_rows]").is_checked()
    )
    expect(keeper.locator("#location-count")).to_contain_text(str(leaves.count() - 1))
    leaves.first.check()
    keeper.click("#stocktake-open")
    expect(keeper.locator(".alert-success")).to_be_visible()

    sheet_url = keeper.url.split("#")[0]
    lines = keeper.locator("#count-sheet tbody tr[id^=line-]")
    assert lines.count() >= 4, "a stocked row gives lines enough to count"
    ids = [lines.nth(i).get_attribute("id").removeprefix("line-") for i in range(4)]
    keeper.evaluate("window.__noReload = 'still the same page'")
    counts = {}
    for n, line_id in enumerate(ids[:3], start=1):
        book = _number(keeper.locator(f"#system-{line_id}").inner_text())
        counts[line_id] = book + n  # each one more than the books: a surplus of n
        keeper.fill(f"#counted-{line_id}", str(counts[line_id]))
        keeper.fill(f"#reason-{line_id}", f"多出 {n} 件")
        keeper.press(f"#counted-{line_id}", "Enter") if n == 2 else keeper.click(f"#save-{line_id}")
        expect(keeper.locator(f"#saved-{line_id}")).to_be_visible()
        expect(keeper.locator(f"#variance-{line_id}")).to_contain_text(f"+{n}")
        expect(keeper.locator("#count-status")).to_contain_text(str(counts[line_id]))
    expect(keeper.locator("#total-counted")).to_have_text("3")
    expect(keeper.locator("#total-surplus")).to_have_text("3")
    # A bad count is refused on its line, and nothing else moves.
    bad = ids[3]
    keeper.fill(f"#counted-{bad}", "-1")
    keeper.evaluate(f"document.getElementById('counted-{bad}').removeAttribute('min')")
    keeper.click(f"#save-{bad}")
    expect(keeper.locator(f"#error-{bad}")).to_be_visible()
    expect(keeper.locator(f"#error-{bad}")).to_contain_text("0")
    expect(keeper.locator(f"#counted-{bad}")).to_have_class(re.compile("is-invalid"))
    expect(keeper.locator("#total-counted")).to_have_text("3")
    assert keeper.evaluate("window.__noReload") == "still the same page"

    # Read back: the counts were saved.
    keeper.goto(sheet_url)
    for line_id, qty in counts.items():
        expect(keeper.locator(f"#counted-{line_id}")).to_have_value(str(qty))
    expect(keeper.locator(f"#counted-{bad}")).to_have_value("")
