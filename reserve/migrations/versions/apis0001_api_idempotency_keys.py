"""api idempotency keys: the stored first response of a write sent with an Idempotency-Key

Revision ID: apis0001
Revises: life0001
Create Date: 2026-12-01 19:50:00

"""
from alembic import op
import sqlalchemy as sa

import reserve.db


# revision identifiers, used by Alembic.
revision = 'apis0001'
down_revision = 'life0001'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'api_idempotency_keys',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('key', sa.String(length=255), nullable=False),
        sa.Column('fingerprint', sa.String(length=64), nullable=False),
        sa.Column('status', sa.Integer(), nullable=False),
        sa.Column('body', sa.LargeBinary(), nullable=False),
        sa.Column('created_at', reserve.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ['user_id'], ['users.id'],
            name=op.f('fk_api_idempotency_keys_user_id_users'), ondelete='CASCADE',
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_api_idempotency_keys')),
        sa.UniqueConstraint('user_id', 'key', name=op.f('uq_api_idempotency_keys_user_id_key')),
    )
    with op.batch_alter_table('api_idempotency_keys', schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f('ix_api_idempotency_keys_created_at'), ['created_at'], unique=False
        )


def downgrade():
    with op.batch_alter_table('api_idempotency_keys', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_api_idempotency_keys_created_at'))
    op.drop_table('api_idempotency_keys')
