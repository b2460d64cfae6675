"""Time the read side on a generated database and print one table.

    .venv/bin/python -m bench.run --scale city                       # throwaway SQLite file
    .venv/bin/python -m bench.run --scale province --generate \
        --database-url postgresql://postgres@127.0.0.1:5432/reserve   # throwaway PG database
    .venv/bin/python -m bench.run --scale province --database-url sqlite:///bench/province.db

Each scenario is timed server-side (the app's query function on a fresh session, or a request
through ``app.test_client()``), warmed up once, then run ``--repeat`` times; the table gives the
median and p95 in ms, and the "floor": the median of the same answer computed by ONE raw SQL
statement, i.e. what the database alone needs. Timings are reported, never asserted."""

from __future__ import annotations

import argparse
import math
import os
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.orm import Session

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.generate import PASSWORD, SCALES, generate, make_app, resolve_url  # noqa: E402

BENCH_DIR = Path(__file__).resolve().parent


@dataclass
class Scenario:
    name: str
    run: Callable[[], str]  # does the work once; returns the rows it answered ("50/1234")
    floor_sql: str | None = None
    floor_params: dict = field(default_factory=dict)
    floor_binds: tuple = ()
    explain: bool = False  # the SELECTs ``run`` issues are worth an EXPLAIN (--explain)


@dataclass
class Result:
    scenario: str
    median: float
    p95: float
    floor: float | None
    rows: str


# -- databases -------------------------------------------------------------------------------


def make_pg_database(url: str, scale: str) -> str:
    """A new empty database next to the one named in ``url`` (as tests/conftest.py does)."""
    base = sa.engine.make_url(resolve_url(url))
    name = f"{base.database or 'reserve'}_bench_{scale}"
    admin = sa.create_engine(base.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    admin.dispose()
    return base.set(database=name).render_as_string(hide_password=False)


def drop_database(url: str) -> None:
    target = sa.engine.make_url(url)
    if target.get_backend_name() == "sqlite":
        for suffix in ("", "-wal", "-shm"):
            Path(target.database + suffix).unlink(missing_ok=True)
        return
    admin = sa.create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{target.database}" WITH (FORCE)')
    admin.dispose()


def server_info(engine: sa.Engine) -> str:
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            version = conn.exec_driver_sql("SHOW server_version").scalar()
            jit = conn.exec_driver_sql("SHOW jit").scalar()
            above = conn.exec_driver_sql("SHOW jit_above_cost").scalar()
            return f"PostgreSQL {version}, jit={jit} (jit_above_cost={above})"
        version = conn.exec_driver_sql("SELECT sqlite_version()").scalar()
        return f"SQLite {version}"


# -- timing ----------------------------------------------------------------------------------


def p95(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]


def timed(fn: Callable[[], object], repeat: int) -> tuple[list[float], object]:
    answer = fn()  # warm-up
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - started) * 1000)
    return samples, answer


def floor_runner(engine: sa.Engine, scenario: Scenario) -> Callable[[], str]:
    stmt = sa.text(scenario.floor_sql).bindparams(*scenario.floor_binds)

    def run() -> str:
        with engine.connect() as conn:
            rows = conn.execute(stmt, scenario.floor_params).all()
        if rows and "total" in rows[0]._fields:
            return f"{len(rows)}/{rows[0].total}"
        return str(len(rows))

    return run


def measure(engine: sa.Engine, scenario: Scenario, repeat: int) -> Result:
    samples, rows = timed(scenario.run, repeat)
    floor = None
    if scenario.floor_sql:
        floor_samples, floor_rows = timed(floor_runner(engine, scenario), repeat)
        floor = statistics.median(floor_samples)
        if floor_rows != rows:  # the floor must give the same answer to be a floor
            rows = f"{rows} (floor: {floor_rows})"
    return Result(scenario.name, statistics.median(samples), p95(samples), floor, str(rows))


