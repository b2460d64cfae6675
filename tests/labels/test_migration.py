"""labl0001 goes up and down: the labels table with its CHECKs and its one-live-label indexes,
then nothing of it left."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from reserve.extensions import db as flask_db
from tests.conftest import drop_database, make_database, test_app


def _labels_migration_base(app) -> str:
    from alembic.script import ScriptDirectory

    migrate = app.extensions["migrate"]
    config = migrate.migrate.get_config(migrate.directory)
    return ScriptDirectory.from_config(config).get_revision("labl0001").down_revision


def test_the_labels_migration_goes_up_and_down(tmp_path, worker_id):
    from flask_migrate import downgrade, upgrade

    url = make_database(f"labl_{worker_id}", tmp_path)
    app = test_app(url)
    try:
        with app.app_context():
            upgrade(revision="labl0001")
            inspector = sa.inspect(flask_db.engine)
            assert "labels" in inspector.get_table_names()
            indexes = {ix["name"]: ix for ix in inspector.get_indexes("labels")}
            assert indexes["uq_labels_live_location"]["unique"]
            with (
                flask_db.engine.connect() as conn,
                pytest.raises(sa.exc.IntegrityError, match="ck_labels_targets_fit_kind"),
            ):
                conn.exec_driver_sql(  # a location label naming a batch breaks its CHECK
                    "INSERT INTO labels (kind, warehouse_id, location_id, batch_id, print_count,"
                    " first_printed_by_name, first_printed_at, last_printed_at)"
                    " VALUES ('location', 1, 1, 1, 1, 'x', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
                )
            downgrade(revision=_labels_migration_base(app))
            assert "labels" not in sa.inspect(flask_db.engine).get_table_names()
            upgrade()
            assert "labels" in sa.inspect(flask_db.engine).get_table_names()
            flask_db.engine.dispose()
    finally:
        drop_database(url)
