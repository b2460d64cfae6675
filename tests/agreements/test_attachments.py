"""协议附件: the signed scan — type by content (not by its name), a size limit (and a 50 MB
upload stopped at the door), stored under the instance folder, served only to who sees the
agreement; bad files change nothing."""

from io import BytesIO
from pathlib import Path

import pytest
from sqlalchemy import func, select

from reserve.agreements import attachments
from reserve.agreements.models import AgreementAttachment
from reserve.audit.models import AuditEntry
from reserve.auth.models import Role
from reserve.errors import ValidationError
from reserve.files import AttachmentStore

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64
HTML = b"<html><script>alert(1)</script></html>"


@pytest.fixture
def files(app, tmp_path, monkeypatch) -> Path:
    monkeypatch.setitem(app.config, "ATTACHMENTS_DIR", str(tmp_path / "attachments"))
    return tmp_path / "attachments"


def _stored(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def _rows(db):
    return (
        db.scalar(select(func.count()).select_from(AgreementAttachment)),
        db.scalar(
            select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "attach")
        ),
    )


def _upload(client, url, content, name="scan.pdf", **kw):
    return client.post(
        url,
        data={"file": (BytesIO(content), name)},
        content_type="multipart/form-data",
        **kw,
    )


def test_the_service_keeps_a_scan_where_the_store_says(db, make_agreement, system_actor, tmp_path):
    agreement = make_agreement()
    store = AttachmentStore(tmp_path)
    attachment = attachments.add_attachment(
        db,
        agreement_id=agreement.id,
        filename="协议.pdf",
        content=PDF,
        actor=system_actor,
        store=store,
    )
    path = store.path_for(attachment)
    assert path.parent == tmp_path / "agreements" / str(agreement.id)
    assert path.read_bytes() == PDF and attachment.content_type == "application/pdf"
    with pytest.raises(ValidationError, match="none of them"):
        attachments.add_attachment(
            db,
            agreement_id=agreement.id,
            filename="x.pdf",
            content=HTML,
            actor=system_actor,
            store=store,
        )


def test_a_writer_uploads_and_the_enterprise_downloads_its_own(
    db, login_as, site, make_agreement, files
):
    agreement = make_agreement()
    dispatcher = login_as(Role.DISPATCHER)
    url = f"/agreements/{agreement.id}/attachments"
    assert _upload(dispatcher, url, PNG, name="签字页.png").status_code == 302
    attachment = db.scalar(select(AgreementAttachment))
    assert attachment.filename == "签字页.png" and len(_stored(files)) == 1
    assert "static" not in str(_stored(files)[0])
    own = login_as(Role.ENTERPRISE, enterprise=site.own)
    response = own.get(f"{url}/{attachment.id}")
    assert response.status_code == 200 and response.data == PNG
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "attachment" in response.headers["Content-Disposition"]
    other = login_as(Role.ENTERPRISE, enterprise=site.other)
    response = other.get(f"{url}/{attachment.id}")
    assert response.status_code == 404 and response.data != PNG
    assert other.post(url, data={"file": (BytesIO(PDF), "x.pdf")}).status_code == 403
    keeper = login_as(Role.KEEPER)
    assert keeper.get(f"{url}/{attachment.id}").status_code == 403


def test_a_file_that_is_not_what_its_name_says_is_refused(db, login_as, make_agreement, files):
    agreement = make_agreement()
    admin = login_as(Role.ADMIN)
    admin.get("/lang/en")
    url = f"/agreements/{agreement.id}/attachments"
    before = _rows(db)
    for content, name, words in (
        (HTML, "signed.pdf", "Only PDF, JPEG or PNG"),
        (b"GIF89a" + b"\x00" * 10, "photo.png", "Only PDF, JPEG or PNG"),
        (b"", "empty.pdf", "must not be empty"),
    ):
        page = _upload(admin, url, content, name=name, follow_redirects=True)
        assert words in page.get_data(as_text=True), name
    assert _rows(db) == before and _stored(files) == []


def test_too_large_a_file_is_refused(db, login_as, make_agreement, files, app, monkeypatch):
    agreement = make_agreement()
    admin = login_as(Role.ADMIN)
    admin.get("/lang/en")
    url = f"/agreements/{agreement.id}/attachments"
    monkeypatch.setitem(app.config, "RECEIPT_ATTACHMENT_MAX_BYTES", 1024)
    page = _upload(admin, url, PDF + b"0" * 4096, follow_redirects=True).get_data(as_text=True)
    assert "too large" in page and "at most 1 KB" in page
    monkeypatch.undo()
    monkeypatch.setitem(app.config, "ATTACHMENTS_DIR", str(files))
    fifty_mb = PDF + b"0" * (50 * 1024 * 1024)
    response = _upload(admin, url, fifty_mb)
    assert response.status_code == 413 and "The upload is too large" in response.get_data(
        as_text=True
    )
    assert _rows(db) == (0, 0) and _stored(files) == []


def test_removing_only_from_a_draft(db, login_as, make_agreement, files, system_actor):
    from reserve.agreements import signing

    agreement = make_agreement()
    admin = login_as(Role.ADMIN)
    url = f"/agreements/{agreement.id}/attachments"
    _upload(admin, url, JPEG, name="a.jpg")
    _upload(admin, url, PDF, name="b.pdf")
    first, second = db.scalars(select(AgreementAttachment).order_by(AgreementAttachment.id)).all()
    admin.post(f"{url}/{first.id}/delete")
    assert len(_stored(files)) == 1
    signing.activate_agreement(db, agreement_id=agreement.id, actor=system_actor)
    page = admin.post(f"{url}/{second.id}/delete", follow_redirects=True)
    assert "already in force" in page.get_data(as_text=True) or "已" in page.get_data(as_text=True)
    assert len(_stored(files)) == 1
