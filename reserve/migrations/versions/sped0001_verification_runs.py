"""verification runs: each `flask stock verify` is recorded with the highest movement id it
checked, so `verify --since` checks only the places touched after the last clean run

Revision ID: sped0001
Revises: form0001
Create Date: 2026-12-01 23:20:00

"""
from alembic import op
import sqlalchemy as sa

import reserve.db


# revision identifiers, used by Alembic.
revision = 'sped0001'
down_revision = 'form0001'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'verification_runs',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('started_at', reserve.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('through_movement_id', sa.BigInteger(), nullable=False),
        sa.Column('incremental', sa.Boolean(), nullable=False),
        sa.Column('since_run_id', sa.Integer(), nullable=True),
        sa.Column('places', sa.Integer(), nullable=False),
        sa.Column('differences', sa.Integer(), nullable=False),
        sa.Column('seconds', sa.Float(), nullable=False),
        sa.CheckConstraint(
            'differences >= 0', name=op.f('ck_verification_runs_differences_not_negative')
        ),
        sa.CheckConstraint('places >= 0', name=op.f('ck_verification_runs_places_not_negative')),
        sa.ForeignKeyConstraint(
            ['since_run_id'], ['verification_runs.id'],
            name=op.f('fk_verification_runs_since_run_id_verification_runs'),
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_verification_runs')),
    )


def downgrade():
    op.drop_table('verification_runs')
