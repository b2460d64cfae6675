"""the stock card reads document dates (indexes); 9-digit township codes; provincial warehouses

Revision ID: axis0001
Revises: auth0001
Create Date: 2026-12-01 19:50:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "axis0001"
down_revision = "auth0001"
branch_labels = None
depends_on = None


CODE_FITS_LEVEL = (
    "(level = 'township' AND length(code) = 9) OR (level <> 'township' AND length(code) = 6)"
)


def upgrade():
    # townships carry the 9-digit 统计用区划代码; a township with an invented 6-digit code must be
    # given its real code first (the CHECK refuses it)
    with op.batch_alter_table("regions", schema=None) as batch_op:
        batch_op.alter_column(
            "code", existing_type=sa.String(length=6), type_=sa.String(length=9), nullable=False
        )
        batch_op.create_check_constraint(op.f("ck_regions_code_fits_level"), CODE_FITS_LEVEL)
    with op.batch_alter_table("stock_movements", schema=None) as batch_op:
        batch_op.create_index(
            "ix_stock_movements_material_date",
            ["material_id", "document_date", "id", "qty"],
            unique=False,
        )
        batch_op.create_index(
            "ix_stock_movements_warehouse_material_date",
            ["warehouse_id", "material_id", "document_date", "id", "qty"],
            unique=False,
        )


def downgrade():
    with op.batch_alter_table("stock_movements", schema=None) as batch_op:
        batch_op.drop_index("ix_stock_movements_warehouse_material_date")
        batch_op.drop_index("ix_stock_movements_material_date")
    with op.batch_alter_table("regions", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_regions_code_fits_level"), type_="check")
        batch_op.alter_column(
            "code", existing_type=sa.String(length=9), type_=sa.String(length=6), nullable=False
        )
