"""The edges' side of receipt attachments (pages and API alike): the store the app's
configuration names, the uploaded file read within its limit, and a stored file sent back as a
download that no browser will sniff or render in the page."""

from flask import current_app, request, send_file
from flask_babel import gettext as _

from reserve.errors import NotFound
from reserve.receipts import attachments


def store() -> attachments.AttachmentStore:
    return attachments.store_for(current_app.config, current_app.instance_path)


def uploaded_file() -> tuple[str | None, bytes]:
    """The file sent as ``file`` (name, bytes), read to one byte past the limit at most."""
    upload = request.files.get("file")
    if upload is None:
        return None, b""
    return upload.filename, upload.stream.read(store().max_bytes + 1)


def send_attachment(attachment, path):
    """The file as a download, its type the one its content was checked to be."""
    if not path.is_file():
        raise NotFound(_("The file of this attachment is missing from the server."))
    response = send_file(
        path,
        mimetype=attachment.content_type,
        as_attachment=True,
        download_name=attachment.filename,
        conditional=True,
        etag=attachment.sha256,
        max_age=0,
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    return response
