"""Shared fixtures: the app on a migrated database per xdist worker (SQLite, or PostgreSQL when
``RESERVE_TEST_DATABASE_URL`` is set), a per-test session rolled back at the end (the
``join_transaction_mode="create_savepoint"`` recipe), clients signed in as each role, and plain
factory functions for the reference data."""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from flask_sqlalchemy.session import _app_ctx_id
from sqlalchemy.orm import Session, scoped_session, sessionmaker

from reserve import create_app, normalise_database_url
from reserve.auth.actor import Actor
from reserve.auth.models import Role, User, UserRole
from reserve.auth.service import hash_password
from reserve.extensions import db as flask_db

TEST_PASSWORD = "test-password-1"
PG_URL = os.environ.get("RESERVE_TEST_DATABASE_URL")


def make_database(name: str, tmp_dir) -> str:
    """A fresh, empty database for one worker: a SQLite file, or a new PostgreSQL database."""
    if not PG_URL:
        return f"sqlite:///{tmp_dir / (name + '.db')}"
    base = sa.engine.make_url(normalise_database_url(PG_URL))
    db_name = re.sub(r"[^a-z0-9_]", "_", f"{base.database}_{name}".lower())
    admin = sa.create_engine(base.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)')
        conn.exec_driver_sql(f'CREATE DATABASE "{db_name}"')
    admin.dispose()
    return base.set(database=db_name).render_as_string(hide_password=False)


def drop_database(url: str) -> None:
    if url.startswith("sqlite"):
        return
    target = sa.engine.make_url(url)
    admin = sa.create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{target.database}" WITH (FORCE)')
    admin.dispose()


def test_app(url: str) -> Flask:
    return create_app(
        {"SQLALCHEMY_DATABASE_URI": url, "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000"}
    )


test_app.__test__ = False  # a factory, not a test


@pytest.fixture(scope="session")
def database_url(tmp_path_factory, worker_id) -> Iterator[str]:
    url = make_database(f"unit_{worker_id}", tmp_path_factory.mktemp("db"))
    yield url
    drop_database(url)


@pytest.fixture(scope="session")
def app(database_url) -> Flask:
    from flask_migrate import upgrade

    app = test_app(database_url)
    with app.app_context():
        if os.environ.get("RESERVE_TEST_SCHEMA") == "create_all":  # while models are in flux
            flask_db.create_all()
        else:
            upgrade()
    return app


@pytest.fixture
def db(app) -> Iterator[Session]:
    """A session for the test; everything it and the requests do is rolled back afterwards."""
    with app.app_context():
        engine = flask_db.engine
    connection = engine.connect()
    outer = connection.begin()
    factory = sessionmaker(
        bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
    )
    original = flask_db.session
    flask_db.session = scoped_session(factory, scopefunc=_app_ctx_id)
    session = factory()
    try:
        yield session
    finally:
        session.close()
        flask_db.session = original
        outer.rollback()
        connection.close()


@pytest.fixture
def app_ctx(app, db):
    """For the rare test that needs ``current_app`` itself (not requests)."""
    with app.app_context():
        yield


def _user(session: Session, username: str, roles: list[Role], **fields) -> User:
    user = User(
        username=username,
        full_name=fields.pop("full_name", username.title()),
        password_hash=hash_password(TEST_PASSWORD),
        **fields,
    )
    user.role_rows = [UserRole(role=r.value) for r in roles]
    session.add(user)
    session.flush()
    return user


@pytest.fixture
def make_user(db) -> Callable[..., User]:
    counter = iter(range(1, 10_000))

    def make(*roles: Role, username: str | None = None, **fields) -> User:
        return _user(db, username or f"user{next(counter)}", list(roles) or [Role.VIEWER], **fields)

    return make


@pytest.fixture
def system_actor() -> Actor:
    return Actor.system("test")


@pytest.fixture
def make_region(db) -> Callable:
    from reserve.warehouses.models import Region

    def make(code: str = "370100", name: str = "济南市", level: str = "city", parent=None):
        region = Region(code=code, name=name, level=level, parent=parent)
        db.add(region)
        db.flush()
        return region

    return make


