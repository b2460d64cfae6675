"""merge the labels and scan heads (labl0001, scan0001): both branch from rcpt0001; the lead
re-chains them when merging into main, and this file then goes

Revision ID: scan0002
Revises: labl0001, scan0001
Create Date: 2026-12-02 02:20:00

"""

# revision identifiers, used by Alembic.
revision = "scan0002"
down_revision = ("labl0001", "scan0001")
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
