"""Regions, warehouses and locations: every rule, and bad input changes nothing."""

from dataclasses import replace
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from reserve.audit.models import AuditEntry
from reserve.auth.actor import Actor
from reserve.auth.models import Role
from reserve.db import transaction
from reserve.errors import Conflict, Forbidden, NotFound, ValidationError
from reserve.warehouses import service
from reserve.warehouses.models import RECEIVING_CODE, Location, Region, Warehouse
from reserve.warehouses.service import WarehouseData


def counts(db) -> dict[str, int]:
    return {
        model.__name__: db.scalar(select(func.count()).select_from(model))
        for model in (Region, Warehouse, Location, AuditEntry)
    }


@pytest.fixture
def unchanged(db):
    """Call a service in a transaction, expect the error, and check the database is untouched."""

    def check(error: type, call, field: str | None = None):
        db.commit()  # the set-up is committed data; only the failing call may be rolled back
        before = counts(db)
        with pytest.raises(error) as info, transaction(db):
            call()
        assert counts(db) == before
        if field:
            assert info.value.field == field
        return info.value

    return check


@pytest.fixture
def jinan(db, system_actor):
    """山东省 → 济南市 → 历下区 → a township, created through the service."""
    province = service.create_region(
        db, code="370000", name="山东省", level="province", parent_id=None, actor=system_actor
    )
    city = service.create_region(
        db, code="370100", name="济南市", level="city", parent_id=province.id, actor=system_actor
    )
    district = service.create_region(
        db, code="370102", name="历下区", level="district", parent_id=city.id, actor=system_actor
    )
    township = service.create_region(
        db,
        code="370102001",
        name="解放路街道",
        level="township",
        parent_id=district.id,
        actor=system_actor,
    )
    return province, city, district, township


def wh_data(region_id: int, **fields) -> WarehouseData:
    values = dict(
        code="JN-SJ-01", name="济南市应急物资综合储备库", level="city", region_id=region_id
    )
    values.update(fields)
    return WarehouseData(**values)


# 行政区划 ----------------------------------------------------------------------------------------


def test_create_region_records_an_audit_entry(db, jinan):
    province, city, district, township = jinan
    assert city.parent_id == province.id and township.parent_id == district.id
    entry = db.scalar(
        select(AuditEntry).where(
            AuditEntry.object_type == "regions", AuditEntry.object_id == str(city.id)
        )
    )
    assert entry.action == "create" and entry.after["code"] == "370100"


@pytest.mark.parametrize("code", ["37010", "3701000", "37O100", "", "３７０１００", "370100\n1"])
def test_region_code_is_exactly_six_digits(db, unchanged, system_actor, code):
    error = unchanged(
        ValidationError,
        lambda: service.create_region(
            db,
            code=code,
            name="济南市",
            level="city",
            parent_id=None,
            actor=system_actor,
        ),
        field="code",
    )
    assert "6 digits" in str(error.message)


def test_region_code_is_unique(db, unchanged, jinan, system_actor):
    unchanged(
        Conflict,
        lambda: service.create_region(
            db,
            code="370102",
            name="又一个",
            level="district",
            parent_id=jinan[1].id,
            actor=system_actor,
        ),
        field="code",
    )


@pytest.mark.parametrize("name", ["", "   ", "济" * 61])
def test_region_name_is_required_and_fits(db, unchanged, system_actor, name):
    unchanged(
        ValidationError,
        lambda: service.create_region(
            db, code="370100", name=name, level="city", parent_id=None, actor=system_actor
        ),
        field="name",
    )


def test_region_level_must_be_known(db, unchanged, system_actor):
    unchanged(
        ValidationError,
        lambda: service.create_region(
            db, code="370100", name="济南市", level="metropolis", parent_id=None, actor=system_actor
        ),
        field="level",
    )


def test_region_parent_must_exist(db, unchanged, system_actor):
    unchanged(
        ValidationError,
        lambda: service.create_region(
            db, code="370100", name="济南市", level="city", parent_id=999_999, actor=system_actor
        ),
        field="parent_id",
    )


