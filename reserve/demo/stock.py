"""A year of the demo city's stock, replayed in date order through the same services the pages
use: receipts (with batches near expiry and expired, and serial equipment), moves, a stocktake,
rotations and scrap. Posting times follow the paper dates (``clock_at``), so the ledger's order
and its times agree."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from reserve.auth.actor import Actor
from reserve.catalog.models import Material
from reserve.db import clock_at, local_today
from reserve.demo.clock import demo_moment
from reserve.stock.models import Batch, SerialItem, StockBalance
from reserve.warehouses.models import Location, Warehouse

FUNDING = ("市级财政应急物资专项资金", "中央救灾资金", "社会捐赠", "区县财政资金")
SOURCES = ("purchase",) * 6 + ("donation", "higher_allocation")


@dataclass
class DemoActors:
    keeper: Actor  # keeps the municipal warehouse
    approver: Actor
    admin: Actor  # receives for the other warehouses


@dataclass(order=True)
class _Event:
    day: date
    order: int
    run: Callable[[], None] = None  # type: ignore[assignment]


def _typical_qty(rng: random.Random, material: Material) -> int:
    if material.tracking == "serial":
        return rng.randint(2, 5)
    unit_bulk = {
        "箱": 300,
        "袋": 400,
        "桶": 200,
        "瓶": 600,
        "个": 500,
        "条": 800,
        "件": 400,
        "床": 600,
        "张": 300,
        "顶": 120,
        "双": 500,
        "套": 100,
        "卷": 60,
        "米": 2000,
    }
    base = unit_bulk.get(material.unit, 80)
    return rng.randint(base // 4, base) // 5 * 5 or 5


def load_stock(session: Session, actors: DemoActors, *, seed: int = 2026) -> dict[str, int]:
    """Replay a year: returns counts of what was posted."""
    from reserve.receipts.service import (
        ReceiptData,
        ReceiptLineData,
        create_receipt,
        post_receipt,
    )

    rng = random.Random(seed)
    today = local_today()
    start = today - timedelta(days=360)
    warehouses = list(session.scalars(select(Warehouse).order_by(Warehouse.id)))
    municipal = warehouses[0]
    materials = list(
        session.scalars(select(Material).where(Material.is_active).order_by(Material.code))
    )
    by_batch = [m for m in materials if m.tracking == "batch"]
    by_serial = [m for m in materials if m.tracking == "serial"]
    perishable = [m for m in by_batch if m.shelf_life_days]
    shelves = {
        w.id: list(
            session.scalars(
                select(Location.id)
                .where(Location.warehouse_id == w.id, Location.is_receiving.is_(False))
                .order_by(Location.code)
            )
        )
        for w in warehouses
    }
    suppliers = [
        "山东鲁中应急装备有限公司",
        "济南泉城救灾物资有限公司",
        "济南南山泉饮品有限公司",
        "山东齐鲁纺织被服有限公司",
        "济南华泰帐篷制造有限公司",
    ]
    counts = {"receipts": 0, "lines": 0, "moves": 0, "rotations": 0, "scraps": 0}
    serial_seq = iter(range(1, 100_000))
    events: list[_Event] = []

    def receipt_event(
        warehouse: Warehouse, day: date, chosen: list[Material], actor: Actor, aging: float
    ) -> None:
        def run() -> None:
            lines = []
            for n, material in enumerate(chosen, 1):
                qty = _typical_qty(rng, material)
                production = day - timedelta(days=rng.randint(5, 90))
                if material.shelf_life_days and rng.random() < aging:
                    # old stock: it expires within ±60 days of today (some already expired)
                    target = today + timedelta(days=rng.randint(-60, 75))
                    production = min(production, target - timedelta(days=material.shelf_life_days))
                serials = ()
                if material.tracking == "serial":
                    prefix = material.pinyin_initials[:4].upper() or "SN"
                    serials = tuple(f"{prefix}-{day:%Y}-{next(serial_seq):05d}" for _ in range(qty))
                lines.append(
                    ReceiptLineData(
                        material_id=material.id,
                        batch_no=f"{day:%Y%m%d}{n:02d}",
                        qty=qty,
                        location_id=rng.choice(shelves[warehouse.id])
                        if rng.random() < 0.85
                        else None,
                        production_date=production,
                        serials=serials,
                        unit_cost=material.reference_price,
                        # a year of history recorded today: a batch past or near its expiry
                        # now is confirmed (the reason is kept only where it is needed)
                        expiry_reason="历史入库补录" if material.shelf_life_days else None,
                    )
                )
            receipt = create_receipt(
                session,
                actor=actor,
                data=ReceiptData(
                    warehouse_id=warehouse.id,
                    source=rng.choice(SOURCES),
                    document_date=day,
                    supplier=rng.choice(suppliers),
                    funding_source=rng.choice(FUNDING),
                    paper_no=f"济应急物〔{day:%Y}〕{rng.randint(10, 199)}号",
                    lines=tuple(lines),
                ),
            )
            post_receipt(session, receipt_id=receipt.id, actor=actor)
            counts["receipts"] += 1
            counts["lines"] += len(lines)

        events.append(_Event(day, len(events), run))

    # The municipal warehouse: two receipts a month, and the equipment with serial numbers.
    for month in range(12):
        for half in (3, 17):
            day = start + timedelta(days=30 * month + half)
            chosen = rng.sample(by_batch, 10) + rng.sample(perishable, 2)
            receipt_event(municipal, day, chosen, actors.keeper, aging=0.5 if month < 4 else 0.1)
    for quarter in range(4):
        receipt_event(
            municipal,
            start + timedelta(days=90 * quarter + 25),
            rng.sample(by_serial, 5),
            actors.keeper,
            aging=0,
        )
    # District and township warehouses: a few receipts each.
    for warehouse in warehouses[1:]:
        rounds = 1 if warehouse.level == "township" else 3
        for r in range(rounds):
            day = start + timedelta(days=rng.randint(0, 300) + r)
            chosen = rng.sample(by_batch, 6 if rounds > 1 else 4)
            if r == 0 and rounds > 1:
                chosen += rng.sample(by_serial, 1) + rng.sample(perishable, 1)
            receipt_event(warehouse, day, chosen, actors.admin, aging=0.3)

    events.sort()
    for event in events:
        with clock_at(demo_moment(event.day, 9 + event.order % 8)):
            event.run()
    _maintenance_dates(session, rng, today)

    later: list[tuple[date, Callable[[], None]]] = [
        (today - timedelta(days=d), fn)
        for d, fn in (
            (150, lambda: _moves(session, rng, municipal, actors.keeper, counts, 6)),
            (40, lambda: _moves(session, rng, municipal, actors.keeper, counts, 6)),
            (55, lambda: _stocktake(session, rng, municipal, actors)),
            (20, lambda: _rotations(session, municipal, actors, counts, today)),
            (10, lambda: _scraps(session, municipal, actors, counts, today)),
        )
    ]
    for day, run in sorted(later, key=lambda x: x[0]):
        with clock_at(demo_moment(day, 15)):
            run()
    return counts


def _maintenance_dates(session: Session, rng: random.Random, today: date) -> None:
    """Equipment is serviced yearly; a few are overdue (维保到期)."""
    for item in session.scalars(select(SerialItem)):
        item.last_maintained_on = today - timedelta(days=rng.randint(20, 400))
        item.next_maintenance_on = item.last_maintained_on + timedelta(days=365)


def _balances(
    session: Session,
    warehouse: Warehouse,
    *,
    tracking: str = "batch",
    expiring_before: date | None = None,
    limit: int = 50,
):
    stmt = (
        select(
            StockBalance.location_id,
            StockBalance.batch_id,
            StockBalance.qty - StockBalance.reserved,
            Batch.material_id,
        )
        .join(Batch, Batch.id == StockBalance.batch_id)
        .join(Material, Material.id == Batch.material_id)
        .where(
            StockBalance.warehouse_id == warehouse.id,
            Material.tracking == tracking,
            StockBalance.qty - StockBalance.reserved > 10,
        )
        .order_by(Batch.expiry_date, StockBalance.id)
        .limit(limit)
    )
    if expiring_before:
        stmt = stmt.where(Batch.expiry_date < expiring_before)
    return session.execute(stmt).all()


def _moves(session, rng, warehouse, actor, counts, n) -> None:
    from reserve.stock.service import move_stock

    shelves = list(
        session.scalars(
            select(Location.id).where(Location.warehouse_id == warehouse.id).order_by(Location.code)
        )
    )
    for location_id, batch_id, available, _material in rng.sample(
        _balances(session, warehouse, limit=200), n
    ):
        target = rng.choice([s for s in shelves if s != location_id])
        move_stock(
            session,
            warehouse_id=warehouse.id,
            from_location_id=location_id,
            to_location_id=target,
            batch_id=batch_id,
            qty=max(1, available // 3),
            note="整理货位",
            actor=actor,
        )
        counts["moves"] += 1


def _stocktake(session, rng, warehouse, actors: DemoActors) -> None:
    """A monthly cycle count of a few shelves: one line short, explained; approved."""
    from reserve.stocktakes.models import StocktakeLine
    from reserve.stocktakes.service import (
        approve_stocktake,
        open_stocktake,
        record_count,
        submit_stocktake,
    )

    held = [row[0] for row in _balances(session, warehouse, limit=200)]
    locations = sorted(set(held))[:4]
    stocktake = open_stocktake(
        session,
        warehouse_id=warehouse.id,
        location_ids=locations,
        is_blind=True,
        note="月度循环盘点",
        actor=actors.keeper,
    )
    lines = list(
        session.scalars(
            select(StocktakeLine)
            .where(StocktakeLine.stocktake_id == stocktake.id)
            .order_by(StocktakeLine.id)
        )
    )
    for n, line in enumerate(lines):
        book = (
            session.scalar(
                select(StockBalance.qty).where(
                    StockBalance.location_id == line.location_id,
                    StockBalance.batch_id == line.batch_id,
                )
            )
            or 0
        )
        short = 2 if n == 0 and book > 2 else 0
        record_count(
            session,
            stocktake_id=stocktake.id,
            location_id=line.location_id,
            batch_id=line.batch_id,
            counted_qty=book - short,
            reason="外包装破损，已单独存放待报废" if short else None,
            actor=actors.keeper,
        )
    submit_stocktake(session, stocktake_id=stocktake.id, actor=actors.keeper)
    approve_stocktake(session, stocktake_id=stocktake.id, actor=actors.approver)


def _rotations(session, warehouse, actors: DemoActors, counts, today) -> None:
    """Near-expiry food goes to a drill and to a charity, replaced like for like (等量替换)."""
    from reserve.disposals.rotations import DisposalLineData, create_rotation, post_rotation
    from reserve.receipts.service import (
        ReceiptData,
        ReceiptLineData,
        create_receipt,
        post_receipt,
    )

    candidates = _balances(session, warehouse, expiring_before=today + timedelta(days=60), limit=4)
    for (location_id, batch_id, available, material_id), disposition in zip(
        candidates[:2], ("drill", "donated"), strict=False
    ):
        qty = max(1, available // 2)
        replacement = create_receipt(
            session,
            actor=actors.keeper,
            data=ReceiptData(
                warehouse_id=warehouse.id,
                source="purchase",
                document_date=local_today(),
                supplier="济南泉城救灾物资有限公司",
                funding_source=FUNDING[0],
                note="轮换补库",
                lines=(
                    ReceiptLineData(
                        material_id=material_id,
                        batch_no=f"LH{today:%Y%m%d}",
                        qty=qty,
                        location_id=location_id,
                        production_date=local_today() - timedelta(days=3),
                    ),
                ),
            ),
        )
        post_receipt(session, receipt_id=replacement.id, actor=actors.keeper)
        rotation = create_rotation(
            session,
            warehouse_id=warehouse.id,
            disposition=disposition,
            document_date=local_today(),
            actor=actors.keeper,
            counterparty="市应急救援演练指挥部" if disposition == "drill" else "济南市慈善总会",
            lines=(DisposalLineData(location_id=location_id, batch_id=batch_id, qty=qty),),
            replacement_receipt_id=replacement.id,
            note="临期轮换",
        )
        post_rotation(session, rotation_id=rotation.id, actor=actors.keeper)
        counts["rotations"] += 1


def _scraps(session, warehouse, actors: DemoActors, counts, today) -> None:
    """One expired batch scrapped (requested, approved, posted), one request awaiting approval."""
    from reserve.disposals.scraps import (
        DisposalLineData,
        approve_scrap,
        post_scrap,
        request_scrap,
    )

    expired = _balances(session, warehouse, expiring_before=today, limit=3)
    damaged = _balances(session, warehouse, limit=60)[-1:]
    plans = [(expired[:1], "expired", True), (damaged, "damaged", False)]
    for rows, reason, post in plans:
        if not rows:
            continue
        location_id, batch_id, available, _material = rows[0]
        scrap = request_scrap(
            session,
            warehouse_id=warehouse.id,
            reason=reason,
            document_date=local_today(),
            actor=actors.keeper,
            note="过期变质" if reason == "expired" else "雨季受潮霉变",
            lines=(
                DisposalLineData(
                    location_id=location_id,
                    batch_id=batch_id,
                    qty=min(available, 20) if reason == "damaged" else available,
                ),
            ),
        )
        if post:
            approve_scrap(session, scrap_id=scrap.id, actor=actors.approver, note="同意报废")
            post_scrap(session, scrap_id=scrap.id, actor=actors.keeper)
        counts["scraps"] += 1
