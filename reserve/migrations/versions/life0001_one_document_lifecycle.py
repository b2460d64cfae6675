"""one document lifecycle: <verb>_by_id / <verb>_by_name / <verb>_at on every document, and the
serial numbers of receipt lines as a JSON list like every other document line

Revision ID: life0001
Revises: axis0001
Create Date: 2026-12-01 19:50:00

"""

import sqlalchemy as sa

import reserve.db
from alembic import op

# revision identifiers, used by Alembic.
revision = 'life0001'
down_revision = 'axis0001'
branch_labels = None
depends_on = None

NAME = sa.String(length=40)
# The parents of cascading lines (receipts, stocktakes, rotations, scraps) are changed with plain
# ALTER TABLE, never by SQLite's batch copy-and-drop: dropping the old table with foreign keys on
# would cascade and delete every line. RENAME/ADD/DROP COLUMN are the same SQL on SQLite (3.35+)
# and PostgreSQL.


def _rename(table, old, new):
    op.execute(f'ALTER TABLE {table} RENAME COLUMN {old} TO {new}')


def _add_user_fk(table, verb):
    """<verb>_by_id, a foreign key to users named as the models' naming convention names it
    (users are disabled, never deleted, so no ON DELETE: as receipts and stocktakes have it)."""
    op.execute(
        f'ALTER TABLE {table} ADD COLUMN {verb}_by_id INTEGER '
        f'CONSTRAINT fk_{table}_{verb}_by_id_users REFERENCES users (id)'
    )


def _drop(table, column):
    """DROP COLUMN (a foreign key on it goes with it, on both databases)."""
    op.execute(f'ALTER TABLE {table} DROP COLUMN {column}')


def _name_from_id(table, verb):
    """<verb>_by_name = the username of <verb>_by_id."""
    op.execute(
        f"UPDATE {table} SET {verb}_by_name = "
        f"(SELECT users.username FROM users WHERE users.id = {table}.{verb}_by_id) "
        f"WHERE {verb}_by_id IS NOT NULL"
    )


def _id_from_name(table, verb):
    """<verb>_by_id = the user of that username (none for the system actor)."""
    op.execute(
        f"UPDATE {table} SET {verb}_by_id = "
        f"(SELECT users.id FROM users WHERE users.username = {table}.{verb}_by_name) "
        f"WHERE {verb}_by_id IS NULL AND {verb}_by_name IS NOT NULL"
    )


def _lines_table():
    return sa.table('receipt_lines', sa.column('id', sa.Integer), sa.column('serials', sa.Text),
                    sa.column('serial_nos', sa.JSON))


