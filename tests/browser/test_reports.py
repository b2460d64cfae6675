"""Stock reports and verifications in the browser: the enterprise user answers the bureau's
request with a stock report (one line below commitment, marked) and submits it; the bureau
plans a verification, adds a photo and records the count."""

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import sign_in

pytestmark = pytest.mark.browser

OWN = "济南泉味源食品有限公司"  # the demo's enterprise user belongs to it
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def test_the_enterprise_files_the_requested_stock_report(page):
    page.on("dialog", lambda dialog: dialog.accept())  # submitting asks to confirm
    sign_in(page, "enterprise")
    page.click("#nav-stock-reports")
    expect(page.locator("#report-table")).to_be_visible()
    page.select_option("#report-status", "requested")
    page.click("#report-search")
    page.locator("#report-table tbody tr a").first.click()
    expect(page.locator("#report-status")).to_have_class("badge report-status-requested")
    expect(page.locator("#report-request-message")).to_be_visible()
    page.click("#report-edit")
    page.wait_for_load_state("load")  # the form's script marks what is typed
    rows = page.locator("tr.report-line")
    expect(rows.first).to_be_visible()
    n = rows.count()
    assert n >= 1
    for i in range(n):
        committed = int(rows.nth(i).get_attribute("data-committed"))
        held = committed - 10 if i == 0 else committed
        page.fill(f"#lines-{i}-held_qty", str(held))
    expect(rows.first.locator(".report-below")).to_be_visible()  # marked as it is typed
    if n > 1:
        expect(rows.nth(1).locator(".report-below")).to_be_hidden()
    page.fill("#lines-0-batch_no", "B-2026-12")
    page.click("#report-save")
    expect(page.locator(".alert-success")).to_be_visible()
    expect(page.locator("#report-line-table .report-below")).to_have_count(1)
    page.click("#report-submit")
    expect(page.locator(".alert-success")).to_be_visible()
    expect(page.locator("#report-status")).to_have_class("badge report-status-submitted")
    expect(page.locator("#report-edit")).to_have_count(0)
    expect(page.locator("#report-correct")).to_be_visible()
    # the agreement page shows the line's newest report
    code = page.locator("#report-line-1 code").inner_text()
    held = page.locator("#report-line-1 .report-held").inner_text().split()[0]
    page.locator("#report-line-1 a").click()
    line = page.locator("#agreement-stock-lines tbody tr", has_text=code)
    expect(line.locator(".line-reported")).to_contain_text(held)
    expect(line.locator(".line-flags")).to_contain_text("申报低于协议数量")


def test_the_bureau_records_a_verification_with_a_photo(page):
    page.on("dialog", lambda dialog: dialog.accept())  # recording asks to confirm
    sign_in(page, "dispatcher")
    page.click("#nav-reserve")  # the virtual reserve's menu
    page.click("#nav-verifications")
    page.click("#verification-new")
    value = page.locator("#enterprise_id option", has_text=OWN).first.get_attribute("value")
    page.select_option("#enterprise_id", value)
    page.fill("#inspectors", "张伟、李娜")
    page.click("#verification-save")
    expect(page.locator(".alert-success")).to_be_visible()
    expect(page.locator("#verification-status")).to_have_class("badge verification-status-planned")
    page.set_input_files(
        "#verification-photo-file",
        files=[{"name": "现场.png", "mimeType": "image/png", "buffer": PNG}],
    )
    page.click("#verification-photo-upload")
    expect(page.locator("#verification-photo-list")).to_contain_text("现场.png")
    rows = page.locator("tr.verification-count-line")
    for i in range(rows.count()):
        page.fill(f"#lines-{i}-counted_qty", "0" if i == 0 else "999999")
    page.fill("#findings", "第一行物资未见实物")
    page.click("#verification-record")
    expect(page.locator(".alert-success")).to_be_visible()
    expect(page.locator("#verification-result")).to_have_text("不合格")
    expect(page.locator("#verification-line-1")).to_contain_text("不合格")
    expect(page.locator("#verification-photo-list")).to_contain_text("现场.png")
    expect(page.locator("#verification-record-form")).to_have_count(0)
    page.locator("#verification-facts a").first.click()
    expect(page.locator("#enterprise-verifications .verification-failed").first).to_be_visible()
