"""lists paged by key: the audit log of one user and the receipt list read their page off an
index in the list's own order (time or document date, then id), not a sort of every match

Revision ID: keyset0001
Revises: since0001
Create Date: 2026-12-02 02:30:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'keyset0001'
down_revision = 'since0001'
branch_labels = None
depends_on = None


def upgrade():
    # (user_id, at, id) also serves what (user_id) did: the foreign key's lookups
    op.create_index(
        "ix_audit_entries_user_at", "audit_entries", ["user_id", "at", "id"], unique=False
    )
    op.drop_index("ix_audit_entries_user_id", table_name="audit_entries")
    op.create_index("ix_receipts_date_id", "receipts", ["document_date", "id"], unique=False)
    op.drop_index("ix_receipts_document_date", table_name="receipts")


def downgrade():
    op.create_index("ix_receipts_document_date", "receipts", ["document_date"], unique=False)
    op.drop_index("ix_receipts_date_id", table_name="receipts")
    op.create_index("ix_audit_entries_user_id", "audit_entries", ["user_id"], unique=False)
    op.drop_index("ix_audit_entries_user_at", table_name="audit_entries")