def upgrade():
    # receipts: created/posted/cancelled ---------------------------------------------------
    _rename('receipts', 'created_by', 'created_by_name')
    _rename('receipts', 'posted_by', 'posted_by_name')
    _rename('receipts', 'cancelled_by', 'cancelled_by_name')
    _add_user_fk('receipts', 'cancelled')
    _id_from_name('receipts', 'cancelled')

    # receipt lines (nothing hangs on them): serial numbers as a JSON list --------------------
    op.add_column('receipt_lines', sa.Column('serial_nos', sa.JSON(), nullable=True))
    connection = op.get_bind()
    lines = _lines_table()
    rows = connection.execute(sa.select(lines.c.id, lines.c.serials)).all()
    if rows:
        connection.execute(
            lines.update().where(lines.c.id == sa.bindparam('line_id'))
            .values(serial_nos=sa.bindparam('numbers', type_=sa.JSON)),
            [{'line_id': row.id,
              'numbers': [s.strip() for s in (row.serials or '').split('\n') if s.strip()]}
             for row in rows],
        )
    with op.batch_alter_table('receipt_lines', schema=None) as batch_op:
        batch_op.alter_column('serial_nos', existing_type=sa.JSON(), nullable=False)
        batch_op.drop_column('serials')

    # stocktakes: ids were kept, names were not ------------------------------------------------
    for verb in ('created', 'submitted', 'approved', 'rejected', 'cancelled'):
        op.add_column('stocktakes', sa.Column(f'{verb}_by_name', NAME, nullable=True))
        _name_from_id('stocktakes', verb)

    # rotations: created/posted ---------------------------------------------------------------
    _rename('rotations', 'created_by', 'created_by_name')
    _rename('rotations', 'posted_by', 'posted_by_name')
    _add_user_fk('rotations', 'posted')
    _id_from_name('rotations', 'posted')

    # scraps: requested/approved/rejected/posted (the old "decided" split by outcome) ----------
    _rename('scraps', 'requested_by', 'requested_by_name')
    _rename('scraps', 'posted_by', 'posted_by_name')
    for verb in ('approved', 'rejected'):
        _add_user_fk('scraps', verb)
        op.add_column('scraps', sa.Column(f'{verb}_by_name', NAME, nullable=True))
        op.add_column('scraps', sa.Column(f'{verb}_at', reserve.db.UTCDateTime(timezone=True),
                                          nullable=True))
    _add_user_fk('scraps', 'posted')
    op.execute(
        "UPDATE scraps SET approved_by_name = decided_by, approved_at = decided_at "
        "WHERE status IN ('approved', 'posted')"
    )
    op.execute(
        "UPDATE scraps SET rejected_by_name = decided_by, rejected_at = decided_at "
        "WHERE status = 'rejected'"
    )
    for verb in ('approved', 'rejected', 'posted'):
        _id_from_name('scraps', verb)
    _drop('scraps', 'decided_by')
    _drop('scraps', 'decided_at')

    # stock moves: moved ----------------------------------------------------------------------
    _rename('stock_moves', 'moved_by', 'moved_by_name')
    _add_user_fk('stock_moves', 'moved')
    _id_from_name('stock_moves', 'moved')


def downgrade():
    _drop('stock_moves', 'moved_by_id')
    _rename('stock_moves', 'moved_by_name', 'moved_by')

    op.add_column('scraps', sa.Column('decided_by', NAME, nullable=True))
    op.add_column('scraps', sa.Column('decided_at', reserve.db.UTCDateTime(timezone=True),
                                      nullable=True))
    op.execute(
        "UPDATE scraps SET decided_by = COALESCE(approved_by_name, rejected_by_name), "
        "decided_at = COALESCE(approved_at, rejected_at)"
    )
    _drop('scraps', 'posted_by_id')
    for verb in ('approved', 'rejected'):
        _drop('scraps', f'{verb}_at')
        _drop('scraps', f'{verb}_by_name')
        _drop('scraps', f'{verb}_by_id')
    _rename('scraps', 'posted_by_name', 'posted_by')
    _rename('scraps', 'requested_by_name', 'requested_by')

    _drop('rotations', 'posted_by_id')
    _rename('rotations', 'posted_by_name', 'posted_by')
    _rename('rotations', 'created_by_name', 'created_by')

    for verb in ('created', 'submitted', 'approved', 'rejected', 'cancelled'):
        _drop('stocktakes', f'{verb}_by_name')

    op.add_column('receipt_lines', sa.Column('serials', sa.Text(), nullable=True))
    connection = op.get_bind()
    lines = _lines_table()
    rows = connection.execute(sa.select(lines.c.id, lines.c.serial_nos)).all()
    filled = [{'line_id': r.id, 'text': '\n'.join(r.serial_nos)} for r in rows if r.serial_nos]
    if filled:
        connection.execute(
            lines.update().where(lines.c.id == sa.bindparam('line_id'))
            .values(serials=sa.bindparam('text')),
            filled,
        )
    with op.batch_alter_table('receipt_lines', schema=None) as batch_op:
        batch_op.drop_column('serial_nos')

    _drop('receipts', 'cancelled_by_id')
    _rename('receipts', 'cancelled_by_name', 'cancelled_by')
    _rename('receipts', 'posted_by_name', 'posted_by')
    _rename('receipts', 'created_by_name', 'created_by')