@pytest.mark.parametrize(
    ("code", "level", "parent", "field"),
    [
        ("370200", "city", None, None),  # fine as a root city: created below as a control
        ("370000", "city", None, "code"),  # a city code does not end in 0000
        ("370101", "city", "province", "code"),  # a city code ends in 00
        ("380100", "city", "province", "code"),  # not this province's prefix
        ("370100", "province", None, "code"),  # a province code ends in 0000
        ("370200", "city", "district", "parent_id"),  # a city does not go under a district
        ("370202", "district", "city", "code"),  # not the city's first 4 digits
        ("370100", "district", "city", "code"),  # a district code does not end in 00
        ("370103", "district", "province", "parent_id"),  # a district goes under a city
        ("370102003", "township", None, "parent_id"),  # a township needs a district or county
        ("370100003", "township", "city", "parent_id"),
        ("390000", "province", "province", "parent_id"),  # a province has no parent
    ],
)
def test_region_code_fits_its_parent(
    db, unchanged, jinan, system_actor, code, level, parent, field
):
    province, city, district, _township = jinan
    parent_id = {"province": province.id, "city": city.id, "district": district.id}.get(parent)
    if field is None:
        region = service.create_region(
            db, code=code, name="青岛市", level=level, parent_id=parent_id, actor=system_actor
        )
        assert region.id
        return
    unchanged(
        ValidationError,
        lambda: service.create_region(
            db, code=code, name="某地", level=level, parent_id=parent_id, actor=system_actor
        ),
        field=field,
    )


def test_a_township_has_the_nine_digits_of_its_county(db, jinan, system_actor):
    township = service.create_region(
        db,
        code="370102004",
        name="泉城路街道",
        level="township",
        parent_id=jinan[2].id,
        actor=system_actor,
    )
    assert (township.code, township.parent_id) == ("370102004", jinan[2].id)


def test_a_township_under_the_wrong_county_is_refused_naming_the_right_one(
    db, unchanged, jinan, system_actor
):
    _province, city, district, _township = jinan
    service.create_region(
        db, code="370112", name="历城区", level="district", parent_id=city.id, actor=system_actor
    )
    error = unchanged(
        ValidationError,
        lambda: service.create_region(
            db,
            code="370112019",
            name="柳埠街道",
            level="township",
            parent_id=district.id,  # 历下区
            actor=system_actor,
        ),
        field="code",
    )
    message = str(error.message)
    assert "370112 历城区" in message and "370102 历下区" in message
    # a county that is not (yet) a region: the message names its code
    error = unchanged(
        ValidationError,
        lambda: service.create_region(
            db,
            code="370124102",
            name="东阿镇",
            level="township",
            parent_id=district.id,
            actor=system_actor,
        ),
        field="code",
    )
    assert "county 370124 (" in str(error.message)


def test_a_township_cannot_move_under_another_county(db, unchanged, jinan, system_actor):
    _province, city, _district, township = jinan
    other = service.create_region(
        db, code="370103", name="市中区", level="district", parent_id=city.id, actor=system_actor
    )
    error = unchanged(
        ValidationError,
        lambda: service.update_region(
            db,
            region_id=township.id,
            name=township.name,
            level="township",
            parent_id=other.id,
            actor=system_actor,
        ),
        field="code",
    )
    assert "370102 历下区" in str(error.message)


@pytest.mark.parametrize(
    "code",
    [
        "370102",  # 6 digits are the counties' namespace (GB/T 2260): refused for a township
        "3701020",
        "37010201",
        "370102000",  # the county itself, not one of its townships
        "3701020010",
        "370102001000",  # the 12-digit village-level form
        "37010200a",
    ],
)
def test_a_township_code_is_exactly_nine_digits(db, unchanged, jinan, system_actor, code):
    error = unchanged(
        ValidationError,
        lambda: service.create_region(
            db,
            code=code,
            name="某街道",
            level="township",
            parent_id=jinan[2].id,
            actor=system_actor,
        ),
        field="code",
    )
    assert "9 digits" in str(error.message)


