"""A bounded load test: simulated users against gunicorn (4 workers) on a generated database.

    .venv/bin/python -m bench.load \
        --database-url postgresql://postgres@127.0.0.1:5432/reserve_bench_ops \
        [--users 50] [--racers 8] [--duration 120] [--port 8765]

The database must hold a generated city (``bench.generate --scale city``). The script starts
gunicorn on 127.0.0.1 (only there: every request goes to that address), signs the simulated
users in, and runs them for ``--duration`` seconds, then stops them and gunicorn (a hard
deadline of duration + 60 s ends everything). Users are threads in a few client processes
(a small multiprocess client, no extra dependency), each with its own session cookie:

- ``--racers`` keepers of one warehouse move stock back and forth between the same few
  balances (2 batches × 2 locations) with little think time, so their moves collide on the
  ledger's conditional decrement: a move either commits (302) or is refused with a message
  (200, the form again: not enough stock, or the source no longer offered);
- the other users mix the stock page (all warehouses, a category, a warehouse, a search),
  stock cards (the heavy material and random stocked ones), material searches (Chinese,
  pinyin initials, code prefix), receipts posted through the API with a keeper's token
  (``POST /api/v1/receipts`` with ``"post": true``) and moves of random balances, with 0.5–1.5 s
  of think time.

After the run: requests/s, p50/p95/p99 per kind (client-side wall time), the error count (any
5xx, connection error, or a status the kind never answers), the oversell checks (no negative
balance, qty >= reserved everywhere) and ``ledger.verify`` over all movements. Markdown on
stdout; exit 1 on any error, oversell or ledger difference."""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing
import os
import random
import re
import secrets
import signal
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

HOST = "127.0.0.1"  # the only address this script talks to
PASSWORD = "bench-password"  # bench.generate's
SEARCHES = ("帐篷", "zp", "1010101", "水", "发电", "sj", "550ml", "救生")
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
REFUSED = re.compile(r"alert-danger|invalid-feedback")
SPAWN = multiprocessing.get_context("spawn")
SIGN_IN_SECONDS = 90  # 50 scrypt logins on a shared machine, before the measured window


# Plan: who does what, read from the database before the run --------------------------------


@dataclass
class Plan:
    hot_warehouse: int
    hot_batches: list[tuple[int, int]]  # (material_id, batch_id)
    hot_locations: list[int]  # two locations of the hot warehouse
    racer_names: list[str]  # keepers of the hot warehouse
    keepers: list[tuple[str, int]]  # (username, a warehouse they keep) for receipts and moves
    card_materials: list[int]
    heavy_material: int
    categories: list[str]
    warehouses: list[int]
    receipt_materials: list[str]  # codes of batch-tracked materials
    moves: dict[int, list[tuple[int, int, int, int]]] = field(default_factory=dict)
    # warehouse → (material, batch, from location, to location) of batch-tracked stock
    tokens: dict[str, str] = field(default_factory=dict)  # keeper username → API token


