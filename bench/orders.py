"""Allocation orders (调拨单) in the bench: the generator's step (events and 10,000 orders with
their lines, for the order list) and the scenarios of ``run.py`` — suggestions for a 20-line
order, approving it (20 reservations, rolled back) and the order list's first and deep page.

The generated orders are in the states that hold no stock (draft, submitted, rejected,
cancelled), so the ledger's verify stays clean without a reservation per order; the list reads
them all the same (status is one of its columns and filters)."""

from __future__ import annotations

import json
import random
from datetime import UTC, date, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

ORDERS = 10_000
EVENTS = 40
SUGGEST_LINES = 20
SUGGEST_QTY = 500

EVENT_KINDS = ("flood", "forest_fire", "typhoon", "earthquake", "geological", "hazmat", "drill")
EVENT_NAMES = ("暴雨洪涝", "森林火灾", "台风", "地震", "山体滑坡", "危化品泄漏", "综合演练")
UNITS = ("县应急管理局", "区防汛抗旱指挥部", "街道办事处", "森林防火指挥部", "民政局")
STATES = (("draft", 15), ("submitted", 25), ("rejected", 10), ("cancelled", 50))


# -- generate.py's step --------------------------------------------------------------------


def generate_orders(conn: sa.Connection, scale, rng: random.Random) -> dict[str, int]:
    """事件 and 调拨单 for the order list: 40 events over the year, 10,000 orders (dispatches to a
    site in the event's region, a tenth transfers between warehouses) numbered DB-YYYYMM-NNNN
    by month, 1–5 lines each of distinct materials."""
    from bench.generate import bulk, bulk_load, rows_of
    from reserve.db import SHANGHAI

    regions = [r.id for r in rows_of(conn, "SELECT id FROM regions ORDER BY id")]
    warehouses = [r.id for r in rows_of(conn, "SELECT id FROM warehouses ORDER BY id")]
    materials = [r.id for r in rows_of(conn, "SELECT id FROM materials ORDER BY id")]
    dispatcher = conn.scalar(sa.text("SELECT id FROM users WHERE username = 'dispatcher'"))
    now = datetime.now(UTC).replace(microsecond=0)
    start = now - timedelta(days=365)
    events = []
    for n in range(EVENTS):
        kind = rng.randrange(len(EVENT_KINDS))
        at = start + timedelta(days=rng.uniform(0, 360))
        events.append(
            (
                n + 1,
                f"{EVENT_NAMES[kind]}{n + 1:02d}",
                EVENT_KINDS[kind],
                str(rng.randint(1, 4)),
                rng.choice(regions),
                at,
                at + timedelta(days=rng.randint(1, 20)),
                "dispatcher",
                at,
            )
        )
    bulk(
        conn,
        "events",
        (
            "id",
            "name",
            "kind",
            "level",
            "region_id",
            "started_at",
            "ended_at",
            "created_by_name",
            "created_at",
        ),
        events,
    )
    times = sorted(start + timedelta(seconds=rng.uniform(0, 365 * 86400)) for _ in range(ORDERS))
    per_month: dict[str, int] = {}
    orders, lines = [], []
    states = [s for s, _w in STATES]
    weights = [w for _s, w in STATES]
    for n, created in enumerate(times, start=1):
        month = f"{created.astimezone(SHANGHAI):%Y%m}"  # the month the app numbers by
        per_month[month] = per_month.get(month, 0) + 1
        status = rng.choices(states, weights)[0]
        event = rng.choice(events) if rng.random() < 0.7 else None
        transfer = rng.random() < 0.1
        submitted = created + timedelta(minutes=30) if status != "draft" else None
        orders.append(
            (
                n,
                f"DB-{month}-{per_month[month]:04d}",
                event[0] if event else None,
                "transfer" if transfer else "dispatch",
                status,
                rng.choices(("normal", "urgent", "critical"), (70, 25, 5))[0],
                False,
                rng.choice(UNITS),
                rng.choice(warehouses) if transfer else None,
                None if transfer else f"安置点{n:05d}号",
                None if transfer else (event[4] if event else rng.choice(regions)),
                created + timedelta(hours=rng.randint(4, 48)),
                "驳回：请核减数量" if status == "rejected" else None,
                "作废：险情解除" if status == "cancelled" else None,
                dispatcher,
                "dispatcher",
                created,
                dispatcher if submitted else None,
                "dispatcher" if submitted else None,
                submitted,
            )
        )
        for line_no, material in enumerate(rng.sample(materials, rng.randint(1, 5)), start=1):
            lines.append((n, line_no, material, rng.randint(1, 100) * 10))
    with bulk_load(conn, "allocation_orders"):
        count = bulk(
            conn,
            "allocation_orders",
            (
                "id",
                "no",
                "event_id",
                "kind",
                "status",
                "priority",
                "is_emergency",
                "requesting_unit",
                "destination_warehouse_id",
                "site_address",
                "site_region_id",
                "needed_by",
                "reject_reason",
                "cancel_reason",
                "created_by_id",
                "created_by_name",
                "created_at",
                "submitted_by_id",
                "submitted_by_name",
                "submitted_at",
            ),
            orders,
        )
    with bulk_load(conn, "order_lines"):
        line_count = bulk(
            conn, "order_lines", ("order_id", "line_no", "material_id", "requested_qty"), lines
        )
    # the months' counters (the counter of a month's first day, as next_monthly_document_no
    # reads it) go on after the generated numbers
    for month, last in per_month.items():
        day = date(int(month[:4]), int(month[4:]), 1)
        taken = conn.scalar(
            sa.text("SELECT last FROM document_counters WHERE prefix = 'DB' AND day = :day"),
            {"day": day},
        )
        if taken is None:
            conn.execute(
                sa.text("INSERT INTO document_counters (prefix, day, last) VALUES ('DB', :d, :n)"),
                {"d": day, "n": last},
            )
        elif taken < last:
            conn.execute(
                sa.text("UPDATE document_counters SET last = :n WHERE prefix = 'DB' AND day = :d"),
                {"d": day, "n": last},
            )
    return {"events": len(events), "allocation_orders": count, "order_lines": line_count}


