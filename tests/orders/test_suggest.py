"""Suggestions computed by hand on the small floor of tests/orders/factories.py:

near (平阴, ≈1.1 km × 1.3 from the site): E1 50 (expires in 30 days), L1 100 (300 days);
far (济南, ≈ 70 km): F1 200 (10 days), X1 500 expired; an agreement for 1,000 tents (12 h)."""

from __future__ import annotations

from datetime import timedelta

from reserve.orders import suggest
from reserve.orders.suggest import great_circle_km


def _run(db, floor, qty, **kw):
    return suggest.suggest(db, lines=[(floor.tent.id, qty)], destination=floor.site, **kw)[0]


def test_fefo_within_the_nearest_warehouse_first(db, floor):
    line = _run(db, floor, 120)
    assert [(p.batch_no, p.qty) for p in line.proposals] == [("E1", 50), ("L1", 70)]
    assert line.short == 0
    assert {p.warehouse_id for p in line.proposals} == {floor.near.id}


def test_then_the_next_warehouse_then_the_agreement(db, floor):
    line = _run(db, floor, 1200)
    got = [(p.kind, p.batch_no or p.agreement_no, p.qty) for p in line.proposals]
    # the far warehouse's F1 expires first of all, but the near warehouse comes first
    assert got == [
        ("stock", "E1", 50),
        ("stock", "L1", 100),
        ("stock", "F1", 200),
        ("agreement", floor.agreement.no, 850),
    ]
    assert line.short == 0


def test_expired_stock_never_offered_and_the_shortfall_said(db, floor):
    line = _run(db, floor, 2000)
    assert "X1" not in {p.batch_no for p in line.proposals}
    assert line.covered == 50 + 100 + 200 + 1000
    assert line.short == 2000 - 1350


def test_distance_and_expected_arrival(db, floor):
    line = _run(db, floor, 300, road_factor=1.5, truck_kmh=50, loading_hours=3)
    far = next(p for p in line.proposals if p.warehouse_id == floor.far.id)
    km = great_circle_km(floor.site[0], floor.site[1], floor.far.lat, floor.far.lng) * 1.5
    assert 60 * 1.5 < km < 80 * 1.5  # 济南 is about 70 km from 平阴 as the crow flies
    assert float(far.distance_km) == round(km, 1)
    hours = (far.expected_at - line.proposals[0].expected_at).total_seconds() / 3600
    near_km = float(line.proposals[0].distance_km)
    assert abs(hours - (km - near_km) / 50) < 0.01


def test_the_agreement_arrives_after_its_response_hours(db, floor):
    line = _run(db, floor, 400)
    call = line.proposals[-1]
    assert call.kind == "agreement" and call.qty == 50 and call.response_hours == 12
    first = line.proposals[0]
    delta = call.expected_at - first.expected_at
    assert abs(
        delta - (timedelta(hours=12) - timedelta(hours=2 + float(first.distance_km) / 60))
    ) < timedelta(seconds=10)  # the distance is shown rounded to 0.1 km


def test_a_transfer_never_takes_from_its_destination(db, floor):
    line = suggest.suggest(
        db,
        lines=[(floor.tent.id, 100)],
        destination=(floor.near.lat, floor.near.lng),
        destination_warehouse_id=floor.near.id,
    )[0]
    assert floor.near.id not in {p.warehouse_id for p in line.proposals}
    assert [p.batch_no for p in line.proposals] == ["F1"]


def test_a_material_nobody_holds(db, floor):
    line = suggest.suggest(db, lines=[(floor.quilt.id, 5)], destination=floor.site)[0]
    assert line.proposals == [] and line.short == 5


def test_many_lines_in_two_statements(db, floor, count_queries):
    with count_queries() as queries:
        suggest.suggest(
            db, lines=[(floor.tent.id, 10), (floor.quilt.id, 5)], destination=floor.site
        )
    # warehouses, stock of every material, agreement lines, the reserve standards of the
    # warehouses taken from (their figures in one more statement, only when there are some)
    assert len(queries) <= 4
