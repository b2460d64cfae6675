"""The availability view's figures (reserve/availability/queries.py) on a small province:
physical and agreement stock side by side, capacity apart, regions with their divisions."""

from __future__ import annotations

from datetime import timedelta

import pytest

from reserve.agreements.flags import FlagRule, LineFlag
from reserve.auth.actor import Actor
from reserve.availability.queries import (
    AvailabilityFilter,
    availability_page,
    material_availability,
    material_line_page,
    material_warehouse_page,
)
from tests.availability.conftest import TODAY

ADMIN = Actor.system("test")
RULE = FlagRule(today=TODAY)


def rows(db, **filters) -> dict:
    page = availability_page(db, ADMIN, AvailabilityFilter(**filters), rule=RULE)
    return {row.name: row for row in page.items}


def test_physical_and_agreement_stock_side_by_side_with_capacity_apart(db, province):
    found = rows(db)
    water = found["瓶装饮用水"]
    assert (water.on_hand, water.available, water.warehouses) == (1700, 1700, 3)
    assert water.committed == 1000 + 300 + 400
    # callable: capped by the report (800) and the failed verification (100); the third whole
    assert water.callable == 800 + 300 + 100
    assert (water.stock_lines, water.flagged_lines, water.failed_lines) == (3, 3, 1)
    assert water.capacity_lines == 0 and water.capacity_within == 0
    quilt = found["棉被"]
    # capacity only: 2,000 a day from 48 h after the call, within 72 h → one day's worth
    assert (quilt.on_hand, quilt.committed, quilt.callable, quilt.stock_lines) == (0, 0, 0, 0)
    assert (quilt.capacity_lines, quilt.capacity_within, quilt.capacity_left) == (1, 2000, 20000)
    assert (quilt.capacity_daily, quilt.capacity_lead_hours) == (2000, 48)
    # the tent: physical only; its draft and expired agreements count for nothing
    tent = found["单帐篷"]
    assert (tent.on_hand, tent.committed, tent.stock_lines) == (40, 0, 0)


def test_the_horizon_moves_capacity_only(db, province):
    assert rows(db, hours=48)["棉被"].capacity_within == 0  # nothing before the lead time
    assert rows(db, hours=60)["棉被"].capacity_within == 1000  # half a day
    assert rows(db, hours=24 * 365)["棉被"].capacity_within == 20000  # never above the total
    assert rows(db, hours=24 * 365)["瓶装饮用水"].callable == 1200


@pytest.mark.parametrize(
    ("region", "on_hand", "callable", "lines"),
    [
        # the province: everything
        ("province", 1700, 1200, {"XY-CITY", "XY-NONE", "XY-DIST"}),
        # 济南: its warehouse and 历下's; the city's agreement, and 历城's (a district in it)
        ("jinan", 700, 900, {"XY-CITY", "XY-DIST"}),
        # 历下: its own warehouse; the agreement delivering to all 济南 (above it) counts,
        # 历城's (a sibling) does not, nor 青岛's
        ("lixia", 200, 800, {"XY-CITY"}),
        # 青岛: no delivery area, the enterprise is registered there
        ("qingdao", 1000, 300, {"XY-NONE"}),
        # 历城: no warehouse; its own agreement and the city's
        ("licheng", 0, 900, {"XY-CITY", "XY-DIST"}),
    ],
)
def test_a_region_includes_its_divisions_and_agreements_serving_it(
    db, province, region, on_hand, callable, lines
):
    region_id = getattr(province, region).id
    water = rows(db, region_id=region_id)["瓶装饮用水"]
    assert (water.on_hand, water.callable) == (on_hand, callable)
    f = AvailabilityFilter(region_id=region_id)
    page = material_line_page(db, ADMIN, province.water.id, f, rule=RULE)
    assert {line.agreement_no for line in page.items} == lines
    warehouses = material_warehouse_page(db, ADMIN, province.water.id, f)
    assert sum(w.qty for w in warehouses.items) == on_hand


def test_a_region_without_anything_lists_nothing(db, province, make_region):
    empty = make_region("370300", "淄博市", "city", province.province)
    assert rows(db, region_id=empty.id) == {}


