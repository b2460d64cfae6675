"""Shortfall by hand on tests/standards/conftest.py's small reserve."""

from __future__ import annotations

import sqlalchemy as sa

from reserve.agreements import signing
from reserve.agreements.models import Agreement
from reserve.auth.actor import Actor
from reserve.auth.models import Role
from reserve.availability.queries import region_closure, serves_region, serves_region_of
from reserve.standards import shortfall
from reserve.standards.shortfall import Severity, ShortfallFilter
from reserve.warehouses.models import Region
from tests.agreements.conftest import agreement_data, code


def _rows(db, actor=None, **f):
    return {
        (r.material_code, r.scope_label): r
        for r in shortfall.shortfall_rows(db, actor=actor or Actor.system(), f=ShortfallFilter(**f))
    }


def test_warehouse_scope_excludes_expired_and_reserved(db, site, standard):
    standard(site.tent, site.wc, 150, pct=100)
    row = _rows(db)[("1010100001", "市级库")]
    assert row.physical == 200 - 30  # 500 expired not counted, 30 reserved not counted
    assert row.agreement == 0 and row.total == 170
    assert row.shortfall == 0 and row.physical_shortfall == 0
    assert row.severity is Severity.MET


def test_region_scope_sums_the_warehouses_under_it(db, site, standard):
    standard(site.tent, site.city, 400, pct=50)
    row = _rows(db)[("1010100001", "济南市")]
    assert row.physical == 170 + 100
    assert row.counts_agreements is False and row.total == 270
    assert row.shortfall == 130
    assert row.physical_required == 200 and row.physical_shortfall == 0
    assert row.severity is Severity.SHORT


def test_agreement_stock_capped_by_failed_verification_and_call_ups(db, site, standard):
    standard(site.tent, site.county, 600, pct=30, agreements=True)
    row = _rows(db)[("1010100001", "平阴县")]
    assert row.physical == 100
    assert row.agreement == min(1000, 400) - 50  # capped at 400, 50 called up
    assert row.total == 450 and row.shortfall == 150
    assert row.physical_required == 180 and row.physical_shortfall == 80


def test_an_agreement_counts_for_the_region_above_its_enterprise(db, site, standard):
    standard(site.tent, site.city, 1000, agreements=True)
    row = _rows(db)[("1010100001", "济南市")]
    assert row.agreement == 350 and row.total == 270 + 350 and row.shortfall == 380


def test_an_agreement_does_not_count_for_a_region_it_does_not_serve(
    db, site, standard, make_region
):
    other = make_region("370102", "历下区", "district", parent=site.city)
    standard(site.tent, other, 10, agreements=True)
    row = _rows(db)[("1010100001", "历下区")]
    assert row.physical == 0 and row.agreement == 0
    assert row.severity is Severity.CRITICAL


def test_serial_items_out_in_service_are_not_available(db, site, standard):
    standard(site.pump, site.wp, 3, pct=100)
    row = _rows(db)[("2010100001", "平阴库")]
    assert row.physical == 2 and row.shortfall == 1 and row.physical_shortfall == 1
    assert row.severity is Severity.SHORT


def test_sorted_by_severity_and_rolled_up(db, site, standard):
    standard(site.tent, site.wc, 150)  # met
    standard(site.tent, site.city, 400)  # short 130 (covers 270/400 = 67.5 %)
    standard(site.tent, site.wp, 1000)  # critical: 100 of 1,000
    standard(site.pump, site.wp, 3)  # short 1 (covers 2/3 = 66.7 %: before the city)
    rows = shortfall.shortfall_rows(db, actor=Actor.system())
    assert [(r.scope_label, r.severity.value) for r in rows] == [
        ("平阴库", "critical"),
        ("平阴库", "short"),
        ("济南市", "short"),
        ("市级库", "met"),
    ]
    categories = {(g.key, g.unit): g for g in shortfall.by_category(rows)}
    tents = categories[("1010100 住宿物资", "顶")]
    assert (tents.standards, tents.short, tents.critical) == (3, 2, 1)
    assert tents.required == 150 + 400 + 1000
    assert tents.total == 170 + 270 + 100
    assert tents.shortfall == 0 + 130 + 900
    regions = {(g.key, g.unit): g for g in shortfall.by_region(rows)}
    assert regions[("平阴县", "顶")].shortfall == 900
    assert regions[("平阴县", "台")].shortfall == 1
    assert regions[("济南市", "顶")].shortfall == 130  # the city's own and WH-C's (met)
    assert regions[("济南市", "顶")].standards == 2


def test_filters(db, site, standard):
    standard(site.tent, site.wc, 150)
    standard(site.tent, site.wp, 1000)
    standard(site.pump, site.wp, 3)
    assert set(_rows(db, severity="critical")) == {("1010100001", "平阴库")}
    assert set(_rows(db, region_id=site.county.id)) == {
        ("1010100001", "平阴库"),
        ("2010100001", "平阴库"),
    }
    assert set(_rows(db, category_code="2000000")) == {("2010100001", "平阴库")}


def test_a_keeper_sees_only_their_warehouses_standards(db, site, standard):
    standard(site.tent, site.wc, 150)
    standard(site.tent, site.wp, 100)
    standard(site.tent, site.city, 400)
    keeper = Actor(
        user_id=None,
        username="k",
        roles=frozenset({Role.KEEPER}),
        warehouse_ids=frozenset({site.wp.id}),
    )
    assert set(_rows(db, actor=keeper)) == {("1010100001", "平阴库")}


def test_one_statement_whatever_the_number_of_standards(db, site, standard, count_queries):
    standard(site.tent, site.wc, 150)
    db.flush()
    with count_queries() as one:
        shortfall.shortfall_rows(db, actor=Actor.system())
    standard(site.tent, site.wp, 100)
    standard(site.tent, site.city, 400, agreements=True)
    standard(site.tent, site.county, 400, agreements=True)
    standard(site.pump, site.wp, 3)
    db.flush()
    with count_queries() as five:
        rows = shortfall.shortfall_rows(db, actor=Actor.system())
    assert len(rows) == 5
    assert len(one) == len(five) == 1


def test_shortfall_for_one_material(db, site, standard):
    standard(site.tent, site.wc, 150)
    standard(site.pump, site.wp, 3)
    rows = shortfall.shortfall_for(db, material_id=site.pump.id, actor=Actor.system())
    assert [(r.material_code, r.physical) for r in rows] == [("2010100001", 2)]


def test_the_region_rule_for_many_regions_agrees_with_the_availability_view(
    db, site, make_region, make_enterprise
):
    """``serves_region_of`` (every standard in one statement) and ``serves_region`` (one
    region) answer alike for every region and agreement: with a delivery area above, at and
    below a region, and without one (the enterprise's seat)."""
    other = make_region("370102", "历下区", "district", parent=site.city)
    town = make_region("370124100", "平阴镇", "township", parent=site.county)
    seller = make_enterprise("历下商贸有限公司", code("91370102MA3C4PYX8"), region_id=other.id)
    signing.create_agreement(
        db,
        data=agreement_data(seller.id, site.tent.id, no="XY-2026-002", region_ids=(town.id,)),
        actor=site.admin,
    )
    db.flush()
    regions = [site.city.id, site.county.id, other.id, town.id]
    closure = region_closure()
    for region_id in regions:
        one = set(db.scalars(sa.select(Agreement.id).where(serves_region(region_id))))
        many = set(
            db.scalars(
                sa.select(Agreement.id).where(serves_region_of(sa.literal(region_id), closure))
            )
        )
        assert one == many, db.get(Region, region_id).name
