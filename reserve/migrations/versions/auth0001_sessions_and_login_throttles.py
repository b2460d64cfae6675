"""sessions that end (users.session_version), login throttles by name and address, known-good
sign-in addresses

The throttle rows are short-lived counters (no history: the audit log keeps that), so the old
per-name table is dropped and made anew rather than converted.

Revision ID: auth0001
Revises: edge0001
Create Date: 2026-12-01 19:39:38.932649

"""
from alembic import op
import sqlalchemy as sa

import reserve.db


# revision identifiers, used by Alembic.
revision = 'auth0001'
down_revision = 'edge0001'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('session_version', sa.Integer(), server_default=sa.text('0'), nullable=False)
        )

    op.drop_table('login_throttles')
    op.create_table('login_throttles',
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('username', sa.String(length=80), nullable=False),
    sa.Column('ip', sa.String(length=45), nullable=False),
    sa.Column('failed_count', sa.Integer(), nullable=False),
    sa.Column('checked_count', sa.Integer(), nullable=False),
    sa.Column('strikes', sa.Integer(), nullable=False),
    sa.Column('locked_until', reserve.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('first_failed_at', reserve.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_failed_at', reserve.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("kind IN ('name', 'address')", name=op.f('ck_login_throttles_kind')),
    sa.CheckConstraint('failed_count >= 0 AND checked_count >= 0 AND strikes >= 0', name=op.f('ck_login_throttles_counts')),
    sa.PrimaryKeyConstraint('kind', 'username', 'ip', name=op.f('pk_login_throttles'))
    )
    with op.batch_alter_table('login_throttles', schema=None) as batch_op:
        batch_op.create_index('ix_login_throttles_last_failed_at', ['last_failed_at'], unique=False)

    op.create_table('login_addresses',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('ip', sa.String(length=45), nullable=False),
    sa.Column('first_at', reserve.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_at', reserve.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_login_addresses_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', 'ip', name=op.f('pk_login_addresses'))
    )


def downgrade():
    op.drop_table('login_addresses')
    op.drop_table('login_throttles')
    op.create_table('login_throttles',
    sa.Column('username', sa.String(length=80), nullable=False),
    sa.Column('failed_count', sa.Integer(), nullable=False),
    sa.Column('locked_until', reserve.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_failed_at', reserve.db.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('username', name=op.f('pk_login_throttles'))
    )
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('session_version')
