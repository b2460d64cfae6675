"""The read side: tree order, counts in one SELECT, keeper scope, region sub-trees."""

from decimal import Decimal

import pytest

from reserve.auth.actor import Actor
from reserve.auth.models import Role
from reserve.warehouses import queries


def test_region_tree_is_depth_first_even_for_township_codes(db, make_region):
    province = make_region("370000", "山东省", "province")
    jinan = make_region("370100", "济南市", "city", province)
    lixia = make_region("370102", "历下区", "district", jinan)
    make_region("370102001", "解放路街道", "township", lixia)  # 9 digits, under its county
    make_region("370103", "市中区", "district", jinan)
    make_region("370200", "青岛市", "city", province)
    tree = queries.region_tree(db)
    assert [(n.code, n.depth) for n in tree] == [
        ("370000", 0),
        ("370100", 1),
        ("370102", 2),
        ("370102001", 3),
        ("370103", 2),
        ("370200", 1),
    ]


def test_region_choices_can_leave_out_a_subtree(db, make_region):
    province = make_region("370000", "山东省", "province")
    jinan = make_region("370100", "济南市", "city", province)
    make_region("370102", "历下区", "district", jinan)
    make_region("370200", "青岛市", "city", province)
    labels = [label.strip("　") for _id, label in queries.region_choices(db, exclude_id=jinan.id)]
    assert labels == ["370000 山东省", "370200 青岛市"]


def test_warehouse_page_counts_in_one_query(db, make_warehouse, make_user, count_queries):
    first, second = make_warehouse("WH-A"), make_warehouse("WH-B")
    make_user(Role.KEEPER, warehouses=[first])
    make_user(Role.KEEPER, warehouses=[first, second])
    make_user(Role.KEEPER, warehouses=[first], is_enabled=False)
    admin = Actor.system("test")
    with count_queries() as statements:
        page = queries.warehouse_page(db, actor=admin)
    assert len(statements) == 1  # the page, counts and all (no total over the table)
    rows = {row.code: row for row in page.items}
    assert (rows["WH-A"].location_count, rows["WH-A"].keeper_count) == (2, 2)
    assert (rows["WH-B"].location_count, rows["WH-B"].keeper_count) == (2, 1)


def test_warehouse_page_is_scoped_to_a_keepers_warehouses(db, make_warehouse, make_user):
    mine = make_warehouse("WH-MINE")
    make_warehouse("WH-THEIRS")
    keeper = Actor.for_user(make_user(Role.KEEPER, warehouses=[mine]))
    viewer = Actor.for_user(make_user(Role.VIEWER))
    assert [r.code for r in queries.warehouse_page(db, actor=keeper).items] == ["WH-MINE"]
    assert [r.code for r in queries.warehouse_page(db, actor=viewer).items] == [
        "WH-MINE",
        "WH-THEIRS",
    ]


def test_warehouse_page_filters_and_sorts(db, make_region, make_warehouse):
    province = make_region("370000", "山东省", "province")
    jinan = make_region("370100", "济南市", "city", province)
    lixia = make_region("370102", "历下区", "district", jinan)
    liubu = make_region("370102004", "泉城路街道", "township", lixia)
    qingdao = make_region("370200", "青岛市", "city", province)
    make_warehouse("JN-SJ-01", "市级库", region=jinan, area_m2=Decimal("19435"))
    make_warehouse("JN-LX-01", "历下区库", level="district", region=lixia, area_m2=Decimal("2200"))
    make_warehouse("JN-LB-01", "柳埠储备点", level="township", region=liubu)
    make_warehouse("QD-SJ-01", "青岛市级库", region=qingdao, address="市南区香港中路")
    actor = Actor.system("test")

    def codes(**filters):
        return [r.code for r in queries.warehouse_page(db, actor=actor, **filters).items]

    assert codes(region_id=jinan.id) == ["JN-LB-01", "JN-LX-01", "JN-SJ-01"]
    assert codes(region_id=lixia.id) == ["JN-LB-01", "JN-LX-01"]
    assert codes(level="district") == ["JN-LX-01"]
    assert codes(q="香港") == ["QD-SJ-01"]
    assert codes(q="jn-lx") == ["JN-LX-01"]
    assert codes(sort="-area")[:2] == ["JN-SJ-01", "JN-LX-01"]
    assert codes(sort="-name") == sorted(
        codes(),
        key=lambda c: {
            "JN-SJ-01": "市级库",
            "JN-LX-01": "历下区库",
            "JN-LB-01": "柳埠储备点",
            "QD-SJ-01": "青岛市级库",
        }[c],
        reverse=True,
    )
    assert codes(sort="bogus") == codes()
    first = queries.warehouse_page(db, actor=actor, per_page=3)
    page = queries.warehouse_page(db, actor=actor, per_page=3, after=first.next_key)
    assert ([r.code for r in page.items], page.next_key) == (["QD-SJ-01"], None)


def test_locations_and_keepers(db, make_warehouse, make_user):
    warehouse = make_warehouse()
    keeper = make_user(Role.KEEPER, warehouses=[warehouse], full_name="赵保管")
    locations = queries.warehouse_locations(db, warehouse.id)
    assert [loc.code for loc in locations] == ["RECV", "A-01-01"]
    assert [k.username for k in queries.warehouse_keepers(db, warehouse.id)] == [keeper.username]


@pytest.mark.parametrize("sort", ["area", "-area", "keepers", "-locations", "-name", "level"])
def test_every_sort_walks_every_warehouse_once_by_key(db, make_warehouse, sort):
    made = [
        make_warehouse(
            f"WH-S{n:02d}",
            f"库{n % 3}",
            level=("city", "district")[n % 2],
            area_m2=None if n % 3 == 0 else Decimal(100 + n % 4),
        )
        for n in range(11)
    ]
    actor = Actor.system("test")
    seen, after = [], None
    while True:
        page = queries.warehouse_page(db, actor=actor, sort=sort, per_page=3, after=after)
        seen += [row.code for row in page.items]
        if page.next_key is None:
            break
        after = page.next_key
    assert sorted(seen) == sorted(w.code for w in made) and len(seen) == len(set(seen))
    assert seen == [r.code for r in queries.warehouse_page(db, actor=actor, sort=sort).items]
    if sort.endswith("area"):  # an unknown area comes last, going up or down
        assert all(w.area_m2 is None for w in made if w.code in seen[-4:])
