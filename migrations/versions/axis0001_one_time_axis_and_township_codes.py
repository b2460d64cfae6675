"""the stock card reads document dates (indexes); 9-digit township codes; provincial warehouses

Revision ID: axis0001
Revises: 0318f8539acf
Create Date: 2026-12-01 19:50:00

"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "axis0001"
down_revision = "0318f8539acf"
branch_labels = None
depends_on = None


def upgrade():
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
