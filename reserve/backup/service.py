"""备份与恢复: one file holding a consistent copy of the database (and the attachments), and its
restore into an empty database.

A backup is a gzipped tar with ``manifest.json`` (format version, database kind, Alembic
revision, creation time, app version, the dump's SHA-256, the row count of every table) and
the dump: for SQLite a copy made by the online backup API (``sqlite3.Connection.backup``: one
consistent snapshot, whatever a writer does meanwhile, WAL included — a plain ``cp`` of a live
file is not), for PostgreSQL ``pg_dump -Fc`` reading the same exported snapshot the row counts
were taken in. ``instance/attachments`` rides along under ``attachments/`` when it exists.

Restoring refuses a database that holds any table and an attachments folder that holds any file,
checks the manifest, the checksum and (SQLite) the copy's integrity before writing anything, then
compares the restored row counts with the manifest. The caller runs ``stock verify`` after."""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
import zlib
from dataclasses import asdict, dataclass, fields
from importlib import metadata
from pathlib import Path

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from reserve.db import utcnow
from reserve.errors import Conflict, ReserveError, ValidationError

FORMAT_VERSION = 1
MANIFEST = "manifest.json"
ATTACHMENTS = "attachments"
DUMPS = {"sqlite": "database.sqlite3", "postgresql": "database.pgdump"}
CHUNK = 1024 * 1024


class BackupFailed(ReserveError):
    code = "backup_failed"
    status = 500
    default_message = _l("The backup could not be made.")


class BackupToolMissing(BackupFailed):
    code = "backup_tool_missing"


class BackupInvalid(ValidationError):
    code = "backup_invalid"
    default_message = _l("This file is not a valid Reserve backup.")


class RestoreTargetNotEmpty(Conflict):
    code = "restore_target_not_empty"


@dataclass(frozen=True)
class Manifest:
    """What a backup holds, written next to the dump as ``manifest.json``."""

    format_version: int
    database: str  # "sqlite" or "postgresql"
    alembic_revision: str | None
    created_at: str  # ISO 8601, UTC
    app_version: str
    dump: str
    dump_sha256: str
    tables: dict[str, int]  # rows per table, in the backup's snapshot
    attachments: int = 0  # files under attachments/
    server_version: str | None = None  # PostgreSQL: the server's and pg_dump's versions
    tool_version: str | None = None

    @property
    def rows(self) -> int:
        return sum(self.tables.values())


# 备份 -------------------------------------------------------------------------------------------


def create_backup(engine: sa.Engine, *, out: Path, attachments_dir: Path | None) -> Manifest:
    """备份：write one file with a consistent copy of the database and the attachments."""
    out = Path(out)
    if out.exists():
        raise Conflict(_l("%(path)s already exists; choose another file.", path=str(out)))
    out.parent.mkdir(parents=True, exist_ok=True)
    kind = _kind(engine)
    with tempfile.TemporaryDirectory(prefix="reserve-backup-") as work:
        dump = Path(work) / DUMPS[kind]
        if kind == "sqlite":
            tables, revision, versions = _dump_sqlite(engine, dump)
        else:
            tables, revision, versions = _dump_postgresql(engine, dump)
        files = _attachment_files(attachments_dir)
        manifest = Manifest(
            format_version=FORMAT_VERSION,
            database=kind,
            alembic_revision=revision,
            created_at=utcnow().isoformat(),
            app_version=_app_version(),
            dump=dump.name,
            dump_sha256=_sha256(dump),
            tables=tables,
            attachments=len(files),
            server_version=versions[0],
            tool_version=versions[1],
        )
        partial = out.with_name(out.name + ".partial")
        try:
            fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)  # holds hashes
            with os.fdopen(fd, "wb") as handle, tarfile.open(fileobj=handle, mode="w:gz") as tar:
                _add_bytes(tar, MANIFEST, json.dumps(asdict(manifest), indent=2).encode())
                tar.add(dump, arcname=dump.name)
                for path in files:
                    tar.add(path, arcname=f"{ATTACHMENTS}/{path.relative_to(attachments_dir)}")
            os.replace(partial, out)
        finally:
            partial.unlink(missing_ok=True)
    return manifest


def _dump_sqlite(
    engine: sa.Engine, dump: Path
) -> tuple[dict[str, int], str | None, tuple[None, None]]:
    """The online backup API, in one step (pages=-1): one read snapshot of the live database,
    taken inside SQLite, so a writer's WAL frames are either wholly in the copy or not at all."""
    raw = engine.raw_connection()
    try:
        target = sqlite3.connect(dump)
        try:
            raw.driver_connection.backup(target, pages=-1)
            target.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
            return _sqlite_counts(target), _sqlite_revision(target), (None, None)
        finally:
            target.close()
    finally:
        raw.close()


