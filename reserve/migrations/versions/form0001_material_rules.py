"""material rules in the database: near-expiry days not negative and below the shelf life

Revision ID: form0001
Revises: stck0001
Create Date: 2026-12-01 23:10:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'form0001'
down_revision = 'stck0001'
branch_labels = None
depends_on = None

_BAD = (
    "SELECT code FROM materials WHERE near_expiry_days < 0 OR (shelf_life_days IS NOT NULL "
    "AND (shelf_life_days <= 0 OR near_expiry_days >= shelf_life_days)) ORDER BY code"
)


def upgrade():
    bad = [row[0] for row in op.get_bind().execute(sa.text(_BAD))]
    if bad:  # say which rows to fix rather than fail on an anonymous CHECK
        raise RuntimeError(
            "materials whose near-expiry days are negative or not below their shelf life "
            f"(fix them, then upgrade again): {', '.join(bad[:50])}"
        )
    with op.batch_alter_table('materials', schema=None) as batch_op:
        batch_op.create_check_constraint(
            op.f('ck_materials_near_expiry_not_negative'), 'near_expiry_days >= 0'
        )
        batch_op.create_check_constraint(
            op.f('ck_materials_near_expiry_below_shelf_life'),
            'shelf_life_days IS NULL OR (shelf_life_days > 0 AND near_expiry_days < shelf_life_days)',
        )


def downgrade():
    with op.batch_alter_table('materials', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_materials_near_expiry_below_shelf_life'), type_='check')
        batch_op.drop_constraint(op.f('ck_materials_near_expiry_not_negative'), type_='check')
