"""The read side: the enterprise list (search by pinyin initials, credit code, a contact;
paged by key, one statement a page), and commitments per material with stock and capacity
never added together."""

from datetime import timedelta

from reserve.agreements import queries, signing
from reserve.agreements.models import EnterpriseContact
from reserve.agreements.queries import producible_within
from reserve.agreements.signing import LineData
from tests.agreements.conftest import TODAY, capacity, code


def _three(db, make_enterprise, make_region):
    city = make_region("370100", "济南市", "city")
    district = make_region("370102", "历下区", "district", parent=city)
    other = make_region("370200", "青岛市", "city")
    a = make_enterprise(
        "济南甲食品有限公司",
        code("91370102MA3A00001"),
        region=district,
        pinyin_initials="jnjspyxgs",
    )
    db.add(
        EnterpriseContact(
            enterprise_id=a.id, position=1, name="王强", phone="13900000001", is_duty=True
        )
    )
    b = make_enterprise(
        "青岛乙帐篷有限公司", code("91370200MA3B00002"), region=other, enterprise_type="production"
    )
    c = make_enterprise(
        "丙物流有限公司", code("91370100MA3C00003"), status="suspended", enterprise_type="logistics"
    )
    db.flush()
    return city, district, other, (a, b, c)


def _names(db, **kw):
    return [row.Enterprise.name for row in queries.enterprise_page(db, **kw).items]


def test_search_by_name_pinyin_code_and_contact(db, make_enterprise, make_region):
    _city, _district, _other, (a, b, _c) = _three(db, make_enterprise, make_region)
    assert _names(db, q="帐篷") == [b.name]
    assert _names(db, q="JNJ") == [a.name]  # pinyin initials, any case
    assert _names(db, q=a.uscc[4:12].lower()) == [a.name]
    assert _names(db, q="王强") == [a.name]
    assert _names(db, q="13900000001") == [a.name]
    assert _names(db, q="物流") == []
    assert _names(db, q="物流", status=None) == ["丙物流有限公司"]
    assert _names(db, q="物流", status="suspended") == ["丙物流有限公司"]
    assert _names(db, enterprise_type="production") == [b.name]


def test_a_region_includes_the_divisions_under_it(db, make_enterprise, make_region):
    city, district, other, (a, b, _c) = _three(db, make_enterprise, make_region)
    assert _names(db, region_id=city.id) == [a.name]
    assert _names(db, region_id=district.id) == [a.name]
    assert _names(db, region_id=other.id) == [b.name]


def test_the_duty_contact_comes_with_the_row_in_one_statement(
    db, make_enterprise, make_region, count_queries
):
    _three(db, make_enterprise, make_region)
    db.expunge_all()
    with count_queries() as statements:
        rows = queries.enterprise_page(db, status=None).items
        seen = [
            (r.Enterprise.region.name if r.Enterprise.region else None, r.duty_phone) for r in rows
        ]
    assert len(statements) == 1  # regions and the duty contact joined in; no count
    assert ("历下区", "13900000001") in seen and (None, None) in seen


def test_the_list_pages_by_key_both_ways(db, make_enterprise):
    for n in range(7):
        make_enterprise(f"企业{n:02d}", code(f"91370100MA3C{n:05d}"))
    first = queries.enterprise_page(db, sort="-name", per_page=3)
    assert [r.Enterprise.name for r in first.items] == ["企业06", "企业05", "企业04"]
    second = queries.enterprise_page(db, sort="-name", per_page=3, after=first.next_key)
    assert [r.Enterprise.name for r in second.items] == ["企业03", "企业02", "企业01"]
    last = queries.enterprise_page(db, sort="-name", per_page=3, after=second.next_key)
    assert [r.Enterprise.name for r in last.items] == ["企业00"] and last.next_key is None
    by_code = queries.enterprise_page(db, sort="uscc", per_page=50).items
    assert [r.Enterprise.uscc for r in by_code] == sorted(r.Enterprise.uscc for r in by_code)
    assert _names(db, after="not a key", per_page=1) == ["企业00"]  # a bad key: page one


def test_producible_within_a_horizon():
    assert producible_within(2000, 48, 20000, 48) == 0  # nothing before the lead time
    assert producible_within(2000, 48, 20000, 60) == 1000  # half a day
    assert producible_within(2000, 48, 20000, 72) == 2000
    assert producible_within(2000, 48, 3000, 24 * 30) == 3000  # never above the maximum
    assert producible_within(None, None, 100, 72) == 0  # a stock line produces nothing


def test_commitments_keep_stock_and_capacity_apart(
    db, site, make_agreement, make_material, system_actor
):
    pump = make_material(code="1010100003", name="排涝泵", unit="台")
    make_agreement(
        activate=True,
        lines=(
            LineData(material_id=site.quilt.id, kind="stock", committed_qty=300),
            capacity(site.quilt.id, daily=2000, lead=48, total=20000),
            LineData(material_id=site.water.id, kind="stock", committed_qty=1000),
        ),
    )
    make_agreement(  # a draft counts for nothing
        no="DRAFT", lines=(LineData(material_id=site.quilt.id, kind="stock", committed_qty=7),)
    )
    ended = make_agreement(
        no="ENDED",
        valid_from=TODAY - timedelta(days=400),
        valid_to=TODAY + timedelta(days=1),
        enterprise_id=site.own.id,
        lines=(capacity(pump.id, daily=10, lead=0, total=100),),
    )
    signing.activate_agreement(db, agreement_id=ended.id, actor=system_actor)
    rows = {c.material_name: c for c in queries.commitments(db, site.own.id, hours=72)}
    quilt, water, pumps = rows["棉被"], rows["瓶装饮用水"], rows["排涝泵"]
    assert (quilt.stock_qty, quilt.capacity_daily, quilt.capacity_total) == (300, 2000, 20000)
    assert quilt.capacity_lead_hours == 48 and quilt.capacity_within == 2000
    assert (water.stock_qty, water.capacity_daily, water.capacity_within) == (1000, 0, 0)
    assert (pumps.stock_qty, pumps.capacity_daily, pumps.capacity_within) == (0, 10, 30)
    later = TODAY + timedelta(days=2)  # the second agreement has ended: its capacity is gone
    rows = {c.material_name: c for c in queries.commitments(db, site.own.id, today=later)}
    assert "排涝泵" not in rows and rows["瓶装饮用水"].stock_qty == 1000
