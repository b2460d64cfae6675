"""A keeper prints QR labels from a posted receipt, and a label's URL — decoded from the printed
PDF with a real decoder — opens the labelled batch, after signing in when needed."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import sign_in
from tests.labels.conftest import read_pdf

pytestmark = pytest.mark.browser


def test_a_keeper_prints_a_receipts_labels_and_opens_one(page, tmp_path):
    sign_in(page, "keeper")
    page.goto("/receipts?status=posted")
    page.locator("#receipt-table tbody tr a").first.click()
    expect(page.locator("#receipt-status")).to_be_visible()
    receipt_no = page.locator("#receipt-no").inner_text().strip()
    page.click("#receipt-labels")
    expect(page.locator("#receipt-labels-form")).to_be_visible()
    rows = page.locator("#receipt-labels-lines tbody tr")
    expect(rows.first).to_be_visible()
    first_batch = rows.first.locator("td").nth(2).inner_text().strip()
    cartons = page.locator("#receipt-labels-lines input[name$='-cartons']")
    for i in range(cartons.count()):  # the first line in two cartons, the others none
        cartons.nth(i).fill("2" if i == 0 else "0")
    page.select_option("#layout", "a4-3x8")
    page.fill("#start", "4")
    with page.expect_download() as download:
        page.click("#receipt-labels-print")
    saved = tmp_path / "labels.pdf"
    download.value.save_as(saved)
    # post, redirect, get: the sheet came from a GET; the page is still the form, and a
    # refresh of it (what a keeper does when the printer jammed) prints nothing again
    assert "/labels/prints/" in download.value.url
    page.reload()
    expect(page.locator("#receipt-labels-form")).to_be_visible()
    again = page.request.get(download.value.url)
    assert again.ok and again.body()[:5] == b"%PDF-"
    pages, text = read_pdf(saved.read_bytes(), tmp_path)
    assert len(pages) == 1 and len(pages[0]) == 2, pages  # the first line's two cartons
    assert first_batch in text and "批号" in text
    url = pages[0][0]
    # the label URL opens the batch, for a signed-in keeper …
    page.goto(urlsplit(url).path)
    expect(page.locator("h1")).to_be_visible()
    assert "/stock/materials/" in page.url and "batch=" in page.url
    expect(page.locator("table").first).to_contain_text(first_batch)
    # … and after signing in, for one who was not
    page.context.clear_cookies()
    page.goto(urlsplit(url).path)
    expect(page.locator("#username")).to_be_visible()
    page.fill("#username", "keeper")
    page.fill("#password", "reserve-demo")
    page.click("#login-submit")
    expect(page.locator("table").first).to_contain_text(first_batch)
    assert "/stock/materials/" in page.url
    # the labels are listed on the warehouse's label page, printed once
    page.goto("/warehouses")
    page.locator("#warehouse-table a, table a", has_text="JN-SJ-01").first.click()
    page.click("#warehouse-labels")
    expect(page.locator("#label-table")).to_contain_text(first_batch)
    printed = page.locator("#label-table tbody tr", has_text=first_batch)
    expect(printed).to_have_count(2)  # the two cartons, not four: the refresh printed none
    assert receipt_no


def test_a_keeper_revokes_a_label_and_it_no_longer_opens(page):
    sign_in(page, "keeper")
    page.goto("/warehouses")
    page.locator("#warehouse-table a, table a", has_text="JN-SJ-01").first.click()
    page.click("#warehouse-labels")
    row = page.locator("#label-table tbody tr").first
    code = row.locator(".label-code").inner_text().strip()
    row.locator(".label-revoke").click()
    page.fill("#reason", "标签受潮损坏")
    page.click("#revoke-submit")
    expect(page.locator(".alert-success")).to_be_visible()
    expect(page.locator("#label-table tbody tr").first.locator(".label-status")).to_contain_text(
        "标签受潮损坏"
    )
    response = page.goto(f"/s/{code}")
    assert response.status == 410
    expect(page.locator("body")).to_contain_text("已作废")
