"""Region, warehouse and location pages: admins create and edit; bad input says why and changes
nothing; keepers see only their warehouses; other roles cannot write."""

import re

import pytest
from sqlalchemy import func, select

from reserve.audit.models import AuditEntry
from reserve.auth.models import Role
from reserve.warehouses.models import Location, Region, Warehouse


def counts(db) -> dict[str, int]:
    return {
        model.__name__: db.scalar(select(func.count()).select_from(model))
        for model in (Region, Warehouse, Location, AuditEntry)
    }


@pytest.fixture
def admin(login_as):
    client = login_as(Role.ADMIN)
    client.get("/lang/en")  # assert on the English messages, whatever the catalogue holds
    return client


@pytest.fixture
def jinan(make_region):
    province = make_region("370000", "山东省", "province")
    return make_region("370100", "济南市", "city", province)


def html(response) -> str:
    return response.get_data(as_text=True)


def warehouse_form(region_id: int, **fields) -> dict:
    data = {
        "code": "JN-SJ-01",
        "name": "济南市应急物资综合储备库",
        "level": "city",
        "region_id": region_id,
        "address": "经十东路33399号",
        "lat": "36.681523",
        "lng": "117.291846",
        "area_m2": "19435",
        "phone": "",
        "is_active": "y",
    }
    data.update(fields)
    return data


# 行政区划 ----------------------------------------------------------------------------------------


def test_admin_creates_and_edits_a_region(db, admin, jinan):
    response = admin.get(f"/regions/new?parent_id={jinan.id}")
    assert response.status_code == 200
    assert re.search(r'<option (?=[^>]*selected)[^>]*value="district"', html(response))
    response = admin.post(
        "/regions/new",
        data={"code": "370102", "name": "历下区", "level": "district", "parent_id": jinan.id},
    )
    assert response.status_code == 302
    region = db.scalar(select(Region).where(Region.code == "370102"))
    assert region.parent_id == jinan.id
    response = admin.post(
        f"/regions/{region.id}",
        data={"name": "历下区(改)", "level": "district", "parent_id": jinan.id},
        follow_redirects=True,
    )
    assert "Region 370102 saved." in html(response)
    db.refresh(region)
    assert region.name == "历下区(改)"
    page = html(admin.get("/regions"))
    assert 'id="region-table"' in page and "历下区(改)" in page
    assert f"/regions/{region.id}" in page  # the admin's edit link


def test_a_five_digit_region_code_is_refused(db, admin, jinan):
    before = counts(db)
    response = admin.post(
        "/regions/new", data={"code": "37010", "name": "某市", "level": "city", "parent_id": ""}
    )
    assert response.status_code == 200
    assert "exactly 6 digits" in html(response)
    assert counts(db) == before


def test_a_region_that_does_not_fit_its_parent_is_refused(db, admin, jinan):
    before = counts(db)
    response = admin.post(
        "/regions/new",
        data={"code": "370202", "name": "市南区", "level": "district", "parent_id": jinan.id},
    )
    assert "must start with 3701" in html(response)
    assert counts(db) == before


def test_the_region_list_has_no_edit_links_for_a_viewer(login_as, jinan):
    viewer = login_as(Role.VIEWER)
    page = html(viewer.get("/regions"))
    assert "济南市" in page and f"/regions/{jinan.id}" not in page and "/regions/new" not in page


# 储备库 -----------------------------------------------------------------------------------------


