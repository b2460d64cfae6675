"""Receipt attachments (the scanned delivery note): type by content, size limit, stored under the
instance folder, served only to those who see the receipt, removable on drafts only; the API's
list, upload (idempotent) and download."""

from __future__ import annotations

import hashlib
from io import BytesIO
from pathlib import Path

import pytest
from sqlalchemy import func, select

from reserve.audit.models import AuditEntry
from reserve.auth.actor import Actor
from reserve.auth.models import Role
from reserve.db import transaction
from reserve.errors import Conflict, Forbidden, ValidationError
from reserve.files import AttachmentStore, AttachmentType, clean_filename
from reserve.receipts import attachments, service
from reserve.receipts.models import ReceiptAttachment
from reserve.receipts.service import ReceiptData
from tests.receipts.conftest import TODAY, line, receipt_data

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64
HTML = b"<html><script>alert(1)</script></html>"


@pytest.fixture
def files(app, tmp_path, monkeypatch) -> Path:
    """Attachments go to this test's own folder."""
    monkeypatch.setitem(app.config, "ATTACHMENTS_DIR", str(tmp_path / "attachments"))
    return tmp_path / "attachments"


def stored_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def rows(db) -> int:
    return db.scalar(select(func.count()).select_from(ReceiptAttachment))


def _draft(db, site):
    return service.create_receipt(db, data=receipt_data(site), actor=site.keeper)


# The rules (service) ------------------------------------------------------------------------


def test_a_pdf_is_kept_with_who_when_size_and_sha256(db, site, tmp_path):
    store = AttachmentStore(tmp_path)
    receipt = _draft(db, site)
    attachment = attachments.add_attachment(
        db,
        receipt_id=receipt.id,
        filename="送货单.PDF",
        content=PDF,
        actor=site.keeper,
        store=store,
    )
    assert attachment.content_type == "application/pdf" and attachment.size_bytes == len(PDF)
    assert attachment.sha256 == hashlib.sha256(PDF).hexdigest()
    assert attachment.uploaded_by_id == site.keeper.user_id and attachment.uploaded_at
    assert attachment.filename == "送货单.PDF"
    path = store.path_for(attachment)
    assert path.read_bytes() == PDF and path.is_relative_to(tmp_path / "receipts")
    assert "送货单" not in str(path)  # nothing the uploader typed reaches the file system
    entry = db.scalars(select(AuditEntry).where(AuditEntry.action == "attach")).one()
    assert entry.after["sha256"] == attachment.sha256 and entry.object_label == receipt.no


def test_a_file_whose_transaction_rolls_back_is_removed_and_a_committed_one_stays(
    db, site, tmp_path
):
    store = AttachmentStore(tmp_path)
    receipt = _draft(db, site)
    db.commit()

    def attach(name: str):
        return attachments.add_attachment(
            db, receipt_id=receipt.id, filename=name, content=PDF, actor=site.keeper, store=store
        )

    lost = store.path_for(attach("lost.pdf"))
    assert lost.is_file()
    db.rollback()  # e.g. the audit entry or a later line failed: the row is gone, so is the file
    assert not lost.exists() and rows(db) == 0
    kept = store.path_for(attach("kept.pdf"))
    db.commit()
    db.rollback()  # a later transaction's rollback leaves what was committed alone
    assert kept.read_bytes() == PDF and rows(db) == 1


@pytest.mark.parametrize(
    "content, size, words",
    [
        (HTML, None, "Only PDF, JPEG or PNG"),
        (b"MZ\x90\x00" + b"\x00" * 100, None, "Only PDF, JPEG or PNG"),
        (b"", None, "must not be empty"),
        (PDF + b"x" * 2000, 1024, "too large"),
    ],
)
def test_a_bad_file_is_refused_and_nothing_is_written(db, site, tmp_path, content, size, words):
    store = AttachmentStore(tmp_path, max_bytes=size or 10 * 1024 * 1024)
    receipt = _draft(db, site)
    db.commit()
    before = (rows(db), db.scalar(select(func.count()).select_from(AuditEntry)))
    with pytest.raises(ValidationError) as info, transaction(db):
        attachments.add_attachment(
            db,
            receipt_id=receipt.id,
            filename="scan.pdf",  # the name says PDF: the content decides
            content=content,
            actor=site.keeper,
            store=store,
        )
    assert words in str(info.value.message) and info.value.field == "file"
    assert (rows(db), db.scalar(select(func.count()).select_from(AuditEntry))) == before
    assert stored_files(tmp_path) == []


