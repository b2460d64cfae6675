"""备份与恢复 on a committed database (SQLite file, or PostgreSQL when
``RESERVE_TEST_DATABASE_URL`` is set): a backup taken while another process keeps writing
restores into an empty database with every table as it was at one instant and a clean ledger;
a quiet backup restores every table row for row; a non-empty target and damaged files are
refused and change nothing."""

from __future__ import annotations

import gzip
import io
import json
import multiprocessing
import os
import tarfile
import time
from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask_babel import force_locale

from reserve.auth.actor import Actor
from reserve.backup import service
from reserve.backup.service import BackupInvalid, BackupToolMissing, RestoreTargetNotEmpty
from reserve.db import transaction
from reserve.extensions import db as flask_db
from reserve.stock import ledger
from reserve.stock.models import MovementKind
from tests.conftest import drop_database, make_database, test_app

SPAWN = multiprocessing.get_context("spawn")
APPEND_ONLY = ("stock_movements", "audit_entries")  # what the writer appends to (ids grow)


def _upgrade(app) -> None:
    from flask_migrate import upgrade

    with app.app_context():
        upgrade()


def _dispose(app) -> None:
    with app.app_context():
        flask_db.engine.dispose()


def engine_of(app) -> sa.Engine:
    with app.app_context():
        return flask_db.engine


@pytest.fixture(scope="module")
def databases(tmp_path_factory, worker_id):
    """Make fresh empty databases by name; drop them all at the end."""
    made: list[str] = []
    folder = tmp_path_factory.mktemp("backup")

    def make(name: str) -> str:
        url = make_database(f"backup_{name}_{worker_id}", folder)
        made.append(url)
        return url

    yield make
    for url in made:
        drop_database(url)


@pytest.fixture(scope="module")
def source(databases, tmp_path_factory):
    """The demo city on a migrated, committed database, and an attachments folder."""
    from reserve.demo import load_demo

    url = databases("source")
    app = test_app(url)
    _upgrade(app)
    with app.app_context(), transaction() as session:
        load_demo(session, password="backup-test-password")
    attachments = tmp_path_factory.mktemp("attachments")
    (attachments / "agreements" / "7").mkdir(parents=True)
    (attachments / "agreements" / "7" / "协议扫描件.pdf").write_bytes(
        b"%PDF-1.4 " + os.urandom(4096)
    )
    (attachments / "photo.jpg").write_bytes(os.urandom(1000))
    yield app, attachments
    _dispose(app)


def table_rows(engine: sa.Engine, where: dict[str, str] | None = None) -> dict[str, list[tuple]]:
    """Every row of every table in primary-key order, as the database hands it out: on
    PostgreSQL each row's text form (``t::text``), on SQLite the stored values themselves.
    ``where`` narrows some tables (a SQL condition on ``t``)."""
    out = {}
    with engine.connect() as conn:
        quote = conn.dialect.identifier_preparer.quote
        inspector = sa.inspect(conn)
        for table in sorted(inspector.get_table_names()):
            key = inspector.get_pk_constraint(table)["constrained_columns"] or [
                c["name"] for c in inspector.get_columns(table)
            ]
            order = ", ".join(f"t.{quote(c)}" for c in key)
            what = "t::text" if conn.dialect.name == "postgresql" else "t.*"
            condition = f" WHERE {where[table]}" if where and table in where else ""
            rows = conn.exec_driver_sql(
                f"SELECT {what} FROM {quote(table)} AS t{condition} ORDER BY {order}"
            )
            out[table] = [tuple(row) for row in rows]
    return out


def _write_until_stopped(url: str, stop: str, location_id: int, batch_id: int) -> None:
    """Another process: post +1 to one balance and an audit row, one commit each, until told."""
    from reserve.audit.service import record

    app = test_app(url)
    actor = Actor.system("writer")
    deadline = time.monotonic() + 90
    n = 0
    with app.app_context():
        while not os.path.exists(stop) and time.monotonic() < deadline:
            n += 1
            with transaction() as session:
                ledger.post_movement(
                    session,
                    kind=MovementKind.RECEIPT,
                    location_id=location_id,
                    batch_id=batch_id,
                    qty=1,
                    document=ledger.DocumentRef("backup-test", None, f"W-{n}", date.today()),
                    actor=actor,
                )
                record(
                    session,
                    actor=actor,
                    action="backup_test",
                    object_type="writer",
                    object_id=n,
                    label=f"write {n}",
                )
        flask_db.engine.dispose()