# -- run.py's scenarios --------------------------------------------------------------------

STOCK_FLOOR = """
    SELECT sb.material_id, sb.warehouse_id, l.id, l.code, b.id, b.batch_no, b.expiry_date,
        sb.qty - sb.reserved AS available
    FROM stock_balances sb JOIN locations l ON l.id = sb.location_id
        JOIN batches b ON b.id = sb.batch_id
    WHERE sb.material_id IN :materials AND b.material_id IN :materials
        AND sb.qty - sb.reserved > 0 AND (b.expiry_date IS NULL OR b.expiry_date >= :today)
    ORDER BY CASE WHEN b.expiry_date IS NULL THEN 1 ELSE 0 END,
        b.expiry_date, b.received_at, b.id, l.code"""

AGREEMENT_FLOOR = """
    SELECT al.material_id, al.id, al.committed_qty - al.called_qty AS callable, a.no,
        a.response_hours, e.name
    FROM agreement_lines al JOIN agreements a ON a.id = al.agreement_id
        JOIN enterprises e ON e.id = a.enterprise_id
    WHERE al.material_id IN :materials AND a.status = 'active' AND a.valid_from <= :today
        AND a.valid_to >= :today AND e.status = 'active'
        AND al.committed_qty - al.called_qty > 0
    ORDER BY a.response_hours, a.no, al.id"""

RESERVE_INSERT = """
    INSERT INTO stock_reservations (location_id, batch_id, material_id, warehouse_id,
        document_type, document_id, document_no, line_id, qty, released_qty, consumed_qty,
        status, created_at, changed_at, username)
    VALUES (:location, :batch, :material, :warehouse, 'order', 0, 'DB-FLOOR', 0, 1, 0, 0,
        'open', :now, :now, 'system')"""