def test_only_townships_have_nine_digit_codes(db, unchanged, jinan, system_actor):
    error = unchanged(
        ValidationError,
        lambda: service.create_region(
            db,
            code="370102001",
            name="某区",
            level="district",
            parent_id=jinan[1].id,
            actor=system_actor,
        ),
        field="code",
    )
    assert "9-digit" in str(error.message)


def test_the_database_refuses_a_code_that_does_not_fit_its_level(db, jinan):
    import sqlalchemy as sa

    for code, level in (("370198", "township"), ("370102002", "district")):
        with pytest.raises(sa.exc.IntegrityError), db.begin_nested():
            db.execute(
                sa.text("INSERT INTO regions (code, name, level) VALUES (:c, 'x', :l)"),
                {"c": code, "l": level},
            )


def test_update_region(db, jinan, system_actor):
    _province, city, district, _township = jinan
    other = service.create_region(
        db, code="370124", name="平阴县", level="district", parent_id=city.id, actor=system_actor
    )
    service.update_region(
        db,
        region_id=other.id,
        name="平阴县 ",
        level="county",
        parent_id=city.id,
        actor=system_actor,
    )
    assert (other.name, other.level) == ("平阴县", "county")
    entry = db.scalar(
        select(AuditEntry).where(
            AuditEntry.object_id == str(other.id), AuditEntry.action == "update"
        )
    )
    assert entry.before == {"level": "district"} and entry.after == {"level": "county"}


def test_a_region_cannot_be_its_own_ancestor(db, unchanged, jinan, system_actor):
    _province, _city, district, township = jinan
    unchanged(
        ValidationError,
        lambda: service.update_region(
            db,
            region_id=district.id,
            name="历下区",
            level="district",
            parent_id=district.id,
            actor=system_actor,
        ),
        field="parent_id",
    )
    unchanged(
        ValidationError,
        lambda: service.update_region(
            db,
            region_id=district.id,
            name="历下区",
            level="district",
            parent_id=township.id,
            actor=system_actor,
        ),
        field="parent_id",
    )


def test_a_region_with_children_keeps_a_level_they_fit_under(db, unchanged, jinan, system_actor):
    province, city, _district, _township = jinan
    qingdao = service.create_region(
        db, code="370200", name="青岛市", level="city", parent_id=province.id, actor=system_actor
    )
    shinan = service.create_region(
        db,
        code="370202",
        name="市南区",
        level="district",
        parent_id=qingdao.id,
        actor=system_actor,
    )
    unchanged(  # 370202 has children, and is no township code: refused on both counts
        ValidationError,
        lambda: service.update_region(
            db,
            region_id=city.id,
            name="济南市",
            level="township",
            parent_id=shinan.id,
            actor=system_actor,
        ),
        field="code",
    )
    unchanged(  # nor can a district become a city: its code fits no city
        ValidationError,
        lambda: service.update_region(
            db,
            region_id=shinan.id,
            name="市南区",
            level="city",
            parent_id=province.id,
            actor=system_actor,
        ),
        field="code",
    )


def test_get_region_not_found(db):
    with pytest.raises(NotFound):
        service.get_region(db, 999_999)


def test_only_admins_write_regions(db, unchanged, make_user):
    viewer = Actor.for_user(make_user(Role.VIEWER))
    unchanged(
        Forbidden,
        lambda: service.create_region(
            db, code="370100", name="济南市", level="city", parent_id=None, actor=viewer
        ),
    )


# 储备库 -----------------------------------------------------------------------------------------