def count(engine: sa.Engine, table: str) -> int:
    with engine.connect() as conn:
        return conn.exec_driver_sql(f"SELECT count(*) FROM {table}").scalar_one()


def wait_for(engine: sa.Engine, table: str, at_least: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while count(engine, table) < at_least:
        assert time.monotonic() < deadline, f"the writer did not reach {at_least} {table}"
        time.sleep(0.05)


def test_a_backup_taken_while_a_process_writes_restores_one_consistent_instant(
    source, databases, tmp_path
):
    app, attachments = source
    engine = engine_of(app)
    with engine.connect() as conn:
        location_id, batch_id = conn.execute(
            sa.text("SELECT location_id, batch_id FROM stock_balances WHERE qty > 0 ORDER BY id")
        ).first()
    start = count(engine, "stock_movements")
    stop = tmp_path / "stop"
    writer = SPAWN.Process(
        target=_write_until_stopped,
        args=(str(app.config["SQLALCHEMY_DATABASE_URI"]), str(stop), location_id, batch_id),
    )
    writer.start()
    try:
        wait_for(engine, "stock_movements", start + 30)  # the writer is well under way
        with app.app_context():
            manifest = service.create_backup(
                engine, out=tmp_path / "live.tar.gz", attachments_dir=attachments
            )
        at_backup = manifest.tables["stock_movements"]
        wait_for(engine, "stock_movements", at_backup + 30)  # and it went on writing after
    finally:
        stop.touch()
        writer.join(60)
    assert writer.exitcode == 0
    assert manifest.tables["stock_movements"] >= start + 30

    target = test_app(databases("live"))
    target_engine = engine_of(target)
    with target.app_context():
        restored = service.restore_backup(
            target_engine, archive=tmp_path / "live.tar.gz", attachments_dir=tmp_path / "att"
        )
        assert ledger.verify(flask_db.session) == []  # balances agree with the movements
        flask_db.session.remove()
    assert restored == manifest

    now, back = table_rows(engine), table_rows(target_engine)
    assert set(back) == set(now)
    assert {t: len(rows) for t, rows in back.items()} == manifest.tables
    for table in APPEND_ONLY:  # the copy is a prefix of what the writer appended: no gaps
        assert back[table] == now[table][: len(back[table])]
        assert len(back[table]) < len(now[table])
    for table in set(now) - set(APPEND_ONLY) - {"stock_balances"}:
        assert back[table] == now[table], table
    others = {"stock_balances": f"NOT (t.location_id = {location_id} AND t.batch_id = {batch_id})"}
    assert (
        table_rows(target_engine, others)["stock_balances"]
        == (table_rows(engine, others)["stock_balances"])
    )
    with target_engine.connect() as conn:  # the writer's balance: its movements, at that instant
        qty, total = conn.execute(
            sa.text(
                "SELECT qty, (SELECT sum(qty) FROM stock_movements m WHERE m.location_id = :l "
                "AND m.batch_id = :b) FROM stock_balances WHERE location_id = :l AND batch_id = :b"
            ),
            {"l": location_id, "b": batch_id},
        ).one()
    assert qty == total > 30
    _dispose(target)


def test_a_quiet_backup_restores_every_table_row_for_row_and_the_attachments(
    source, databases, tmp_path
):
    app, attachments = source
    engine = engine_of(app)
    archive = tmp_path / "quiet.tar.gz"
    runner = app.test_cli_runner()
    app.config["ATTACHMENTS_DIR"] = str(attachments)
    result = runner.invoke(args=["backup", "create", "--out", str(archive)])
    assert result.exit_code == 0, result.output
    assert "2 attachments" in result.output
    assert os.stat(archive).st_mode & 0o077 == 0  # password hashes inside: owner only
    with tarfile.open(archive) as tar:
        manifest = json.load(tar.extractfile("manifest.json"))
    assert manifest["format_version"] == 1
    assert manifest["database"] == engine.dialect.name
    assert manifest["alembic_revision"] == count_revision(engine)
    assert manifest["app_version"] and manifest["created_at"].endswith("+00:00")

    target = test_app(databases("quiet"))
    target.config["ATTACHMENTS_DIR"] = str(tmp_path / "restored-attachments")
    result = target.test_cli_runner().invoke(args=["backup", "restore", str(archive)])
    assert result.exit_code == 0, result.output
    assert "all balances agree with the ledger" in result.output
    assert table_rows(engine_of(target)) == table_rows(engine)
    for path in attachments.rglob("*"):
        if path.is_file():
            copy = tmp_path / "restored-attachments" / path.relative_to(attachments)
            assert copy.read_bytes() == path.read_bytes()
    _dispose(target)


def count_revision(engine: sa.Engine) -> str:
    with engine.connect() as conn:
        return conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar_one()


@pytest.fixture(scope="module")
def backup_file(source, tmp_path_factory) -> Path:
    app, attachments = source
    out = tmp_path_factory.mktemp("file") / "good.tar.gz"
    with app.app_context():
        service.create_backup(engine_of(app), out=out, attachments_dir=attachments)
    return out


def test_restoring_into_a_database_that_holds_tables_is_refused(source, backup_file, databases):
    app, _attachments = source
    before = table_rows(engine_of(app))
    with app.app_context(), pytest.raises(RestoreTargetNotEmpty) as info:
        service.restore_backup(engine_of(app), archive=backup_file, attachments_dir=None)
    assert table_rows(engine_of(app)) == before
    with app.app_context(), force_locale("zh_CN"):
        assert "目标数据库不是空的" in str(info.value.message)

    schema_only = test_app(databases("schema"))  # migrated but without a row: still refused
    _upgrade(schema_only)
    with schema_only.app_context(), pytest.raises(RestoreTargetNotEmpty):
        service.restore_backup(engine_of(schema_only), archive=backup_file, attachments_dir=None)
    assert sum(len(rows) for rows in table_rows(engine_of(schema_only)).values()) == 1
    _dispose(schema_only)

    result = app.test_cli_runner().invoke(args=["backup", "restore", str(backup_file)])
    assert result.exit_code == 1 and "Error:" in result.output


def test_a_non_empty_attachments_folder_is_refused_before_the_database_is_touched(
    source, backup_file, databases, tmp_path
):
    app, _attachments = source
    (tmp_path / "att").mkdir()
    (tmp_path / "att" / "old.pdf").write_bytes(b"old")
    target = test_app(databases("attachments"))
    with target.app_context(), pytest.raises(RestoreTargetNotEmpty):
        service.restore_backup(
            engine_of(target), archive=backup_file, attachments_dir=tmp_path / "att"
        )
    assert sa.inspect(engine_of(target)).get_table_names() == []
    assert (tmp_path / "att" / "old.pdf").read_bytes() == b"old"
    _dispose(target)


def _rebuild(good: Path, out: Path, *, manifest=None, dump=None, drop=(), rename=None) -> Path:
    """A copy of the backup with the manifest or the dump replaced, members left out or the
    dump renamed."""
    with tarfile.open(good) as tar, tarfile.open(out, "w:gz") as new:
        for member in tar.getmembers():
            if member.name in drop:
                continue
            if rename and member.name.startswith("database."):
                member.name = rename
            data = tar.extractfile(member).read() if member.isfile() else None
            if member.name == "manifest.json" and manifest is not None:
                data = json.dumps(manifest(json.loads(data))).encode()
            elif member.name.startswith("database.") and dump is not None:
                data = dump(data)
            if data is not None:
                member.size = len(data)
                new.addfile(member, io.BytesIO(data))
            else:
                new.addfile(member)
    return out


def _flip(data: bytes, at: int) -> bytes:
    return data[:at] + bytes([data[at] ^ 0xFF]) + data[at + 1 :]


def test_damaged_and_foreign_files_are_refused_and_change_nothing(
    source, backup_file, databases, tmp_path
):
    app, _attachments = source
    good = backup_file.read_bytes()
    raw = gzip.decompress(good)
    (tmp_path / "truncated.tar.gz").write_bytes(good[: len(good) // 2])
    (tmp_path / "flipped.tar.gz").write_bytes(_flip(good, len(good) // 2))
    (tmp_path / "random.tar.gz").write_bytes(os.urandom(5000))
    (tmp_path / "empty.tar.gz").write_bytes(b"")
    (tmp_path / "plain.tar").write_bytes(raw)  # not gzipped
    bad = {
        "truncated.tar.gz": "damaged",
        "flipped.tar.gz": "damaged",
        "random.tar.gz": "damaged",
        "empty.tar.gz": "damaged",
        "plain.tar": "damaged",
        "missing.tar.gz": "no backup file",
    }
    _rebuild(backup_file, tmp_path / "tampered.tar.gz", dump=lambda d: _flip(d, len(d) // 3))
    _rebuild(backup_file, tmp_path / "nomanifest.tar.gz", drop=("manifest.json",))
    _rebuild(
        backup_file,
        tmp_path / "nodump.tar.gz",
        drop=(service.DUMPS["sqlite"], service.DUMPS["postgresql"]),
    )
    _rebuild(
        backup_file,
        tmp_path / "future.tar.gz",
        manifest=lambda m: m | {"format_version": 99},
    )
    url = source[0].config["SQLALCHEMY_DATABASE_URI"]
    other = "sqlite" if url.startswith("postgres") else "postgresql"
    _rebuild(
        backup_file,
        tmp_path / "other-kind.tar.gz",
        manifest=lambda m: m | {"database": other, "dump": service.DUMPS[other]},
        rename=service.DUMPS[other],
    )
    _rebuild(backup_file, tmp_path / "lost-attachment.tar.gz", drop=("attachments/photo.jpg",))
    bad |= {
        "tampered.tar.gz": "checksum does not match",
        "nomanifest.tar.gz": "no manifest",
        "nodump.tar.gz": "holds no database copy",
        "future.tar.gz": "format version 99",
        "other-kind.tar.gz": f"a backup of a {other} database; it cannot be restored",
        "lost-attachment.tar.gz": "should hold 2 attachments but holds 1",
    }
    target = test_app(databases("corrupt"))
    with target.app_context():
        for name, reason in bad.items():
            with pytest.raises(BackupInvalid) as info:
                service.restore_backup(
                    engine_of(target), archive=tmp_path / name, attachments_dir=tmp_path / "att"
                )
            with force_locale("en"):
                message = str(info.value.message)
            assert reason in message, (name, message)
            assert sa.inspect(engine_of(target)).get_table_names() == [], name
            assert not (tmp_path / "att").exists(), name
        with force_locale("zh_CN"):
            assert "校验和不符" in str(_refusal(target, tmp_path / "tampered.tar.gz").message)
    _dispose(target)


def _refusal(app, archive: Path):
    with pytest.raises(BackupInvalid) as info:
        service.restore_backup(engine_of(app), archive=archive, attachments_dir=None)
    return info.value


@pytest.mark.skipif(not os.environ.get("RESERVE_TEST_DATABASE_URL"), reason="PostgreSQL only")
def test_pg_dump_missing_or_older_than_the_server_is_a_clear_error(source, tmp_path, monkeypatch):
    app, _attachments = source
    monkeypatch.setenv("PATH", str(tmp_path))  # no pg_dump at all
    with app.app_context(), pytest.raises(BackupToolMissing) as info:
        service.create_backup(engine_of(app), out=tmp_path / "x.tar.gz", attachments_dir=None)
    with app.app_context(), force_locale("zh_CN"):
        assert "未找到 pg_dump" in str(info.value.message)
    old = tmp_path / "pg_dump"  # a pg_dump of an older major version than the server
    old.write_text("#!/bin/sh\necho 'pg_dump (PostgreSQL) 9.6.24'\n")
    old.chmod(0o755)
    with app.app_context(), pytest.raises(BackupToolMissing) as info:
        service.create_backup(engine_of(app), out=tmp_path / "x.tar.gz", attachments_dir=None)
    with app.app_context(), force_locale("en"):
        assert "older than the PostgreSQL server (15" in str(info.value.message)
    assert not (tmp_path / "x.tar.gz").exists()
