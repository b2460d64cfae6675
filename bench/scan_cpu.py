"""CPU of the app per scan, in process: ``GET /s/<code>`` or ``GET /api/v1/labels/{code}`` on a
generated database with labels, in the production config, signed in as ``admin``.

    .venv/bin/python -m bench.scan_cpu --database-url postgresql://…/bench_labels \
        [--path s|api] [--scans 1000] [--profile]

Only the app's own work is timed (``time.process_time`` around ``app.wsgi_app``: the test
client's is not), which makes the figure far less sensitive to a loaded machine than requests
per second are; it still rises with the load (caches, frequency), so say the load beside it.
Prints the statements one scan runs, the CPU a scan, and with ``--profile`` where it goes
(cProfile, grouped by package, then the top functions by cumulative time)."""

from __future__ import annotations

import argparse
import collections
import cProfile
import os
import pstats
import re
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.generate import resolve_url  # noqa: E402
from bench.load import CSRF, PASSWORD  # noqa: E402

BASE = "https://localhost"  # the production config's cookies are Secure


def _app(url: str):
    os.environ.update(RESERVE_ENV="production", DATABASE_URL=url)
    os.environ.setdefault("SECRET_KEY", "bench-scan-cpu-" + "k" * 32)
    from reserve import create_app

    return create_app()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--path", choices=("s", "api"), default="s")
    parser.add_argument("--scans", type=int, default=1000)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args(argv)
    import sqlalchemy as sa

    app = _app(resolve_url(args.database_url))
    from reserve.extensions import db
    from reserve.labels.codes import make_code
    from reserve.labels.edge import app_label_key

    with app.app_context():
        ids = db.session.scalars(
            sa.text("SELECT id FROM labels WHERE revoked_at IS NULL ORDER BY id LIMIT 500")
        ).all()
        if not ids:
            raise SystemExit("no labels in this database: generate it with bench.generate")
        codes = [make_code(i, key=app_label_key()) for i in ids]
        engine = db.engine
    client = app.test_client()
    headers: dict[str, str] = {}
    if args.path == "s":
        page = client.get("/login", base_url=BASE).get_data(as_text=True)
        signed_in = client.post(
            "/login",
            base_url=BASE,
            headers={"Referer": BASE + "/login"},
            data={
                "csrf_token": CSRF.search(page).group(1),
                "username": "admin",
                "password": PASSWORD,
            },
        )
        if signed_in.status_code != 302:
            raise SystemExit(f"sign-in answered {signed_in.status_code}")
    else:
        from reserve.auth.actor import Actor
        from reserve.auth.models import User
        from reserve.auth.service import create_api_token

        with app.app_context():
            admin = db.session.scalar(sa.select(User).where(User.username == "admin"))
            _token, secret = create_api_token(
                db.session, user_id=admin.id, name="bench.scan_cpu", actor=Actor.for_user(admin)
            )
            db.session.commit()
        headers = {"Authorization": f"Bearer {secret}"}

    inner, spent, profiler = app.wsgi_app, [0.0], cProfile.Profile(time.process_time)
    profiling = [False]

    def timed(environ, start_response):
        started = time.process_time()
        if profiling[0]:
            profiler.enable()
        try:
            return inner(environ, start_response)
        finally:
            if profiling[0]:
                profiler.disable()
            spent[0] += time.process_time() - started

    app.wsgi_app = timed
    statuses: collections.Counter = collections.Counter()

    def scan(i: int) -> None:
        code = codes[i % len(codes)]
        path = f"/s/{code}" if args.path == "s" else f"/api/v1/labels/{code}"
        statuses[client.get(path, base_url=BASE, headers=headers).status_code] += 1

    statements: list[str] = []
    sa.event.listen(engine, "before_cursor_execute", lambda c, cur, s, *a: statements.append(s))
    for i in range(100):  # warm: compiled statements, prepared statements, caches
        scan(i)
    statements.clear()
    scan(0)
    print(f"{args.path}: {len(statements)} statements a scan")
    for statement in statements:
        print("   ", " ".join(statement.split())[:110])
    statuses.clear()
    spent[0] = 0.0
    for i in range(args.scans):
        scan(i)
    print(
        f"{args.path}: {args.scans} scans {dict(statuses)}, app CPU "
        f"{spent[0] / args.scans * 1000:.2f} ms a scan; load average {os.getloadavg()[0]:.1f}"
    )
    if args.profile:
        profiling[0] = True
        for i in range(args.scans):
            scan(i)
        profiling[0] = False
        stats = pstats.Stats(profiler)
        by_package: collections.Counter = collections.Counter()
        for (filename, _line, _name), (_cc, _nc, own, _cum, _callers) in stats.stats.items():
            found = re.search(r"site-packages/([^/]+)", filename) or re.search(
                r"/(reserve/[^/]+)", filename
            )
            by_package[found.group(1) if found else filename] += own
        total = sum(by_package.values()) or 1
        print("own time by package (profiled, so inflated; the shares are what to read):")
        for name, own in by_package.most_common(15):
            print(f"  {name:45s} {own / total:6.1%}")
        stats.sort_stats("cumulative").print_stats(40)


if __name__ == "__main__":
    main()