def test_only_a_keeper_of_the_warehouse_attaches_or_reads(
    db, site, tmp_path, make_warehouse, make_user
):
    store = AttachmentStore(tmp_path)
    receipt = _draft(db, site)
    attachment = attachments.add_attachment(
        db, receipt_id=receipt.id, filename="a.png", content=PNG, actor=site.keeper, store=store
    )
    stranger = Actor.for_user(make_user(Role.KEEPER, warehouses=[make_warehouse()]))
    with pytest.raises(Forbidden):
        attachments.add_attachment(
            db, receipt_id=receipt.id, filename="b.png", content=PNG, actor=stranger, store=store
        )
    with pytest.raises(Forbidden):
        attachments.get_attachment(
            db, receipt_id=receipt.id, attachment_id=attachment.id, actor=stranger
        )
    viewer = Actor.for_user(make_user(Role.VIEWER))
    assert (
        attachments.get_attachment(
            db, receipt_id=receipt.id, attachment_id=attachment.id, actor=viewer
        ).id
        == attachment.id
    )


def test_removable_on_a_draft_only_and_no_attachment_on_a_cancelled_one(db, site, tmp_path):
    store = AttachmentStore(tmp_path)
    receipt = _draft(db, site)
    first, second = (
        attachments.add_attachment(
            db, receipt_id=receipt.id, filename=name, content=JPEG, actor=site.keeper, store=store
        )
        for name in ("a.jpg", "b.jpeg")
    )
    path = attachments.delete_attachment(
        db, receipt_id=receipt.id, attachment_id=first.id, actor=site.keeper, store=store
    )
    assert path == store.path_for(first) and rows(db) == 1
    service.post_receipt(db, receipt_id=receipt.id, actor=site.keeper)
    with pytest.raises(Conflict, match="posted"):
        attachments.delete_attachment(
            db, receipt_id=receipt.id, attachment_id=second.id, actor=site.keeper, store=store
        )
    # the paper that comes after the goods may still be attached to a posted receipt
    attachments.add_attachment(
        db, receipt_id=receipt.id, filename="late.pdf", content=PDF, actor=site.keeper, store=store
    )
    other = _draft(db, site)
    service.cancel_receipt(db, receipt_id=other.id, actor=site.keeper)
    with pytest.raises(Conflict, match="cancelled"):
        attachments.add_attachment(
            db, receipt_id=other.id, filename="x.pdf", content=PDF, actor=site.keeper, store=store
        )


@pytest.mark.parametrize(
    "name, kind, shown",
    [
        ("C:\\scans\\送货单.pdf", AttachmentType.PDF, "送货单.pdf"),
        ("../../etc/passwd", AttachmentType.PNG, "passwd.png"),
        ("scan.pdf", AttachmentType.PNG, "scan.pdf.png"),
        ("photo.JPEG", AttachmentType.JPEG, "photo.JPEG"),
        ("a\x00b\nc.pdf", AttachmentType.PDF, "abc.pdf"),
        ("", AttachmentType.PDF, "attachment.pdf"),
        (None, AttachmentType.JPEG, "attachment.jpg"),
        ("x" * 300 + ".pdf", AttachmentType.PDF, "x" * 196 + ".pdf"),
    ],
)
def test_the_name_shown_is_the_last_part_printable_and_says_what_it_is(name, kind, shown):
    assert clean_filename(name, kind) == shown