def test_create_warehouse_with_its_receiving_area(db, jinan, system_actor):
    warehouse = service.create_warehouse(
        db,
        data=wh_data(
            jinan[1].id,
            lat=Decimal("36.6815231"),
            lng=Decimal("117.291846"),
            area_m2=Decimal("19435"),
            address=" 经十东路33399号 ",
            phone="0531-81234567",
        ),
        actor=system_actor,
    )
    locations = db.scalars(select(Location).where(Location.warehouse_id == warehouse.id)).all()
    assert [(loc.code, loc.name, loc.is_receiving) for loc in locations] == [
        (RECEIVING_CODE, "收货区", True)
    ]
    assert warehouse.lat == Decimal("36.681523") and warehouse.address == "经十东路33399号"
    entry = db.scalar(select(AuditEntry).where(AuditEntry.object_type == "warehouses"))
    assert entry.action == "create" and entry.after["code"] == "JN-SJ-01"


@pytest.mark.parametrize(
    ("fields", "field", "error"),
    [
        ({"code": "J"}, "code", ValidationError),
        ({"code": "-JN"}, "code", ValidationError),
        ({"code": "JN_SJ"}, "code", ValidationError),
        ({"code": "A" * 21}, "code", ValidationError),
        ({"code": "jn-sj-01"}, "code", Conflict),  # unique whatever the case
        ({"name": ""}, "name", ValidationError),
        ({"name": "库" * 101}, "name", ValidationError),
        ({"level": "region"}, "level", ValidationError),
        ({"region_id": 999_999}, "region_id", ValidationError),
        ({"lat": Decimal("200"), "lng": Decimal("117")}, "lat", ValidationError),
        ({"lat": Decimal("-90.1"), "lng": Decimal("117")}, "lat", ValidationError),
        ({"lat": Decimal("36"), "lng": Decimal("180.5")}, "lng", ValidationError),
        ({"lat": Decimal("NaN"), "lng": Decimal("117")}, "lat", ValidationError),
        ({"lat": Decimal("36")}, "lng", ValidationError),
        ({"area_m2": Decimal("-1")}, "area_m2", ValidationError),
        ({"area_m2": Decimal("10000000")}, "area_m2", ValidationError),
        ({"area_m2": Decimal("Infinity")}, "area_m2", ValidationError),
        ({"address": "路" * 201}, "address", ValidationError),
        ({"phone": "1" * 31}, "phone", ValidationError),
    ],
)
def test_warehouse_rules(db, unchanged, jinan, system_actor, fields, field, error):
    service.create_warehouse(db, data=wh_data(jinan[1].id), actor=system_actor)
    data = replace(wh_data(jinan[1].id, code="JN-LX-01"), **fields)
    unchanged(
        error, lambda: service.create_warehouse(db, data=data, actor=system_actor), field=field
    )


def test_warehouse_limits_are_inclusive(db, jinan, system_actor):
    warehouse = service.create_warehouse(
        db,
        data=wh_data(
            jinan[1].id,
            lat=Decimal("-90"),
            lng=Decimal("180"),
            area_m2=Decimal("9999999.9"),
        ),
        actor=system_actor,
    )
    assert warehouse.area_m2 == Decimal("9999999.9")


def test_update_warehouse(db, jinan, system_actor):
    warehouse = service.create_warehouse(db, data=wh_data(jinan[1].id), actor=system_actor)
    service.update_warehouse(
        db,
        warehouse_id=warehouse.id,
        data=wh_data(
            jinan[2].id,
            code="jn-sj-01",
            name="新名字",
            level="district",
            is_active=False,
        ),
        actor=system_actor,
    )
    assert (warehouse.code, warehouse.name, warehouse.region_id, warehouse.is_active) == (
        "JN-SJ-01",  # codes are stored upper-case
        "新名字",
        jinan[2].id,
        False,
    )
    entry = db.scalar(select(AuditEntry).where(AuditEntry.action == "update"))
    assert entry.before["name"] == "济南市应急物资综合储备库" and entry.after["name"] == "新名字"