def make_plan(url: str, racers: int, seed: int) -> Plan:
    rng = random.Random(seed)
    engine = sa.create_engine(url)
    with engine.connect() as conn:

        def rows(sql: str, **params):
            return conn.execute(sa.text(sql), params).all()

        # The hot warehouse: kept by the most keepers, with batch-tracked stock of 10–500.
        hot = rows(
            """SELECT b.warehouse_id, count(DISTINCT uw.user_id) AS keepers
               FROM stock_balances b JOIN materials m ON m.id = b.material_id
               JOIN user_warehouses uw ON uw.warehouse_id = b.warehouse_id
               WHERE m.tracking = 'batch' AND b.qty - b.reserved BETWEEN 10 AND 500
               GROUP BY b.warehouse_id ORDER BY keepers DESC, b.warehouse_id LIMIT 1"""
        )[0][0]
        hot_balances = rows(
            """SELECT b.material_id, b.batch_id, b.location_id FROM stock_balances b
               JOIN materials m ON m.id = b.material_id JOIN locations l ON l.id = b.location_id
               WHERE b.warehouse_id = :w AND m.tracking = 'batch' AND NOT l.is_receiving
                 AND b.qty - b.reserved BETWEEN 10 AND 60 ORDER BY b.id LIMIT 2""",
            w=hot,
        )
        first = hot_balances[0][2]
        other = rows(
            """SELECT id FROM locations WHERE warehouse_id = :w AND id <> :l AND is_active
               AND NOT is_receiving ORDER BY id LIMIT 1""",
            w=hot,
            l=first,
        )[0][0]
        hot_keepers = [
            r[0]
            for r in rows(
                """SELECT u.username FROM users u JOIN user_warehouses uw ON uw.user_id = u.id
                   JOIN user_roles r ON r.user_id = u.id AND r.role = 'keeper'
                   WHERE uw.warehouse_id = :w ORDER BY u.username""",
                w=hot,
            )
        ]
        keepers = [
            (r[0], r[1])
            for r in rows(
                """SELECT u.username, min(uw.warehouse_id) FROM users u
                   JOIN user_warehouses uw ON uw.user_id = u.id
                   JOIN user_roles r ON r.user_id = u.id AND r.role = 'keeper'
                   GROUP BY u.username ORDER BY u.username"""
            )
        ]
        moves: dict[int, list] = defaultdict(list)
        for material, batch, location, warehouse in rows(
            """SELECT b.material_id, b.batch_id, b.location_id, b.warehouse_id
               FROM stock_balances b JOIN materials m ON m.id = b.material_id
               WHERE m.tracking = 'batch' AND b.qty - b.reserved >= 5 AND b.warehouse_id <> :w
               ORDER BY b.id""",
            w=hot,
        ):
            moves[warehouse].append((material, batch, location))
        locations = defaultdict(list)
        for location, warehouse in rows(
            "SELECT id, warehouse_id FROM locations WHERE is_active AND NOT is_receiving"
        ):
            locations[warehouse].append(location)
        plan = Plan(
            hot_warehouse=hot,
            hot_batches=[(m, b) for m, b, _l in hot_balances],
            hot_locations=[first, other],
            racer_names=[hot_keepers[i % len(hot_keepers)] for i in range(racers)],
            keepers=[k for k in keepers if k[1] != hot],
            card_materials=[
                r[0]
                for r in rows(
                    "SELECT DISTINCT material_id FROM stock_balances WHERE qty > 0 "
                    "ORDER BY material_id"
                )
            ],
            heavy_material=rows(
                "SELECT material_id FROM stock_movements GROUP BY material_id "
                "ORDER BY count(*) DESC LIMIT 1"
            )[0][0],
            categories=[r[0] for r in rows("SELECT code FROM categories WHERE level = 1")],
            warehouses=[r[0] for r in rows("SELECT id FROM warehouses ORDER BY id")],
            receipt_materials=[
                r[0]
                for r in rows(
                    "SELECT code FROM materials WHERE tracking = 'batch' AND is_active "
                    "ORDER BY code"
                )
            ],
        )
        for warehouse, stocked in moves.items():
            for material, batch, location in rng.sample(stocked, min(40, len(stocked))):
                targets = [x for x in locations[warehouse] if x != location]
                if targets:
                    plan.moves.setdefault(warehouse, []).append(
                        (material, batch, location, rng.choice(targets))
                    )
    engine.dispose()
    plan.keepers = [k for k in plan.keepers if k[1] in plan.moves]
    return plan


def issue_tokens(url: str, plan: Plan) -> None:
    """An API token for each keeper that posts receipts, created through the service."""
    from reserve import create_app
    from reserve.auth.actor import Actor
    from reserve.auth.models import User
    from reserve.auth.service import create_api_token
    from reserve.db import transaction

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "TESTING": False})
    with app.app_context(), transaction() as session:
        for username, _warehouse in plan.keepers:
            user = session.scalar(sa.select(User).where(User.username == username))
            _token, secret = create_api_token(
                session, user_id=user.id, name="bench-load", actor=Actor.for_user(user)
            )
            plan.tokens[username] = secret
    with app.app_context():
        from reserve.extensions import db

        db.engine.dispose()


# The client ----------------------------------------------------------------------------------


