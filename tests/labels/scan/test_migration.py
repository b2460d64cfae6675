"""scan0001 goes up and down: the applied-operations table with its unique operation id and
its CHECKs, then nothing of it left."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from reserve.extensions import db as flask_db
from tests.conftest import drop_database, make_database, test_app

INSERT = (
    "INSERT INTO scan_operations (operation_id, kind, user_id, fingerprint, result, applied_at)"
    " VALUES (:op, :kind, 1, 'f', '{}', CURRENT_TIMESTAMP)"
)


def test_the_scan_migration_goes_up_and_down(tmp_path, worker_id):
    from flask_migrate import downgrade, upgrade

    url = make_database(f"scan_{worker_id}", tmp_path)
    app = test_app(url)
    try:
        with app.app_context():
            upgrade(revision="scan0001")
            assert "scan_operations" in sa.inspect(flask_db.engine).get_table_names()
            with flask_db.engine.begin() as conn:
                conn.exec_driver_sql(
                    "INSERT INTO users (username, full_name, password_hash, is_enabled,"
                    " must_change_password, session_version, created_at)"
                    " VALUES ('k', 'k', '-', true, false, 1, CURRENT_TIMESTAMP)"
                )
                conn.execute(sa.text(INSERT), {"op": "op-00000001", "kind": "move"})
            for op, kind, constraint in (
                ("op-00000001", "move", "uq_scan_operations_operation_id"),
                ("op-00000002", "pick", "ck_scan_operations_kind_known"),
                ("short", "move", "ck_scan_operations_operation_id_long_enough"),
            ):
                with flask_db.engine.begin() as conn, pytest.raises(sa.exc.IntegrityError) as bad:
                    conn.execute(sa.text(INSERT), {"op": op, "kind": kind})
                assert constraint in str(bad.value) or "UNIQUE" in str(bad.value)
            downgrade(revision="rcpt0001")
            assert "scan_operations" not in sa.inspect(flask_db.engine).get_table_names()
            upgrade()
            assert "scan_operations" in sa.inspect(flask_db.engine).get_table_names()
            flask_db.engine.dispose()
    finally:
        drop_database(url)
