"""Label scenarios for ``bench.run``: resolving a scanned code (the service, ``GET /s/<code>``
and the API) over the generated labels, and printing a sheet of 1,000 labels."""

from __future__ import annotations

import itertools
import random
from collections.abc import Callable

import sqlalchemy as sa
from sqlalchemy.orm import Session

RESOLVE_FLOOR = """
SELECT l.id, l.kind, w.code, loc.code, m.name, b.batch_no, si.serial_no, sb.qty, sb.reserved
FROM labels l
LEFT JOIN serial_items si ON si.id = l.serial_item_id
LEFT JOIN locations loc ON loc.id = COALESCE(si.location_id, l.location_id)
JOIN warehouses w ON w.id = l.warehouse_id
LEFT JOIN batches b ON b.id = COALESCE(l.batch_id, si.batch_id)
LEFT JOIN materials m ON m.id = b.material_id
LEFT JOIN stock_balances sb ON sb.location_id = l.location_id AND sb.batch_id = l.batch_id
WHERE l.id = :id
"""


def label_scenarios(app, engine: sa.Engine, client, scenario) -> list:
    """``scenario`` is bench.run.Scenario (passed in: run.py imports this module)."""
    from reserve.auth.actor import Actor
    from reserve.auth.models import User
    from reserve.labels.codes import label_key, make_code
    from reserve.labels.pdf import label_sheet_pdf
    from reserve.labels.queries import label_cards
    from reserve.labels.service import resolve

    with Session(engine) as session:
        if not session.scalar(sa.select(sa.func.count()).select_from(sa.table("labels"))):
            return []
        admin = Actor.for_user(session.scalar(sa.select(User).where(User.username == "admin")))
        top = session.scalar(sa.text("SELECT max(id) FROM labels WHERE revoked_at IS NULL"))
        rng = random.Random(11)
        picked = [rng.randint(1, top) for _ in range(2_000)]
        live = session.scalars(
            sa.text("SELECT id FROM labels WHERE revoked_at IS NULL AND id = ANY(:ids)")
            if engine.dialect.name == "postgresql"
            else sa.text(
                f"SELECT id FROM labels WHERE revoked_at IS NULL AND id IN "
                f"({','.join(map(str, picked))})"
            ),
            {"ids": picked} if engine.dialect.name == "postgresql" else {},
        ).all()
        sheet = session.scalars(
            sa.text("SELECT id FROM labels WHERE kind = 'stock' ORDER BY id LIMIT 1000")
        ).all()
    key = label_key(str(app.config["SECRET_KEY"]))
    codes = [make_code(i, key=key) for i in live]
    base = str(app.config["PUBLIC_BASE_URL"])

    def cycling(values) -> Callable[[], object]:
        it = itertools.cycle(values)
        return lambda: next(it)

    next_code = cycling(codes)

    def resolve_once() -> str:
        with Session(engine) as session:
            target = resolve(session, admin, next_code(), key=key)
        return f"1 {target.kind.value}"

    def get(prefix: str, status: int) -> Callable[[], str]:
        def run() -> str:
            response = client.get(prefix + next_code())
            if response.status_code != status:
                raise SystemExit(f"GET {prefix}…: {response.status_code}")
            return "1"

        return run

    def sheet_once() -> str:
        with Session(engine) as session:
            cards = label_cards(session, sheet, key=key, base_url=base)
        pdf = label_sheet_pdf(cards, layout="a4-3x8")
        return f"{len(cards)} labels, {len(pdf) / 1e6:.2f} MB"

    def sheet_floor() -> str:
        with Session(engine) as session:
            return f"{len(label_cards(session, sheet, key=key, base_url=base))} cards"

    return [
        scenario(
            "resolve a label (resolve)",
            resolve_once,
            RESOLVE_FLOOR,
            {"id": live[0]},
            explain=True,
            target="20",
        ),
        scenario(
            "GET /s/<code> (302)", get("/s/", 302), RESOLVE_FLOOR, {"id": live[0]}, target="20"
        ),
        scenario(
            "label sheet 1,000 A4 3×8 (cards + PDF)",
            sheet_once,
            floor_run=sheet_floor,
            repeat=3,
        ),
    ]
