from reserve.catalog import queries


def _codes(db, **kwargs):
    return [m.code for m in db.scalars(queries.material_search(**kwargs))]


def test_search_by_name_code_spec_and_pinyin(db, make_material, make_category):
    tent = make_material("单帐篷", code="T1", spec="12m² 单层")
    quilt = make_material("棉被", code="Q1", spec="1.5×2.0m")
    make_material("发电机", code="G1", category=make_category("2020100"))
    assert _codes(db, q="zp") == [tent.code]
    assert _codes(db, q="帐篷") == [tent.code]
    assert _codes(db, q="q1") == [quilt.code]
    assert _codes(db, q="1.5×2") == [quilt.code]
    assert _codes(db, q="MB") == [quilt.code]


def test_category_filter_includes_descendants(db, make_material, make_category):
    make_material("单帐篷", code="T1", category=make_category("1010101"))
    make_material("发电机", code="G1", category=make_category("2020100"))
    assert _codes(db, category_code="1000000") == ["T1"]
    assert _codes(db, category_code="2020000") == ["G1"]


def test_sorting_and_paging(db, make_material):
    for i in range(7):
        make_material(f"物资{i}", code=f"M{i}")
    assert _codes(db, sort="-code")[:2] == ["M6", "M5"]
    first = queries.material_page(db, per_page=3)
    page = queries.material_page(db, after=first.next_key, per_page=3)
    assert [m.code for m in page.items] == ["M3", "M4", "M5"] and page.next_key


def test_material_list_page_runs_a_fixed_number_of_queries(login_as, make_material, count_queries):
    from reserve.auth.models import Role

    viewer = login_as(Role.VIEWER)
    for i in range(3):
        make_material(f"物资{i}", code=f"M{i}")
    with count_queries() as few:
        viewer.get("/catalog/materials")
    for i in range(3, 30):
        make_material(f"物资{i}", code=f"M{i}")
    with count_queries() as many:
        viewer.get("/catalog/materials")
    assert len(many) == len(few)