def _dump_postgresql(
    engine: sa.Engine, dump: Path
) -> tuple[dict[str, int], str | None, tuple[str, str]]:
    """``pg_dump -Fc`` of the snapshot this transaction exports, so the counts match the dump."""
    tool = _pg_tool("pg_dump")
    with engine.connect() as conn:
        conn = conn.execution_options(isolation_level="REPEATABLE READ")
        with conn.begin():
            snapshot = conn.exec_driver_sql("SELECT pg_export_snapshot()").scalar_one()
            server = conn.exec_driver_sql("SHOW server_version").scalar_one()
            server_num = int(conn.exec_driver_sql("SHOW server_version_num").scalar_one())
            tool_version, tool_major = _tool_version(tool)
            if tool_major < server_num // 10000:
                raise BackupToolMissing(
                    _l(
                        "pg_dump %(tool)s is older than the PostgreSQL server (%(server)s): "
                        "install the client tools of version %(major)s or newer.",
                        tool=tool_version,
                        server=server,
                        major=server_num // 10000,
                    )
                )
            tables = _counts(conn)
            revision = _revision(conn)
            conninfo, env = _libpq(engine)
            _run(
                [
                    tool,
                    "--format=custom",
                    f"--snapshot={snapshot}",
                    "--no-password",
                    f"--file={dump}",
                    f"--dbname={conninfo}",
                ],
                env,
                _l("pg_dump failed"),
            )
    return tables, revision, (server, tool_version)


def _attachment_files(attachments_dir: Path | None) -> list[Path]:
    if attachments_dir is None or not Path(attachments_dir).is_dir():
        return []
    return sorted(p for p in Path(attachments_dir).rglob("*") if p.is_file())


# 恢复 -------------------------------------------------------------------------------------------


def restore_backup(engine: sa.Engine, *, archive: Path, attachments_dir: Path | None) -> Manifest:
    """恢复：load a backup into an EMPTY database (and attachments folder), checked first."""
    kind = _kind(engine)
    tables = sa.inspect(engine).get_table_names()
    if tables:
        raise RestoreTargetNotEmpty(
            _l(
                "The target database is not empty (%(count)s tables, e.g. %(table)s): restore "
                "only into a new, empty database.",
                count=len(tables),
                table=sorted(tables)[0],
            )
        )
    if attachments_dir is not None and _attachment_files(attachments_dir):
        raise RestoreTargetNotEmpty(
            _l(
                "The attachments folder %(path)s is not empty: restore only into an empty one.",
                path=str(attachments_dir),
            )
        )
    with tempfile.TemporaryDirectory(prefix="reserve-restore-") as work:
        work = Path(work)
        manifest = _unpack(Path(archive), work)
        if manifest.database != kind:
            raise BackupInvalid(
                _l(
                    "This is a backup of a %(backup)s database; it cannot be restored into "
                    "%(target)s.",
                    backup=manifest.database,
                    target=kind,
                )
            )
        if kind == "sqlite":
            _restore_sqlite(engine, work / manifest.dump)
        else:
            _restore_postgresql(engine, work / manifest.dump, manifest)
        engine.dispose()  # pooled connections opened before the restore see the old file
        if manifest.attachments and attachments_dir is not None:
            shutil.copytree(work / ATTACHMENTS, attachments_dir, dirs_exist_ok=True)
    with engine.connect() as conn:
        restored = _counts(conn)
    if restored != manifest.tables:
        differ = sorted(
            t
            for t in set(restored) | set(manifest.tables)
            if restored.get(t) != manifest.tables.get(t)
        )
        raise BackupFailed(
            _l(
                "The restored database does not match the backup (tables %(tables)s): "
                "drop it and restore again.",
                tables=" ".join(differ[:5]),
            )
        )
    return manifest


def _unpack(archive: Path, work: Path) -> Manifest:
    """Extract the backup into ``work`` and check it: manifest, dump, checksum, attachments."""
    if not archive.is_file():
        raise BackupInvalid(_l("There is no backup file %(path)s.", path=str(archive)))
    try:
        with tarfile.open(archive, mode="r:gz") as tar:
            names = tar.getnames()
            if MANIFEST not in names:
                raise BackupInvalid(_l("This file is not a Reserve backup: it has no manifest."))
            tar.extractall(work, filter="data")
        values = json.loads((work / MANIFEST).read_text(encoding="utf-8"))
    except BackupInvalid:
        raise
    except (tarfile.TarError, EOFError, OSError, zlib.error, ValueError) as exc:
        raise BackupInvalid(
            _l("This backup file is damaged or not a Reserve backup (%(reason)s).", reason=exc)
        ) from exc
    version = values.get("format_version") if isinstance(values, dict) else None
    if version != FORMAT_VERSION:
        raise BackupInvalid(
            _l(
                "This backup has format version %(version)s; this Reserve reads version "
                "%(expected)s.",
                version=version,
                expected=FORMAT_VERSION,
            )
        )
    names = {f.name for f in fields(Manifest)}
    try:
        manifest = Manifest(**{k: v for k, v in values.items() if k in names})
    except TypeError as exc:
        raise BackupInvalid(_l("This backup's manifest is incomplete.")) from exc
    if manifest.database not in DUMPS or manifest.dump != DUMPS[manifest.database]:
        raise BackupInvalid(_l("This backup's manifest names no database dump."))
    dump = work / manifest.dump
    if not dump.is_file():
        raise BackupInvalid(_l("This backup holds no database copy."))
    if _sha256(dump) != manifest.dump_sha256:
        raise BackupInvalid(
            _l("The database copy in this backup is damaged: its checksum does not match.")
        )
    found = len(_attachment_files(work / ATTACHMENTS))
    if found != manifest.attachments:
        raise BackupInvalid(
            _l(
                "This backup should hold %(expected)s attachments but holds %(found)s.",
                expected=manifest.attachments,
                found=found,
            )
        )
    return manifest


