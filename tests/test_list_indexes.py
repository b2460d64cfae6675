"""The list indexes of revision keyset0001 (issue 10): they come and go with the revision."""

from __future__ import annotations

import sqlalchemy as sa
from flask_migrate import downgrade, upgrade

from tests.conftest import drop_database, make_database, test_app

NEW = {("audit_entries", "ix_audit_entries_user_at"), ("receipts", "ix_receipts_date_id")}
OLD = {("audit_entries", "ix_audit_entries_user_id"), ("receipts", "ix_receipts_document_date")}


def _indexes(url: str) -> set[tuple[str, str]]:
    engine = sa.create_engine(url)
    try:
        inspector = sa.inspect(engine)
        return {
            (table, index["name"])
            for table in ("audit_entries", "receipts")
            for index in inspector.get_indexes(table)
        }
    finally:
        engine.dispose()


def test_keyset0001_upgrades_and_downgrades(tmp_path, worker_id):
    url = make_database(f"keyset_{worker_id}", tmp_path)
    try:
        app = test_app(url)
        with app.app_context():
            upgrade()
            assert _indexes(url) >= NEW and not OLD & _indexes(url)
            downgrade(revision="rcpt0001")
            assert _indexes(url) >= OLD and not NEW & _indexes(url)
            upgrade()
            assert _indexes(url) >= NEW
    finally:
        drop_database(url)
