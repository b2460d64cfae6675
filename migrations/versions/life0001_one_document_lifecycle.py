"""one document lifecycle: <verb>_by_id / <verb>_by_name / <verb>_at on every document, and the
serial numbers of receipt lines as a JSON list like every other document line

Revision ID: life0001
Revises: 0318f8539acf
Create Date: 2026-12-01 19:50:00

"""

import sqlalchemy as sa

import reserve.db
from alembic import op

# revision identifiers, used by Alembic.
revision = 'life0001'
down_revision = '0318f8539acf'
branch_labels = None
depends_on = None

NAME = sa.String(length=40)


def _fk(table, column, ondelete=None):
    return dict(
        constraint_name=f'fk_{table}_{column}_users',
        referent_table='users',
        local_cols=[column],
        remote_cols=['id'],
        ondelete=ondelete,
    )


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


def upgrade():
    # receipts: created/posted/cancelled ---------------------------------------------------
    with op.batch_alter_table('receipts', schema=None) as batch_op:
        batch_op.alter_column('created_by', new_column_name='created_by_name',
                              existing_type=NAME, existing_nullable=False)
        batch_op.alter_column('posted_by', new_column_name='posted_by_name',
                              existing_type=NAME, existing_nullable=True)
        batch_op.alter_column('cancelled_by', new_column_name='cancelled_by_name',
                              existing_type=NAME, existing_nullable=True)
        batch_op.add_column(sa.Column('cancelled_by_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(**_fk('receipts', 'cancelled_by_id'))
    _id_from_name('receipts', 'cancelled')

    # receipt lines: serial numbers as a JSON list -------------------------------------------
    with op.batch_alter_table('receipt_lines', schema=None) as batch_op:
        batch_op.add_column(sa.Column('serial_nos', sa.JSON(), nullable=True))
    connection = op.get_bind()
    lines = sa.table('receipt_lines', sa.column('id', sa.Integer), sa.column('serials', sa.Text),
                     sa.column('serial_nos', sa.JSON))
    rows = connection.execute(sa.select(lines.c.id, lines.c.serials)).all()
    if rows:
        connection.execute(
            lines.update().where(lines.c.id == sa.bindparam('line_id'))
            .values(serial_nos=sa.bindparam('numbers', type_=sa.JSON)),
            [{'line_id': row.id,
              'numbers': [s for s in (row.serials or '').split('\n') if s.strip()]}
             for row in rows],
        )
    with op.batch_alter_table('receipt_lines', schema=None) as batch_op:
        batch_op.alter_column('serial_nos', existing_type=sa.JSON(), nullable=False)
        batch_op.drop_column('serials')

    # stocktakes: ids were kept, names were not ------------------------------------------------
    verbs = ('created', 'submitted', 'approved', 'rejected', 'cancelled')
    with op.batch_alter_table('stocktakes', schema=None) as batch_op:
        for verb in verbs:
            batch_op.add_column(sa.Column(f'{verb}_by_name', NAME, nullable=True))
    for verb in verbs:
        _name_from_id('stocktakes', verb)

    # rotations: created/posted ---------------------------------------------------------------
    with op.batch_alter_table('rotations', schema=None) as batch_op:
        batch_op.alter_column('created_by', new_column_name='created_by_name',
                              existing_type=NAME, existing_nullable=False)
        batch_op.alter_column('posted_by', new_column_name='posted_by_name',
                              existing_type=NAME, existing_nullable=True)
        batch_op.add_column(sa.Column('posted_by_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(**_fk('rotations', 'posted_by_id', 'SET NULL'))
    _id_from_name('rotations', 'posted')

    # scraps: requested/approved/rejected/posted (the old "decided" split by outcome) ----------
    with op.batch_alter_table('scraps', schema=None) as batch_op:
        batch_op.alter_column('requested_by', new_column_name='requested_by_name',
                              existing_type=NAME, existing_nullable=False)
        batch_op.alter_column('posted_by', new_column_name='posted_by_name',
                              existing_type=NAME, existing_nullable=True)
        for verb in ('approved', 'rejected'):
            batch_op.add_column(sa.Column(f'{verb}_by_id', sa.Integer(), nullable=True))
            batch_op.add_column(sa.Column(f'{verb}_by_name', NAME, nullable=True))
            batch_op.add_column(sa.Column(f'{verb}_at', reserve.db.UTCDateTime(timezone=True), nullable=True))
            batch_op.create_foreign_key(**_fk('scraps', f'{verb}_by_id', 'SET NULL'))
        batch_op.add_column(sa.Column('posted_by_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(**_fk('scraps', 'posted_by_id', 'SET NULL'))
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
    with op.batch_alter_table('scraps', schema=None) as batch_op:
        batch_op.drop_column('decided_by')
        batch_op.drop_column('decided_at')

    # stock moves: moved ----------------------------------------------------------------------
    with op.batch_alter_table('stock_moves', schema=None) as batch_op:
        batch_op.alter_column('moved_by', new_column_name='moved_by_name',
                              existing_type=NAME, existing_nullable=False)
        batch_op.add_column(sa.Column('moved_by_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(**_fk('stock_moves', 'moved_by_id', 'SET NULL'))
    _id_from_name('stock_moves', 'moved')


def downgrade():
    with op.batch_alter_table('stock_moves', schema=None) as batch_op:
        batch_op.drop_constraint('fk_stock_moves_moved_by_id_users', type_='foreignkey')
        batch_op.drop_column('moved_by_id')
        batch_op.alter_column('moved_by_name', new_column_name='moved_by',
                              existing_type=NAME, existing_nullable=False)

    with op.batch_alter_table('scraps', schema=None) as batch_op:
        batch_op.add_column(sa.Column('decided_by', NAME, nullable=True))
        batch_op.add_column(sa.Column('decided_at', reserve.db.UTCDateTime(timezone=True), nullable=True))
    op.execute(
        "UPDATE scraps SET decided_by = COALESCE(approved_by_name, rejected_by_name), "
        "decided_at = COALESCE(approved_at, rejected_at)"
    )
    with op.batch_alter_table('scraps', schema=None) as batch_op:
        batch_op.drop_constraint('fk_scraps_posted_by_id_users', type_='foreignkey')
        batch_op.drop_column('posted_by_id')
        for verb in ('approved', 'rejected'):
            batch_op.drop_constraint(f'fk_scraps_{verb}_by_id_users', type_='foreignkey')
            batch_op.drop_column(f'{verb}_at')
            batch_op.drop_column(f'{verb}_by_name')
            batch_op.drop_column(f'{verb}_by_id')
        batch_op.alter_column('posted_by_name', new_column_name='posted_by',
                              existing_type=NAME, existing_nullable=True)
        batch_op.alter_column('requested_by_name', new_column_name='requested_by',
                              existing_type=NAME, existing_nullable=False)

    with op.batch_alter_table('rotations', schema=None) as batch_op:
        batch_op.drop_constraint('fk_rotations_posted_by_id_users', type_='foreignkey')
        batch_op.drop_column('posted_by_id')
        batch_op.alter_column('posted_by_name', new_column_name='posted_by',
                              existing_type=NAME, existing_nullable=True)
        batch_op.alter_column('created_by_name', new_column_name='created_by',
                              existing_type=NAME, existing_nullable=False)

    with op.batch_alter_table('stocktakes', schema=None) as batch_op:
        for verb in ('created', 'submitted', 'approved', 'rejected', 'cancelled'):
            batch_op.drop_column(f'{verb}_by_name')

    with op.batch_alter_table('receipt_lines', schema=None) as batch_op:
        batch_op.add_column(sa.Column('serials', sa.Text(), nullable=True))
    connection = op.get_bind()
    lines = sa.table('receipt_lines', sa.column('id', sa.Integer), sa.column('serials', sa.Text),
                     sa.column('serial_nos', sa.JSON))
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

    with op.batch_alter_table('receipts', schema=None) as batch_op:
        batch_op.drop_constraint('fk_receipts_cancelled_by_id_users', type_='foreignkey')
        batch_op.drop_column('cancelled_by_id')
        batch_op.alter_column('cancelled_by_name', new_column_name='cancelled_by',
                              existing_type=NAME, existing_nullable=True)
        batch_op.alter_column('posted_by_name', new_column_name='posted_by',
                              existing_type=NAME, existing_nullable=True)
        batch_op.alter_column('created_by_name', new_column_name='created_by',
                              existing_type=NAME, existing_nullable=False)