def _restore_sqlite(engine: sa.Engine, dump: Path) -> None:
    source = sqlite3.connect(dump)
    try:
        if source.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
            raise BackupInvalid(_l("The database copy in this backup fails its integrity check."))
        raw = engine.raw_connection()
        try:
            source.backup(raw.driver_connection)
            if engine.url.database not in (None, "", ":memory:"):
                raw.driver_connection.execute("PRAGMA journal_mode=WAL")
        finally:
            raw.close()
    except sqlite3.DatabaseError as exc:
        raise BackupInvalid(
            _l("The database copy in this backup cannot be read (%(reason)s).", reason=exc)
        ) from exc
    finally:
        source.close()


def _restore_postgresql(engine: sa.Engine, dump: Path, manifest: Manifest) -> None:
    tool = _pg_tool("pg_restore")
    version, major = _tool_version(tool)
    made_by = _major(manifest.tool_version)
    if made_by and major < made_by:
        raise BackupToolMissing(
            _l(
                "pg_restore %(tool)s is older than the pg_dump that made this backup "
                "(%(made)s): install the client tools of version %(major)s or newer.",
                tool=version,
                made=manifest.tool_version,
                major=made_by,
            )
        )
    conninfo, env = _libpq(engine)
    _run(
        [
            tool,
            "--no-owner",
            "--no-privileges",
            "--single-transaction",
            "--exit-on-error",
            "--no-password",
            f"--dbname={conninfo}",
            str(dump),
        ],
        env,
        _l("pg_restore failed"),
    )


# Helpers ----------------------------------------------------------------------------------------


def _kind(engine: sa.Engine) -> str:
    name = engine.dialect.name
    if name not in DUMPS:
        raise BackupFailed(_l("Backups support SQLite and PostgreSQL, not %(name)s.", name=name))
    return name


def _counts(conn: sa.Connection) -> dict[str, int]:
    preparer = conn.dialect.identifier_preparer
    return {
        table: conn.exec_driver_sql(f"SELECT count(*) FROM {preparer.quote(table)}").scalar_one()
        for table in sorted(sa.inspect(conn).get_table_names())
    }


def _sqlite_counts(conn: sqlite3.Connection) -> dict[str, int]:
    tables = [
        row[0]
        for row in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
            "ORDER BY name"
        )
    ]
    return {t: conn.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in tables}


def _revision(conn: sa.Connection) -> str | None:
    if not sa.inspect(conn).has_table("alembic_version"):
        return None
    return conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()


def _sqlite_revision(conn: sqlite3.Connection) -> str | None:
    row = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'alembic_version'"
    ).fetchone()
    if row is None:
        return None
    version = conn.execute("SELECT version_num FROM alembic_version").fetchone()
    return version[0] if version else None


def _pg_tool(name: str) -> str:
    tool = shutil.which(name)
    if tool is None:
        raise BackupToolMissing(
            _l(
                "%(tool)s was not found: install the PostgreSQL client tools (e.g. the "
                "postgresql-client package) of the server's version or newer.",
                tool=name,
            )
        )
    return tool


def _major(version: str | None) -> int | None:
    match = re.search(r"(\d+)(?:\.\d+)?", version or "")
    return int(match.group(1)) if match else None


def _tool_version(tool: str) -> tuple[str, int]:
    out = subprocess.run([tool, "--version"], check=True, capture_output=True, text=True).stdout
    match = re.search(r"\b(\d+)(\.\d+)?", out)
    if match is None:
        raise BackupToolMissing(_l("Cannot tell the version of %(tool)s.", tool=tool))
    return match.group(0), int(match.group(1))


def _libpq(engine: sa.Engine) -> tuple[str, dict[str, str]]:
    """A libpq URL without the password (which goes in PGPASSWORD, not on the command line)."""
    url = engine.url
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    conninfo = url.set(drivername="postgresql", password=None).render_as_string(hide_password=False)
    return conninfo, env


def _run(command: list[str], env: dict[str, str], failed) -> None:
    try:
        subprocess.run(command, check=True, env=env, capture_output=True, text=True)
    except subprocess.CalledProcessError as exc:
        detail = (exc.stderr or exc.stdout or "").strip().splitlines()[-3:]
        raise BackupFailed(
            _l("%(what)s: %(detail)s", what=failed, detail=" ".join(detail))
        ) from exc


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mtime = int(utcnow().timestamp())
    info.mode = 0o600
    tar.addfile(info, io.BytesIO(data))


def _app_version() -> str:
    try:
        return metadata.version("reserve")
    except metadata.PackageNotFoundError:
        return "unknown"
