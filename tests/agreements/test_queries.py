from stdnum.cn import uscc

from reserve.agreements import queries


def _code(body: str) -> str:
    return body + uscc.calc_check_digit(body)


def _three(make_enterprise, make_region):
    city = make_region("370100", "济南市", "city")
    district = make_region("370102", "历下区", "district", parent=city)
    other = make_region("370200", "青岛市", "city")
    a = make_enterprise(
        "济南甲食品有限公司",
        _code("91370102MA3A00001"),
        region=district,
        contact_name="王强",
        contact_phone="13900000001",
    )
    b = make_enterprise(
        "青岛乙帐篷有限公司", _code("91370200MA3B00002"), region=other, contact_name="李娜"
    )
    c = make_enterprise("丙物流有限公司", _code("91370100MA3C00003"), is_active=False)
    return city, district, other, (a, b, c)


def test_search_by_name_code_and_contact(db, make_enterprise, make_region):
    _city, _district, _other, (a, b, _c) = _three(make_enterprise, make_region)
    names = lambda **kw: [e.name for e in queries.enterprise_page(db, **kw).items]  # noqa: E731
    assert names(q="帐篷") == [b.name]
    assert names(q=a.uscc[4:12].lower()) == [a.name]
    assert names(q="王强") == [a.name]
    assert names(q="13900000001") == [a.name]
    assert names(q="物流") == []
    assert names(q="物流", active=None) == ["丙物流有限公司"]
    assert names(q="物流", active=False) == ["丙物流有限公司"]


def test_a_region_includes_the_divisions_under_it(db, make_enterprise, make_region):
    city, district, other, (a, b, _c) = _three(make_enterprise, make_region)
    assert [e.id for e in queries.enterprise_page(db, region_id=city.id).items] == [a.id]
    assert [e.id for e in queries.enterprise_page(db, region_id=district.id).items] == [a.id]
    assert [e.id for e in queries.enterprise_page(db, region_id=other.id).items] == [b.id]


def test_sorting_and_one_query_for_the_rows(db, make_enterprise, make_region, count_queries):
    _three(make_enterprise, make_region)
    db.expunge_all()
    with count_queries() as statements:
        page = queries.enterprise_page(db, sort="-region", active=None)
        regions = [e.region.name if e.region else None for e in page.items]
    assert len(statements) == 2  # the count and the page, regions joined in
    assert regions == ["青岛市", "历下区", None] or regions == [None, "青岛市", "历下区"]
    by_uscc = [e.uscc for e in queries.enterprise_page(db, sort="uscc", active=None).items]
    assert by_uscc == sorted(by_uscc)
