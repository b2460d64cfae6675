from decimal import Decimal

import pytest
from sqlalchemy import func, select

from reserve.audit.models import AuditEntry
from reserve.catalog import service
from reserve.catalog.models import Category, Material
from reserve.catalog.service import MaterialData
from reserve.errors import Conflict, Forbidden, ValidationError


@pytest.mark.parametrize(
    "code, level, parent",
    [
        ("1000000", 1, None),
        ("1010000", 2, "1000000"),
        ("1010100", 3, "1010000"),
        ("1010101", 4, "1010100"),
        ("2990000", 2, "2000000"),
        ("3999999", 4, "3999900"),
    ],
)
def test_category_code_levels(code, level, parent):
    assert service.category_level(code) == level
    assert service.parent_code_of(code) == parent


@pytest.mark.parametrize("code", ["100000", "4000000", "1000100", "10a0000", "", "10100000"])
def test_malformed_category_codes(code):
    with pytest.raises(ValidationError):
        service.category_level(code)


def test_a_category_code_must_fit_under_its_parent(db, system_actor, make_category):
    parent = make_category("1010000", "住宿物资")
    before = db.scalar(select(func.count()).select_from(Category))
    with pytest.raises(ValidationError, match="belongs under 1020000"):
        service.create_category(
            db, code="1020100", name="x", parent_id=parent.id, actor=system_actor
        )
    with pytest.raises(ValidationError):
        service.create_category(db, code="1010100", name="x", parent_id=None, actor=system_actor)
    assert db.scalar(select(func.count()).select_from(Category)) == before
    child = service.create_category(
        db, code="1010100", name="帐篷类", parent_id=parent.id, is_local=True, actor=system_actor
    )
    assert child.level == 3 and child.parent is parent


def test_duplicate_category_code(db, system_actor, make_category):
    make_category("1000000", "基本生活保障物资")
    with pytest.raises(Conflict):
        service.create_category(db, code="1000000", name="again", actor=system_actor)


@pytest.mark.parametrize(
    "name, initials",
    [("帐篷", "zp"), ("单帐篷", "dzp"), ("棉被(1.5m)", "mb15m"), ("发电机 30kW", "fdj30kw")],
)
def test_pinyin_initials(name, initials):
    assert service.pinyin_initials(name) == initials


def _data(category_id, **changes):
    fields = dict(
        code="1010101001",
        name="单帐篷",
        unit="顶",
        category_id=category_id,
        spec="3m×4m 12m²",
        shelf_life_days=None,
        reference_price=Decimal("680.00"),
    )
    fields.update(changes)
    return MaterialData(**fields)


def test_create_material_computes_pinyin_and_audits(db, system_actor, make_category):
    category = make_category("1010101")
    material = service.create_material(db, data=_data(category.id), actor=system_actor)
    assert material.pinyin_initials == "dzp"
    from reserve.audit.models import AuditEntry

    entry = db.scalar(select(AuditEntry).where(AuditEntry.object_type == "materials"))
    assert entry.action == "create" and entry.after["code"] == "1010101001"


@pytest.mark.parametrize(
    "changes, field",
    [
        (dict(code="x"), "code"),
        (dict(code="has space"), "code"),
        (dict(code="TENT-01"), "code"),
        (dict(code="1010102001"), "code"),  # another category's code
        (dict(code="1010101000"), "code"),  # the sequence runs 001-999
        (dict(code="10101010011"), "code"),
        (dict(shelf_life_days=0), "shelf_life_days"),
        (dict(shelf_life_days=90, near_expiry_days=90), "near_expiry_days"),
        (dict(shelf_life_days=30), "near_expiry_days"),  # the default warning is 90 days
        (dict(name=""), "name"),
        (dict(name="长" * 61), "name"),
        (dict(unit=""), "unit"),
        (dict(shelf_life_days=-1), "shelf_life_days"),
        (dict(near_expiry_days=-5), "near_expiry_days"),
        (dict(reference_price=Decimal("-1")), "reference_price"),
        (dict(tracking="lot"), "tracking"),
        (dict(category_id=999999), "category_id"),
    ],
)
def test_bad_material_input_changes_nothing(db, system_actor, make_category, changes, field):
    category = make_category("1010101")
    with pytest.raises(ValidationError) as error:
        service.create_material(
            db, data=_data(changes.pop("category_id", category.id), **changes), actor=system_actor
        )
    assert error.value.field == field
    assert db.scalar(select(func.count()).select_from(Material)) == 0


def test_a_material_code_is_taken_once(db, system_actor, make_category):
    category = make_category("1010101")
    service.create_material(db, data=_data(category.id), actor=system_actor)
    with pytest.raises(Conflict):
        service.create_material(db, data=_data(category.id, name="另一个"), actor=system_actor)


def test_update_material_records_only_what_changed(db, system_actor, make_material):
    from reserve.audit.models import AuditEntry

    material = make_material()
    service.update_material(
        db,
        material_id=material.id,
        actor=system_actor,
        data=_data(material.category_id, code=material.code, name="棉帐篷"),
    )
    entry = db.scalar(select(AuditEntry).where(AuditEntry.action == "update"))
    assert entry.before["name"] == "单帐篷" and entry.after["name"] == "棉帐篷"
    assert material.pinyin_initials == "mzp"


def test_only_admins_change_the_catalogue(db, make_user, make_category):
    from reserve.auth.actor import Actor
    from reserve.auth.models import Role

    category = make_category("1010101")
    with pytest.raises(Forbidden):
        service.create_material(
            db, data=_data(category.id), actor=Actor.for_user(make_user(Role.DISPATCHER))
        )


def test_tracking_cannot_change_once_the_material_has_batches(db, system_actor, make_material):
    from reserve.stock.models import Batch

    material = make_material(code="GEN-1")
    db.add(Batch(material_id=material.id, batch_no="B1", source="purchase"))
    db.flush()
    with pytest.raises(Conflict, match="tracking"):
        service.update_material(
            db,
            material_id=material.id,
            actor=system_actor,
            data=_data(
                material.category_id, code=material.code, name=material.name, tracking="serial"
            ),
        )
    assert material.tracking == "batch"


def test_the_audit_log_keeps_the_name_not_its_pinyin_initials(db, system_actor, make_category):
    material = service.create_material(
        db, data=_data(make_category("1010101").id), actor=system_actor
    )
    entry = db.scalar(
        select(AuditEntry).where(
            AuditEntry.object_type == "materials", AuditEntry.object_id == str(material.id)
        )
    )
    assert entry.after["name"] == material.name and "pinyin_initials" not in entry.after
