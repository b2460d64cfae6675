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
import re
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.orm import Session

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.generate import PASSWORD, SCALES, generate, make_app, resolve_url  # noqa: E402
from bench.labels import label_scenarios  # noqa: E402
from bench.orders import order_scenarios  # noqa: E402

BENCH_DIR = Path(__file__).resolve().parent


@dataclass
class Scenario:
    name: str
    run: Callable[[], str]  # does the work once; returns the rows it answered ("50/1234")
    floor_sql: str | None = None
    floor_params: dict = field(default_factory=dict)
    floor_binds: tuple = ()
    explain: bool = False  # the SELECTs ``run`` issues are worth an EXPLAIN (--explain)
    floor_run: Callable[[], str] | None = None  # a floor that is not one SELECT
    repeat: int | None = None  # instead of --repeat (heavy scenarios)
    warm_up: bool = True
    target: str = "–"  # DESIGN.md's bar (province, PostgreSQL), for the table
    # run untimed before each timed ``run(prepared)`` (a receipt's draft, to time its posting)
    prepare: Callable[[], object] | None = None


@dataclass
class Result:
    scenario: str
    median: float
    p95: float
    floor: float | None
    rows: str
    target: str = "–"


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


def timed(
    fn: Callable[..., object],
    repeat: int,
    warm_up: bool = True,
    prepare: Callable[[], object] | None = None,
) -> tuple[list[float], object]:
    def call():
        return fn(prepare()) if prepare else fn()

    answer = call() if warm_up else None
    samples = []
    for _ in range(repeat):
        prepared = prepare() if prepare else None
        started = time.perf_counter()
        result = fn(prepared) if prepare else fn()
        samples.append((time.perf_counter() - started) * 1000)
        if answer is None:
            answer = result
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
    repeat = scenario.repeat or repeat
    samples, rows = timed(scenario.run, repeat, scenario.warm_up, scenario.prepare)
    floor = None
    if scenario.floor_sql or scenario.floor_run:
        runner = scenario.floor_run or floor_runner(engine, scenario)
        floor_samples, floor_rows = timed(runner, repeat, scenario.warm_up)
        floor = statistics.median(floor_samples)
        if floor_rows != rows:  # the floor must give the same answer to be a floor
            rows = f"{rows} (floor: {floor_rows})"
    return Result(
        scenario.name,
        statistics.median(samples),
        p95(samples),
        floor,
        str(rows),
        scenario.target,
    )


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


def like(dialect: str) -> str:
    return "ILIKE" if dialect == "postgresql" else "LIKE"  # SQLite's LIKE ignores ASCII case


def material_floor(dialect: str) -> str:
    op = like(dialect)
    return f"""
        SELECT m.*, c.code AS category_code, c.name AS category_name
        FROM materials m JOIN categories c ON c.id = m.category_id
        WHERE (m.name {op} :like OR m.code {op} :prefix OR m.spec {op} :like
               OR m.pinyin_initials LIKE :pinyin) AND m.is_active
        ORDER BY m.code, m.id LIMIT 51"""


WAREHOUSE_FLOOR = """
    WITH page AS (
        SELECT w.*, r.code AS region_code, r.name AS region_name
        FROM warehouses w JOIN regions r ON r.id = w.region_id
        {where}
        ORDER BY w.code LIMIT 51)
    SELECT page.*,
        (SELECT count(*) FROM locations l
         WHERE l.warehouse_id = page.id AND l.is_active) AS location_count,
        (SELECT count(*) FROM users u JOIN user_warehouses uw ON uw.user_id = u.id
         WHERE uw.warehouse_id = page.id AND u.is_enabled) AS keeper_count
    FROM page ORDER BY page.code"""

AUDIT_FLOOR = """
    SELECT a.* FROM audit_entries a {where} ORDER BY a.at DESC, a.id DESC LIMIT 51"""
# the page as the log shows it: one page by key, and the count capped at 1,000
AUDIT_PAGE_FLOOR = """
    SELECT a.*, (SELECT count(*) FROM (SELECT 1 FROM audit_entries {where} LIMIT 1001) c)
        AS total
    FROM audit_entries a {where} ORDER BY a.at DESC, a.id DESC LIMIT 51"""
# a page far into the log: by key (what the list does), and by OFFSET (what it did)
AUDIT_DEEP_FLOOR = """
    SELECT a.* FROM audit_entries a WHERE a.at <= :at AND (a.at, a.id) < (:at, :id)
    ORDER BY a.at DESC, a.id DESC LIMIT 51"""
AUDIT_OFFSET_SQL = """
    SELECT a.* FROM audit_entries a ORDER BY a.at DESC, a.id DESC LIMIT 50 OFFSET :skip"""
LOCATIONS_DEEP_FLOOR = """
    SELECT l.* FROM locations l
    WHERE l.warehouse_id = :warehouse AND NOT l.is_receiving AND l.code > :code
    ORDER BY l.code LIMIT 51"""

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
                return key_rows(fn(session, **kwargs))

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

    from reserve.audit.queries import audit_page, local_day_start

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
            "GET /admin/audit",
            get("/admin/audit", query(audit_page)),
            AUDIT_PAGE_FLOOR.format(where=""),
        ),
        Scenario(
            "GET /admin/audit?username=keeper001",
            get("/admin/audit?username=keeper001", query(audit_page, username="keeper001")),
            AUDIT_PAGE_FLOOR.format(where=user_where),
            user_params,
        ),
    ]
    return (
        scenarios
        + deep_scenarios(engine, get, query)
        + stock_scenarios(app, engine, get)
        + label_scenarios(app, engine, client, Scenario)
        + agreement_scenarios(app, engine, get)
        + availability_scenarios(app, engine, get)
        + order_scenarios(app, engine, Scenario)
    )


