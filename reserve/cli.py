"""Flask commands. They only call services, inside ``transaction()``; errors go to stderr
with exit status 1."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup, with_appcontext

from reserve.auth.actor import Actor
from reserve.db import transaction
from reserve.errors import ReserveError

users_cli = AppGroup("users", help="Accounts.")


def fail(error: ReserveError | str) -> None:
    click.echo(f"Error: {error.message if isinstance(error, ReserveError) else error}", err=True)
    sys.exit(1)


@users_cli.command("create-admin")
@click.option("--username", default="admin", show_default=True)
@click.option("--full-name", default="系统管理员", show_default=True)
@click.password_option(help="Prompted (twice) when not given.")
def create_admin(username: str, full_name: str, password: str) -> None:
    """Create an administrator, e.g. the first one on an empty production database."""
    from reserve.auth.models import Role
    from reserve.auth.service import create_user

    try:
        with transaction() as session:
            create_user(
                session,
                username=username,
                full_name=full_name,
                password=password,
                roles=[Role.ADMIN],
                must_change_password=False,
                actor=Actor.system("cli"),
            )
    except ReserveError as error:
        fail(error)
    click.echo(f"Administrator {username} created.")


@click.command("demo")
@with_appcontext
@click.option(
    "--password", default="reserve-demo", show_default=True, help="Password of every demo user."
)
@click.option(
    "--if-empty",
    is_flag=True,
    help="Do nothing (and succeed) when the database already holds data.",
)
def demo(password: str, if_empty: bool) -> None:
    """Load the demo city (济南) into an empty database."""
    from reserve.demo import DatabaseNotEmpty, load_demo

    try:
        with transaction() as session:
            summary = load_demo(session, password=password)
    except DatabaseNotEmpty as error:
        if if_empty:
            click.echo("The database already holds data; the demo city was not loaded.")
            _echo_demo_logins(password, loaded=False)
            return
        fail(error)
    except ReserveError as error:
        fail(error)
    click.echo(f"Demo city loaded: {summary}.")
    _echo_demo_logins(password, loaded=True)


def _echo_demo_logins(password: str, *, loaded: bool) -> None:
    """The demo's logins: after loading, and again on every later ``make run`` while the demo
    users are still there (saying which no longer take the demo password)."""
    from sqlalchemy import select
    from werkzeug.security import check_password_hash

    from reserve.auth.models import User
    from reserve.demo import DEMO_USERS
    from reserve.extensions import db

    names = [username for username, _role, _description in DEMO_USERS]
    users = {
        u.username: u for u in db.session.scalars(select(User).where(User.username.in_(names)))
    }
    if not users:
        return  # not the demo's database: nothing to print
    click.echo("Sign in as any of these users, password " + repr(password) + ":")
    for username, role, description in DEMO_USERS:
        user = users.get(username)
        if user is None:
            continue
        note = ""
        if not loaded and not (
            user.is_enabled and check_password_hash(user.password_hash, password)
        ):
            note = "  (disabled or its password was changed)"
        click.echo(f"  {username:<11} {role:<11} {description}{note}")


stock_cli = AppGroup("stock", help="The stock ledger.")


@stock_cli.command("verify")
@click.option(
    "--since",
    is_flag=True,
    help="Only the balances touched since the last clean run (everything if none is recorded).",
)
def stock_verify(since: bool) -> None:
    """Rebuild every balance, reservation cache and serial count; print each difference (exit 1
    if any). Each run is recorded; ``--since`` is the nightly check of what changed."""
    from flask_babel import gettext as _

    from reserve.extensions import db
    from reserve.stock.ledger import describe
    from reserve.stock.verification import run_verification

    result = run_verification(db.session(), since=since)
    run = result.run
    if result.since_run is not None:
        click.echo(
            _(
                "Checked %(places)s places touched since the clean run of %(at)s "
                "(movements after no. %(id)s).",
                places=run.places,
                at=result.since_run.started_at.strftime("%Y-%m-%d %H:%M"),
                id=result.since_run.through_movement_id,
            )
        )
    elif since:
        click.echo(_("No clean run is recorded: checking everything."))
    for line in describe(db.session, result.found):
        click.echo(_("DIFFERENCE %(what)s", what=line))
    if result.found:
        click.echo(_("Differences from the ledger: %(n)s.", n=len(result.found)), err=True)
        sys.exit(1)
    click.echo(_("All balances, reservations and serial items agree with the ledger."))


@stock_cli.command("close-month")
@click.argument("month")
def stock_close_month(month: str) -> None:
    """Close a past month (月结), e.g. 2026-10: nothing posts into it afterwards."""
    from flask_babel import gettext as _

    from reserve.stock.periods import close_month

    try:
        with transaction() as session:
            close_month(session, month=month, actor=Actor.system("cli"))
    except ReserveError as error:
        fail(error)
    click.echo(_("The month %(month)s is closed.", month=month.strip()))


backup_cli = AppGroup("backup", help="Backups: one file with the database and the attachments.")


def _attachments_dir() -> Path:
    return Path(
        current_app.config.get("ATTACHMENTS_DIR")
        or os.path.join(current_app.instance_path, "attachments")
    )


@backup_cli.command("create")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The backup file (default: instance/backups/reserve-<database>-<UTC time>.tar.gz).",
)
def backup_create(out: Path | None) -> None:
    """Back up the live database (SQLite: online backup API; PostgreSQL: pg_dump -Fc)."""
    from reserve.backup.service import create_backup
    from reserve.db import utcnow
    from reserve.extensions import db

    engine = db.engine
    if out is None:
        stamp = utcnow().strftime("%Y%m%dT%H%M%SZ")
        out = Path(current_app.instance_path) / "backups" / f"reserve-{engine.name}-{stamp}.tar.gz"
    try:
        manifest = create_backup(engine, out=out, attachments_dir=_attachments_dir())
    except ReserveError as error:
        fail(error)
    click.echo(
        f"Backup written to {out}: {manifest.database}, revision {manifest.alembic_revision}, "
        f"{len(manifest.tables)} tables, {manifest.rows} rows, "
        f"{manifest.attachments} attachments, {out.stat().st_size} bytes."
    )


@backup_cli.command("restore")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
def backup_restore(file: Path) -> None:
    """Restore a backup into an EMPTY database, then check every balance (stock verify)."""
    from reserve.backup.service import restore_backup
    from reserve.extensions import db
    from reserve.stock.ledger import verify

    try:
        manifest = restore_backup(db.engine, archive=file, attachments_dir=_attachments_dir())
    except ReserveError as error:
        fail(error)
    click.echo(
        f"Restored {file} (made {manifest.created_at} by Reserve {manifest.app_version}): "
        f"{len(manifest.tables)} tables, {manifest.rows} rows, {manifest.attachments} "
        "attachments, row counts as in the backup."
    )
    head = _migrations_head()
    if manifest.alembic_revision != head:
        click.echo(
            f"The backup's schema is at revision {manifest.alembic_revision}, this code's at "
            f"{head}: run `flask db upgrade`, then `flask stock verify`.",
            err=True,
        )
        return
    found = verify(db.session)
    for discrepancy in found:
        click.echo(f"DIFFERENCE {discrepancy}")
    if found:
        click.echo(f"{len(found)} balance(s) differ from the ledger.", err=True)
        sys.exit(1)
    click.echo("stock verify: all balances agree with the ledger.")


def _migrations_head() -> str | None:
    from alembic.script import ScriptDirectory

    migrate = current_app.extensions["migrate"]
    config = migrate.migrate.get_config(migrate.directory)
    return ScriptDirectory.from_config(config).get_current_head()


labels_cli = AppGroup("labels", help="QR labels.")


@labels_cli.command("sheet")
@click.option("--warehouse", "warehouse_code", required=True, help="The warehouse's code.")
@click.option(
    "--layout",
    type=click.Choice(["a4-3x8", "a4-2x5", "60x40", "100x70"]),
    default="a4-3x8",
    show_default=True,
)
@click.option("--start", type=int, default=1, show_default=True, help="First position on A4.")
@click.option("--out", "out", type=click.Path(dir_okay=False, writable=True), required=True)
def labels_sheet(warehouse_code: str, layout: str, start: int, out: str) -> None:
    """Print labels for all stock at a warehouse (making the labels it lacks) into a PDF."""
    from reserve.labels.codes import label_key
    from reserve.labels.pdf import SHEETS, Layout, label_sheet_pdf
    from reserve.labels.printing import label_warehouse_stock
    from reserve.labels.queries import label_cards

    if not 1 <= start <= SHEETS[Layout(layout)].per_page:
        fail(f"--start is a position from 1 to {SHEETS[Layout(layout)].per_page} on {layout}.")
    try:
        with transaction() as session:
            labels = label_warehouse_stock(
                session, warehouse_code=warehouse_code, actor=Actor.system("cli")
            )
            cards = label_cards(
                session,
                [label.id for label in labels],
                key=label_key(str(current_app.config["SECRET_KEY"])),
                base_url=str(current_app.config["PUBLIC_BASE_URL"]),
            )
    except ReserveError as error:
        fail(error)
    Path(out).write_bytes(label_sheet_pdf(cards, layout=layout, start=start))
    click.echo(f"{len(cards)} labels of {warehouse_code} written to {out} ({layout}).")


def register(app: Flask) -> None:
    app.cli.add_command(users_cli)
    app.cli.add_command(stock_cli)
    app.cli.add_command(demo)
    app.cli.add_command(backup_cli)
    app.cli.add_command(labels_cli)
