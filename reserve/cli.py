"""Flask commands. They only call services, inside ``transaction()``; errors go to stderr
with exit status 1."""

from __future__ import annotations

import sys

import click
from flask import Flask
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
    from reserve.demo import DEMO_USERS, DatabaseNotEmpty, load_demo

    try:
        with transaction() as session:
            summary = load_demo(session, password=password)
    except DatabaseNotEmpty as error:
        if if_empty:
            click.echo("The database already holds data; the demo city was not loaded.")
            return
        fail(error)
    except ReserveError as error:
        fail(error)
    click.echo(f"Demo city loaded: {summary}.")
    click.echo("Sign in as any of these users, password " + repr(password) + ":")
    for username, role, description in DEMO_USERS:
        click.echo(f"  {username:<11} {role:<11} {description}")


stock_cli = AppGroup("stock", help="The stock ledger.")


@stock_cli.command("verify")
def stock_verify() -> None:
    """Rebuild every balance, reservation cache and serial count; print each difference (exit 1
    if any)."""
    from flask_babel import gettext as _

    from reserve.extensions import db
    from reserve.stock.ledger import describe, verify

    found = verify(db.session)
    for line in describe(db.session, found):
        click.echo(_("DIFFERENCE %(what)s", what=line))
    if found:
        click.echo(_("Differences from the ledger: %(n)s.", n=len(found)), err=True)
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


def register(app: Flask) -> None:
    app.cli.add_command(users_cli)
    app.cli.add_command(stock_cli)
    app.cli.add_command(demo)
