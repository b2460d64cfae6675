"""The office's order and event pages: every page as every role, a draft made from the form,
its suggestions accepted in one click, submitted and approved; an emergency order approved by
the dispatcher and signed off from the sign-off list; events opened, edited and ended; and bad
input answered with a message, nothing changed."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from reserve.auth.models import Role
from reserve.db import SHANGHAI, utcnow
from reserve.orders.models import AllocationOrder, Event, OrderLine, OrderLog, OrderSource
from reserve.orders.service import EventData, create_event
from tests.orders.factories import ROLES, draft


@pytest.fixture
def clients(login_as, floor):
    """One signed-in client per role (the keeper keeps the near warehouse)."""
    out = {}
    for role in ROLES:
        fields = {"warehouses": [floor.near]} if role is Role.KEEPER else {}
        out[role] = login_as(role, **fields)
    return out


@pytest.fixture
def event(db, floor, actors):
    return create_event(
        db,
        data=EventData(
            name="平阴县汛情",
            kind="flood",
            level="3",
            region_id=floor.near.region_id,
            started_at=utcnow() - timedelta(hours=1),
        ),
        actor=actors[Role.DISPATCHER],
    )


def _counts(db):
    return tuple(
        db.scalar(sa.select(sa.func.count()).select_from(m))
        for m in (AllocationOrder, OrderLine, OrderSource, OrderLog, Event)
    )


def _form(floor, **changes) -> dict:
    data = {
        "kind": "dispatch",
        "requesting_unit": "平阴县应急管理局",
        "site_address": "平阴县玫瑰镇安置点",
        "site_lat": "36.29",
        "site_lng": "116.45",
        "needed_quick": "tonight",
        "priority": "urgent",
        "reason": "汛期转移安置",
        "lines-0-material_id": str(floor.tent.id),
        "lines-0-qty": "120",
        "lines-1-material_id": "",
        "lines-1-qty": "",
        "csrf_token": "",
    }
    data.update(changes)
    return data


OK, DENIED, MISSING = 200, 403, 404

# page → status per role (the keeper keeps the near warehouse, where the order takes from)
EXPECTED = {
    "/orders": {"admin": OK, "dispatcher": OK, "approver": OK, "keeper": OK, "viewer": OK},
    "/orders/new": {"admin": OK, "dispatcher": OK},
    "/orders/{order}": {"admin": OK, "dispatcher": OK, "approver": OK, "keeper": OK, "viewer": OK},
    "/orders/{order}/edit": {"admin": OK, "dispatcher": OK},
    "/orders?sign_off=1": {
        "admin": OK,
        "dispatcher": OK,
        "approver": OK,
        "keeper": OK,
        "viewer": OK,
    },
    "/events": {"admin": OK, "dispatcher": OK, "approver": OK, "viewer": OK},
    "/events/new": {"admin": OK, "dispatcher": OK},
    "/events/{event}": {"admin": OK, "dispatcher": OK, "approver": OK, "viewer": OK},
    "/events/{event}/edit": {"admin": OK, "dispatcher": OK},
}


def test_every_page_as_every_role(db, floor, actors, clients, event):
    order = draft(db, floor, actors[Role.DISPATCHER], event_id=event.id)
    db.flush()
    for path, allowed in EXPECTED.items():
        url = path.format(order=order.id, event=event.id)
        for role in ROLES:
            got = clients[role].get(url).status_code
            assert got == allowed.get(role.value, DENIED), (url, role, got)


def test_a_keeper_does_not_see_an_order_of_other_warehouses(db, floor, actors, login_as):
    order = draft(db, floor, actors[Role.DISPATCHER])
    other = login_as(Role.KEEPER, warehouses=[floor.far])
    assert other.get(f"/orders/{order.id}").status_code == MISSING
    assert f"order-{order.id}" not in other.get("/orders").get_data(as_text=True)


def test_a_draft_from_the_form_to_approval(db, floor, clients):
    dispatcher, approver = clients[Role.DISPATCHER], clients[Role.APPROVER]
    response = dispatcher.post("/orders/new", data=_form(floor))
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    order = db.scalar(sa.select(AllocationOrder).order_by(AllocationOrder.id.desc()))
    assert response.headers["Location"].endswith(f"/orders/{order.id}")
    assert order.status == "draft" and order.requesting_unit == "平阴县应急管理局"
    local = order.needed_by.astimezone(SHANGHAI)
    assert local.hour == 22 or order.needed_by - utcnow() >= timedelta(hours=1, minutes=59)
    html = dispatcher.get(f"/orders/{order.id}").get_data(as_text=True)
    assert "采纳全部建议" in html and "平阴县储备库" in html
    # 120 tents: 50 early + 100 late near, so the near warehouse gives 150 ≥ 120 (FEFO first)
    assert dispatcher.post(f"/orders/{order.id}/accept-suggestions").status_code == 302
    db.expire_all()
    sources = db.scalars(sa.select(OrderSource).where(OrderSource.order_id == order.id)).all()
    assert sorted((s.batch_id, s.qty) for s in sources) == sorted(
        [(floor.early.id, 50), (floor.late.id, 70)]
    )
    # the sources editor: the late batch's 70 down to 60 (the line is then short by 10)
    late = next(s for s in sources if s.batch_id == floor.late.id)
    early = next(s for s in sources if s.batch_id == floor.early.id)
    form = {f"qty-{early.id}": "50", f"qty-{late.id}": "60", "csrf_token": ""}
    assert dispatcher.post(f"/orders/{order.id}/sources", data=form).status_code == 302
    db.expire_all()
    assert sorted(
        s.qty for s in db.scalars(sa.select(OrderSource).where(OrderSource.order_id == order.id))
    ) == [50, 60]
    assert dispatcher.post(f"/orders/{order.id}/submit").status_code == 302
    assert approver.post(f"/orders/{order.id}/approve").status_code == 302
    db.expire_all()
    assert db.get(AllocationOrder, order.id).status == "approved"
    page = approver.get(f"/orders/{order.id}").get_data(as_text=True)
    assert 'id="floor-panel"' in page and 'id="order-timeline"' in page


def test_an_emergency_order_and_its_sign_off(db, floor, actors, clients):
    order = draft(db, floor, actors[Role.DISPATCHER])
    dispatcher, approver = clients[Role.DISPATCHER], clients[Role.APPROVER]
    assert dispatcher.post(f"/orders/{order.id}/approve-emergency").status_code == 302
    db.expire_all()
    assert db.get(AllocationOrder, order.id).awaits_sign_off
    listing = approver.get("/orders?sign_off=1").get_data(as_text=True)
    assert f'id="order-{order.id}"' in listing
    assert 'id="order-sign-off"' in approver.get(f"/orders/{order.id}").get_data(as_text=True)
    assert approver.post(f"/orders/{order.id}/sign-off").status_code == 302
    db.expire_all()
    assert not db.get(AllocationOrder, order.id).awaits_sign_off
    assert f'id="order-{order.id}"' not in approver.get("/orders?sign_off=1").get_data(as_text=True)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"needed_quick": "at", "needed_at": "2020-01-01T08:00"}, "需求时间已过"),
        ({"lines-0-qty": "0"}, "大于 0|大于0"),
        ({"lines-0-qty": "-5"}, "大于 0|大于0"),
        ({"requesting_unit": ""}, "请填写申请单位"),
        ({"site_address": ""}, "请填写现场地址"),
        ({"kind": "transfer"}, "接收调拨的在用仓库"),
        ({"lines-0-material_id": "", "lines-0-qty": ""}, "至少添加一种物资"),
        ({"site_lat": "95"}, "以度为单位"),
    ],
)
def test_bad_drafts_say_why_and_change_nothing(db, floor, clients, changes, message):
    import re

    before = _counts(db)
    response = clients[Role.DISPATCHER].post("/orders/new", data=_form(floor, **changes))
    assert response.status_code in (200, 422), response.status_code
    html = response.get_data(as_text=True)
    assert re.search(message, html), html[html.find("<main") : html.find("<main") + 3000]
    assert _counts(db) == before


def test_bad_actions_say_why_and_change_nothing(db, floor, actors, clients):
    order = draft(db, floor, actors[Role.DISPATCHER])
    dispatcher, approver = clients[Role.DISPATCHER], clients[Role.APPROVER]
    before = _counts(db)
    # approving a draft: it is not submitted
    response = approver.post(f"/orders/{order.id}/approve", follow_redirects=True)
    assert "现在不能进行此操作" in response.get_data(as_text=True)
    # a source above what is there
    source = order.lines[0].sources[0]
    response = dispatcher.post(
        f"/orders/{order.id}/sources",
        data={f"qty-{source.id}": "9999", "csrf_token": ""},
        follow_redirects=True,
    )
    assert "可用，不足 9999" in response.get_data(as_text=True)
    # cancelling without a reason
    response = dispatcher.post(
        f"/orders/{order.id}/cancel", data={"reason": ""}, follow_redirects=True
    )
    assert "请说明取消原因" in response.get_data(as_text=True)
    assert _counts(db) == before
    db.expire_all()
    assert db.get(AllocationOrder, order.id).status == "draft"
    # the roles that may not: a viewer submits, a keeper approves
    assert clients[Role.VIEWER].post(f"/orders/{order.id}/submit").status_code == DENIED
    assert clients[Role.KEEPER].post(f"/orders/{order.id}/approve").status_code == DENIED
    assert _counts(db) == before


def test_rejecting_needs_a_reason(db, floor, actors, clients):
    order = draft(db, floor, actors[Role.DISPATCHER])
    dispatcher, approver = clients[Role.DISPATCHER], clients[Role.APPROVER]
    dispatcher.post(f"/orders/{order.id}/submit")
    approver.post(f"/orders/{order.id}/reject", data={"reason": ""})
    db.expire_all()
    assert db.get(AllocationOrder, order.id).status == "submitted"
    approver.post(f"/orders/{order.id}/reject", data={"reason": "数量需核实"})
    db.expire_all()
    rejected = db.get(AllocationOrder, order.id)
    assert (rejected.status, rejected.reject_reason) == ("rejected", "数量需核实")
    assert "数量需核实" in dispatcher.get(f"/orders/{order.id}").get_data(as_text=True)


def test_events_open_edit_and_end(db, floor, clients, actors):
    dispatcher = clients[Role.DISPATCHER]
    form = {
        "name": "南部山区森林火灾",
        "kind": "forest_fire",
        "level": "2",
        "region_id": str(floor.near.region_id),
        "started_at": (utcnow() - timedelta(hours=2))
        .astimezone(SHANGHAI)
        .strftime("%Y-%m-%dT%H:%M"),
        "csrf_token": "",
    }
    response = dispatcher.post("/events/new", data=form)
    assert response.status_code == 302
    event = db.scalar(sa.select(Event).where(Event.name == "南部山区森林火灾"))
    assert event.kind == "forest_fire" and event.level == "2"
    response = dispatcher.post(f"/events/{event.id}/edit", data={**form, "level": "1"})
    assert response.status_code == 302
    db.expire_all()
    assert db.get(Event, event.id).level == "1"
    page = dispatcher.get(f"/events/{event.id}").get_data(as_text=True)
    assert 'id="event-materials"' in page and 'id="event-end"' in page
    assert dispatcher.post(f"/events/{event.id}/end").status_code == 302
    db.expire_all()
    assert db.get(Event, event.id).ended_at is not None
    # bad input: no name, a start in the future
    before = _counts(db)
    html = dispatcher.post("/events/new", data={**form, "name": ""}).get_data(as_text=True)
    assert "请填写事件名称" in html
    future = (utcnow() + timedelta(days=2)).astimezone(SHANGHAI).strftime("%Y-%m-%dT%H:%M")
    html = dispatcher.post("/events/new", data={**form, "started_at": future}).get_data(
        as_text=True
    )
    assert "开始时间不能晚于现在" in html
    assert _counts(db) == before
    assert clients[Role.APPROVER].post("/events/new", data=form).status_code == DENIED
    assert _counts(db) == before


def test_the_list_filters_by_state_and_event(db, floor, actors, clients, event):
    a = draft(db, floor, actors[Role.DISPATCHER], event_id=event.id)
    b = draft(db, floor, actors[Role.DISPATCHER])
    viewer = clients[Role.VIEWER]
    html = viewer.get(f"/orders?event={event.id}").get_data(as_text=True)
    assert f'id="order-{a.id}"' in html and f'id="order-{b.id}"' not in html
    html = viewer.get("/orders?status=submitted").get_data(as_text=True)
    assert f'id="order-{a.id}"' not in html
    assert viewer.get("/orders?date_from=0001-01-01").status_code in (400, 422)