class Client:
    """One simulated user: its own cookies, a new connection per request (gunicorn's sync
    workers close after each response)."""

    def __init__(self, port: int):
        self.port = port
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, body=None, headers=None, location=False):
        conn = http.client.HTTPConnection(HOST, self.port, timeout=60)
        try:
            headers = dict(headers or {})
            if self.cookies:
                headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
            if isinstance(body, dict):
                body = urllib.parse.urlencode(body)
                headers["Content-Type"] = "application/x-www-form-urlencoded"
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            data = response.read()
            for name, value in response.getheaders():
                if name.lower() == "set-cookie":
                    key, _, rest = value.partition("=")
                    self.cookies[key.strip()] = rest.split(";", 1)[0]
            if location:
                return response.status, data, response.getheader("Location") or ""
            return response.status, data
        finally:
            conn.close()

    def login(self, username: str) -> None:
        _status, page = self.request("GET", "/login")
        token = CSRF.search(page.decode()).group(1)
        status, _ = self.request(
            "POST",
            "/login",
            {"csrf_token": token, "username": username, "password": PASSWORD},
        )
        if status != 302:
            raise RuntimeError(f"login of {username} answered {status}")

    def csrf(self, path: str) -> str:
        _status, page = self.request("GET", path)
        return CSRF.search(page.decode()).group(1)


@dataclass
class Sample:
    kind: str
    ms: float
    status: int
    outcome: str  # ok, refused, error …
    at: float  # wall-clock start


def timed(samples: list, kind: str, call, expected: dict[int, str]):
    """Time one request; classify it; return the response (None on a connection error)."""
    at, start = time.time(), time.perf_counter()
    try:
        response = call()
    except OSError as exc:  # connection refused, reset, timeout
        ms = (time.perf_counter() - start) * 1000
        samples.append(Sample(kind, ms, 0, f"error {type(exc).__name__}", at))
        return None
    ms = (time.perf_counter() - start) * 1000
    status, body = response[0], response[1]
    outcome = expected.get(status, f"error {status}")
    if outcome == "ok-or-refused":  # a form answered again: refused only if it says why
        outcome = "refused" if REFUSED.search(body.decode(errors="replace")) else "error form"
    samples.append(Sample(kind, ms, status, outcome, at))
    return response


def move(client: Client, samples: list, kind: str, form: dict) -> None:
    """POST the move form, then open the page it lands on (as a browser does: it shows, and
    so takes out of the session, the flash message)."""
    response = timed(
        samples,
        kind,
        lambda: client.request("POST", "/stock/moves/new", form, location=True),
        {302: "ok", 200: "ok-or-refused"},
    )
    if response is not None and response[0] == 302:
        path = (
            urllib.parse.urlsplit(response[2]).path + "?" + urllib.parse.urlsplit(response[2]).query
        )
        timed(
            samples,
            "material stock page (after a move)",
            lambda: client.request("GET", path),
            {200: "ok"},
        )


def move_form(token: str, warehouse, material, batch, source, target, qty: int) -> dict:
    return {
        "csrf_token": token,
        "warehouse_id": warehouse,
        "material_id": material,
        "batch_id": batch,
        "from_location_id": source,
        "to_location_id": target,
        "qty": qty,
        "document_date": date.today().isoformat(),
        "note": "bench load",
    }


def signed_in(port: int, username: str, samples: list, start_at: float):
    """A client signed in (and the move form's CSRF token), then wait for the common start."""
    client = Client(port)
    try:
        client.login(username)
        token = client.csrf("/stock/moves/new")
    except (OSError, RuntimeError, AttributeError) as exc:
        samples.append(Sample("sign in", 0, 0, f"error {exc}", time.time()))
        return None, None
    time.sleep(max(0.0, start_at - time.time()))
    return client, token


def racer(
    port: int, plan: Plan, username: str, seed: int, start_at: float, until: float, samples: list
) -> None:
    rng = random.Random(seed)
    client, token = signed_in(port, username, samples, start_at)
    if client is None:
        return
    a, b = plan.hot_locations
    while time.time() < until:
        material, batch = rng.choice(plan.hot_batches)
        source, target = (a, b) if rng.random() < 0.5 else (b, a)
        form = move_form(
            token, plan.hot_warehouse, material, batch, source, target, rng.randint(1, 8)
        )
        move(client, samples, "move (racing)", form)
        time.sleep(rng.uniform(0.02, 0.15))


