"""stock read side: batch and serial numbers searched by prefix (text_pattern_ops on
PostgreSQL), and a page's batches read by material with their expiry date in the index

Revision ID: stck0001
Revises: ledg0001
Create Date: 2026-12-01 23:00:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'stck0001'
down_revision = 'ledg0001'
branch_labels = None
depends_on = None


def _pattern_index(table: str, column: str, ops: str | None) -> None:
    """Re-create ``ix_<table>_<column>`` with (or without) an operator class on PostgreSQL; on
    SQLite the plain index already serves the prefix search (as a range) and stays."""
    if op.get_bind().dialect.name != "postgresql":
        return
    name = f"ix_{table}_{column}"
    op.drop_index(name, table_name=table)
    kwargs = {"postgresql_ops": {column: ops}} if ops else {}
    op.create_index(name, table, [column], unique=False, **kwargs)


def upgrade():
    _pattern_index("batches", "batch_no", "text_pattern_ops")
    _pattern_index("serial_items", "serial_no", "text_pattern_ops")
    op.create_index(
        "ix_batches_material_expiry", "batches", ["material_id", "id", "expiry_date"], unique=False
    )


def downgrade():
    op.drop_index("ix_batches_material_expiry", table_name="batches")
    _pattern_index("serial_items", "serial_no", None)
    _pattern_index("batches", "batch_no", None)