def test_update_warehouse_refuses_another_warehouses_code(db, unchanged, jinan, system_actor):
    service.create_warehouse(db, data=wh_data(jinan[1].id), actor=system_actor)
    other = service.create_warehouse(
        db, data=wh_data(jinan[1].id, code="JN-LX-01"), actor=system_actor
    )
    unchanged(
        Conflict,
        lambda: service.update_warehouse(
            db,
            warehouse_id=other.id,
            data=wh_data(jinan[1].id, code="JN-SJ-01"),
            actor=system_actor,
        ),
        field="code",
    )
    assert db.get(Warehouse, other.id).code == "JN-LX-01"


def test_get_warehouse_is_scoped_for_keepers(db, make_warehouse, make_user):
    mine, theirs = make_warehouse(), make_warehouse()
    keeper = Actor.for_user(make_user(Role.KEEPER, warehouses=[mine]))
    viewer = Actor.for_user(make_user(Role.VIEWER))
    assert service.get_warehouse(db, mine.id, actor=keeper) is mine
    assert service.get_warehouse(db, theirs.id, actor=viewer) is theirs
    assert service.get_warehouse(db, theirs.id) is theirs
    with pytest.raises(Forbidden):
        service.get_warehouse(db, theirs.id, actor=keeper)
    with pytest.raises(NotFound):
        service.get_warehouse(db, 999_999, actor=keeper)


def test_only_admins_write_warehouses(db, unchanged, jinan, make_user):
    keeper = Actor.for_user(make_user(Role.KEEPER, Role.DISPATCHER))
    unchanged(
        Forbidden, lambda: service.create_warehouse(db, data=wh_data(jinan[1].id), actor=keeper)
    )


# 库位 -------------------------------------------------------------------------------------------


def test_create_and_update_location(db, make_warehouse, system_actor):
    warehouse = make_warehouse()
    location = service.create_location(
        db, warehouse_id=warehouse.id, code="B-02-03", name="二号货架", actor=system_actor
    )
    assert str(location) == f"{warehouse.code}/B-02-03"
    service.update_location(
        db, location_id=location.id, code="B-02-04", name="", is_active=False, actor=system_actor
    )
    assert (location.code, location.name, location.is_active) == ("B-02-04", None, False)
    actions = db.scalars(select(AuditEntry.action).where(AuditEntry.object_type == "locations"))
    assert list(actions) == ["create", "update"]


@pytest.mark.parametrize(
    ("code", "error"),
    [
        ("", ValidationError),
        ("-A", ValidationError),
        ("A 01", ValidationError),
        ("A" * 21, ValidationError),
        ("a-01-01", Conflict),
        ("recv", Conflict),
    ],
)
def test_location_code_rules(db, unchanged, make_warehouse, system_actor, code, error):
    warehouse = make_warehouse()  # holds RECV and A-01-01
    unchanged(
        error,
        lambda: service.create_location(
            db, warehouse_id=warehouse.id, code=code, actor=system_actor
        ),
        field="code",
    )


def test_location_codes_are_unique_per_warehouse_only(db, make_warehouse, system_actor):
    make_warehouse()
    other = make_warehouse()
    location = service.create_location(
        db, warehouse_id=other.id, code="A-01-02", actor=system_actor
    )
    assert location.warehouse_id == other.id


def test_location_name_fits_and_warehouse_exists(db, unchanged, make_warehouse, system_actor):
    warehouse = make_warehouse()
    unchanged(
        ValidationError,
        lambda: service.create_location(
            db, warehouse_id=warehouse.id, code="B-01-01", name="名" * 61, actor=system_actor
        ),
        field="name",
    )
    unchanged(
        NotFound,
        lambda: service.create_location(
            db, warehouse_id=999_999, code="B-01-01", actor=system_actor
        ),
    )


def test_only_one_receiving_area(db, unchanged, make_warehouse, system_actor):
    warehouse = make_warehouse()
    unchanged(
        Conflict,
        lambda: service.create_location(
            db, warehouse_id=warehouse.id, code="RECV2", is_receiving=True, actor=system_actor
        ),
    )