def deep_scenarios(engine: sa.Engine, get, query) -> list[Scenario]:
    """Pages far in: the audit log after half its entries (500,000 at province scale), and the
    locations of the biggest warehouse after nine tenths of them, each by key against its raw
    SQL floor; and the same audit page by OFFSET, as the list read it before issue 10."""
    import json
    from urllib.parse import urlencode

    from reserve.audit.models import AuditEntry
    from reserve.audit.queries import audit_page
    from reserve.db import UTCDateTime
    from reserve.warehouses.models import Location
    from reserve.warehouses.queries import location_page

    with Session(engine) as session:
        entries = session.scalar(sa.select(sa.func.count()).select_from(AuditEntry)) or 0
        skip = entries // 2
        at, entry_id = session.execute(
            sa.select(AuditEntry.at, AuditEntry.id)
            .order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
            .offset(skip)
            .limit(1)
        ).one()
        biggest, held = session.execute(
            sa.select(Location.warehouse_id, sa.func.count())
            .group_by(Location.warehouse_id)
            .order_by(sa.func.count().desc(), Location.warehouse_id)
            .limit(1)
        ).one()
        code = session.scalar(
            sa.select(Location.code)
            .where(Location.warehouse_id == biggest, ~Location.is_receiving)
            .order_by(Location.code)
            .offset(held * 9 // 10)
            .limit(1)
        )
    audit_key = json.dumps([at.isoformat(), entry_id])
    location_key = json.dumps([code])
    audit_params = {"at": at, "id": entry_id}
    at_bind = (sa.bindparam("at", type_=UTCDateTime),)

    def offset_page() -> str:
        with engine.connect() as conn:
            rows = conn.execute(sa.text(AUDIT_OFFSET_SQL), {"skip": skip}).all()
        return str(len(rows))

    return [
        Scenario(
            f"audit_page deep (after {skip:,} of {entries:,} entries, by key)",
            query(audit_page, after=audit_key),
            AUDIT_DEEP_FLOOR,
            audit_params,
            at_bind,
            explain=True,
        ),
        Scenario(
            f"audit page deep by OFFSET {skip:,} (raw SQL, the old way)",
            offset_page,
            AUDIT_DEEP_FLOOR,
            audit_params,
            at_bind,
        ),
        Scenario(
            f"GET /admin/audit (after {skip:,} entries)",
            get(
                "/admin/audit?" + urlencode({"after": audit_key}),
                query(audit_page, after=audit_key),
            ),
            AUDIT_DEEP_FLOOR,
            audit_params,
            at_bind,
        ),
        Scenario(
            f"location_page deep (warehouse {biggest}, after {held * 9 // 10:,} of {held:,})",
            query(location_page, warehouse_id=biggest, after=location_key),
            LOCATIONS_DEEP_FLOOR,
            {"warehouse": biggest, "code": code},
            explain=True,
        ),
        Scenario(
            f"GET /warehouses/{biggest} (locations after {held * 9 // 10:,})",
            get(
                f"/warehouses/{biggest}?" + urlencode({"after": location_key}),
                query(location_page, warehouse_id=biggest, after=location_key),
            ),
            LOCATIONS_DEEP_FLOOR,
            {"warehouse": biggest, "code": code},
        ),
    ]


STOCK_SCOPE = {  # extra conditions on stock_balances sb (joined to batches b in the aggregate)
    "all": "",
    "keeper": " AND sb.warehouse_id = :warehouse",
    "expiring": " AND sb.batch_id IN (SELECT id FROM batches WHERE expiry_date <= :horizon)",
}
STOCK_FLOOR = """
    WITH page AS (
        SELECT m.id FROM materials m JOIN categories c ON c.id = m.category_id
        WHERE EXISTS (SELECT 1 FROM stock_balances sb
                      WHERE sb.material_id = m.id AND sb.qty > 0{scope}){category}
        ORDER BY m.code LIMIT 51)
    SELECT m.id, m.code, m.name, m.spec, m.unit, c.name AS category, sum(sb.qty) AS qty,
        sum(sb.reserved) AS reserved, count(DISTINCT sb.warehouse_id) AS warehouses,
        min(b.expiry_date) AS nearest_expiry
    FROM page JOIN stock_balances sb ON sb.material_id = page.id
        JOIN batches b ON b.id = sb.batch_id
        JOIN materials m ON m.id = page.id JOIN categories c ON c.id = m.category_id
    WHERE sb.qty > 0{scope}
    GROUP BY m.id, m.code, m.name, m.spec, m.unit, c.name ORDER BY m.code"""

PIVOT_FLOOR = """
    WITH page AS (
        SELECT m.id FROM materials m
        WHERE EXISTS (SELECT 1 FROM stock_balances sb WHERE sb.material_id = m.id AND sb.qty > 0)
        ORDER BY m.code LIMIT 51)
    SELECT m.id, m.code, m.name, m.spec, m.unit, w.id, w.code, w.name,
        sum(CASE WHEN b.expiry_date IS NULL OR b.expiry_date >= :today
            THEN sb.qty - sb.reserved ELSE 0 END) AS available,
        sum(sb.qty) AS qty
    FROM page JOIN stock_balances sb ON sb.material_id = page.id
        JOIN batches b ON b.id = sb.batch_id
        JOIN materials m ON m.id = page.id JOIN warehouses w ON w.id = sb.warehouse_id
    WHERE sb.qty > 0
    GROUP BY m.id, m.code, m.name, m.spec, m.unit, w.id, w.code, w.name
    ORDER BY m.code, w.code"""

CARD_FLOOR = """
    SELECT sm.id, sm.posted_at, sm.document_date, sm.kind, sm.qty, w.name, l.code, b.batch_no,
        sm.document_type, sm.document_id, sm.document_no, sm.username, sm.note,
        (SELECT sum(qty) FROM stock_movements WHERE material_id = :material AND id < :before)
            AS balance
    FROM stock_movements sm JOIN warehouses w ON w.id = sm.warehouse_id
        JOIN locations l ON l.id = sm.location_id JOIN batches b ON b.id = sm.batch_id
    WHERE sm.material_id = :material AND sm.id < :before
    ORDER BY sm.id DESC LIMIT 100"""

VERIFY_FLOOR = """
    SELECT count(*) FROM (
        SELECT sum(ledger_qty) AS ledger_qty, sum(qty) AS qty, sum(reserved) AS reserved
        FROM (SELECT location_id, batch_id, qty AS ledger_qty, 0 AS qty, 0 AS reserved
              FROM stock_movements
              UNION ALL
              SELECT location_id, batch_id, 0, qty, reserved FROM stock_balances) AS both_sides
        GROUP BY location_id, batch_id) AS sums
    WHERE ledger_qty <> qty OR reserved < 0 OR reserved > qty"""

FEFO_FLOOR = """
    SELECT sb.material_id, sb.warehouse_id, l.id, l.code, b.id, b.batch_no, b.expiry_date,
        sb.qty - sb.reserved AS available
    FROM stock_balances sb JOIN locations l ON l.id = sb.location_id
        JOIN batches b ON b.id = sb.batch_id
    WHERE sb.material_id IN :materials AND sb.qty - sb.reserved > 0
        AND (b.expiry_date IS NULL OR b.expiry_date >= :today)
    ORDER BY sb.material_id, CASE WHEN b.expiry_date IS NULL THEN 1 ELSE 0 END,
        b.expiry_date, b.received_at, b.id, l.code"""

BATCH_FLOOR = """
    SELECT b.id, b.batch_no, m.id, m.code, m.name, m.unit, b.expiry_date, sum(sb.qty)
    FROM batches b JOIN materials m ON m.id = b.material_id
        JOIN stock_balances sb ON sb.batch_id = b.id
    WHERE {prefix} AND sb.qty > 0
    GROUP BY b.id, b.batch_no, m.id, m.code, m.name, m.unit, b.expiry_date
    ORDER BY b.batch_no, m.code LIMIT 20"""

MOVEMENT_INSERT = """
    INSERT INTO stock_movements (posted_at, document_date, kind, material_id, batch_id,
        location_id, warehouse_id, qty, balance_after, document_type, document_no, username)
    VALUES (:posted_at, :day, 'receipt', :material, :batch, :location, :warehouse, :qty, :qty,
        'receipt', 'RK-FLOOR', 'system')"""

FILTER_CATEGORY = "1030000"  # 饮食: food and drink, all with a shelf life
RECEIPT_LINES = 50
FEFO_MATERIALS = 20


def key_rows(page) -> str:
    """Rows of a page read by key: ``50+`` when there is a next page."""
    return f"{len(page.items)}{'+' if page.next_key else ''}"


ENTERPRISE_FLOOR = """
SELECT e.id, e.name, e.uscc, e.enterprise_type, e.status, r.name, c.name, c.phone
FROM enterprises e LEFT JOIN regions r ON r.id = e.region_id
LEFT JOIN enterprise_contacts c ON c.enterprise_id = e.id AND c.is_duty
WHERE e.status = 'active' ORDER BY e.name, e.id LIMIT 51
"""
AGREEMENT_FLOOR = """
SELECT a.id, a.no, e.name, a.valid_from, a.valid_to, a.status,
  (SELECT count(*) FROM agreement_lines l WHERE l.agreement_id = a.id AND l.kind = 'stock'),
  (SELECT count(*) FROM agreement_lines l WHERE l.agreement_id = a.id AND l.kind = 'capacity')
FROM agreements a JOIN enterprises e ON e.id = a.enterprise_id
ORDER BY a.valid_to, a.id LIMIT 51
"""


def agreement_scenarios(app, engine: sa.Engine, get) -> list[Scenario]:
    """The virtual reserve's lists: enterprises and agreements, paged by key."""
    from urllib.parse import urlencode

    from reserve.agreements.models import Agreement, Enterprise
    from reserve.agreements.queries import agreement_page, commitments, enterprise_page
    from reserve.auth.actor import Actor

    admin = Actor.system("bench")

    def query(fn, **kwargs) -> Callable[[], str]:
        def run() -> str:
            with app.app_context(), Session(engine) as session:
                return key_rows(fn(session, actor=admin, **kwargs))

        return run

    with Session(engine) as session:
        busiest = session.execute(
            sa.select(Agreement.enterprise_id, sa.func.count())
            .group_by(Agreement.enterprise_id)
            .order_by(sa.func.count().desc(), Agreement.enterprise_id)
            .limit(1)
        ).first()
        middle = session.scalar(
            sa.select(Enterprise.name).order_by(Enterprise.name).offset(500).limit(1)
        )
    enterprise_id = busiest[0] if busiest else 1

    def detail_rows() -> str:
        with app.app_context(), Session(engine) as session:
            return str(len(commitments(session, enterprise_id)))

    after = f'["{middle}", 1]' if middle else None
    return [
        Scenario("enterprise_page", query(enterprise_page), ENTERPRISE_FLOOR, explain=True),
        Scenario(
            "enterprise_page q=pinyin",
            query(enterprise_page, q="jn"),
            ENTERPRISE_FLOOR,
            explain=True,
        ),
        Scenario("agreement_page", query(agreement_page), AGREEMENT_FLOOR, explain=True),
        Scenario(
            "agreement_page status=active",
            query(agreement_page, status="active"),
            AGREEMENT_FLOOR,
            explain=True,
        ),
        Scenario(
            "GET /enterprises",
            get("/enterprises", query(enterprise_page)),
            ENTERPRISE_FLOOR,
            target="150",
        ),
        Scenario(
            "GET /enterprises (a page in the middle)",
            get(f"/enterprises?{urlencode({'after': after})}", query(enterprise_page, after=after)),
            ENTERPRISE_FLOOR,
            target="150",
        ),
        Scenario(
            "GET /agreements",
            get("/agreements", query(agreement_page)),
            AGREEMENT_FLOOR,
            target="150",
        ),
        Scenario(
            "GET /agreements?status=active",
            get("/agreements?status=active", query(agreement_page, status="active")),
            AGREEMENT_FLOOR,
            target="150",
        ),
        Scenario(
            f"GET /enterprises/{enterprise_id} (its agreements and commitments)",
            get(f"/enterprises/{enterprise_id}", detail_rows),
            target="150",
        ),
    ]


# The availability view's answer in ONE statement: the page of materials by key (stock in the
# region's warehouses, or a line of an agreement in force serving the region), their physical
# totals, and their agreement totals with the flag conditions. {wh} and {ag} narrow to a region.
AVAILABILITY_REGION = """
    WITH RECURSIVE tree(id) AS (SELECT id FROM regions WHERE id = :region
        UNION ALL SELECT r.id FROM regions r JOIN tree ON r.parent_id = tree.id),
    up(id) AS (SELECT parent_id FROM regions WHERE id = :region
        UNION ALL SELECT r.parent_id FROM regions r JOIN up ON r.id = up.id
        WHERE r.parent_id IS NOT NULL),"""
AVAILABILITY_WH = (
    " AND sb.warehouse_id IN"
    " (SELECT w.id FROM warehouses w WHERE w.region_id IN (SELECT id FROM tree))"
)
AVAILABILITY_AG = """ AND (EXISTS (SELECT 1 FROM agreement_regions ar WHERE ar.agreement_id = a.id
        AND (ar.region_id IN (SELECT id FROM tree) OR ar.region_id IN (SELECT id FROM up)))
      OR (NOT EXISTS (SELECT 1 FROM agreement_regions ar WHERE ar.agreement_id = a.id)
        AND a.enterprise_id IN (SELECT e.id FROM enterprises e
                                WHERE e.region_id IN (SELECT id FROM tree))))"""
AVAILABILITY_FLOOR = """{with}
    page AS (
        SELECT m.id, m.code FROM materials m WHERE m.id IN (
            SELECT id FROM (SELECT m.id FROM materials m WHERE m.code > :after AND EXISTS (
                SELECT 1 FROM stock_balances sb WHERE sb.material_id = m.id AND sb.qty > 0{wh})
                ORDER BY m.code LIMIT 51) AS held
            UNION ALL
            SELECT id FROM (SELECT m.id FROM materials m WHERE m.code > :after AND EXISTS (
                SELECT 1 FROM agreement_lines l JOIN agreements a ON a.id = l.agreement_id
                WHERE l.material_id = m.id AND a.status = 'active'
                AND a.valid_from <= :today AND a.valid_to >= :today{ag})
                ORDER BY m.code LIMIT 51) AS agreed)
        ORDER BY m.code LIMIT 51),
    phys AS (
        SELECT sb.material_id, sum(sb.qty) AS qty, count(DISTINCT sb.warehouse_id) AS warehouses,
            sum(CASE WHEN b.expiry_date IS NULL OR b.expiry_date >= :today
                THEN sb.qty - sb.reserved ELSE 0 END) AS available
        FROM stock_balances sb JOIN batches b ON b.id = sb.batch_id
        WHERE sb.material_id IN (SELECT id FROM page) AND sb.qty > 0{wh}
        GROUP BY sb.material_id),
    agr AS (
        SELECT l.material_id,
            sum(CASE WHEN l.kind = 'stock' THEN l.committed_qty ELSE 0 END) AS committed,
            sum(CASE WHEN l.kind = 'stock' THEN (CASE
                WHEN l.capped_qty IS NOT NULL AND l.capped_qty < l.committed_qty
                THEN l.capped_qty ELSE l.committed_qty END) - l.called_qty END) AS ceiling_left,
            count(*) FILTER (WHERE l.kind = 'stock' AND (l.verified_on IS NULL
                OR l.verified_on < :verified_before OR l.verification_passed = false
                OR l.reported_qty + l.shipped_qty < l.committed_qty
                OR l.reported_at < :reported_before_at
                OR (l.reported_at IS NULL AND a.valid_from < :reported_before))) AS flagged,
            sum(CASE WHEN l.kind <> 'capacity' OR l.lead_hours >= :hours THEN 0
                WHEN l.daily_qty * (:hours - l.lead_hours) / 24 > l.committed_qty - l.called_qty
                THEN l.committed_qty - l.called_qty
                ELSE l.daily_qty * (:hours - l.lead_hours) / 24 END) AS capacity_within
        FROM agreement_lines l JOIN agreements a ON a.id = l.agreement_id
        WHERE l.material_id IN (SELECT id FROM page) AND a.status = 'active'
            AND a.valid_from <= :today AND a.valid_to >= :today{ag}
        GROUP BY l.material_id)
    SELECT m.id, m.code, m.name, m.spec, m.unit, c.name AS category, phys.qty, phys.available,
        phys.warehouses, agr.committed, agr.ceiling_left, agr.flagged, agr.capacity_within
    FROM page JOIN materials m ON m.id = page.id JOIN categories c ON c.id = m.category_id
        LEFT JOIN phys ON phys.material_id = page.id LEFT JOIN agr ON agr.material_id = page.id
    ORDER BY m.code"""


def availability_scenarios(app, engine: sa.Engine, get) -> list[Scenario]:
    """The dispatcher's availability view (可调用资源一览): the page and its query function,
    everywhere and for one city, a page in the middle, and one material's drill-down."""
    from urllib.parse import urlencode

    from reserve.agreements.flags import FlagRule
    from reserve.agreements.models import AgreementLine
    from reserve.auth.actor import Actor
    from reserve.availability.queries import (
        AvailabilityFilter,
        availability_page,
        material_line_page,
    )
    from reserve.db import local_day_start
    from reserve.warehouses.models import Region

    admin = Actor.system("bench")
    rule = FlagRule.from_config(app.config)
    floor = AVAILABILITY_FLOOR
    with Session(engine) as session:
        city = session.scalar(sa.select(Region.id).where(Region.code == "370100"))
        busiest = session.execute(
            sa.select(AgreementLine.material_id, sa.func.count())
            .group_by(AgreementLine.material_id)
            .order_by(sa.func.count().desc(), AgreementLine.material_id)
            .limit(1)
        ).first()
        count = session.scalar(sa.text("SELECT count(*) FROM materials")) or 0
        middle = session.scalar(
            sa.text("SELECT code FROM materials ORDER BY code LIMIT 1 OFFSET :n"), {"n": count // 2}
        )
    material = busiest[0] if busiest else 1
    params = {
        "today": rule.today,
        "after": "",
        "hours": 72,
        "verified_before": rule.verified_before,
        "reported_before": rule.reported_before,
        "reported_before_at": local_day_start(rule.reported_before),
    }

    def query(**filters) -> Callable[[], str]:
        after = filters.pop("after", None)

        def run() -> str:
            with app.app_context(), Session(engine) as session:
                page = availability_page(
                    session, admin, AvailabilityFilter(**filters), rule=rule, after=after
                )
                return key_rows(page)

        return run

    def lines() -> str:
        with app.app_context(), Session(engine) as session:
            page = material_line_page(session, admin, material, AvailabilityFilter(), rule=rule)
            return key_rows(page)

    def floor_of(region: bool) -> str:
        return floor.format(
            **{
                "with": AVAILABILITY_REGION if region else "WITH",
                "wh": AVAILABILITY_WH if region else "",
                "ag": AVAILABILITY_AG if region else "",
            }
        )

    after = middle
    everywhere, in_city = floor_of(False), floor_of(True)
    middle_params = {**params, "after": middle or ""}
    city_params = {**params, "region": city, "hours": 48}
    return [
        Scenario("availability_page", query(), everywhere, params, explain=True),
        Scenario(
            "availability_page region=济南市 hours=48",
            query(region_id=city, hours=48),
            in_city,
            city_params,
            explain=True,
        ),
        Scenario(
            "availability_page (a page in the middle)",
            query(after=after),
            everywhere,
            middle_params,
            explain=True,
        ),
        Scenario(
            "GET /availability", get("/availability", query()), everywhere, params, target="150"
        ),
        Scenario(
            "GET /availability?region=济南市&hours=48",
            get(
                f"/availability?{urlencode({'region': city, 'hours': 48})}",
                query(region_id=city, hours=48),
            ),
            in_city,
            city_params,
            target="150",
        ),
        Scenario(
            "GET /availability (a page in the middle)",
            get(f"/availability?{urlencode({'after': after})}", query(after=after)),
            everywhere,
            middle_params,
            target="150",
        ),
        Scenario(
            f"availability lines of material {material} (the most agreed)",
            lines,
            explain=True,
        ),
        Scenario(
            f"GET /availability/materials/{material} (warehouses and lines)",
            get(f"/availability/materials/{material}", lines),
            target="150",
        ),
    ]


def stock_scenarios(app, engine: sa.Engine, get) -> list[Scenario]:
    """The stock ledger's read side, its verification, and posting a receipt."""
    import random

    from bench.generate import heavy_material
    from reserve.auth.actor import Actor
    from reserve.auth.models import Role
    from reserve.db import UTCDateTime, local_today, utcnow
    from reserve.extensions import db
    from reserve.receipts.service import (
        ReceiptData,
        ReceiptLineData,
        create_receipt,
        post_receipt,
    )
    from reserve.stock import ledger
    from reserve.stock.guard import ledger_writes
    from reserve.stock.queries import (
        CardFilter,
        StockFilter,
        fefo_sources,
        find_batches,
        material_balance_page,
        material_summary,
        stock_by_material,
        stock_card,
        stock_pivot,
    )
    from reserve.stock.service import move_stock

    admin = Actor.system()  # every role, Role.ADMIN among them: sees every warehouse
    today = local_today()
    with engine.connect() as conn:
        heavy, heavy_code = heavy_material(conn)
        heavy_ids = conn.scalars(
            sa.text("SELECT id FROM stock_movements WHERE material_id = :m ORDER BY id"),
            {"m": heavy},
        ).all()
        movements = conn.scalar(sa.text("SELECT count(*) FROM stock_movements"))
        busiest = conn.scalar(
            sa.text(
                "SELECT warehouse_id FROM stock_balances WHERE qty > 0 "
                "GROUP BY warehouse_id ORDER BY count(*) DESC, warehouse_id LIMIT 1"
            )
        )
        stocked = conn.scalars(
            sa.text(
                "SELECT DISTINCT material_id FROM stock_balances "
                "WHERE qty - reserved > 0 ORDER BY material_id"
            )
        ).all()
        receiving_into = conn.scalar(sa.text("SELECT min(id) FROM warehouses"))
        busiest_material, busiest_rows, busiest_days = conn.execute(
            sa.text(
                "SELECT sb.material_id, count(*), min(m.near_expiry_days) FROM stock_balances sb "
                "JOIN materials m ON m.id = sb.material_id WHERE sb.qty > 0 "
                "GROUP BY sb.material_id ORDER BY count(*) DESC, sb.material_id LIMIT 1"
            )
        ).one()
        shared_batch_no = conn.scalar(
            sa.text(
                "SELECT batch_no FROM batches GROUP BY batch_no "
                "ORDER BY count(*) DESC, batch_no LIMIT 1"
            )
        )
        receipt_materials = conn.execute(
            sa.text(
                "SELECT id, reference_price FROM materials "
                "WHERE is_active AND tracking = 'batch' AND id <> :heavy ORDER BY code"
            ),
            {"heavy": heavy},
        ).all()
        grid = conn.scalars(
            sa.text(
                "SELECT id FROM locations WHERE warehouse_id = :w AND is_active "
                "AND NOT is_receiving ORDER BY id"
            ),
            {"w": receiving_into},
        ).all()
        sample_balance = conn.execute(
            sa.text(
                "SELECT material_id, batch_id, location_id, warehouse_id FROM stock_balances "
                "WHERE warehouse_id = :w ORDER BY id LIMIT 1"
            ),
            {"w": receiving_into},
        ).one()
        movable = conn.execute(  # a batch-tracked balance with a unit to move
            sa.text(
                "SELECT b.batch_id, b.location_id, b.warehouse_id FROM stock_balances b "
                "JOIN materials m ON m.id = b.material_id "
                "WHERE b.warehouse_id = :w AND m.tracking = 'batch' AND b.qty - b.reserved > 0 "
                "ORDER BY b.id LIMIT 1"
            ),
            {"w": receiving_into},
        ).one()
    print(
        f"  heavy material: id {heavy}, code {heavy_code}, {len(heavy_ids):,} movements; "
        f"{movements:,} movements in all",
        file=sys.stderr,
    )
    keeper = Actor(
        user_id=None,
        username="keeper",
        roles=frozenset({Role.KEEPER}),
        warehouse_ids=frozenset({busiest}),
    )
    rng = random.Random(1)

    def page_of(actor: Actor, f: StockFilter) -> Callable[[], str]:
        def run() -> str:
            with Session(engine) as session:
                return key_rows(stock_by_material(session, actor, f))

        return run

    def stock_floor(scope: str, category: bool, params: dict) -> Callable[[], str]:
        stmt = sa.text(
            STOCK_FLOOR.format(
                scope=STOCK_SCOPE[scope],
                category=" AND c.code LIKE :category" if category else "",
            )
        )

        def run() -> str:
            with engine.connect() as conn:
                n = len(conn.execute(stmt, params).all())
            return f"{min(n, 50)}{'+' if n > 50 else ''}"

        return run

    def card(before: int | None) -> Callable[[], str]:
        def run() -> str:
            with Session(engine) as session:
                page = stock_card(session, admin, CardFilter(material_id=heavy), before=before)
                return str(len(page.items))

        return run

    def card_floor(before: int | None) -> Callable[[], str]:
        stmt = sa.text(CARD_FLOOR)
        params = {"material": heavy, "before": before or (heavy_ids[-1] + 1)}

        def run() -> str:
            with engine.connect() as conn:
                return str(len(conn.execute(stmt, params).all()))

        return run

    def verify() -> str:
        with Session(engine) as session:
            return f"{len(ledger.verify(session))} of {movements:,}"

    def verify_floor() -> str:
        with engine.connect() as conn:
            return f"{conn.scalar(sa.text(VERIFY_FLOOR))} of {movements:,}"

    fefo_ids = sorted(rng.sample(list(stocked), min(FEFO_MATERIALS, len(stocked))))

    def fefo() -> str:
        with Session(engine) as session:
            return str(sum(len(fefo_sources(session, material_id=m)) for m in fefo_ids))

    fefo_stmt = sa.text(FEFO_FLOOR).bindparams(sa.bindparam("materials", expanding=True))

    def fefo_floor() -> str:
        with engine.connect() as conn:
            rows = conn.execute(fefo_stmt, {"materials": fefo_ids, "today": today}).all()
            return str(len(rows))

    lines = rng.sample(list(receipt_materials), min(RECEIPT_LINES, len(receipt_materials)))
    nonce = time.strftime("%y%m%d%H%M%S")
    receipts = iter(range(1, 10**6))

    def receipt_data() -> ReceiptData:
        n = next(receipts)
        return ReceiptData(
            warehouse_id=receiving_into,
            source="purchase",
            document_date=today,
            supplier="bench",
            lines=tuple(
                ReceiptLineData(
                    material_id=material.id,
                    batch_no=f"B{nonce}{n:05d}",  # new batches every time
                    qty=rng.randint(10, 500),
                    location_id=rng.choice(grid) if i % 2 else None,  # else receiving area
                    production_date=today - timedelta(days=rng.randint(5, 60)),
                    expiry_reason="bench",  # kept only if a short-lived batch is near expiry
                    unit_cost=Decimal(str(material.reference_price))
                    if material.reference_price
                    else None,
                )
                for i, material in enumerate(lines)
            ),
        )

    def receipt() -> str:
        data = receipt_data()
        with app.app_context():  # rolled back: a kept bench database does not drift
            session = db.session()
            try:
                posted = create_receipt(session, data=data, actor=admin)
                post_receipt(session, receipt_id=posted.id, actor=admin)
                session.flush()
                return f"{len(posted.lines)} lines"
            finally:
                session.rollback()
                db.session.remove()

    def draft():  # untimed: a draft in an open transaction, for the posting alone
        context = app.app_context()
        context.push()
        session = db.session()
        data = receipt_data()
        return context, session, create_receipt(session, data=data, actor=admin).id

    def post_only(prepared) -> str:
        context, session, receipt_id = prepared
        try:
            posted = post_receipt(session, receipt_id=receipt_id, actor=admin)
            session.flush()
            return f"{len(posted.lines)} lines"
        finally:
            session.rollback()
            db.session.remove()
            context.pop()

    move_to = next(loc for loc in grid if loc != movable.location_id)

    def move() -> str:
        with app.app_context():  # rolled back like the receipt
            session = db.session()
            try:
                moved = move_stock(
                    session,
                    warehouse_id=movable.warehouse_id,
                    from_location_id=movable.location_id,
                    to_location_id=move_to,
                    batch_id=movable.batch_id,
                    qty=1,
                    actor=admin,
                )
                session.flush()
                return f"{moved.qty} unit"
            finally:
                session.rollback()
                db.session.remove()

    def move_floor() -> str:  # the two movements and the two balance updates, raw
        params = {
            "posted_at": utcnow(),
            "day": today,
            "material": sample_balance.material_id,
            "batch": sample_balance.batch_id,
            "location": sample_balance.location_id,
            "warehouse": sample_balance.warehouse_id,
            "qty": 1,
        }
        with engine.connect() as conn, ledger_writes():
            transaction_ = conn.begin()
            for _ in range(2):
                conn.execute(insert_stmt, params)
                conn.execute(balance_stmt, params)
            transaction_.rollback()
        return "1 unit"

    balance_stmt = sa.text(
        "UPDATE stock_balances SET qty = qty + :qty WHERE location_id = :location "
        "AND batch_id = :batch AND qty - reserved >= 0"
    )
    insert_stmt = sa.text(MOVEMENT_INSERT).bindparams(sa.bindparam("posted_at", type_=UTCDateTime))

    def receipt_floor() -> str:
        params = {
            "posted_at": utcnow(),
            "day": today,
            "material": sample_balance.material_id,
            "batch": sample_balance.batch_id,
            "location": sample_balance.location_id,
            "warehouse": sample_balance.warehouse_id,
            "qty": 1,
        }
        # the raw-SQL floor writes movements past the ledger's runtime guard, deliberately
        # (and rolls back)
        with engine.connect() as conn, ledger_writes():
            transaction_ = conn.begin()
            for _ in lines:
                conn.execute(insert_stmt, params)
            transaction_.rollback()
        return f"{len(lines)} lines"

    def material_page() -> str:
        with Session(engine) as session:
            page = material_balance_page(
                session, admin, busiest_material, near_expiry_days=busiest_days
            )
            material_summary(session, admin, busiest_material)
            return key_rows(page)

    def batch_search() -> str:
        with Session(engine) as session:
            return str(len(find_batches(session, admin, shared_batch_no)))

    def batch_floor() -> str:
        with engine.connect() as conn:
            prefix = (
                "b.batch_no >= :b AND b.batch_no < :b || '~'"  # SQLite: a range on the index
                if conn.dialect.name == "sqlite"
                else "b.batch_no LIKE :b || '%'"
            )
            stmt = sa.text(BATCH_FLOOR.format(prefix=prefix))
            return str(len(conn.execute(stmt, {"b": shared_batch_no}).all()))

    def pivot() -> str:
        with Session(engine) as session:
            page = stock_pivot(session, admin, StockFilter())
            more = "+" if page.next_key else ""
            return f"{len(page.rows)}{more}×{len(page.warehouses)}"

    def pivot_floor() -> str:
        with engine.connect() as conn:
            rows = conn.execute(sa.text(PIVOT_FLOOR), {"today": today}).all()
        shown: dict[int, None] = {}  # the rows come in code order: the first 50 materials
        columns = set()
        for row in rows:
            if len(shown) == 50 and row[0] not in shown:
                break
            shown[row[0]] = None
            columns.add(row[5])
        more = len({row[0] for row in rows}) > 50
        return f"{len(shown)}{'+' if more else ''}×{len(columns)}"

    horizon = today + timedelta(days=90)
    expiring = StockFilter(category_code=FILTER_CATEGORY, expiring_within_days=90)
    middle = heavy_ids[len(heavy_ids) // 2] if heavy_ids else None
    return [
        Scenario(
            "stock page (all warehouses, 50 materials)",
            page_of(admin, StockFilter()),
            floor_run=stock_floor("all", False, {}),
            explain=True,
            target="150",
        ),
        Scenario(
            "GET /stock (admin)",
            get("/stock", page_of(admin, StockFilter())),
            floor_run=stock_floor("all", False, {}),
            target="150",
        ),
        Scenario(
            f"stock page category={FILTER_CATEGORY}, expiring ≤ 90 days",
            page_of(admin, expiring),
            floor_run=stock_floor(
                "expiring", True, {"horizon": horizon, "category": FILTER_CATEGORY[:3] + "%"}
            ),
            explain=True,
            target="150",
        ),
        Scenario(
            f"stock page (keeper, warehouse {busiest})",
            page_of(keeper, StockFilter()),
            floor_run=stock_floor("keeper", False, {"warehouse": busiest}),
            explain=True,
            target="150",
        ),
        Scenario(
            f"material stock page (busiest, {busiest_rows:,} balances), one page + totals",
            material_page,
            explain=True,
            target="–",
        ),
        Scenario(
            f"GET /stock/materials/{busiest_material}",
            get(f"/stock/materials/{busiest_material}", material_page),
        ),
        Scenario(
            f"batch search {shared_batch_no} (prefix)",
            batch_search,
            floor_run=batch_floor,
            explain=True,
        ),
        Scenario(
            f"GET /stock?batch={shared_batch_no}",
            get(f"/stock?batch={shared_batch_no}", batch_search),
        ),
        Scenario(
            "pivot (all warehouses, 50 materials)",
            pivot,
            floor_run=pivot_floor,
            explain=True,
            target="150",
        ),
        Scenario(
            "GET /stock/pivot (admin)",
            get("/stock/pivot", pivot),
            floor_run=pivot_floor,
            target="150",
        ),
        Scenario(
            f"stock card (heavy material {heavy_code}) first page",
            card(None),
            floor_run=card_floor(None),
            explain=True,
            target="100",
        ),
        Scenario(
            f"stock card (heavy material) before={middle}",
            card(middle),
            floor_run=card_floor(middle),
            explain=True,
            target="100",
        ),
        Scenario(
            f"GET /stock/materials/{heavy}/card",
            get(f"/stock/materials/{heavy}/card", card(None)),
            floor_run=card_floor(None),
            target="100",
        ),
        Scenario(
            f"fefo {len(fefo_ids)} materials (sum)",
            fefo,
            floor_run=fefo_floor,
            explain=True,
            target="300",
        ),
        Scenario(
            "stock verify (3 runs, no warm-up)",
            verify,
            floor_run=verify_floor,
            repeat=3,
            warm_up=False,
            explain=True,
            target="30000",
        ),
        Scenario(
            f"receipt {len(lines)} lines (create + post)",
            receipt,
            floor_run=receipt_floor,
        ),
        Scenario("move 1 unit (move_stock)", move, floor_run=move_floor, target="5"),
        Scenario(
            f"receipt {len(lines)} lines (post)",
            post_only,
            floor_run=receipt_floor,
            prepare=draft,
        ),
    ]


# -- driver ----------------------------------------------------------------------------------


def print_table(results: list[Result], scale: str, database: str, out=print) -> None:
    out(
        "| scenario | scale | database | median ms | p95 ms | floor median ms | × floor "
        "| rows | target ms |"
    )
    out("|---|---|---|---:|---:|---:|---:|---:|---:|")
    for r in results:
        floor = f"{r.floor:.2f}" if r.floor is not None else "–"
        ratio = f"{r.median / r.floor:.1f}" if r.floor else "–"
        out(
            f"| {r.scenario} | {scale} | {database} | {r.median:.2f} | {r.p95:.2f} | {floor} "
            f"| {ratio} | {r.rows} | {r.target} |"
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
    parser.add_argument(
        "--only", help="run the scenarios whose name contains this text (or one of a,b or A|B)"
    )
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
        parts = re.split(r"[|,]", args.only)
        scenarios = [s for s in scenarios if any(part in s.name for part in parts)]
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
