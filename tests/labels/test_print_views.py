"""The print flows as pages: labels for a posted receipt (cartons per line), for what a keeper
ticks on a warehouse's label page, reprints and revocations — read back from the PDF, checked
as every role, and bad input refused with a message and nothing written."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select

from reserve.auth.models import Role
from reserve.labels.models import Label
from reserve.receipts.models import ReceiptLine
from tests.labels.conftest import read_pdf


def _labels(db) -> int:
    return db.scalar(select(func.count()).select_from(Label))


def _sheet(client, response):
    """Post, redirect, get: the POST that printed redirects (303) to its sheet; the PDF."""
    assert response.status_code == 303, response.get_data(as_text=True)[:300]
    assert re.fullmatch(r"/labels/prints/\d+\.pdf", urlsplit(response.location).path)
    sheet = client.get(response.location)
    assert sheet.status_code == 200 and sheet.mimetype == "application/pdf"
    return sheet


def _lines(db, receipt):
    return db.scalars(
        select(ReceiptLine).where(ReceiptLine.receipt_id == receipt.id).order_by("line_no")
    ).all()


def test_a_keeper_prints_a_posted_receipts_labels(db, login_as, world, posted_receipt, tmp_path):
    keeper = login_as(Role.KEEPER, warehouses=[world.home])
    detail = keeper.get(f"/receipts/{posted_receipt.id}").get_data(as_text=True)
    assert f"/receipts/{posted_receipt.id}/labels" in detail
    form = keeper.get(f"/receipts/{posted_receipt.id}/labels")
    assert form.status_code == 200 and "T-2026-09" in form.get_data(as_text=True)
    tents, pumps = _lines(db, posted_receipt)
    before = _labels(db)
    response = keeper.post(
        f"/receipts/{posted_receipt.id}/labels",
        data={
            "lines-0-line_id": tents.id,
            "lines-0-cartons": 3,
            "lines-1-line_id": pumps.id,
            "lines-1-cartons": 1,
            "layout": "a4-3x8",
            "start": 1,
        },
    )
    sheet = _sheet(keeper, response)
    assert _labels(db) == before + 5  # three cartons, two pumps
    pages, text = read_pdf(sheet.data, tmp_path)
    assert len(pages) == 1 and len(pages[0]) == 5
    assert text.count("数量：8 顶") == 3  # 24 in three cartons
    assert "GEN-901" in text and "GEN-902" in text
    made = db.scalars(select(Label).where(Label.receipt_id == posted_receipt.id)).all()
    assert len(made) == 3 and {label.qty_at_label for label in made} == {8}


@pytest.mark.parametrize(
    "cartons, start, message",
    [("201", "1", "200"), ("-1", "1", "0"), ("x", "1", ""), ("1", "25", "24"), ("0", "1", "")],
)
def test_bad_receipt_print_input_is_refused(
    db, login_as, world, posted_receipt, cartons, start, message
):
    keeper = login_as(Role.KEEPER, warehouses=[world.home])
    tents, pumps = _lines(db, posted_receipt)
    before = _labels(db)
    response = keeper.post(
        f"/receipts/{posted_receipt.id}/labels",
        data={
            "lines-0-line_id": tents.id,
            "lines-0-cartons": cartons,
            "lines-1-line_id": pumps.id,
            "lines-1-cartons": "0",
            "layout": "a4-3x8",
            "start": start,
        },
    )
    assert response.status_code == 200 and response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    assert "is-invalid" in page or "alert-danger" in page
    assert message in page
    assert _labels(db) == before


def test_a_draft_receipt_has_no_labels_yet(db, login_as, world):
    from reserve.receipts.service import ReceiptData, ReceiptLineData, create_receipt
    from reserve.stocktakes.service import local_today

    draft = create_receipt(
        db,
        data=ReceiptData(
            warehouse_id=world.home.id,
            source="purchase",
            document_date=local_today(),
            lines=(ReceiptLineData(world.tent.id, "T-X", 1, location_id=world.shelf.id),),
        ),
        actor=world.keeper_actor,
    )
    keeper = login_as(Role.KEEPER, warehouses=[world.home])
    assert "/labels" not in keeper.get(f"/receipts/{draft.id}").get_data(as_text=True)
    line = _lines(db, draft)[0]
    before = _labels(db)
    response = keeper.post(
        f"/receipts/{draft.id}/labels",
        data={"lines-0-line_id": line.id, "lines-0-cartons": 1, "layout": "60x40", "start": 1},
    )
    assert "过账" in response.get_data(as_text=True) and _labels(db) == before


def test_print_ticked_batches_locations_and_items(db, login_as, world, tmp_path):
    keeper = login_as(Role.KEEPER, warehouses=[world.home])
    url = f"/warehouses/{world.home.id}/labels/new"
    for kind, shown in [("stock", "T-2026-01"), ("item", "GEN-002"), ("location", "RECV")]:
        page = keeper.get(f"{url}?kind={kind}")
        assert page.status_code == 200 and shown in page.get_data(as_text=True), kind
    before = _labels(db)
    response = keeper.post(
        url,
        data={
            "kind": "stock",
            "chosen": [f"{world.shelf.id}:{world.tent_batch.id}"],
            "copies": 2,
            "layout": "60x40",
            "start": 1,
        },
    )
    assert _labels(db) == before + 2
    assert len(read_pdf(_sheet(keeper, response).data, tmp_path)[0]) == 2
    response = keeper.post(
        url, data={"kind": "location", "chosen": [world.shelf.id], "layout": "a4-2x5", "start": 3}
    )
    _sheet(keeper, response)
    assert _labels(db) == before + 2  # A-01-01 has its label: reprinted, not doubled
    db.refresh(world.location_label)
    assert world.location_label.print_count == 2


def test_ticking_another_warehouses_things_or_nothing_is_refused(db, login_as, world):
    keeper = login_as(Role.KEEPER, warehouses=[world.home])
    url = f"/warehouses/{world.home.id}/labels/new"
    before = _labels(db)
    for data in (
        {"kind": "location", "chosen": [world.other_shelf.id]},
        {"kind": "stock", "chosen": ["x:y"]},
        {"kind": "stock", "chosen": [f"{world.shelf.id}:{world.tent_batch.id + 999}"]},
        {"kind": "stock"},
    ):
        response = keeper.post(url, data={**data, "copies": 1, "layout": "a4-3x8", "start": 1})
        assert response.mimetype == "text/html" and response.status_code in (200, 403, 404), data
    assert _labels(db) == before
    assert keeper.get(f"/warehouses/{world.other.id}/labels/new").status_code == 403


def test_reprint_and_revoke(db, login_as, world, key, tmp_path):
    keeper = login_as(Role.KEEPER, warehouses=[world.home])
    listing = keeper.get(f"/warehouses/{world.home.id}/labels")
    assert listing.status_code == 200
    assert world.code(world.stock_label)[:4] in listing.get_data(as_text=True)
    response = keeper.post(
        f"/warehouses/{world.home.id}/labels/reprint",
        data={"chosen": [world.stock_label.id], "layout": "100x70", "start": 1},
    )
    [[url]] = read_pdf(_sheet(keeper, response).data, tmp_path)[0]
    assert url.endswith(world.code(world.stock_label))
    db.refresh(world.stock_label)
    assert world.stock_label.print_count == 2
    revoke = f"/labels/{world.stock_label.id}/revoke"
    assert keeper.get(revoke).status_code == 200
    empty = keeper.post(revoke, data={"reason": "  "})
    assert empty.status_code == 200 and "is-invalid" in empty.get_data(as_text=True)
    db.refresh(world.stock_label)
    assert world.stock_label.revoked_at is None
    done = keeper.post(revoke, data={"reason": "纸箱破损"}, follow_redirects=True)
    assert "标签已作废，不能再扫码。" in done.get_data(as_text=True)
    db.refresh(world.stock_label)
    assert world.stock_label.revoke_reason == "纸箱破损"
    assert keeper.get(f"/s/{world.code(world.stock_label)}").status_code == 410
    again = keeper.post(
        f"/warehouses/{world.home.id}/labels/reprint",
        data={"chosen": [world.stock_label.id], "layout": "100x70", "start": 1},
    )
    assert again.status_code == 302  # refused with a message: revoked labels are not reprinted
    db.refresh(world.stock_label)
    assert world.stock_label.print_count == 2


def test_every_role_on_the_label_pages(db, login_as, world, posted_receipt):
    pages = [
        f"/warehouses/{world.home.id}/labels",
        f"/warehouses/{world.home.id}/labels/new",
        f"/receipts/{posted_receipt.id}/labels",
        f"/labels/{world.stock_label.id}/revoke",
    ]
    expected = {
        Role.ADMIN: (200, 200, 200, 200),
        Role.KEEPER: (200, 200, 200, 200),
        Role.DISPATCHER: (200, 403, 403, 403),
        Role.APPROVER: (200, 403, 403, 403),
        Role.VIEWER: (200, 403, 403, 403),
        Role.ENTERPRISE: (403, 403, 403, 403),
    }
    for role, statuses in expected.items():
        fields = {"warehouses": [world.home]} if role is Role.KEEPER else {}
        client = login_as(role, **fields)
        assert tuple(client.get(p).status_code for p in pages) == statuses, role
    other_keeper = login_as(Role.KEEPER, warehouses=[world.other])
    assert [other_keeper.get(p).status_code for p in pages] == [403, 403, 403, 403]


def _audit_entries(db) -> int:
    from reserve.audit.models import AuditEntry

    return db.scalar(select(func.count()).select_from(AuditEntry))


def test_a_refresh_of_the_printed_sheet_prints_nothing_again(
    db, login_as, world, posted_receipt, tmp_path
):
    """The receipt's print form posts, is redirected to its sheet, and the browser GETs the
    PDF: fetching it again (a refresh, a second download) makes no label, counts no reprint
    and logs nothing; the sheet is the same."""
    keeper = login_as(Role.KEEPER, warehouses=[world.home])
    tents, pumps = _lines(db, posted_receipt)
    response = keeper.post(
        f"/receipts/{posted_receipt.id}/labels",
        data={
            "lines-0-line_id": tents.id,
            "lines-0-cartons": 2,
            "lines-1-line_id": pumps.id,
            "lines-1-cartons": 1,
            "layout": "a4-3x8",
            "start": 4,
        },
    )
    first = _sheet(keeper, response)
    labels, entries = _labels(db), _audit_entries(db)
    counts = sorted(db.scalars(select(Label.print_count)).all())
    again = keeper.get(response.location)
    assert again.status_code == 200 and again.mimetype == "application/pdf"
    assert (_labels(db), _audit_entries(db)) == (labels, entries)
    assert sorted(db.scalars(select(Label.print_count)).all()) == counts
    (tmp_path / "again").mkdir()
    assert read_pdf(again.data, tmp_path / "again")[0] == read_pdf(first.data, tmp_path)[0]
    # a reprint, refreshed, is one reprint
    reprint = keeper.post(
        f"/warehouses/{world.home.id}/labels/reprint",
        data={"chosen": [world.stock_label.id], "layout": "60x40", "start": 1},
    )
    _sheet(keeper, reprint)
    keeper.get(reprint.location)
    db.refresh(world.stock_label)
    assert world.stock_label.print_count == 2


def test_a_sheet_is_for_who_may_print_in_its_warehouse(db, login_as, world, posted_receipt):
    keeper = login_as(Role.KEEPER, warehouses=[world.home])
    response = keeper.post(
        f"/warehouses/{world.home.id}/labels/reprint",
        data={"chosen": [world.stock_label.id], "layout": "60x40", "start": 1},
    )
    sheet = urlsplit(response.location).path
    expected = {
        Role.ADMIN: 200,
        Role.DISPATCHER: 403,
        Role.APPROVER: 403,
        Role.VIEWER: 403,
        Role.ENTERPRISE: 403,
    }
    for role, status in expected.items():
        assert login_as(role).get(sheet).status_code == status, role
    other_keeper = login_as(Role.KEEPER, warehouses=[world.other])
    assert other_keeper.get(sheet).status_code == 403
    assert keeper.get("/labels/prints/999999.pdf").status_code == 404