def test_admin_creates_and_edits_a_warehouse(db, admin, jinan):
    response = admin.post("/warehouses/new", data=warehouse_form(jinan.id))
    assert response.status_code == 302
    warehouse = db.scalar(select(Warehouse).where(Warehouse.code == "JN-SJ-01"))
    assert response.headers["Location"].endswith(f"/warehouses/{warehouse.id}")
    assert str(warehouse.lat) == "36.681523"
    page = html(admin.get(f"/warehouses/{warehouse.id}"))
    assert "济南市应急物资综合储备库" in page and "RECV" in page
    assert 'id="location-form"' in page and 'id="location-grid-form"' in page
    response = admin.post(
        f"/warehouses/{warehouse.id}/edit",
        data=warehouse_form(jinan.id, name="新名字", is_active=""),
        follow_redirects=True,
    )
    assert "Warehouse JN-SJ-01 saved." in html(response)
    db.refresh(warehouse)
    assert (warehouse.name, warehouse.is_active) == ("新名字", False)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"code": "jn-sj-01"}, "The warehouse code jn-sj-01 already exists."),
        ({"code": "JN-LX-01", "name": "库" * 101}, "cannot be longer than 100"),
        ({"code": "JN-LX-01", "lat": "200"}, "latitude must be between -90 and 90"),
        ({"code": "JN-LX-01", "area_m2": "-5"}, "area must be at least 0"),
        ({"code": "JN LX"}, "2 to 20 letters, digits or dashes"),
    ],
)
def test_bad_warehouse_input_says_why_and_changes_nothing(
    db, admin, jinan, make_warehouse, fields, message
):
    make_warehouse("JN-SJ-01", region=jinan)
    before = counts(db)
    response = admin.post("/warehouses/new", data=warehouse_form(jinan.id, **fields))
    assert response.status_code == 200
    assert message in html(response)
    assert counts(db) == before


def test_warehouse_list_filters_and_sorts(admin, jinan, make_warehouse):
    make_warehouse("JN-SJ-01", "市级库", region=jinan)
    make_warehouse("JN-LX-01", "历下区库", level="district", region=jinan)
    page = html(admin.get("/warehouses?level=district"))
    assert "JN-LX-01" in page and "JN-SJ-01" not in page
    page = html(admin.get("/warehouses?sort=-code"))
    assert page.index("JN-SJ-01") < page.index("JN-LX-01")
    assert 'id="warehouse-table"' in page and "sort=code" in page
    page = html(admin.get(f"/warehouses?q=市级&region={jinan.id}"))
    assert "JN-SJ-01" in page and "JN-LX-01" not in page


def test_keeper_sees_only_their_warehouse(login_as, make_warehouse):
    mine = make_warehouse("WH-MINE", "我的库")
    theirs = make_warehouse("WH-THEIRS", "别人的库")
    keeper = login_as(Role.KEEPER, warehouses=[mine])
    page = html(keeper.get("/warehouses"))
    assert "WH-MINE" in page and "WH-THEIRS" not in page
    assert "/warehouses/new" not in page
    page = html(keeper.get(f"/warehouses/{mine.id}"))
    assert "我的库" in page and 'id="location-form"' not in page
    response = keeper.get(f"/warehouses/{theirs.id}")
    assert response.status_code == 403
    assert 'id="error-message"' in html(response) and "别人的库" not in html(response)
    assert keeper.get("/warehouses/999999").status_code == 404


@pytest.mark.parametrize("role", [Role.VIEWER, Role.KEEPER, Role.DISPATCHER])
def test_other_roles_cannot_write(db, login_as, jinan, make_warehouse, role):
    warehouse = make_warehouse(region=jinan)
    client = login_as(role, warehouses=[warehouse])
    before = counts(db)
    for url, data in (
        ("/warehouses/new", warehouse_form(jinan.id, code="JN-NEW-01")),
        (
            "/regions/new",
            {"code": "370102", "name": "历下区", "level": "district", "parent_id": jinan.id},
        ),
        (f"/warehouses/{warehouse.id}/locations", {"code": "Z-01-01"}),
        (f"/warehouses/{warehouse.id}/edit", warehouse_form(jinan.id)),
    ):
        assert client.post(url, data=data).status_code == 403, url
    assert counts(db) == before


# 库位 -------------------------------------------------------------------------------------------


