"""Scans per second: ``GET /s/<code>`` against gunicorn on a generated database with labels.

    .venv/bin/python -m bench.scan_load --database-url postgresql://…/bench_labels \
        [--workers 2] [--clients 4] [--seconds 20] [--port 8766]

gunicorn starts as ``bench.load`` starts it (production config), with a SECRET_KEY this script
chose so that it can make the codes; ``--clients`` client processes sign ``admin`` in (the login
form and its CSRF token, as a browser) and request ``/s/<code>`` for live labels drawn at random,
one after another, for ``--seconds`` (a new connection per request: gunicorn's sync workers
close after each response). Prints requests per second, the client-side median and p95, the
CPU the server side spent (gunicorn workers, PostgreSQL backends) and the load average: the
clients share the 2 cores with the server, so the figure is a floor."""

from __future__ import annotations

import argparse
import multiprocessing
import os
import random
import secrets
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.generate import resolve_url  # noqa: E402
from bench.load import Client, measure_cpu, start_gunicorn, stop_gunicorn  # noqa: E402


def live_codes(url: str, secret_key: str, n: int, seed: int = 7) -> list[str]:
    """Codes of ``n`` live labels drawn at random (by id), under ``secret_key``."""
    import sqlalchemy as sa

    from reserve.labels.codes import label_key, make_code

    engine = sa.create_engine(url)
    with engine.connect() as conn:
        top = conn.scalar(sa.text("SELECT max(id) FROM labels")) or 0
        rng = random.Random(seed)
        ids = sorted({rng.randint(1, top) for _ in range(n * 2)}) if top else [0]
        live = conn.scalars(
            sa.text("SELECT id FROM labels WHERE revoked_at IS NULL AND id IN :ids").bindparams(
                sa.bindparam("ids", expanding=True)
            ),
            {"ids": ids},
        ).all()
    engine.dispose()
    key = label_key(secret_key)
    return [make_code(i, key=key) for i in live[:n]]


def scanner(port: int, codes: list[str], start_at: float, until: float, out) -> None:
    client = Client(port)
    client.login("admin")
    rng = random.Random(os.getpid())
    latencies, failures = [], 0
    time.sleep(max(0.0, start_at - time.time()))
    while time.time() < until:
        started = time.perf_counter()
        status, _body = client.request("GET", f"/s/{rng.choice(codes)}")
        latencies.append(time.perf_counter() - started)
        failures += status != 302
    out.put((latencies, failures))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--port", type=int, default=8766)
    args = parser.parse_args(argv)
    url = resolve_url(args.database_url)
    secret_key = secrets.token_hex(32)
    codes = live_codes(url, secret_key, 2_000)
    if not codes:
        raise SystemExit("no labels in this database: generate it with bench.generate")
    gunicorn = start_gunicorn(url, args.port, args.workers, secret_key=secret_key)
    try:
        start_at = time.time() + 5  # every client signed in first
        until = start_at + args.seconds
        out = multiprocessing.Queue()
        clients = [
            multiprocessing.Process(target=scanner, args=(args.port, codes, start_at, until, out))
            for _ in range(args.clients)
        ]
        for client in clients:
            client.start()
        cpu = measure_cpu(gunicorn, url, start_at, until)
        results = [out.get() for _ in clients]
        for client in clients:
            client.join()
    finally:
        stop_gunicorn(gunicorn)
    latencies = sorted(x for samples, _failures in results for x in samples)
    failures = sum(f for _samples, f in results)
    print(
        f"GET /s/<code>: {len(latencies) / args.seconds:.0f} requests/s, {failures} not 302; "
        f"{args.workers} gunicorn workers, {args.clients} client processes, {os.cpu_count()} "
        f"CPUs; client-side median {statistics.median(latencies) * 1000:.1f} ms, p95 "
        f"{latencies[int(len(latencies) * 0.95)] * 1000:.1f} ms; server CPU "
        + ", ".join(f"{who} {seconds:.1f} s" for who, seconds in sorted(cpu.items()))
        + f" in {args.seconds:.0f} s; load average {os.getloadavg()[0]:.1f}"
    )


if __name__ == "__main__":
    main()