def explain(engine: sa.Engine, scenario: Scenario, out=print) -> None:
    """The plan of every SELECT the scenario's function runs (EXPLAIN ANALYZE on PostgreSQL)."""
    statements: list[tuple[str, object]] = []

    def capture(_conn, _cursor, statement, parameters, _context, _many):
        if statement.lstrip().upper().startswith(("SELECT", "WITH")):
            statements.append((statement, parameters))

    sa.event.listen(engine, "before_cursor_execute", capture)
    try:
        scenario.run()
    finally:
        sa.event.remove(engine, "before_cursor_execute", capture)
    prefix = (
        "EXPLAIN (ANALYZE, BUFFERS) "
        if engine.dialect.name == "postgresql"
        else "EXPLAIN QUERY PLAN "
    )
    out(f"\n### {scenario.name}")
    with engine.connect() as conn:
        for statement, parameters in statements:
            out(f"\n{statement.strip()}\n{parameters}")
            for row in conn.exec_driver_sql(prefix + statement, parameters):
                out("    " + "  ".join(str(v) for v in row))


# -- scenarios -------------------------------------------------------------------------------


def page_rows(page) -> str:
    return f"{len(page.items)}/{page.total}"


def like(dialect: str) -> str:
    return "ILIKE" if dialect == "postgresql" else "LIKE"  # SQLite's LIKE ignores ASCII case


def material_floor(dialect: str) -> str:
    op = like(dialect)
    return f"""
        SELECT m.*, c.code AS category_code, c.name AS category_name, count(*) OVER () AS total
        FROM materials m JOIN categories c ON c.id = m.category_id
        WHERE (m.name {op} :like OR m.code {op} :prefix OR m.spec {op} :like
               OR m.pinyin_initials LIKE :pinyin) AND m.is_active
        ORDER BY m.code, m.id LIMIT 50"""


WAREHOUSE_FLOOR = """
    WITH page AS (
        SELECT w.*, r.code AS region_code, r.name AS region_name, count(*) OVER () AS total
        FROM warehouses w JOIN regions r ON r.id = w.region_id
        {where}
        ORDER BY w.code LIMIT 50)
    SELECT page.*,
        (SELECT count(*) FROM locations l
         WHERE l.warehouse_id = page.id AND l.is_active) AS location_count,
        (SELECT count(*) FROM users u JOIN user_warehouses uw ON uw.user_id = u.id
         WHERE uw.warehouse_id = page.id AND u.is_enabled) AS keeper_count
    FROM page ORDER BY page.code"""

AUDIT_FLOOR = """
    SELECT a.*, (SELECT count(*) FROM (SELECT id FROM audit_entries {where} LIMIT 10001) c)
        AS total
    FROM audit_entries a {where} ORDER BY a.id DESC LIMIT 50"""

LOGIN_FLOOR = """
    SELECT u.*, (SELECT t.locked_until FROM login_throttles t WHERE t.username = :key)
        AS locked_until
    FROM users u WHERE lower(u.username) = :key"""


