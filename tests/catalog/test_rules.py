"""Material rules (物资编码 and 临期预警): a material code is its category's 7-digit code and 3
digits 001-999; the near-expiry warning is shorter than the shelf life. Enforced by the service
for the page and the API alike (the error on its field), and by the database where a row alone
can tell (near-expiry below the shelf life)."""

import re

import pytest
import sqlalchemy as sa
from sqlalchemy import func, select

from reserve.auth.models import Role
from reserve.catalog.models import Material
from tests.catalog.test_views import _material_form


def _count(db) -> int:
    return db.scalar(select(func.count()).select_from(Material))


def _field_error(html: str, name: str) -> str:
    """The field's markup and its feedback: the control is red and says why."""
    control = re.search(rf'<(?:input|select)[^>]*name="{name}"[^>]*>', html).group(0)
    assert "is-invalid" in control, control
    feedback = re.search(
        rf'name="{name}".*?<div class="invalid-feedback d-block"[^>]*><div>(.*?)</div>', html, re.S
    )
    assert feedback, html[:3000]
    return feedback.group(1)


@pytest.fixture
def admin(login_as):
    client = login_as(Role.ADMIN)
    client.get("/lang/en")
    return client


@pytest.mark.parametrize(
    "changes, field, says",
    [
        ({"code": "ZD-001"}, "code", "followed by 3 digits"),
        ({"code": "1010102001"}, "code", "its first 7 digits must be 1010101"),
        ({"code": "1010101000"}, "code", "from 001 to 999"),
        ({"shelf_life_days": "60", "near_expiry_days": "60"}, "near_expiry_days", "shorter"),
        ({"shelf_life_days": "30"}, "near_expiry_days", "(30 days)"),
        ({"shelf_life_days": "0"}, "shelf_life_days", "at least 1 day"),
    ],
)
def test_material_rules_on_the_page(admin, make_category, db, changes, field, says):
    category = make_category("1010101")
    response = admin.post("/catalog/materials/new", data=_material_form(category.id, **changes))
    assert response.status_code == 200
    assert says in _field_error(response.get_data(as_text=True), field)
    assert _count(db) == 0


def test_the_page_speaks_chinese(login_as, make_category, db):
    admin = login_as(Role.ADMIN)
    category = make_category("1010101")
    response = admin.post("/catalog/materials/new", data=_material_form(category.id, code="X1"))
    assert "3 位" in _field_error(response.get_data(as_text=True), "code")


def test_a_material_recorded_before_the_rule_keeps_its_code(admin, make_material, db):
    legacy = make_material("单帐篷", code="TENT-OLD")
    form = _material_form(legacy.category_id, code="TENT-OLD", name="单帐篷(旧)")
    response = admin.post(f"/catalog/materials/{legacy.id}/edit", data=form)
    assert response.status_code == 302
    db.expire_all()
    assert legacy.name == "单帐篷(旧)"
    # …but a new code must follow the rule
    form = _material_form(legacy.category_id, code="TENT-NEW")
    response = admin.post(f"/catalog/materials/{legacy.id}/edit", data=form)
    assert response.status_code == 200 and legacy.code == "TENT-OLD"


def test_the_database_refuses_a_warning_as_long_as_the_shelf_life(db, make_material):
    material = make_material(shelf_life_days=365, near_expiry_days=30)
    with pytest.raises(sa.exc.IntegrityError), db.begin_nested():
        db.execute(
            sa.update(Material).where(Material.id == material.id).values(near_expiry_days=365)
        )
    with pytest.raises(sa.exc.IntegrityError), db.begin_nested():
        db.execute(
            sa.update(Material).where(Material.id == material.id).values(near_expiry_days=-1)
        )


# The API -----------------------------------------------------------------------------------------


def _body(category_id, **changes):
    body: dict = {
        "code": "1010101001",
        "name": "单帐篷",
        "spec": "3m×4m",
        "unit": "顶",
        "category_id": category_id,
        "tracking": "batch",
        "shelf_life_days": None,
        "near_expiry_days": 90,
    }
    body.update(changes)
    return body


def test_api_creates_and_changes_a_material(client, api_token, make_category, db):
    headers, _user = api_token(Role.ADMIN)
    category = make_category("1010101")
    response = client.post(
        "/api/v1/materials",
        json=_body(category.id),
        headers={**headers, "Idempotency-Key": "m-1"},
    )
    assert response.status_code == 201, response.get_json()
    material_id = response.get_json()["id"]
    assert response.get_json()["pinyin_initials"] == "dzp"
    again = client.post(
        "/api/v1/materials",
        json=_body(category.id),
        headers={**headers, "Idempotency-Key": "m-1"},
    )
    assert again.status_code == 201 and again.headers.get("Idempotent-Replayed") == "true"
    assert _count(db) == 1
    response = client.post(
        f"/api/v1/materials/{material_id}",
        json={"shelf_life_days": 730, "near_expiry_days": 60},
        headers=headers,
    )
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert (body["shelf_life_days"], body["near_expiry_days"], body["name"]) == (730, 60, "单帐篷")


@pytest.mark.parametrize(
    "changes, field",
    [
        ({"code": "TENT-01"}, "code"),
        ({"code": "1020101001"}, "code"),
        ({"shelf_life_days": 90, "near_expiry_days": 120}, "near_expiry_days"),
        ({"name": ""}, "name"),
        ({"category_id": 999999}, "category_id"),
    ],
)
def test_api_refuses_bad_materials_with_the_field(
    client, api_token, make_category, db, changes, field
):
    headers, _user = api_token(Role.ADMIN)
    category = make_category("1010101")
    response = client.post(
        "/api/v1/materials",
        json={**_body(category.id), **changes},
        headers={**headers, "Accept-Language": "zh"},
    )
    assert response.status_code == 422, response.get_json()
    body = response.get_json()
    assert body["error"] == "invalid" and body["field"] == field
    assert re.search(r"[\u4e00-\u9fff]", body["message"]), body["message"]
    assert _count(db) == 0


def test_api_update_keeps_the_rules(client, api_token, make_material, make_category, db):
    headers, _user = api_token(Role.ADMIN)
    material = make_material(code="1010101001", category=make_category("1010101"))
    response = client.post(
        f"/api/v1/materials/{material.id}",
        json={"shelf_life_days": 30},
        headers=headers,
    )
    assert response.status_code == 422 and response.get_json()["field"] == "near_expiry_days"
    assert material.shelf_life_days is None


def test_only_admins_write_materials_through_the_api(client, api_token, make_category):
    headers, _user = api_token(Role.DISPATCHER)
    response = client.post(
        "/api/v1/materials", json=_body(make_category("1010101").id), headers=headers
    )
    assert response.status_code == 403
