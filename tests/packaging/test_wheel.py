"""An installed Reserve is the same Reserve: a wheel built from a clean clone (no compiled
catalogues in it, they are git-ignored) carries the templates, static files, migrations, fonts
and compiled catalogues; installed into a fresh virtualenv it migrates a new SQLite database
with ``flask --app reserve.wsgi db upgrade`` and serves a Chinese login page through
``gunicorn reserve.wsgi:app``. Offline: no build isolation, and the fresh venv borrows this
venv's site-packages for the dependencies (but not its editable ``reserve``)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import sysconfig
import time
import urllib.request
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.slow


def run(*args, **kwargs) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [str(a) for a in args], capture_output=True, text=True, timeout=300, **kwargs
    )
    assert result.returncode == 0, f"{' '.join(map(str, args))}\n{result.stdout}\n{result.stderr}"
    return result


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """(clone, wheel): the repository cloned at HEAD, and the wheel built from that clone."""
    work = tmp_path_factory.mktemp("wheel")
    clone = work / "clone"
    run("git", "clone", "--quiet", "--no-hardlinks", ROOT, clone)
    assert not list(clone.glob("reserve/translations/*/LC_MESSAGES/*.mo")), "a clone has no .mo"
    run(
        sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
        "--wheel-dir", work / "dist", clone,
    )  # fmt: skip
    (wheel,) = (work / "dist").glob("reserve-*.whl")
    return clone, wheel


def test_the_wheel_carries_everything_the_app_reads(built):
    clone, wheel = built
    names = set(zipfile.ZipFile(wheel).namelist())
    tracked = run("git", "ls-files", "reserve", cwd=clone).stdout.split()
    # the .pot is the extraction template of ``make messages``, not read at run time
    missing = sorted(p for p in tracked if p not in names and not p.endswith(".pot"))
    assert not missing, f"not in the wheel: {missing[:20]}"
    for nested in (
        "reserve/static/vendor/bootstrap-icons-1.13.2/fonts/bootstrap-icons.woff2",
        "reserve/migrations/alembic.ini",
        "reserve/fonts/wqy-microhei.ttc",
    ):
        assert nested in names
    for locale in ("zh", "en"):
        assert f"reserve/translations/{locale}/LC_MESSAGES/messages.mo" in names, locale


def test_an_installed_wheel_migrates_and_serves_chinese(built, tmp_path):
    _clone, wheel = built
    venv = tmp_path / "venv"
    run(sys.executable, "-m", "venv", "--without-pip", venv)
    python = venv / "bin" / "python"
    run(sys.executable, "-m", "pip", "--python", python, "install", "--quiet", "--no-deps", wheel)
    fresh_site = Path(
        run(
            python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"
        ).stdout.strip()
    )
    # The dependencies come from this venv; a path line adds the folder without running its
    # .pth files, so this venv's editable ``reserve`` stays out.
    (fresh_site / "borrowed-dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")

    workdir = tmp_path / "srv"
    workdir.mkdir()
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("RESERVE_", "FLASK_", "PYTHON")) and key != "DATABASE_URL"
    }
    env["RESERVE_INSTANCE_PATH"] = str(tmp_path / "instance")
    where = run(python, "-c", "import reserve; print(reserve.__file__)", cwd=workdir, env=env)
    assert where.stdout.strip().startswith(str(fresh_site)), where.stdout

    run(python, "-m", "flask", "--app", "reserve.wsgi", "db", "upgrade", cwd=workdir, env=env)
    assert (tmp_path / "instance" / "reserve.db").exists()

    port = free_port()
    server = subprocess.Popen(
        [str(python), "-m", "gunicorn", "--bind", f"127.0.0.1:{port}", "reserve.wsgi:app"],
        cwd=workdir,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        html = None
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and server.poll() is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=5) as r:
                    html = r.read().decode()
                    break
            except OSError:
                time.sleep(0.3)
        if html is None:
            server.terminate()
            output = server.communicate(timeout=10)[0].decode(errors="replace")
            pytest.fail(f"gunicorn did not answer:\n{output[-3000:]}")
        assert '<html lang="zh-CN">' in html
        # the templates hold English msgids: Chinese here comes from the compiled catalogue
        assert "用户名" in html and "密码" in html and "登录" in html
        assert "Password" not in html and "Sign in" not in html
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/static/css/app.css") as r:
            assert r.status == 200
    finally:
        server.terminate()
        server.wait(timeout=20)
