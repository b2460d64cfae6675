"""The demo city's past events and their allocation orders (调拨单), replayed through the services
at their own times (``clock_at``), so the ledger verifies and every timeline is dated like paper.

Three events: a flood-control drill (防汛演练, 演练) about 190 days ago, a summer flood at 平阴县
(洪涝) about 130 days ago and a forest fire in 南部山区 (森林火灾) in the last days, still open.
Fifteen orders cover every state: a draft, one submitted, one rejected, approved, picking,
shipped, two received (one partly, with the reason for the shortfall), closed, a return of
returnable materials with one damaged unit, cancelled, an emergency order (先调后补) awaiting
sign-off and one signed off, and a transfer between warehouses.

Sources are what ``reserve.orders.suggest`` proposes at the order's time (first expiry first,
nearest warehouse first, then agreement lines), keeping only batches already received by then;
the dispatcher drafts and submits, the approver approves or rejects, the floor
(``reserve.demo.orders_floor``) picks, ships, receives, closes and takes returns."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from reserve.auth.actor import Actor
from reserve.catalog.models import Material
from reserve.db import SHANGHAI, clock_at, local_today
from reserve.demo.orders_floor import advance_order
from reserve.orders import service, suggest
from reserve.orders.models import AllocationOrder, EventKind, OrderKind
from reserve.stock.models import Batch
from reserve.warehouses.models import Region, Warehouse


def _at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=SHANGHAI).astimezone(UTC)


@dataclass(frozen=True)
class _Event:
    key: str
    name: str
    kind: str
    level: str
    region: str  # GB/T 2260 code
    days_ago: int
    lasted_days: int | None  # None: still open
    note: str


EVENTS = (
    _Event(
        "drill",
        "汛前防汛抢险综合演练",
        EventKind.DRILL.value,
        "4",
        "370112",
        190,
        2,
        "市防指组织，检验物资调拨和现场签收流程",
    ),
    _Event(
        "flood",
        "平阴县暴雨洪涝灾害",
        EventKind.FLOOD.value,
        "3",
        "370124",
        130,
        12,
        "玉带河、汇河水位超警，东阿镇、孔村镇部分村庄进水",
    ),
    _Event(
        "fire",
        "南部山区柳埠森林火灾",
        EventKind.FOREST_FIRE.value,
        "3",
        "370112",
        6,
        None,
        "柳埠街道林场起火，过火面积约120亩",
    ),
)

# where each event's orders go: (address, region code, lat, lng, contact, phone)
SITES = {
    "drill": ("历城区华山湖演练场", "370112", "36.72", "117.03", "孙主任", "13706410101"),
    "flood": ("平阴县东阿镇中学安置点", "370124", "36.2165", "116.3569", "马书记", "13805310202"),
    "fire": ("柳埠街道林场前线指挥部", "370112", "36.4413", "117.1048", "周指挥", "13906410303"),
}


@dataclass(frozen=True)
class _Order:
    event: str
    day: int  # days after the event's start
    hour: int
    outcome: str  # the state the demo leaves it in (see the module's docstring)
    lines: tuple[tuple[str, int], ...]  # (material code, quantity)
    unit: str
    reason: str
    priority: str = "normal"
    transfer_to: str | None = None  # a warehouse code: a transfer


ORDERS = (
    _Order(
        "drill",
        0,
        9,
        "closed",
        (("3010100001", 2000), ("2100300001", 100)),
        "市防汛抗旱指挥部办公室",
        "演练科目一：堤防抢险物资调运",
    ),
    _Order(
        "drill",
        0,
        10,
        "returned",
        (("1010101001", 10), ("1010200001", 30)),
        "市防汛抗旱指挥部办公室",
        "演练科目二：临时安置点搭建",
    ),
    _Order(
        "drill",
        1,
        9,
        "cancelled",
        (("2070300001", 200),),
        "历城区应急管理局",
        "演练科目三：雨具发放（演练调整取消）",
    ),
    _Order(
        "flood",
        0,
        6,
        "signed_off",
        (("1010101002", 40), ("1020100001", 300), ("2040101001", 2)),
        "平阴县应急管理局",
        "东阿镇群众紧急转移安置",
        "critical",
    ),
    _Order(
        "flood",
        0,
        11,
        "partly_received",
        (("1020100001", 200), ("1030200001", 150)),
        "平阴县应急管理局",
        "安置点生活保障",
        "urgent",
    ),
    _Order(
        "flood",
        1,
        9,
        "received",
        (("2100300001", 150), ("2020200001", 60)),
        "平阴县防汛抗旱指挥部",
        "抢险队伍装备补充",
        "urgent",
    ),
    _Order(
        "flood",
        1,
        14,
        "transfer",
        (("1020100002", 300), ("1010101002", 30)),
        "平阴县应急管理局",
        "前置平阴县储备库，补充安置物资",
        "urgent",
        "JN-PY-01",
    ),
    _Order(
        "flood",
        2,
        10,
        "closed",
        (("1010200001", 100), ("1020100002", 100)),
        "平阴县民政局",
        "第二批安置物资",
    ),
    _Order(
        "flood",
        3,
        9,
        "rejected",
        (("1010103002", 5),),
        "平阴县应急管理局",
        "集中安置点指挥帐篷",
    ),
    _Order(
        "fire",
        0,
        15,
        "emergency",
        (("2090100001", 6), ("2080200001", 20)),
        "历城区森林防火指挥部",
        "前线扑火队伍急需风力灭火机",
        "critical",
    ),
    _Order(
        "fire",
        1,
        9,
        "shipped",
        (("1030200002", 100), ("2100300001", 80)),
        "历城区应急管理局",
        "扑火人员给养",
        "urgent",
    ),
    _Order(
        "fire",
        2,
        10,
        "picking",
        (("1010101001", 20), ("2020200002", 40)),
        "历城区应急管理局",
        "前线宿营帐篷及照明",
    ),
    _Order(
        "fire",
        3,
        10,
        "approved",
        (("2070300002", 100), ("1030200001", 80)),
        "历城区柳埠街道办事处",
        "转移群众生活物资",
    ),
    _Order(
        "fire",
        4,
        9,
        "submitted",
        (("1020100003", 150),),
        "历城区柳埠街道办事处",
        "夜间转移群众保暖",
    ),
    _Order(
        "fire",
        5,
        9,
        "draft",
        (("2080101001", 50), ("2080102001", 30)),
        "历城区森林防火指挥部",
        "火场清理阶段补充灭火器",
    ),
)

# the floor's step for the outcomes that go past approval (reserve.demo.orders_floor.STEPS)
FLOOR_STEPS = {
    "picking": "picking",
    "shipped": "shipped",
    "partly_received": "partly_received",
    "received": "received",
    "transfer": "received",
    "closed": "closed",
    "returned": "returned",
    "signed_off": "received",
    "emergency": "shipped",
}
# hours after the order's creation at which each phase of its life happens
PHASES = {
    "submit": 0.5,
    "decide": 1.5,
    "pick": 3,
    "ship": 4,
    "receive": 26,
    "close": 80,
    "sign_off": 30,
    "return": 24 * 20,
}


def _sources(
    session: Session,
    material_ids: dict[str, int],
    spec: _Order,
    destination: tuple | None,
    destination_warehouse_id: int | None,
    at: datetime,
) -> list[service.LineData]:
    """The order's lines with the sources suggested at its time (batches received by then)."""
    wanted = [(material_ids[code], qty) for code, qty in spec.lines if code in material_ids and qty]
    proposals = suggest.suggest(
        session,
        lines=wanted,
        destination=destination,
        destination_warehouse_id=destination_warehouse_id,
        today=at.astimezone(SHANGHAI).date(),
    )
    batch_ids = {p.batch_id for line in proposals for p in line.proposals if p.batch_id}
    received = dict(
        session.execute(select(Batch.id, Batch.received_at).where(Batch.id.in_(batch_ids))).all()
    )
    lines = []
    for line in proposals:
        sources = tuple(
            service.SourceData(
                kind=p.kind,
                qty=p.qty,
                location_id=p.location_id,
                batch_id=p.batch_id,
                agreement_line_id=p.agreement_line_id,
                distance_km=p.distance_km,
                expected_at=p.expected_at,
            )
            for p in line.proposals
            if p.kind == "agreement" or (received.get(p.batch_id) or at) <= at
        )
        if sources:
            lines.append(
                service.LineData(
                    material_id=line.material_id,
                    qty=sum(s.qty for s in sources),
                    sources=sources,
                )
            )
    return lines