def build_scenarios(app, engine: sa.Engine) -> list[Scenario]:
    from reserve.auth.actor import Actor
    from reserve.auth.models import User
    from reserve.auth.service import authenticate
    from reserve.catalog.queries import material_page
    from reserve.db import UTCDateTime
    from reserve.warehouses.queries import warehouse_page

    dialect = engine.dialect.name
    with Session(engine) as session:
        admin = Actor.for_user(session.scalar(sa.select(User).where(User.username == "admin")))
        keeper = Actor.for_user(session.scalar(sa.select(User).where(User.username == "keeper001")))

    client = app.test_client()
    response = client.post("/login", data={"username": "admin", "password": PASSWORD})
    if response.status_code != 302:
        raise SystemExit(f"cannot sign in as admin: {response.status_code}")

    def query(fn, **kwargs) -> Callable[[], str]:
        def run() -> str:
            with Session(engine) as session:
                return page_rows(fn(session, **kwargs))

        return run

    def get(path: str, rows: Callable[[], str]) -> Callable[[], str]:
        """The page; its rows are those of its query function, asked once at the warm-up."""
        answer: list[str] = []

        def run() -> str:
            response = client.get(path)
            if response.status_code != 200:
                raise SystemExit(f"GET {path}: {response.status_code}")
            if not answer:
                answer.append(rows())
            return answer[0]

        return run

    scenarios: list[Scenario] = []
    for label, q in (("帐篷", "帐篷"), ("zp", "zp"), ("code prefix", "1010101"), ("spec", "550ml")):
        scenarios.append(
            Scenario(
                f"material_page q={label}" if label == q else f"material_page q={q} ({label})",
                query(material_page, q=q),
                material_floor(dialect),
                {"like": f"%{q}%", "prefix": f"{q}%", "pinyin": f"%{q.lower()}%"},
                explain=True,
            )
        )
    zp = scenarios[1]
    scenarios.append(
        Scenario(
            "GET /catalog/materials?q=zp",
            get("/catalog/materials?q=zp", zp.run),
            zp.floor_sql,
            zp.floor_params,
        )
    )

    kept = sorted(keeper.warehouse_ids)
    admin_floor = WAREHOUSE_FLOOR.format(where="")
    keeper_floor = WAREHOUSE_FLOOR.format(where="WHERE w.id IN :ids")
    scenarios += [
        Scenario(
            "warehouse_page (admin)", query(warehouse_page, actor=admin), admin_floor, explain=True
        ),
        Scenario(
            f"warehouse_page (keeper, {len(kept)} kept)",
            query(warehouse_page, actor=keeper),
            keeper_floor,
            {"ids": kept},
            (sa.bindparam("ids", expanding=True),),
            explain=True,
        ),
        Scenario(
            "GET /warehouses (admin)",
            get("/warehouses", query(warehouse_page, actor=admin)),
            admin_floor,
        ),
    ]

    def login() -> str:
        with app.app_context(), Session(engine) as session:
            user = authenticate(session, username="keeper001", password=PASSWORD)
            session.rollback()  # leave no audit entry or last-login time behind
            return "1" if user else "0"

    def post_login() -> str:
        response = app.test_client().post(
            "/login", data={"username": "keeper001", "password": PASSWORD}
        )
        if response.status_code != 302:
            raise SystemExit(f"POST /login: {response.status_code}")
        return "1"

    scenarios += [
        Scenario("authenticate (scrypt)", login, LOGIN_FLOOR, {"key": "keeper001"}),
        Scenario("POST /login (scrypt)", post_login, LOGIN_FLOOR, {"key": "keeper001"}),
    ]

    try:
        from reserve.audit.queries import audit_page, local_day_start
    except ImportError:  # the audit list is not written yet
        return scenarios
    time_binds = (sa.bindparam("start", type_=UTCDateTime), sa.bindparam("end", type_=UTCDateTime))
    months = {
        "2026-03": (date(2026, 3, 1), date(2026, 3, 31), date(2026, 4, 1)),
        "2025-08": (date(2025, 8, 1), date(2025, 8, 31), date(2025, 9, 1)),
    }
    # The floor knows the account's id (audit_page looks it up in a statement of its own).
    user_where = "WHERE user_id = :user_id"
    user_params = {"user_id": keeper.user_id}
    scenarios += [
        Scenario(
            "audit_page first page", query(audit_page), AUDIT_FLOOR.format(where=""), explain=True
        ),
        Scenario(
            "audit_page user=keeper001",
            query(audit_page, username="keeper001"),
            AUDIT_FLOOR.format(where=user_where),
            user_params,
            explain=True,
        ),
        Scenario(
            "audit_page object=warehouses/1",
            query(audit_page, object_type="warehouses", object_id="1"),
            AUDIT_FLOOR.format(where="WHERE object_type = :type AND object_id = :id"),
            {"type": "warehouses", "id": "1"},
            explain=True,
        ),
        Scenario(
            "audit_page action=password_reset",
            query(audit_page, action="password_reset"),
            AUDIT_FLOOR.format(where="WHERE action = :action"),
            {"action": "password_reset"},
            explain=True,
        ),
    ]
    for label, (first, last, after) in months.items():  # a recent month, and one a year back
        scenarios.append(
            Scenario(
                f"audit_page type=materials, {label}",
                query(audit_page, object_type="materials", date_from=first, date_to=last),
                AUDIT_FLOOR.format(
                    where="WHERE object_type = :type AND at >= :start AND at < :end"
                ),
                {
                    "type": "materials",
                    "start": local_day_start(first),
                    "end": local_day_start(after),
                },
                time_binds,
                explain=True,
            )
        )
    scenarios += [
        Scenario(
            "GET /admin/audit", get("/admin/audit", query(audit_page)), AUDIT_FLOOR.format(where="")
        ),
        Scenario(
            "GET /admin/audit?username=keeper001",
            get("/admin/audit?username=keeper001", query(audit_page, username="keeper001")),
            AUDIT_FLOOR.format(where=user_where),
            user_params,
        ),
    ]
    return scenarios


