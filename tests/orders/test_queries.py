"""The orders' read side on a small city computed by hand: three orders (A approved, picked,
shipped and partly received for event E; B a draft for E with an agreement source and a line
without sources; C an emergency transfer into the far warehouse), the list's figures, filters,
scope and key paging, the order page's line figures and timeline, the event list and page, and
the statements each costs."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from reserve.auth.models import Role
from reserve.db import local_today, utcnow
from reserve.errors import NotFound
from reserve.orders import floor as floor_service
from reserve.orders import queries, service
from reserve.orders.floor_returns import ReceiveLineData, receive_order
from reserve.orders.models import AllocationOrder, OrderSource
from reserve.orders.service import EventData, LineData, SourceData
from tests.orders.factories import agreement_source, draft


@pytest.fixture
def city(db, floor, actors):
    dispatcher, approver = actors[Role.DISPATCHER], actors[Role.APPROVER]
    keeper = actors[Role.KEEPER]
    event = service.create_event(
        db,
        data=EventData(
            name="平阴县汛情",
            kind="flood",
            level="3",
            region_id=floor.near.region_id,
            started_at=utcnow() - timedelta(hours=1),
        ),
        actor=dispatcher,
    )
    drill = service.create_event(
        db,
        data=EventData(
            name="防汛演练",
            kind="drill",
            level="4",
            region_id=floor.near.region_id,
            started_at=utcnow() - timedelta(days=2),
        ),
        actor=dispatcher,
    )
    a = draft(db, floor, dispatcher, event_id=event.id)
    service.submit_order(db, order_id=a.id, actor=dispatcher)
    service.approve_order(db, order_id=a.id, actor=approver)
    early = db.scalar(
        sa.select(OrderSource).where(
            OrderSource.order_id == a.id, OrderSource.batch_id == floor.early.id
        )
    )
    floor_service.record_pick(
        db,
        source_id=early.id,
        location_id=floor.near_loc.id,
        batch_id=floor.early.id,
        qty=50,
        actor=keeper,
    )
    floor_service.ship_warehouse(
        db,
        order_id=a.id,
        warehouse_id=floor.near.id,
        vehicle_plate="鲁A12345",
        driver_name="王师傅",
        driver_phone="13800000000",
        actor=keeper,
    )
    receive_order(
        db,
        order_id=a.id,
        lines=[ReceiveLineData(early.id, 45, "途中破损")],
        actor=dispatcher,
    )
    b = draft(
        db,
        floor,
        dispatcher,
        event_id=event.id,
        lines=(
            LineData(material_id=floor.tent.id, qty=30, sources=(agreement_source(floor, 30),)),
            LineData(material_id=floor.quilt.id, qty=5),
        ),
    )
    c = draft(
        db,
        floor,
        dispatcher,
        kind="transfer",
        destination_warehouse_id=floor.far.id,
        lines=(
            LineData(
                material_id=floor.tent.id,
                qty=10,
                sources=(
                    SourceData(
                        kind="stock", qty=10, location_id=floor.near_loc.id, batch_id=floor.late.id
                    ),
                ),
            ),
        ),
    )
    service.approve_emergency(db, order_id=c.id, actor=dispatcher)
    # A was made three days ago (the date filter's test)
    db.execute(
        sa.update(AllocationOrder)
        .where(AllocationOrder.id == a.id)
        .values(created_at=utcnow() - timedelta(days=3))
    )
    # both of A's sources were expected an hour ago: the early one is all signed for (45 and
    # 5 short), the late batch's 10 have not even been picked
    db.execute(
        sa.update(OrderSource)
        .where(OrderSource.order_id == a.id)
        .values(expected_at=utcnow() - timedelta(hours=1))
    )
    db.flush()
    db.expire_all()
    return {"event": event, "drill": drill, "a": a, "b": b, "c": c, "early": early}


def _ids(page):
    return [row.id for row in page.items]


def test_the_list_rows_carry_the_figures(db, city, actors):
    page = queries.order_list(db, actor=actors[Role.DISPATCHER])
    a, b, c = city["a"], city["b"], city["c"]
    assert _ids(page) == [c.id, b.id, a.id] and page.next_key is None
    rows = {row.id: row for row in page.items}
    assert (rows[a.id].line_count, rows[a.id].requested_total) == (1, 60)
    assert (rows[b.id].line_count, rows[b.id].requested_total) == (2, 35)
    assert (rows[c.id].line_count, rows[c.id].requested_total) == (1, 10)
    assert rows[a.id].event_name == "平阴县汛情" and rows[c.id].event_name is None
    assert rows[a.id].destination == "平阴县玫瑰镇"
    assert rows[c.id].destination == "济南市储备库"
    assert rows[a.id].number == a.no and rows[a.id].status == "picking"
    assert rows[c.id].is_emergency and not rows[c.id].signed_off
    assert rows[b.id].status == "draft" and rows[c.id].kind == "transfer"


def test_the_list_filters(db, city, actors, floor):
    d = actors[Role.DISPATCHER]
    a, b, c = city["a"], city["b"], city["c"]

    def ids(**filters):
        return _ids(queries.order_list(db, actor=d, **filters))

    assert ids(event_id=city["event"].id) == [b.id, a.id]
    assert ids(event_id=city["drill"].id) == []
    assert ids(status="draft") == [b.id]
    assert ids(warehouse_id=floor.far.id) == [c.id]  # the destination
    assert ids(warehouse_id=floor.near.id) == [c.id, a.id]  # sources
    today = local_today()
    assert ids(date_from=today) == [c.id, b.id]
    assert ids(date_to=today - timedelta(days=2)) == [a.id]
    assert ids(date_from=today - timedelta(days=3), date_to=today - timedelta(days=3)) == [a.id]
    assert ids(awaiting_sign_off=True) == [c.id]
    service.sign_off_order(db, order_id=c.id, actor=actors[Role.APPROVER])
    assert ids(awaiting_sign_off=True) == []
    assert queries.order_list(db, actor=d, status="approved").items[0].signed_off


def test_the_list_is_scoped(db, city, actors):
    a, b, c = city["a"], city["b"], city["c"]
    for role in (Role.ADMIN, Role.APPROVER, Role.VIEWER):
        assert _ids(queries.order_list(db, actor=actors[role])) == [c.id, b.id, a.id]
    # the keeper keeps the near warehouse: A and C take from it, B only from an agreement
    assert _ids(queries.order_list(db, actor=actors[Role.KEEPER])) == [c.id, a.id]
    assert _ids(queries.order_list(db, actor=actors[Role.ENTERPRISE])) == []


def test_the_list_pages_by_key(db, city, actors):
    d = actors[Role.DISPATCHER]
    first = queries.order_list(db, actor=d, limit=2)
    assert _ids(first) == [city["c"].id, city["b"].id] and first.next_key
    second = queries.order_list(db, actor=d, limit=2, after=first.next_key)
    assert _ids(second) == [city["a"].id] and second.next_key is None
    # a key that is not one starts again at the first page
    assert _ids(queries.order_list(db, actor=d, limit=2, after="junk")) == _ids(first)


def test_the_list_costs_one_statement(db, city, actors, floor, count_queries):
    near = floor.near.id
    with count_queries() as statements:
        page = queries.order_list(db, actor=actors[Role.KEEPER], warehouse_id=near)
        [(row.line_count, row.requested_total, row.event_name) for row in page.items]
    assert len(statements) == 1


def test_the_order_page_sums_the_floor_per_line(db, city, actors):
    page = queries.order_page(db, order_id=city["a"].id, actor=actors[Role.VIEWER])
    assert page.order.id == city["a"].id and page.event.name == "平阴县汛情"
    assert page.destination == "平阴县玫瑰镇"
    (line,) = page.lines
    assert line.material_name == "帐篷" and line.unit == "顶"
    assert (line.requested, line.allocated, line.picked, line.shipped) == (60, 60, 50, 50)
    assert (line.received, line.short, line.returned, line.unallocated) == (45, 5, 0, 0)
    assert [s.qty for s in line.sources] == [50, 10]
    assert [s.qty for s in page.late] == [10]  # expected an hour ago, not signed for
    steps = [(s.action, s.from_status, s.to_status) for s in page.timeline]
    assert steps[:3] == [
        ("create", None, "draft"),
        ("submit", "draft", "submitted"),
        ("approve", "submitted", "approved"),
    ]
    assert page.timeline[2].username == "o_approver"
    assert page.timeline[-1].to_status == "picking"


def test_the_order_page_of_a_draft(db, city, actors):
    page = queries.order_page(db, order_id=city["b"].id, actor=actors[Role.DISPATCHER])
    tents, quilts = page.lines
    assert (tents.requested, tents.allocated, tents.unallocated) == (30, 30, 0)
    assert (quilts.requested, quilts.allocated, quilts.unallocated, quilts.sources) == (5, 0, 5, [])
    assert page.late == [] and [s.action for s in page.timeline] == ["create"]


def test_the_order_page_is_scoped(db, city, actors):
    with pytest.raises(NotFound):
        queries.order_page(db, order_id=city["b"].id, actor=actors[Role.KEEPER])
    with pytest.raises(NotFound):
        queries.order_page(db, order_id=city["a"].id, actor=actors[Role.ENTERPRISE])
    assert queries.order_page(db, order_id=city["a"].id, actor=actors[Role.KEEPER]).lines


def test_the_order_page_costs_the_same_for_more_lines(db, city, actors, count_queries):
    d = actors[Role.DISPATCHER]
    counts = []
    for order in (city["a"], city["b"]):
        db.expire_all()
        with count_queries() as statements:
            queries.order_page(db, order_id=order.id, actor=d)
        counts.append(len(statements))
    assert counts[0] == counts[1] <= 6, counts


def test_the_event_list(db, city, actors):
    page = queries.event_list(db, actor=actors[Role.VIEWER])
    assert [(r.name, r.order_count, r.open_count) for r in page.items] == [
        ("平阴县汛情", 2, 2),
        ("防汛演练", 0, 0),
    ]
    assert _ids(queries.event_list(db, actor=actors[Role.VIEWER], kind="drill")) == [
        city["drill"].id
    ]
    service.end_event(db, event_id=city["drill"].id, actor=actors[Role.DISPATCHER])
    assert _ids(queries.event_list(db, actor=actors[Role.VIEWER], open_only=True)) == [
        city["event"].id
    ]
    first = queries.event_list(db, actor=actors[Role.ADMIN], limit=1)
    assert _ids(first) == [city["event"].id]
    rest = queries.event_list(db, actor=actors[Role.ADMIN], limit=1, after=first.next_key)
    assert _ids(rest) == [city["drill"].id] and rest.next_key is None
    for role in (Role.KEEPER, Role.ENTERPRISE):
        assert queries.event_list(db, actor=actors[role]).items == []


def test_the_event_page_sums_what_was_sent(db, city, actors, floor, count_queries):
    with count_queries() as statements:
        page = queries.event_page(db, event_id=city["event"].id, actor=actors[Role.APPROVER])
    assert len(statements) <= 4
    assert _ids(page.orders) == [city["b"].id, city["a"].id]
    flows = {(m.material_name): m for m in page.materials}
    tent, quilt = flows["帐篷"], flows["棉被"]
    # A: 60 asked, 60 allocated, 50 shipped, 45 received, 5 short; B: 30 asked, 30 from agreement
    assert (tent.requested, tent.allocated, tent.shipped) == (90, 90, 50)
    assert (tent.received, tent.short, tent.returned) == (45, 5, 0)
    assert (quilt.requested, quilt.allocated, quilt.shipped) == (5, 0, 0)
    # a cancelled order counts for nothing
    service.cancel_order(
        db, order_id=city["b"].id, reason="重复申请", actor=actors[Role.DISPATCHER]
    )
    page = queries.event_page(db, event_id=city["event"].id, actor=actors[Role.APPROVER])
    assert [(m.material_name, m.requested) for m in page.materials] == [("帐篷", 60)]
    with pytest.raises(NotFound):
        queries.event_page(db, event_id=city["event"].id, actor=actors[Role.KEEPER])
