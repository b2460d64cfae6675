"""Live Reserve servers and Debian's Chromium driven through Playwright.

Every browser test starts from its own copy of the demo city, so that no test can change
another's world: the demo database is built once per xdist worker (migrated, demo loaded: the
slow part, ``demo_template``), then each test gets a fresh copy (SQLite: through its backup
API; PostgreSQL: ``CREATE DATABASE … TEMPLATE …``) served by a fresh server, forked from a
process that imported the app once (``tests/browser/serve.py``)."""

from __future__ import annotations

import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from itertools import count
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.conftest import drop_database, make_database

ROOT = Path(__file__).resolve().parents[2]
FLASK = [sys.executable, "-m", "flask", "--app", "wsgi"]
DEMO_PASSWORD = "reserve-demo"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")


def pytest_collection_modifyitems(items):
    """Whatever needs a live server is a browser test (``-m "not browser"`` leaves them out)."""
    for item in items:
        if "live_server" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.browser)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _server_env(url: str) -> dict[str, str]:
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "RESERVE_ENV": "development",
        "SECRET_KEY": "browser-tests",
        "PYTHONUNBUFFERED": "1",
    }
    env.pop("FLASK_DEBUG", None)
    return env


@pytest.fixture(scope="session")
def demo_template(tmp_path_factory, worker_id):
    """The slow fixture: a migrated database with the demo city, once per worker. Tests never
    serve it; they get copies (``demo_copy``)."""
    url = make_database(f"live_{worker_id}", tmp_path_factory.mktemp("live"))
    env = _server_env(url)
    subprocess.run([*FLASK, "db", "upgrade"], env=env, cwd=ROOT, check=True, capture_output=True)
    subprocess.run(
        [*FLASK, "demo", "--password", DEMO_PASSWORD],
        env=env,
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    yield url
    drop_database(url)


_copies = count(1)


@pytest.fixture
def demo_copy(demo_template, tmp_path):
    """A fresh copy of the demo database for one test, dropped afterwards."""
    n = next(_copies)
    if demo_template.startswith("sqlite"):
        target = tmp_path / f"demo_{n}.db"
        # SQLite's backup API: a consistent copy, whatever the WAL still holds
        source = sqlite3.connect(sa.engine.make_url(demo_template).database)
        copy = sqlite3.connect(target)
        with copy:
            source.backup(copy)
        copy.close()
        source.close()
        yield f"sqlite:///{target}"
        return
    template = sa.engine.make_url(demo_template)
    name = f"{template.database}_{n}"
    admin = sa.create_engine(template.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.exec_driver_sql(f'CREATE DATABASE "{name}" TEMPLATE "{template.database}"')
    admin.dispose()
    url = template.set(database=name).render_as_string(hide_password=False)
    yield url
    drop_database(url)


@pytest.fixture(scope="session")
def fork_server(demo_template, tmp_path_factory):
    """The process that forks a server per test (it imported the app once)."""
    log = open(tmp_path_factory.mktemp("log") / "fork-server.log", "wb")  # noqa: SIM115
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.browser.serve"],
        env=_server_env(demo_template),
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=log,
        text=True,
    )
    yield process
    process.stdin.close()
    process.wait(timeout=10)
    log.close()


@pytest.fixture
def live_server(fork_server, demo_copy, tmp_path):
    """A server of its own on the test's own copy of the demo database."""
    port = _free_port()
    log = tmp_path / "server.log"
    fork_server.stdin.write(f"{port} {log} {demo_copy}\n")
    fork_server.stdin.flush()
    line = fork_server.stdout.readline()
    if not line:
        pytest.fail("the browser tests' fork server has stopped; see its log")
    pid = int(line)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                with urllib.request.urlopen(base + "/healthz", timeout=1) as response:
                    if response.status == 200:
                        break
            except OSError:
                time.sleep(0.05)
        else:
            raise RuntimeError(f"live server did not start; see {log}")
        yield base
    finally:
        os.kill(pid, signal.SIGTERM)
        for _ in range(100):  # gone before its database is dropped
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.02)


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install chromium (.ci/run does)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-gpu",
                "--no-first-run",
                "--disable-sync",
            ],
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser, live_server):
    """A fresh browser context (no cookies) per test. Fails the test on any console error,
    which includes a Content-Security-Policy violation."""
    context = browser.new_context(base_url=live_server, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda msg: msg.type == "error" and errors.append(msg.text))
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.set_default_timeout(10_000)
    yield page
    context.close()
    # a refused request (4xx) is logged by the browser; the page handles it (a 403 page, or a
    # count refused on its line), so only other errors fail the test
    assert not [e for e in errors if "status of 4" not in e], errors


@pytest.fixture
def phone_page(browser, live_server):
    context = browser.new_context(
        base_url=live_server, viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True
    )
    page = context.new_page()
    yield page
    context.close()


def sign_in(page, username: str, password: str = DEMO_PASSWORD) -> None:
    page.goto("/login")
    page.fill("#username", username)
    page.fill("#password", password)
    with page.expect_navigation():
        page.click("#login-submit")
    # The menus open by script: a click before the page's scripts ran would follow href="#".
    page.wait_for_load_state("load")