def test_filters_by_category_material_and_text(db, province, make_category, make_material):
    other = make_category("1020100", "其他物资")
    pump = make_material("排涝泵", code="1020100001", unit="台", category=other)
    from tests.availability.conftest import _receive

    _receive(db, province.wh_jinan, pump, 3)
    assert set(rows(db, category_code="1020100")) == {"排涝泵"}
    assert set(rows(db, category_code="1010100")) == {"瓶装饮用水", "棉被", "单帐篷"}
    assert set(rows(db, material_id=province.quilt.id)) == {"棉被"}
    assert set(rows(db, q="mb")) == {"棉被"}  # pinyin initials
    assert set(rows(db, q="饮用水")) == {"瓶装饮用水"}


def test_the_drill_down_shows_each_line_with_its_flags_duty_phone_and_evidence(db, province):
    f = AvailabilityFilter()
    page = material_line_page(db, ADMIN, province.water.id, f, rule=RULE)
    lines = {line.agreement_no: line for line in page.items}
    city = lines["XY-CITY"]
    assert (city.callable_qty, city.reported_qty, city.verified_qty) == (800, 800, 1000)
    assert city.flags == (LineFlag.REPORTED_BELOW,)
    assert (city.duty_name, city.duty_phone, city.response_hours) == ("王值班", "13800000001", 12)
    assert city.enterprise_name == "济南统一企业有限公司"
    # never verified, never reported, started 100 days ago → both flags; no duty contact
    none = lines["XY-NONE"]
    assert none.flags == (LineFlag.NEVER_VERIFIED, LineFlag.REPORT_OVERDUE)
    assert none.duty_phone is None and none.callable_qty == 300
    assert lines["XY-DIST"].flags == (LineFlag.VERIFICATION_FAILED,)
    assert lines["XY-DIST"].callable_qty == 100
    summary = material_availability(db, ADMIN, province.water.id, f, rule=RULE)
    assert summary.callable == sum(line.callable_qty for line in page.items)


def test_capacity_lines_are_listed_apart_with_what_they_can_produce(db, province):
    page = material_line_page(db, ADMIN, province.quilt.id, AvailabilityFilter(hours=96), rule=RULE)
    (line,) = page.items
    assert line.is_capacity and line.flags == () and line.producible == 4000


def test_outstanding_call_ups_come_off_what_can_be_called(db, province):
    province.line_none.called_qty, province.line_none.shipped_qty = 120, 20
    db.flush()
    water = rows(db)["瓶装饮用水"]
    assert (water.called, water.shipped, water.callable) == (120, 20, 800 + 180 + 100)


def test_lines_page_by_key_stock_first_then_the_fastest(db, province):
    f = AvailabilityFilter()
    province.a_none.response_hours = 2
    db.flush()
    first = material_line_page(db, ADMIN, province.water.id, f, rule=RULE, per_page=2)
    assert [line.agreement_no for line in first.items] == ["XY-NONE", first.items[1].agreement_no]
    rest = material_line_page(
        db, ADMIN, province.water.id, f, rule=RULE, per_page=2, after=first.next_key
    )
    seen = [line.line_id for line in first.items + rest.items]
    assert len(seen) == len(set(seen)) == 3 and rest.next_key is None


def test_a_page_runs_the_same_statements_however_many_materials(
    db, province, make_material, count_queries
):
    from tests.availability.conftest import _receive

    f = AvailabilityFilter()
    with count_queries() as few:
        availability_page(db, ADMIN, f, rule=RULE)
    for n in range(30):
        material = make_material(f"物资{n}", code=f"10101009{n:02d}")
        _receive(db, province.wh_lixia, material, n + 1)
    with count_queries() as many:
        page = availability_page(db, ADMIN, f, rule=RULE)
    assert len(page.items) == 33
    assert len(many) == len(few) == 3


def test_an_agreement_not_yet_started_does_not_count(db, province):
    province.a_none.valid_from = TODAY + timedelta(days=1)
    db.flush()
    assert rows(db)["瓶装饮用水"].callable == 800 + 100