# -- driver ----------------------------------------------------------------------------------


def print_table(results: list[Result], scale: str, database: str, out=print) -> None:
    out("| scenario | scale | database | median ms | p95 ms | floor median ms | rows |")
    out("|---|---|---|---:|---:|---:|---:|")
    for r in results:
        floor = f"{r.floor:.2f}" if r.floor is not None else "–"
        out(
            f"| {r.scenario} | {scale} | {database} | {r.median:.2f} | {r.p95:.2f} | {floor} "
            f"| {r.rows} |"
        )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", choices=sorted(SCALES), required=True)
    parser.add_argument(
        "--database-url",
        help="a generated database (default: a throwaway SQLite file bench/<scale>.db)",
    )
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument(
        "--generate",
        action="store_true",
        help="generate a throwaway database first (always without a URL)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the generated database")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--explain", action="store_true", help="print the plan of each query function's SELECTs"
    )
    parser.add_argument("--only", help="run the scenarios whose name contains this text")
    args = parser.parse_args(argv)

    url = args.database_url
    generated = args.generate or not url
    if not url:
        url = f"sqlite:///{BENCH_DIR / (args.scale + '.db')}"
        drop_database(url)
    url = resolve_url(url)
    if generated and url.startswith("postgresql"):
        url = make_pg_database(url, args.scale)
    try:
        app = make_app(url)  # once: the app's blueprints register once per process
        if generated:
            generate(app, args.scale, args.seed, out=lambda line: print(line, file=sys.stderr))
        run(app, args)
    finally:
        if generated and not args.keep:
            drop_database(url)
        elif generated:
            print(f"\nkept: --database-url {url}", file=sys.stderr)


def run(app, args) -> None:
    with app.app_context():
        from reserve.extensions import db

        engine = db.engine
    database = "PostgreSQL" if engine.dialect.name == "postgresql" else "SQLite"
    scenarios = build_scenarios(app, engine)
    if args.only:
        scenarios = [s for s in scenarios if args.only in s.name]
    results = []
    for scenario in scenarios:
        print(f"  {scenario.name} …", file=sys.stderr, flush=True)
        results.append(measure(engine, scenario, args.repeat))
    print(
        f"\n{server_info(engine)}; {args.scale}; {args.repeat} runs after one warm-up; "
        f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at the end\n"
    )
    print_table(results, args.scale, database)
    if args.explain:
        for scenario in scenarios:
            if scenario.explain:
                explain(engine, scenario)
    engine.dispose()


if __name__ == "__main__":
    main()
