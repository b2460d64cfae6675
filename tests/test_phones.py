"""Phone numbers wherever one is stored (enterprise contact and duty phones, warehouse phones,
users): a mainland mobile or a landline with its area code, stored in one written form; any
other text is refused on its field, in Chinese, and changes nothing."""

import re

import pytest
from sqlalchemy import func, select

from reserve.agreements.models import Enterprise
from reserve.auth.models import Role, User
from reserve.errors import ValidationError
from reserve.forms import normalise_phone
from reserve.warehouses.models import Warehouse

GOOD = [
    ("13820038513", "13820038513"),
    ("138 2003 8513", "13820038513"),
    ("+86 138-2003-8513", "13820038513"),
    ("0531-89575349", "0531-89575349"),
    ("053189575349", "0531-89575349"),
    ("(0531)89575349", "0531-89575349"),
    ("０５３１－８８８８６６６６", "0531-88886666"),  # typed with a Chinese input method
    ("010-62345678", "010-62345678"),
    ("02162345678", "021-62345678"),
    ("0531-88886666-123", "0531-88886666-123"),
    ("0531-88886666转123", "0531-88886666-123"),
    ("", None),
    ("  ", None),
]
BAD = [
    "12345678901",
    "1282003851",
    "88886666",
    "0531-1234567",
    "531-88886666",
    "电话",
    "13820038513x",
]


@pytest.mark.parametrize("typed, stored", GOOD)
def test_good_numbers_are_stored_in_one_form(app, typed, stored):
    with app.test_request_context():
        assert normalise_phone(typed) == stored


@pytest.mark.parametrize("typed", BAD)
def test_other_text_is_refused_on_its_field(app, typed):
    with app.test_request_context(), pytest.raises(ValidationError) as error:
        normalise_phone(typed, field="duty_phone")
    assert error.value.field == "duty_phone"


def _invalid_input(html: str, name: str) -> str:
    return re.search(rf'<input[^>]*name="{name}"[^>]*>', html).group(0)


def _chinese_message(html: str) -> None:
    assert "手机号" in html and "区号" in html, html[:3000]


def test_enterprise_phones_on_the_page(login_as, db):
    from tests.agreements.test_views import _enterprise_form

    admin = login_as(Role.ADMIN)
    for name in ("contacts-0-phone", "contacts-1-phone"):
        response = admin.post("/enterprises/new", data=_enterprise_form(**{name: "8888-66"}))
        html = response.get_data(as_text=True)
        assert response.status_code == 200
        assert "is-invalid" in _invalid_input(html, name)
        _chinese_message(html)
    assert db.scalar(select(func.count()).select_from(Enterprise)) == 0
    response = admin.post(
        "/enterprises/new",
        data=_enterprise_form(
            **{"contacts-0-phone": "138 2003 8513", "contacts-1-phone": "053189575349"}
        ),
    )
    assert response.status_code == 302
    enterprise = db.scalar(select(Enterprise))
    assert [c.phone for c in enterprise.contacts] == ["13820038513", "0531-89575349"]


def test_enterprise_service_refuses_a_bad_phone(db, system_actor):
    from reserve.agreements.service import ContactData, EnterpriseData, create_enterprise

    data = EnterpriseData(
        name="济南测试公司",
        uscc="91370100MA3C4PYX8L",
        contacts=(ContactData(name="值班", phone="110", is_duty=True),),
    )
    with pytest.raises(ValidationError) as error:
        create_enterprise(db, data=data, actor=system_actor)
    assert error.value.field == "contacts-0-phone"
    assert db.scalar(select(func.count()).select_from(Enterprise)) == 0


def test_warehouse_phone_on_the_page(login_as, make_region, db):
    from tests.warehouses.test_views import warehouse_form

    admin = login_as(Role.ADMIN)
    city = make_region()
    response = admin.post("/warehouses/new", data=warehouse_form(city.id, phone="0531-12"))
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "is-invalid" in _invalid_input(html, "phone")
    _chinese_message(html)
    assert db.scalar(select(func.count()).select_from(Warehouse)) == 0
    response = admin.post("/warehouses/new", data=warehouse_form(city.id, phone="(0531)88886666"))
    assert response.status_code == 302
    assert db.scalar(select(Warehouse.phone)) == "0531-88886666"


def test_warehouse_service_refuses_a_bad_phone(db, system_actor, make_region):
    from reserve.warehouses.service import WarehouseData, create_warehouse

    data = WarehouseData(
        code="JN-T-01", name="测试库", level="city", region_id=make_region().id, phone="12345"
    )
    with pytest.raises(ValidationError) as error:
        create_warehouse(db, data=data, actor=system_actor)
    assert error.value.field == "phone"


def test_user_phone_on_the_page(login_as, db):
    admin = login_as(Role.ADMIN)
    data = {
        "username": "phoneuser",
        "full_name": "电话测试",
        "password": "temporary-walrus-7",
        "roles": ["viewer"],
        "enterprise_id": "",
        "phone": "1380013800",
    }
    response = admin.post("/admin/users/new", data=data)
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "is-invalid" in _invalid_input(html, "phone")
    _chinese_message(html)
    assert db.scalar(select(User).where(User.username == "phoneuser")) is None
    response = admin.post("/admin/users/new", data={**data, "phone": "+86 138 0013 8000"})
    assert response.status_code == 302
    assert db.scalar(select(User.phone).where(User.username == "phoneuser")) == "13800138000"


def test_user_service_refuses_a_bad_phone(db, system_actor):
    from reserve.auth.service import create_user

    with pytest.raises(ValidationError) as error:
        create_user(
            db,
            username="phoneuser2",
            full_name="电话测试",
            password="temporary-walrus-7",
            roles=["viewer"],
            phone="999",
            actor=system_actor,
        )
    assert error.value.field == "phone"