def test_admin_adds_generates_and_edits_locations(db, admin, make_warehouse):
    warehouse = make_warehouse()
    url = f"/warehouses/{warehouse.id}/locations"
    response = admin.post(url, data={"code": "B-02-03", "name": "二号架"}, follow_redirects=True)
    assert "Location B-02-03 created." in html(response)
    response = admin.post(url, data={"rows": "2", "cols": "2"}, follow_redirects=True)
    assert "3 locations created." in html(response)  # A-01-01 existed already
    codes = set(db.scalars(select(Location.code).where(Location.warehouse_id == warehouse.id)))
    assert codes == {"RECV", "A-01-01", "A-02-01", "B-01-01", "B-02-01", "B-02-03"}
    location = db.scalar(select(Location).where(Location.code == "B-02-03"))
    response = admin.post(f"/locations/{location.id}", data={"code": "B-02-04", "name": ""})
    assert response.status_code == 302
    db.refresh(location)
    assert (location.code, location.name, location.is_active) == ("B-02-04", None, False)


def test_bad_location_input_says_why_and_changes_nothing(db, admin, make_warehouse):
    warehouse = make_warehouse()
    receiving = db.scalar(
        select(Location).where(Location.warehouse_id == warehouse.id, Location.is_receiving)
    )
    url = f"/warehouses/{warehouse.id}/locations"
    before = counts(db)
    response = admin.post(url, data={"code": "a-01-01"}, follow_redirects=True)
    assert "already exists in this warehouse" in html(response)
    response = admin.post(url, data={"rows": "27", "cols": "2"}, follow_redirects=True)
    assert "Rows must be between 1 and 26" in html(response)
    response = admin.post(url, data={"rows": "", "cols": "2"})
    assert response.status_code == 200 and "invalid-feedback" in html(response)
    response = admin.post(f"/locations/{receiving.id}", data={"code": "RECV", "name": "收货区"})
    assert "receiving area cannot be taken out of use" in html(response)
    assert counts(db) == before


def test_pages_have_no_inline_script_or_style(db, admin, jinan, make_warehouse):
    warehouse = make_warehouse(region=jinan)
    location_id = db.scalar(select(Location.id).where(Location.warehouse_id == warehouse.id))
    for url in (
        "/regions",
        "/regions/new",
        f"/regions/{jinan.id}",
        "/warehouses",
        "/warehouses/new",
        f"/warehouses/{warehouse.id}",
        f"/warehouses/{warehouse.id}/edit",
        f"/locations/{location_id}",
    ):
        response = admin.get(url)
        assert response.status_code == 200, url
        page = html(response)
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", page), url
        assert " style=" not in page and "<style" not in page, url


def test_the_region_list_shows_nine_digit_towns_under_their_county(db, admin, make_region, jinan):
    lixia = make_region("370102", "历下区", "district", jinan)
    make_region("370103", "市中区", "district", jinan)
    make_region("370102004", "泉城路街道", "township", lixia)
    make_region("370102001", "解放路街道", "township", lixia)
    page = html(admin.get("/regions"))
    rows = re.findall(r'<tr id="region-(\d+)"><td class="tree-indent-(\d)">', page)
    assert rows == [
        ("370000", "0"),
        ("370100", "1"),
        ("370102", "2"),
        ("370102001", "3"),
        ("370102004", "3"),
        ("370103", "2"),
    ]


def test_a_township_under_the_wrong_county_is_refused_on_the_page(db, admin, make_region, jinan):
    make_region("370102", "历下区", "district", jinan)
    shizhong = make_region("370103", "市中区", "district", jinan)
    before = counts(db)
    response = admin.post(
        "/regions/new",
        data={
            "code": "370102001",
            "name": "解放路街道",
            "level": "township",
            "parent_id": shizhong.id,
        },
    )
    assert response.status_code == 200
    assert "belongs under the county 370102 历下区" in html(response)
    assert counts(db) == before