@contextmanager
def _phase(created: datetime, phase: str) -> Iterator[None]:
    with clock_at(created + timedelta(hours=PHASES[phase])):
        yield


def load_orders(
    session: Session, *, dispatcher: Actor, approver: Actor, today: date | None = None
) -> dict[str, int]:
    """事件与调拨单演示数据: the three events and their orders; returns the count per outcome."""
    today = today or local_today()
    regions = dict(session.execute(select(Region.code, Region.id)).all())
    warehouses = dict(session.execute(select(Warehouse.code, Warehouse.id)).all())
    codes = {code for spec in ORDERS for code, _qty in spec.lines}
    material_ids = dict(
        session.execute(select(Material.code, Material.id).where(Material.code.in_(codes))).all()
    )
    events = {}
    for e in EVENTS:
        started = _at(today - timedelta(days=e.days_ago), 5, 30)
        with clock_at(started + timedelta(minutes=20)):
            event = service.create_event(
                session,
                data=service.EventData(
                    name=e.name,
                    kind=e.kind,
                    level=e.level,
                    region_id=regions[e.region],
                    started_at=started,
                    note=e.note,
                ),
                actor=dispatcher,
            )
        events[e.key] = (e, event, started)
    done: dict[str, int] = {}
    for n, spec in enumerate(ORDERS):
        e, event, started = events[spec.event]
        day = started.astimezone(SHANGHAI).date() + timedelta(days=spec.day)
        created = _at(day, spec.hour)
        address, region, lat, lng, contact, phone = SITES[spec.event]
        target = warehouses.get(spec.transfer_to) if spec.transfer_to else None
        if target is not None:
            w = session.get(Warehouse, target)
            destination = (w.lat, w.lng)
        else:
            destination = (lat, lng)
        with clock_at(created):
            lines = _sources(session, material_ids, spec, destination, target, created)
            if not lines:
                continue
            order = service.create_order(
                session,
                data=service.OrderData(
                    kind=OrderKind.TRANSFER.value if target else OrderKind.DISPATCH.value,
                    requesting_unit=spec.unit,
                    needed_by=created + timedelta(hours=8),
                    lines=tuple(lines),
                    event_id=event.id,
                    destination_warehouse_id=target,
                    site_address=None if target else address,
                    site_region_id=None if target else regions[region],
                    site_lat=None if target else lat,
                    site_lng=None if target else lng,
                    contact_name=contact,
                    contact_phone=phone,
                    priority=spec.priority,
                    reason=spec.reason,
                ),
                actor=dispatcher,
            )
        _advance(session, order, spec.outcome, created, n, dispatcher, approver)
        done[spec.outcome] = done.get(spec.outcome, 0) + 1
    for e, event, started in events.values():
        if e.lasted_days is not None:
            with clock_at(started + timedelta(days=e.lasted_days)):
                service.end_event(session, event_id=event.id, actor=dispatcher)
    session.flush()
    return done