def browser(
    port: int, plan: Plan, index: int, seed: int, start_at: float, until: float, samples: list
) -> None:
    rng = random.Random(seed)
    keeper, warehouse = plan.keepers[index % len(plan.keepers)]
    is_keeper = index % 3 == 0
    username = keeper if is_keeper else ("admin", "dispatcher", "viewer")[index % 3 - 1]
    client, token = signed_in(port, username, samples, start_at)
    if client is None:
        return
    api_client = Client(port)  # token only, no session cookie
    api = {"Authorization": f"Bearer {plan.tokens[keeper]}", "Content-Type": "application/json"}
    counter = 0
    while time.time() < until:
        roll = rng.random()
        if is_keeper and roll < 0.15:
            counter += 1
            body = {
                "warehouse_id": warehouse,
                "source": "purchase",
                "document_date": date.today().isoformat(),
                "supplier": "压测供应商",
                "post": True,
                "lines": [
                    {
                        "material_code": rng.choice(plan.receipt_materials),
                        "batch_no": f"LOAD-{seed}-{counter}-{n}",
                        "qty": rng.randint(1, 100),
                        "location_code": "RECV",
                    }
                    for n in range(rng.randint(1, 5))
                ],
            }
            timed(
                samples,
                "receipt posted (API)",
                lambda body=body: api_client.request(
                    "POST", "/api/v1/receipts", json.dumps(body), api
                ),
                {201: "ok"},
            )
        elif is_keeper and roll < 0.30:
            material, batch, source, target = rng.choice(plan.moves[warehouse])
            form = move_form(token, warehouse, material, batch, source, target, 1)
            move(client, samples, "move", form)
        elif roll < 0.55:
            query = rng.choice(
                (
                    "",
                    f"?category={rng.choice(plan.categories)}",
                    f"?warehouse={rng.choice(plan.warehouses)}",
                    "?expiring=90",
                    "?q=" + urllib.parse.quote(rng.choice(SEARCHES)),
                )
            )
            path = "/stock" + query
            timed(samples, "stock page", lambda p=path: client.request("GET", p), {200: "ok"})
        elif roll < 0.78:
            material = (
                plan.heavy_material if rng.random() < 0.3 else rng.choice(plan.card_materials)
            )
            path = f"/stock/materials/{material}/card"
            timed(samples, "stock card", lambda p=path: client.request("GET", p), {200: "ok"})
        else:
            path = "/catalog/materials?q=" + urllib.parse.quote(rng.choice(SEARCHES))
            timed(samples, "search", lambda p=path: client.request("GET", p), {200: "ok"})
        time.sleep(rng.uniform(0.5, 1.5))


def client_process(
    port: int, plan: Plan, users: list[tuple[str, int]], start_at: float, until: float, queue
):
    """Run some of the users as threads; hand back their samples."""
    samples: list[Sample] = []
    threads = []
    for role, index in users:
        seed = 1000 + index
        if role == "racer":
            target = racer
            args = (port, plan, plan.racer_names[index], seed, start_at, until, samples)
        else:
            target, args = browser, (port, plan, index, seed, start_at, until, samples)
        thread = threading.Thread(target=target, args=args, daemon=True)
        thread.start()
        threads.append(thread)
    for thread in threads:
        thread.join(timeout=max(0, until - time.time()) + 45)
    queue.put([(s.kind, s.ms, s.status, s.outcome, s.at) for s in list(samples)])


# Run, then check the books ------------------------------------------------------------------