RESERVE_UPDATE = """
    UPDATE stock_balances SET reserved = reserved + 1
    WHERE location_id = :location AND batch_id = :batch AND qty - reserved >= 1"""

LIST_FLOOR = """
    SELECT o.id, o.no, o.kind, o.status, o.priority, o.is_emergency, o.event_id, e.name,
        coalesce(w.name, o.site_address), o.requesting_unit, o.needed_by, o.created_at,
        (SELECT count(*) FROM order_lines ol WHERE ol.order_id = o.id),
        (SELECT coalesce(sum(ol.requested_qty), 0) FROM order_lines ol WHERE ol.order_id = o.id)
    FROM allocation_orders o LEFT JOIN events e ON e.id = o.event_id
        LEFT JOIN warehouses w ON w.id = o.destination_warehouse_id
    {where}
    ORDER BY o.created_at DESC, o.id DESC LIMIT 51"""


def order_scenarios(app, engine: sa.Engine, Scenario) -> list:
    """The scenarios of allocation orders (``Scenario`` is run.py's, passed in)."""
    from reserve.auth.actor import Actor
    from reserve.auth.models import User
    from reserve.db import UTCDateTime, local_today, utcnow
    from reserve.extensions import db
    from reserve.orders import service, suggest
    from reserve.orders.models import AllocationOrder
    from reserve.stock.guard import ledger_writes
    from reserve.stock.models import StockBalance
    from reserve.warehouses.models import Warehouse

    rng = random.Random(13)
    today = local_today()
    with Session(engine) as session:

        def actor(name: str) -> Actor:
            return Actor.for_user(session.scalar(sa.select(User).where(User.username == name)))

        dispatcher, approver, admin = actor("dispatcher"), actor("approver"), actor("admin")
        stocked = session.scalars(
            sa.select(StockBalance.material_id)
            .where(StockBalance.qty - StockBalance.reserved > 0)
            .group_by(StockBalance.material_id)
            .order_by(StockBalance.material_id)
        ).all()
        materials = sorted(rng.sample(list(stocked), min(SUGGEST_LINES, len(stocked))))
        # to a county's site: the position of a county warehouse far from the provincial one
        site = session.execute(
            sa.select(Warehouse.lat, Warehouse.lng)
            .where(Warehouse.lat.is_not(None))
            .order_by(Warehouse.id.desc())
            .limit(1)
        ).one()
        orders = session.scalar(sa.select(sa.func.count()).select_from(AllocationOrder))
        deep_key = None
        if orders > 1000:
            row = session.execute(
                sa.select(AllocationOrder.created_at, AllocationOrder.id)
                .order_by(AllocationOrder.created_at.desc(), AllocationOrder.id.desc())
                .offset(orders * 9 // 10)
                .limit(1)
            ).one()
            deep_key = row
    lines = [(m, SUGGEST_QTY) for m in materials]
    destination = (site.lat, site.lng)

    def suggest_run() -> str:
        with Session(engine) as session:
            result = suggest.suggest(session, lines=lines, destination=destination)
            return f"{sum(1 for line in result if line.proposals)} lines"

    floor_stock = sa.text(STOCK_FLOOR).bindparams(sa.bindparam("materials", expanding=True))
    floor_agreements = sa.text(AGREEMENT_FLOOR).bindparams(
        sa.bindparam("materials", expanding=True)
    )

    def suggest_floor() -> str:
        with engine.connect() as conn:
            params = {"materials": materials, "today": today}
            found = {r[0] for r in conn.execute(floor_stock, params)}
            found |= {r[0] for r in conn.execute(floor_agreements, params)}
            return f"{len(found)} lines"

    # an order of 20 lines, one stock source each, drafted and submitted untimed
    with Session(engine) as session:
        picks = []
        for line in suggest.suggest(session, lines=lines, destination=destination):
            stock = next((p for p in line.proposals if p.kind == "stock"), None)
            if stock is not None:
                picks.append((line.material_id, stock))
    approve_data = service.OrderData(
        kind="dispatch",
        requesting_unit="bench",
        needed_by=utcnow() + timedelta(days=1),
        site_address="bench site",
        site_lat=str(destination[0]),
        site_lng=str(destination[1]),
        lines=tuple(
            service.LineData(
                material_id=material,
                qty=min(10, p.qty),
                sources=(
                    service.SourceData(
                        kind="stock",
                        qty=min(10, p.qty),
                        location_id=p.location_id,
                        batch_id=p.batch_id,
                    ),
                ),
            )
            for material, p in picks
        ),
    )

    def draft():  # untimed: drafted and submitted in an open transaction, approved timed
        context = app.app_context()
        context.push()
        session = db.session()
        order = service.create_order(session, data=approve_data, actor=dispatcher)
        service.submit_order(session, order_id=order.id, actor=dispatcher)
        session.flush()
        return context, session, order.id

    def approve(prepared) -> str:
        context, session, order_id = prepared
        try:  # rolled back: a kept bench database does not drift
            order = service.approve_order(session, order_id=order_id, actor=approver)
            session.flush()
            return f"{sum(1 for line in order.lines for s in line.sources)} reserved"
        finally:
            session.rollback()
            db.session.remove()
            context.pop()

    insert_stmt = sa.text(RESERVE_INSERT).bindparams(sa.bindparam("now", type_=UTCDateTime))
    update_stmt = sa.text(RESERVE_UPDATE)

    def approve_floor() -> str:  # 20 reservation INSERTs and balance UPDATEs, rolled back
        with engine.connect() as conn, ledger_writes():
            transaction = conn.begin()
            for material, p in picks:
                params = {
                    "location": p.location_id,
                    "batch": p.batch_id,
                    "material": material,
                    "warehouse": p.warehouse_id,
                    "now": utcnow(),
                }
                conn.execute(insert_stmt, params)
                conn.execute(update_stmt, params)
            transaction.rollback()
        return f"{len(picks)} reserved"

    scenarios = [
        Scenario(
            f"suggest {len(lines)} lines (suggest.suggest)",
            suggest_run,
            floor_run=suggest_floor,
            explain=True,
            target="300",
        ),
        Scenario(
            f"approve {len(picks)} lines (approve_order, rolled back)",
            approve,
            floor_run=approve_floor,
            prepare=draft,
        ),
    ]
    if deep_key is None:
        return scenarios  # no generated orders (a database without the orders step)
    from reserve.orders.queries import order_list

    # the page key as the list's "next" link carries it (reserve.db.seek_page)
    deep_after = json.dumps([deep_key[0].isoformat(), deep_key[1]])

    def listing(after):
        def run() -> str:
            with Session(engine) as session:
                page = order_list(session, actor=admin, after=after)
                return f"{len(page.items)}{'+' if page.next_key else ''}"

        return run

    list_first = sa.text(LIST_FLOOR.format(where=""))
    list_deep = sa.text(
        LIST_FLOOR.format(where="WHERE o.created_at <= :at AND (o.created_at, o.id) < (:at, :id)")
    ).bindparams(sa.bindparam("at", type_=UTCDateTime))

    def list_floor(deep: bool):
        def run() -> str:
            with engine.connect() as conn:
                if deep:
                    rows = conn.execute(list_deep, {"at": deep_key[0], "id": deep_key[1]}).all()
                else:
                    rows = conn.execute(list_first).all()
            return f"{min(len(rows), 50)}{'+' if len(rows) > 50 else ''}"

        return run

    return scenarios + [
        Scenario(
            f"order list first page ({orders:,} orders)",
            listing(None),
            floor_run=list_floor(False),
            explain=True,
        ),
        Scenario(
            "order list deep page (90 % down, by key)",
            listing(deep_after),
            floor_run=list_floor(True),
            explain=True,
        ),
    ]