# The pages ----------------------------------------------------------------------------------


@pytest.fixture
def keeper(login_as, make_material):
    client = login_as(Role.KEEPER, full_name="赵保管")
    client.get("/lang/en")
    client.warehouse = client.user.warehouses[0]
    client.actor = Actor.for_user(client.user)
    client.material = make_material("单帐篷", code="TENT-AT", unit="顶")
    return client


def _keeper_draft(db, keeper):
    data = ReceiptData(
        warehouse_id=keeper.warehouse.id,
        source="purchase",
        document_date=TODAY,
        lines=(line(keeper.material, "T-AT", 3),),
    )
    receipt = service.create_receipt(db, data=data, actor=keeper.actor)
    db.flush()
    return receipt


def _upload(client, url, content, name="scan.pdf", content_type="application/pdf", **kw):
    return client.post(
        url,
        data={"file": (BytesIO(content), name, content_type)},
        content_type="multipart/form-data",
        **kw,
    )


def test_a_keeper_attaches_the_delivery_note_and_anyone_who_sees_the_receipt_downloads_it(
    db, keeper, files, login_as, make_warehouse
):
    receipt = _keeper_draft(db, keeper)
    url = f"/receipts/{receipt.id}/attachments"
    response = _upload(keeper, url, PDF, name="送货单 0318.pdf", follow_redirects=True)
    page = response.get_data(as_text=True)
    assert "Attached 送货单 0318.pdf" in page and 'id="receipt-attachment-list"' in page
    assert 'title="user' in page and "赵保管" in page  # the uploader by name, login in a tooltip
    attachment = db.scalars(select(ReceiptAttachment)).one()
    assert stored_files(files) == [files / "receipts" / str(receipt.id) / attachment.stored_name]

    download = keeper.get(f"{url}/{attachment.id}")
    assert download.status_code == 200 and download.data == PDF
    assert download.mimetype == "application/pdf"
    assert download.headers["Content-Disposition"].startswith("attachment;")
    assert "0318.pdf" in download.headers["Content-Disposition"]
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    assert login_as(Role.VIEWER).get(f"{url}/{attachment.id}").status_code == 200
    stranger = login_as(Role.KEEPER, warehouses=[make_warehouse()])
    assert stranger.get(f"{url}/{attachment.id}").status_code == 403
    assert _upload(stranger, url, PDF).status_code == 403
    assert login_as(Role.VIEWER).post(url).status_code == 403
    assert keeper.get(f"{url}/{attachment.id + 1}").status_code == 404


def test_a_file_that_is_not_a_scan_is_refused_on_the_page_and_nothing_is_kept(db, keeper, files):
    receipt = _keeper_draft(db, keeper)
    url = f"/receipts/{receipt.id}/attachments"
    for content, name, words in (
        (HTML, "scan.pdf", "Only PDF, JPEG or PNG"),  # named and typed as a PDF: it is not
        (b"", "empty.pdf", "must not be empty"),
    ):
        page = _upload(keeper, url, content, name=name, follow_redirects=True)
        assert words in page.get_data(as_text=True)
    page = keeper.post(url, data={}, follow_redirects=True).get_data(as_text=True)
    assert "Choose the file to attach" in page
    assert rows(db) == 0 and stored_files(files) == []


def test_a_file_over_the_limit_is_refused(db, keeper, files, app, monkeypatch):
    monkeypatch.setitem(app.config, "RECEIPT_ATTACHMENT_MAX_BYTES", 1024)
    receipt = _keeper_draft(db, keeper)
    page = _upload(
        keeper, f"/receipts/{receipt.id}/attachments", PDF + b"0" * 4096, follow_redirects=True
    ).get_data(as_text=True)
    assert "too large" in page and "at most 1 KB" in page
    assert rows(db) == 0 and stored_files(files) == []