def start_gunicorn(
    url: str, port: int, workers: int, *, secret_key: str | None = None
) -> subprocess.Popen:
    env = dict(
        os.environ,
        DATABASE_URL=url,
        RESERVE_ENV="production",
        SECRET_KEY=secret_key or secrets.token_hex(32),
    )
    process = subprocess.Popen(
        [
            str(Path(sys.executable).with_name("gunicorn")),
            "--workers",
            str(workers),
            "--bind",
            f"{HOST}:{port}",
            "--log-level",
            "warning",
            "wsgi:app",
        ],
        cwd=ROOT,
        env=env,
        start_new_session=True,
    )
    deadline, answered = time.time() + 90, 0
    while time.time() < deadline:
        try:
            if Client(port).request("GET", "/healthz")[0] == 200:
                answered += 1
                if answered >= 4 * workers:  # every worker has booted (round-robin-ish)
                    return process
        except OSError:
            time.sleep(0.3)
    process.kill()
    raise RuntimeError("gunicorn did not start")


def server_pids(gunicorn: subprocess.Popen, url: str) -> list[int]:
    """gunicorn's workers and the PostgreSQL backends serving this database (same machine)."""
    workers = []
    for task in Path(f"/proc/{gunicorn.pid}/task").iterdir():
        workers += [int(p) for p in (task / "children").read_text().split()]
    backends = []
    if url.startswith("postgresql"):
        engine = sa.create_engine(url)
        with engine.connect() as conn:
            backends = list(
                conn.execute(
                    sa.text(
                        "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                        "AND pid <> pg_backend_pid()"
                    )
                ).scalars()
            )
        engine.dispose()
    return [("gunicorn", pid) for pid in workers] + [("postgres", pid) for pid in backends]


def cpu_seconds(pids: list[tuple[str, int]]) -> dict[tuple[str, int], float]:
    """User + system CPU time of each process so far (/proc/<pid>/stat, fields 14 and 15)."""
    tick = os.sysconf("SC_CLK_TCK")
    out = {}
    for who, pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        out[(who, pid)] = (int(fields[11]) + int(fields[12])) / tick
    return out


def measure_cpu(gunicorn: subprocess.Popen, url: str, start_at: float, until: float) -> dict:
    """CPU the server side spent inside the measured window: gunicorn workers, PostgreSQL."""
    time.sleep(max(0.0, start_at - time.time()))
    first = cpu_seconds(server_pids(gunicorn, url))
    time.sleep(max(0.0, until - time.time()))
    last = cpu_seconds(server_pids(gunicorn, url))
    spent: dict[str, float] = defaultdict(float)
    for key, seconds in last.items():
        spent[key[0]] += seconds - first.get(key, 0.0)
    return dict(spent)


