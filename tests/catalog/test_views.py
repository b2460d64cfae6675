from sqlalchemy import func, select

from reserve.auth.models import Role
from reserve.catalog.models import Category, Material


def _material_form(category_id, **changes):
    data = {
        "code": "1010101009",
        "name": "折叠床",
        "spec": "1900×700mm",
        "unit": "张",
        "category_id": str(category_id),
        "tracking": "batch",
        "shelf_life_days": "",
        "near_expiry_days": "90",
        "reference_price": "260.00",
        "unit_weight_kg": "",
        "unit_volume_m3": "",
        "is_active": "y",
    }
    data.update(changes)
    return data


def test_admin_creates_a_material_and_finds_it_by_pinyin(login_as, make_category, db):
    admin = login_as(Role.ADMIN)
    category = make_category("1010101")
    response = admin.post("/catalog/materials/new", data=_material_form(category.id))
    assert response.status_code == 302
    html = admin.get("/catalog/materials?q=zdc").get_data(as_text=True)
    assert "折叠床" in html


def test_material_bad_input_shows_a_message_and_changes_nothing(
    login_as, make_category, make_material, db
):
    admin = login_as(Role.ADMIN)
    category = make_category("1010101")
    make_material(code="1010101001", category=category)
    cases = [
        ({"code": "1010101001"}, "已存在"),
        ({"shelf_life_days": "-3"}, "保质期"),
        ({"name": "名" * 61}, "名称"),
        ({"reference_price": "abc"}, "参考单价"),
    ]
    for changes, expected in cases:
        response = admin.post("/catalog/materials/new", data=_material_form(category.id, **changes))
        assert response.status_code == 200, changes
        assert expected in response.get_data(as_text=True), changes
    assert db.scalar(select(func.count()).select_from(Material)) == 1


def test_category_code_not_matching_its_parent_is_refused(login_as, make_category, db):
    admin = login_as(Role.ADMIN)
    parent = make_category("1010000")
    response = admin.post(
        "/catalog/categories/new",
        data={"code": "1020100", "name": "错位", "parent_id": str(parent.id)},
    )
    assert response.status_code == 200
    assert "1020000" in response.get_data(as_text=True)
    assert db.scalar(select(Category).where(Category.code == "1020100")) is None


def test_keeper_cannot_open_the_material_form(login_as):
    keeper = login_as(Role.KEEPER)
    response = keeper.get("/catalog/materials/new")
    assert response.status_code == 403
    assert "Traceback" not in response.get_data(as_text=True)


def test_enterprise_users_read_the_catalogue(login_as, make_material):
    make_material("棉被", code="Q1")
    enterprise = login_as(Role.ENTERPRISE)
    assert "棉被" in enterprise.get("/catalog/materials").get_data(as_text=True)