def _advance(
    session: Session,
    order: AllocationOrder,
    outcome: str,
    created: datetime,
    n: int,
    dispatcher: Actor,
    approver: Actor,
) -> None:
    """The office's steps (submit, approve or reject, emergency approval, sign-off, cancel),
    then the floor's, each at its phase's time."""
    if outcome == "draft":
        return
    emergency = outcome in ("emergency", "signed_off")
    if emergency:
        with _phase(created, "submit"):
            service.approve_emergency(session, order_id=order.id, actor=dispatcher)
    else:
        with _phase(created, "submit"):
            service.submit_order(session, order_id=order.id, actor=dispatcher)
        if outcome == "submitted":
            return
        with _phase(created, "decide"):
            if outcome == "rejected":
                service.reject_order(
                    session,
                    order_id=order.id,
                    reason="集中安置点已由县级储备解决，请核减后重新提交",
                    actor=approver,
                )
                return
            service.approve_order(session, order_id=order.id, actor=approver)
    if outcome == "cancelled":
        with _phase(created, "pick"):
            service.cancel_order(
                session, order_id=order.id, reason="演练方案调整，取消该科目", actor=dispatcher
            )
        return
    step = FLOOR_STEPS.get(outcome)
    if step is not None:
        advance_order(session, order, step, n=n, at=lambda phase: _phase(created, phase))
    if outcome == "signed_off":
        with _phase(created, "sign_off"):
            service.sign_off_order(session, order_id=order.id, actor=approver)