@pytest.fixture
def make_warehouse(db, make_region) -> Callable:
    from reserve.warehouses.models import RECEIVING_CODE, Location, Region, Warehouse

    counter = iter(range(1, 10_000))

    def make(
        code: str | None = None, name: str | None = None, level: str = "city", region=None, **fields
    ):
        n = next(counter)
        region = (
            region or db.scalar(sa.select(Region).where(Region.code == "370100")) or make_region()
        )
        warehouse = Warehouse(
            code=code or f"WH-{n:02d}",
            name=name or f"测试储备库{n}",
            level=level,
            region=region,
            **fields,
        )
        db.add(warehouse)
        db.flush()
        db.add(
            Location(
                warehouse_id=warehouse.id, code=RECEIVING_CODE, name="收货区", is_receiving=True
            )
        )
        db.add(Location(warehouse_id=warehouse.id, code="A-01-01"))
        db.flush()
        return warehouse

    return make


@pytest.fixture
def make_category(db) -> Callable:
    from reserve.catalog.models import Category
    from reserve.catalog.service import category_level, parent_code_of

    def make(code: str = "1010100", name: str | None = None, is_local: bool = True):
        existing = db.scalar(sa.select(Category).where(Category.code == code))
        if existing:
            return existing
        parent_code = parent_code_of(code)
        parent = make(parent_code, is_local=is_local) if parent_code else None
        category = Category(
            code=code,
            name=name or f"分类{code}",
            level=category_level(code),
            parent=parent,
            is_local=is_local,
        )
        db.add(category)
        db.flush()
        return category

    return make


@pytest.fixture
def make_material(db, make_category) -> Callable:
    from reserve.catalog.models import Material
    from reserve.catalog.service import pinyin_initials

    counter = iter(range(1, 10_000))

    def make(
        name: str = "单帐篷",
        code: str | None = None,
        unit: str = "顶",
        tracking: str = "batch",
        category=None,
        **fields,
    ):
        category = category or make_category("1010100", "住宿物资")
        material = Material(
            code=code or f"{category.code}{next(counter):03d}",  # the category's code + 3
            name=name,
            unit=unit,
            tracking=tracking,
            category=category,
            pinyin_initials=pinyin_initials(name),
            **fields,
        )
        db.add(material)
        db.flush()
        return material

    return make


@pytest.fixture
def make_enterprise(db) -> Callable:
    from reserve.agreements.models import Enterprise

    def make(name: str = "济南测试食品有限公司", uscc: str = "91370100MA3C4PYX8L", **fields):
        enterprise = Enterprise(name=name, uscc=uscc, **fields)
        db.add(enterprise)
        db.flush()
        return enterprise

    return make


class AuthActions:
    """Sign a test client in and out (the flaskr tutorial's helper)."""

    def __init__(self, client: FlaskClient):
        self.client = client

    def login(self, username: str, password: str = TEST_PASSWORD):
        return self.client.post("/login", data={"username": username, "password": password})

    def logout(self):
        return self.client.post("/logout")


@pytest.fixture
def client(app, db) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def auth(client) -> AuthActions:
    return AuthActions(client)


@pytest.fixture
def login_as(app, db, make_user, make_warehouse, make_enterprise) -> Callable[..., FlaskClient]:
    """A client signed in as a fresh user with the given role (keepers keep one warehouse,
    enterprise users belong to one enterprise)."""

    def login(role: Role | str, **fields) -> FlaskClient:
        role = Role(role)
        if role is Role.KEEPER and "warehouses" not in fields:
            fields["warehouses"] = [make_warehouse()]
        if role is Role.ENTERPRISE and "enterprise" not in fields:
            fields["enterprise"] = make_enterprise()
        user = make_user(role, **fields)
        client = app.test_client()
        response = AuthActions(client).login(user.username)
        assert response.status_code == 302, response.get_data(as_text=True)[:500]
        client.user = user
        return client

    return login


@pytest.fixture
def count_queries(app, db):
    """Count the SQL statements run inside a ``with count_queries() as counter:`` block."""
    from contextlib import contextmanager

    @contextmanager
    def counting():
        statements: list[str] = []

        def before(conn, cursor, statement, *args):
            if not statement.lstrip().upper().startswith(("SAVEPOINT", "RELEASE", "ROLLBACK")):
                statements.append(statement)

        engine = db.get_bind().engine
        sa.event.listen(engine, "before_cursor_execute", before)
        try:
            yield statements
        finally:
            sa.event.remove(engine, "before_cursor_execute", before)

    return counting


@pytest.fixture
def api_token(db, make_user):
    """A bearer token for a fresh user of the given role: returns (headers, user)."""
    from reserve.auth.service import create_api_token

    def make(role: Role | str = Role.VIEWER, **fields):
        role = Role(role)
        user = make_user(role, **fields)
        _token, secret = create_api_token(
            db, user_id=user.id, name="test", actor=Actor.for_user(user)
        )
        db.flush()
        return {"Authorization": f"Bearer {secret}"}, user

    return make
