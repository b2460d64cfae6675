"""codes stored normalised: material, warehouse and location codes, batch and serial numbers
stripped and upper-cased (ASCII), so a code typed or scanned in any case finds its row through
the index. The schema does not change (``reserve.db.Code`` is a VARCHAR); existing rows are
rewritten, and the upgrade stops, naming them, if two codes would become one.

Revision ID: edge0001
Revises: 0318f8539acf
Create Date: 2026-12-01 19:45:00

"""
from alembic import op
import sqlalchemy as sa

from reserve.db import normalise_code


# revision identifiers, used by Alembic.
revision = 'edge0001'
down_revision = '0318f8539acf'
branch_labels = None
depends_on = None

# (table, code column, the columns the code is unique within; None: not unique)
CODES = (
    ("materials", "code", ()),
    ("warehouses", "code", ()),
    ("locations", "code", ("warehouse_id",)),
    ("batches", "batch_no", ("material_id",)),
    ("serial_items", "serial_no", ("material_id",)),
    ("receipt_lines", "batch_no", None),
)


def _changes(connection, table: str, column: str, scope: tuple[str, ...]):
    """The rows whose code is not normalised yet, with the value it becomes."""
    columns = ", ".join(("id", column, *scope))
    rows = connection.execute(
        sa.text(
            f"SELECT {columns} FROM {table} "
            f"WHERE {column} <> UPPER({column}) OR {column} <> TRIM({column})"
        )
    ).all()
    changes = []
    for row in rows:
        new = normalise_code(row[1])
        if new != row[1]:
            changes.append((row[0], row[1], new, tuple(row[2:])))
    return changes


def _clashes(connection, table: str, column: str, scope: tuple[str, ...], changes) -> list[str]:
    """Codes that would collide once normalised: with another row's code, or with each other."""
    clashes, taken = [], {}
    for row_id, old, new, where in changes:
        key = (where, new)
        if key in taken:
            clashes.append(f"{table}.{column}: {taken[key]!r} and {old!r}")
            continue
        taken[key] = old
        condition = " AND ".join([f"{column} = :new", "id <> :id"] + [f"{c} = :{c}" for c in scope])
        params = {"new": new, "id": row_id, **dict(zip(scope, where))}
        other = connection.execute(
            sa.text(f"SELECT {column} FROM {table} WHERE {condition}"), params
        ).scalar()
        if other is not None:
            clashes.append(f"{table}.{column}: {other!r} and {old!r}")
    return clashes


def upgrade():
    connection = op.get_bind()
    planned, clashes = [], []
    for table, column, scope in CODES:
        changes = _changes(connection, table, column, scope or ())
        if scope is not None:
            clashes += _clashes(connection, table, column, scope, changes)
        planned.append((table, column, changes))
    if clashes:
        raise RuntimeError(
            "These codes differ only in letter case or spaces, and codes now match in any "
            "case; rename one of each pair, then upgrade again: " + "; ".join(clashes)
        )
    for table, column, changes in planned:
        for row_id, _old, new, _where in changes:
            connection.execute(
                sa.text(f"UPDATE {table} SET {column} = :new WHERE id = :id"),
                {"new": new, "id": row_id},
            )


def downgrade():
    pass  # the letter case codes were typed in is not kept; normalised codes stay valid
