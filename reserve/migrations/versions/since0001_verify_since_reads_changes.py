"""verify --since misses nothing it should read: reservations keep when they last changed
(a part release changes no movement and closes nothing), and movements are indexed by posting
time (one written before a run began but committed after it is read by the next run)

Revision ID: since0001
Revises: rcpt0001
Create Date: 2026-12-02 02:20:00

"""
from alembic import op
import sqlalchemy as sa

import reserve.db
from reserve.stock.guard import ledger_writes


# revision identifiers, used by Alembic.
revision = 'since0001'
down_revision = 'rcpt0001'
branch_labels = None
depends_on = None


def upgrade():
    # A constant default lets SQLite add a NOT NULL column without rebuilding the table (which
    # would drop the ledger's triggers); every existing row then gets its real time.
    op.add_column(
        'stock_reservations',
        sa.Column(
            'changed_at',
            reserve.db.UTCDateTime(timezone=True),
            nullable=False,
            server_default=sa.text("'1970-01-01 00:00:00'"),
        ),
    )
    with ledger_writes():  # a schema change filling its own new column, not a stock write
        op.execute("UPDATE stock_reservations SET changed_at = coalesce(closed_at, created_at)")
    if op.get_bind().dialect.name == 'postgresql':
        op.alter_column('stock_reservations', 'changed_at', server_default=None)
    op.create_index(
        op.f('ix_stock_reservations_changed_at'), 'stock_reservations', ['changed_at']
    )
    op.create_index(op.f('ix_stock_movements_posted_at'), 'stock_movements', ['posted_at'])


def downgrade():
    op.drop_index(op.f('ix_stock_movements_posted_at'), table_name='stock_movements')
    op.drop_index(op.f('ix_stock_reservations_changed_at'), table_name='stock_reservations')
    if op.get_bind().dialect.name == 'sqlite':
        with op.batch_alter_table('stock_reservations') as batch_op:
            batch_op.drop_column('changed_at')
    else:
        op.drop_column('stock_reservations', 'changed_at')