def stop_gunicorn(process: subprocess.Popen) -> None:
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def books(url: str) -> dict:
    from reserve import create_app
    from reserve.extensions import db
    from reserve.stock.ledger import verify

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "TESTING": False})
    with app.app_context():
        session = db.session
        scalar = session.scalar
        started = time.perf_counter()
        found = verify(session)
        result = {
            "negative": scalar(sa.text("SELECT count(*) FROM stock_balances WHERE qty < 0")),
            "over_reserved": scalar(
                sa.text("SELECT count(*) FROM stock_balances WHERE reserved > qty")
            ),
            "movements": scalar(sa.text("SELECT count(*) FROM stock_movements")),
            "receipts": scalar(sa.text("SELECT count(*) FROM receipts WHERE status='posted'")),
            "moves": scalar(sa.text("SELECT count(*) FROM stock_moves")),
            "discrepancies": len(found),
            "verify_s": time.perf_counter() - started,
        }
        db.engine.dispose()
    return result


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def report(samples: list[tuple], before: dict, after: dict, args, cpu: dict) -> bool:
    timed_samples = [s for s in samples if s[0] != "sign in"]
    seconds = max(s[4] + s[1] / 1000 for s in timed_samples) - min(s[4] for s in timed_samples)
    by_kind: dict[str, list[tuple]] = defaultdict(list)
    for sample in samples:
        by_kind[sample[0]].append(sample)
    errors = [s for s in samples if s[3].startswith("error")]  # 5xx, resets, unexpected
    load = " / ".join(f"{x:.1f}" for x in os.getloadavg())
    print(
        f"{os.cpu_count()} CPUs, load average {args.load_start:.1f} before the run, {load} "
        "(1/5/15 min) after it; "
        f"{args.users} users ({args.racers} racing), {seconds:.0f} s, gunicorn {args.workers} "
        f"workers, {len(timed_samples)} requests, {len(timed_samples) / seconds:.1f} requests/s, "
        f"{len(errors)} errors\n"
    )
    print("| kind | requests | ok | refused | errors | p50 ms | p95 ms | p99 ms | max ms |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for kind in sorted(by_kind):
        rows = by_kind[kind]
        ms = [r[1] for r in rows]
        count = {o: sum(1 for r in rows if r[3].startswith(o)) for o in ("ok", "refused", "error")}
        print(
            f"| {kind} | {len(rows)} | {count['ok']} | {count['refused']} | {count['error']} | "
            f"{statistics.median(ms):.1f} | {percentile(ms, 95):.1f} | {percentile(ms, 99):.1f} "
            f"| {max(ms):.1f} |"
        )
    for (kind, outcome), n in sorted(Counter((s[0], s[3]) for s in errors).items())[:10]:
        print(f"\nerrors: {n} × {kind}: {outcome}")
    busy = sum(cpu.values())
    per_request = busy / max(1, len(timed_samples)) * 1000  # every request began in the window
    print(
        f"\nServer CPU in the window: gunicorn {cpu.get('gunicorn', 0):.1f} s + PostgreSQL "
        f"{cpu.get('postgres', 0):.1f} s = {busy:.1f} CPU s for {len(timed_samples)} requests: "
        f"{per_request:.1f} CPU ms a request, ≈ {os.cpu_count() * 1000 / per_request:.0f} "
        f"requests/s on {os.cpu_count()} cores the server had to itself."
    )
    print(
        f"\nLedger: {after['movements'] - before['movements']} movements, "
        f"{after['receipts'] - before['receipts']} receipts posted, "
        f"{after['moves'] - before['moves']} moves during the run; "
        f"negative balances {after['negative']}, reserved > qty {after['over_reserved']}; "
        f"stock verify: {after['discrepancies']} differences over {after['movements']:,} "
        f"movements ({after['verify_s']:.1f} s)."
    )
    return (
        not errors
        and not after["negative"]
        and not after["over_reserved"]
        and not (after["discrepancies"])
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--racers", type=int, default=8)
    parser.add_argument("--duration", type=float, default=120)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--clients", type=int, default=5, help="client processes")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    if not 0 <= args.racers <= args.users or not 0 < args.duration <= 600:
        parser.error("racers within users, a duration of at most 600 s")

    from reserve import normalise_database_url

    url = normalise_database_url(args.database_url)
    plan = make_plan(url, args.racers, args.seed)
    issue_tokens(url, plan)
    before = books(url)
    args.load_start = os.getloadavg()[0]
    signal.signal(signal.SIGALRM, _out_of_time)
    signal.alarm(
        int(args.duration) + SIGN_IN_SECONDS + 240
    )  # the bound: past it, stop the clients and gunicorn
    server = start_gunicorn(url, args.port, args.workers)
    processes: list = []
    try:
        users = [("racer", i) for i in range(args.racers)] + [
            ("browser", i) for i in range(args.users - args.racers)
        ]
        start_at = time.time() + SIGN_IN_SECONDS  # everyone signs in first, then all start
        until = start_at + args.duration
        queue = SPAWN.Queue()
        groups = [users[i :: args.clients] for i in range(args.clients)]
        processes = [
            SPAWN.Process(
                target=client_process,
                args=(args.port, plan, group, start_at, until, queue),
                daemon=True,
            )
            for group in groups
            if group
        ]
        for process in processes:
            process.start()
        cpu = measure_cpu(server, url, start_at, until)
        samples = []
        for _ in processes:
            samples.extend(queue.get(timeout=args.duration + 120))
        for process in processes:
            process.join(30)
    finally:
        for process in processes:
            if process.is_alive():
                process.terminate()
        stop_gunicorn(server)
    signal.alarm(0)
    after = books(url)
    ok = report(samples, before, after, args, cpu)  # sign-in is not timed; the rest is
    sys.exit(0 if ok else 1)


def _out_of_time(_signum, _frame):
    raise TimeoutError("the load test ran past its bound")


if __name__ == "__main__":
    main()