def test_receiving_area_stays_in_use_and_keeps_its_code(
    db, unchanged, make_warehouse, system_actor
):
    warehouse = make_warehouse()
    receiving = db.scalar(
        select(Location).where(Location.warehouse_id == warehouse.id, Location.is_receiving)
    )
    unchanged(
        ValidationError,
        lambda: service.update_location(
            db,
            location_id=receiving.id,
            code=RECEIVING_CODE,
            name="收货区",
            is_active=False,
            actor=system_actor,
        ),
        field="is_active",
    )
    unchanged(
        ValidationError,
        lambda: service.update_location(
            db,
            location_id=receiving.id,
            code="IN",
            name="收货区",
            is_active=True,
            actor=system_actor,
        ),
        field="code",
    )
    assert db.get(Location, receiving.id).is_active


def test_update_location_refuses_a_sibling_code(db, unchanged, make_warehouse, system_actor):
    warehouse = make_warehouse()
    location = service.create_location(
        db, warehouse_id=warehouse.id, code="A-01-02", actor=system_actor
    )
    unchanged(
        Conflict,
        lambda: service.update_location(
            db,
            location_id=location.id,
            code="A-01-01",
            name=None,
            is_active=True,
            actor=system_actor,
        ),
        field="code",
    )
    unchanged(
        NotFound,
        lambda: service.update_location(
            db, location_id=999_999, code="A-01-01", name=None, is_active=True, actor=system_actor
        ),
    )


def test_generate_locations_skips_existing_codes_with_one_audit_entry(
    db, make_warehouse, system_actor
):
    warehouse = make_warehouse()  # already holds A-01-01
    created = service.generate_locations(
        db, warehouse_id=warehouse.id, rows=2, cols=3, actor=system_actor
    )
    assert [loc.code for loc in created] == ["A-02-01", "A-03-01", "B-01-01", "B-02-01", "B-03-01"]
    entries = db.scalars(select(AuditEntry).where(AuditEntry.action == "generate_locations"))
    [entry] = entries.all()
    assert entry.after["created"] == 5 and entry.after["skipped"] == 1
    again = service.generate_locations(
        db, warehouse_id=warehouse.id, rows=2, cols=3, actor=system_actor
    )
    assert again == []


def test_generate_the_largest_grid(db, make_warehouse, system_actor):
    warehouse = make_warehouse()
    created = service.generate_locations(
        db, warehouse_id=warehouse.id, rows=26, cols=99, actor=system_actor
    )
    assert len(created) == 26 * 99 - 1 and created[-1].code == "Z-99-01"


@pytest.mark.parametrize(
    ("rows", "cols", "field"),
    [
        (0, 5, "rows"),
        (27, 5, "rows"),
        (3, 0, "cols"),
        (3, 100, "cols"),
        (-1, 5, "rows"),
    ],
)
def test_generate_locations_limits(db, unchanged, make_warehouse, system_actor, rows, cols, field):
    warehouse = make_warehouse()
    unchanged(
        ValidationError,
        lambda: service.generate_locations(
            db, warehouse_id=warehouse.id, rows=rows, cols=cols, actor=system_actor
        ),
        field=field,
    )


def test_only_admins_write_locations(db, unchanged, make_warehouse, make_user):
    warehouse = make_warehouse()
    keeper = Actor.for_user(make_user(Role.KEEPER, warehouses=[warehouse]))
    unchanged(
        Forbidden,
        lambda: service.create_location(
            db, warehouse_id=warehouse.id, code="C-01-01", actor=keeper
        ),
    )
    unchanged(
        Forbidden,
        lambda: service.generate_locations(
            db, warehouse_id=warehouse.id, rows=1, cols=1, actor=keeper
        ),
    )


def test_a_provincial_warehouse(db, jinan, system_actor):
    province = jinan[0]
    warehouse = service.create_warehouse(
        db,
        actor=system_actor,
        data=wh_data(
            province.id, code="SD-SJ-01", name="山东省应急物资综合储备库", level="province"
        ),
    )
    assert warehouse.level == "province"
