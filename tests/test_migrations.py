"""The schema changes only through migrations: models and revisions must agree."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask_migrate import Migrate

from reserve.extensions import db as flask_db


def test_models_and_migrations_agree(app, db):
    context = MigrationContext.configure(db.connection(), opts={"compare_type": True})
    diff = compare_metadata(context, flask_db.metadata)
    assert diff == [], f"models differ from migrations: run `flask db migrate`:\n{diff}"


def test_single_alembic_head(app, app_ctx):
    migrate: Migrate = app.extensions["migrate"]
    config = migrate.migrate.get_config(migrate.directory)
    heads = ScriptDirectory.from_config(config).get_heads()
    assert len(heads) == 1, f"several heads: {heads}"


def test_audit_entries_cannot_be_changed_even_in_sql(db, system_actor):
    import pytest
    import sqlalchemy as sa

    from reserve.audit.service import record

    record(db, actor=system_actor, action="test", object_type="x", object_id=1, label="x")
    db.flush()
    with pytest.raises(sa.exc.DatabaseError), db.begin_nested():
        db.execute(sa.text("UPDATE audit_entries SET action = 'forged'"))
    with pytest.raises(sa.exc.DatabaseError), db.begin_nested():
        db.execute(sa.text("DELETE FROM audit_entries"))