def test_removing_on_a_draft_deletes_the_file_and_a_posted_receipt_keeps_it(db, keeper, files):
    receipt = _keeper_draft(db, keeper)
    url = f"/receipts/{receipt.id}/attachments"
    _upload(keeper, url, PNG, name="a.png")
    _upload(keeper, url, JPEG, name="b.jpg")
    first, second = db.scalars(select(ReceiptAttachment).order_by(ReceiptAttachment.id)).all()
    page = keeper.get(f"/receipts/{receipt.id}").get_data(as_text=True)
    assert f'id="receipt-attachment-delete-{first.id}"' in page
    keeper.post(f"{url}/{first.id}/delete", follow_redirects=True)
    assert rows(db) == 1 and len(stored_files(files)) == 1
    keeper.post(f"/receipts/{receipt.id}/post")
    page = keeper.get(f"/receipts/{receipt.id}").get_data(as_text=True)
    assert "receipt-attachment-delete-" not in page and "receipt-attachment-form" in page
    refused = keeper.post(f"{url}/{second.id}/delete", follow_redirects=True)
    assert "already been posted" in refused.get_data(as_text=True)
    assert rows(db) == 1 and len(stored_files(files)) == 1


# The API ------------------------------------------------------------------------------------


def _multipart(boundary: str, content: bytes, name: str = "scan.pdf") -> bytes:
    return (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n"
        ).encode()
        + content
        + f"\r\n--{boundary}--\r\n".encode()
    )


def test_api_upload_is_idempotent_lists_and_downloads(
    client, db, keeper, files, api_token, make_warehouse
):
    receipt = _keeper_draft(db, keeper)
    headers, _user = api_token(Role.KEEPER, warehouses=[keeper.warehouse])
    url = f"/api/v1/receipts/{receipt.id}/attachments"
    big = PDF + b"0" * (1536 * 1024)  # over the API's 1 MiB JSON limit, under the file limit
    answers = [
        client.post(
            url,
            data=_multipart(boundary, big),
            headers={**headers, "Idempotency-Key": "scan-1"},
            content_type=f"multipart/form-data; boundary={boundary}",
        )
        for boundary in ("first-boundary", "retry-with-another-boundary")
    ]
    assert answers[0].status_code == 201, answers[0].get_json()
    assert answers[1].status_code == 201 and answers[1].headers["Idempotent-Replayed"] == "true"
    assert answers[0].get_json() == answers[1].get_json()
    assert rows(db) == 1 and len(stored_files(files)) == 1
    made = answers[0].get_json()
    assert made["content_type"] == "application/pdf" and made["size_bytes"] == len(big)
    assert made["sha256"] == hashlib.sha256(big).hexdigest()

    listing = client.get(url, headers=headers).get_json()
    assert [a["id"] for a in listing["items"]] == [made["id"]]
    download = client.get(f"{url}/{made['id']}", headers=headers)
    assert download.status_code == 200 and download.data == big
    assert download.headers["X-Content-Type-Options"] == "nosniff"

    stranger, _u = api_token(Role.KEEPER, warehouses=[make_warehouse()])
    assert client.get(url, headers=stranger).status_code == 403
    assert client.get(f"{url}/{made['id']}", headers=stranger).status_code == 403


def test_api_refuses_a_bad_file_with_its_reason(client, db, keeper, files, api_token):
    receipt = _keeper_draft(db, keeper)
    headers, _user = api_token(Role.KEEPER, warehouses=[keeper.warehouse])
    headers["Accept-Language"] = "en"
    url = f"/api/v1/receipts/{receipt.id}/attachments"
    response = client.post(
        url,
        data=_multipart("b", HTML),
        headers=headers,
        content_type="multipart/form-data; boundary=b",
    )
    assert response.status_code == 422
    assert response.get_json()["field"] == "file"
    assert "Only PDF, JPEG or PNG" in response.get_json()["message"]
    missing = client.post(url, headers=headers, json={})
    assert missing.status_code == 422 and "Choose the file" in missing.get_json()["message"]
    assert rows(db) == 0 and stored_files(files) == []
