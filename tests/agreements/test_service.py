from decimal import Decimal

import pytest
import sqlalchemy as sa
from sqlalchemy import func, select
from stdnum.cn import uscc

from reserve.agreements import service
from reserve.agreements.models import Enterprise, EnterpriseContact
from reserve.agreements.service import ContactData, EnterpriseData
from reserve.audit.models import AuditEntry
from reserve.auth.actor import Actor
from reserve.auth.models import Role
from reserve.errors import Conflict, Forbidden, NotFound, ValidationError


def valid_uscc(body: str) -> str:
    """A valid code: 17 characters and the check character GB 32100 computes for them."""
    code = body + uscc.calc_check_digit(body)
    assert uscc.is_valid(code)
    return code


VALID = valid_uscc("91370100MA3C4PYX8")  # ends in L
OTHER = valid_uscc("91370102MA3D12345")


def _data(**changes) -> EnterpriseData:
    fields = dict(
        name="济南银座食品有限公司",
        uscc=VALID,
        contacts=(
            ContactData(name="王强", phone="0531-88880000"),
            ContactData(name="值班室", phone="13800000000", is_duty=True),
        ),
        kind="food",
        enterprise_type="production",
    )
    fields.update(changes)
    return EnterpriseData(**fields)


def _counts(db) -> tuple[int, int]:
    return (
        db.scalar(select(func.count()).select_from(Enterprise)),
        db.scalar(select(func.count()).select_from(AuditEntry)),
    )


def test_the_briefs_sample_code_is_not_valid_but_its_corrected_form_is():
    assert not uscc.is_valid("91370100MA3C4PYX8Q")
    assert VALID == "91370100MA3C4PYX8L"
    assert uscc.is_valid("91350100M000100Y43")


def test_create_stores_the_compact_upper_case_code_and_audits(db, system_actor, make_region):
    region = make_region()
    spaced = f"{VALID[:8].lower()} {VALID[8:].lower()}-"
    enterprise = service.create_enterprise(
        db, data=_data(uscc=spaced, region_id=region.id, address="  历下区  "), actor=system_actor
    )
    assert enterprise.uscc == VALID and enterprise.address == "历下区"
    entry = db.scalar(select(AuditEntry).where(AuditEntry.object_type == "enterprises"))
    assert entry.action == "create" and entry.object_id == str(enterprise.id)
    assert entry.after["uscc"] == VALID and entry.before is None


@pytest.mark.parametrize(
    "code, message",
    [
        (VALID[:-1], "has 18 characters; this one has 17"),
        (VALID + "1", "has 18 characters; this one has 19"),
        (VALID[:-1] + ("M" if VALID[-1] != "M" else "N"), "The check character is wrong"),
        ("A" + VALID[1:], "The first 8 characters of the code must be digits"),
        (VALID[:10] + "I" + VALID[11:], "capital letters (not I, O, S, V or Z)"),
        ("", "Give the unified social credit code"),
    ],
)
def test_bad_codes_get_their_own_message_and_change_nothing(db, system_actor, code, message):
    before = _counts(db)
    with pytest.raises(
        ValidationError, match=message.replace("(", r"\(").replace(")", r"\)")
    ) as error:
        service.create_enterprise(db, data=_data(uscc=code), actor=system_actor)
    assert error.value.field == "uscc"
    assert _counts(db) == before


def test_duplicate_name_and_code_conflict(db, system_actor):
    service.create_enterprise(db, data=_data(), actor=system_actor)
    before = _counts(db)
    with pytest.raises(Conflict) as error:
        service.create_enterprise(
            db, data=_data(uscc=OTHER, name=" 济南银座食品有限公司 "), actor=system_actor
        )
    assert error.value.field == "name"
    with pytest.raises(Conflict) as error:
        service.create_enterprise(
            db, data=_data(name="另一家", uscc=VALID.lower()), actor=system_actor
        )
    assert error.value.field == "uscc"
    assert _counts(db) == before


@pytest.mark.parametrize(
    "changes, field",
    [
        (dict(name="  "), "name"),
        (dict(name="企" * 101), "name"),
        (dict(address="址" * 201), "address"),
        (dict(contacts=(ContactData(name="王", phone="1" * 31),)), "contacts-0-phone"),
        (dict(contacts=(ContactData(name="王", phone="12345"),)), "contacts-0-phone"),
        (dict(contacts=(ContactData(name=" ", phone="13800000000"),)), "contacts-0-name"),
        (dict(contacts=(ContactData(name="王", phone=""),)), "contacts-0-phone"),
        (dict(enterprise_type="farm"), "enterprise_type"),
        (dict(status="closed"), "status"),
        (dict(lat=Decimal("91"), lng=Decimal("117")), "lat"),
        (dict(lat=Decimal("36.6"), lng=Decimal("-181")), "lng"),
        (dict(lat=Decimal("36.6")), "lng"),
        (dict(kind="k" * 41), "kind"),
        (dict(region_id=999_999), "region_id"),
    ],
)
def test_invalid_fields(db, system_actor, changes, field):
    with pytest.raises(ValidationError) as error:
        service.create_enterprise(db, data=_data(**changes), actor=system_actor)
    assert error.value.field == field


def test_update_audits_only_what_changed(db, system_actor):
    enterprise = service.create_enterprise(db, data=_data(), actor=system_actor)
    service.update_enterprise(
        db,
        enterprise_id=enterprise.id,
        data=_data(status="suspended"),
        actor=system_actor,
    )
    entry = db.scalar(select(AuditEntry).where(AuditEntry.action == "update"))
    assert entry.before == {"status": "active"} and entry.after == {"status": "suspended"}
    assert not enterprise.is_active


def test_contacts_are_kept_in_order_with_one_on_duty(db, system_actor):
    enterprise = service.create_enterprise(db, data=_data(), actor=system_actor)
    rows = db.scalars(
        select(EnterpriseContact)
        .where(EnterpriseContact.enterprise_id == enterprise.id)
        .order_by(EnterpriseContact.position)
    ).all()
    assert [(c.name, c.phone, c.is_duty) for c in rows] == [
        ("王强", "0531-88880000", False),
        ("值班室", "13800000000", True),
    ]
    service.update_enterprise(
        db,
        enterprise_id=enterprise.id,
        data=_data(contacts=(ContactData(name="李娜", phone="+86 139 0000 0001", is_duty=True),)),
        actor=system_actor,
    )
    entry = db.scalar(select(AuditEntry).where(AuditEntry.action == "update"))
    assert entry.after == {
        "contacts": [{"name": "李娜", "title": None, "phone": "13900000001", "is_duty": True}]
    }
    assert [c.name for c in enterprise.contacts] == ["李娜"]


def test_two_duty_contacts_are_refused_by_the_service_and_the_database(db, system_actor):
    before = _counts(db)
    two = (
        ContactData(name="甲", phone="13800000001", is_duty=True),
        ContactData(name="乙", phone="13800000002", is_duty=True),
    )
    with pytest.raises(ValidationError, match="Only one contact"):
        service.create_enterprise(db, data=_data(contacts=two), actor=system_actor)
    assert _counts(db) == before
    enterprise = service.create_enterprise(db, data=_data(), actor=system_actor)
    with pytest.raises(sa.exc.IntegrityError), db.begin_nested():
        db.add(
            EnterpriseContact(
                enterprise_id=enterprise.id,
                position=9,
                name="丙",
                phone="13800000003",
                is_duty=True,
            )
        )
        db.flush()
    db.add(
        EnterpriseContact(
            enterprise_id=enterprise.id, position=9, name="丙", phone="13800000003", is_duty=False
        )
    )
    db.flush()  # any number of contacts off duty


def test_the_database_keeps_positions_within_range(db, make_enterprise):
    enterprise = make_enterprise()
    with pytest.raises(sa.exc.IntegrityError), db.begin_nested():
        enterprise.lat, enterprise.lng = Decimal("95"), Decimal("117")
        db.flush()
    db.refresh(enterprise)
    with pytest.raises(sa.exc.IntegrityError), db.begin_nested():
        enterprise.enterprise_type = "farm"
        db.flush()


def test_update_keeps_its_own_name_and_code(db, system_actor):
    enterprise = service.create_enterprise(db, data=_data(), actor=system_actor)
    service.update_enterprise(
        db, enterprise_id=enterprise.id, data=_data(kind="water"), actor=system_actor
    )
    assert enterprise.pinyin_initials == "jnyzspyxgs"
    assert enterprise.kind == "water"
    with pytest.raises(NotFound):
        service.update_enterprise(db, enterprise_id=999_999, data=_data(), actor=system_actor)


@pytest.mark.parametrize("role", [Role.VIEWER, Role.DISPATCHER, Role.KEEPER, Role.ENTERPRISE])
def test_only_admins_write(db, role):
    actor = Actor(user_id=None, username="x", roles=frozenset({role}))
    before = _counts(db)
    with pytest.raises(Forbidden):
        service.create_enterprise(db, data=_data(), actor=actor)
    assert _counts(db) == before


def test_an_enterprise_user_sees_only_its_own(db, make_enterprise):
    own = make_enterprise("自家企业", VALID)
    other = make_enterprise("别家企业", OTHER)
    actor = Actor(
        user_id=None, username="e", roles=frozenset({Role.ENTERPRISE}), enterprise_id=own.id
    )
    assert service.get_enterprise(db, own.id, actor=actor) is own
    with pytest.raises(NotFound):  # another's is as if it did not exist
        service.get_enterprise(db, other.id, actor=actor)
    with pytest.raises(NotFound):
        service.get_enterprise(db, 999_999, actor=actor)
    keeper = Actor(user_id=None, username="k", roles=frozenset({Role.KEEPER}))
    with pytest.raises(Forbidden):
        service.get_enterprise(db, own.id, actor=keeper)
    viewer = Actor(user_id=None, username="v", roles=frozenset({Role.VIEWER}))
    assert service.get_enterprise(db, other.id, actor=viewer) is other
    with pytest.raises(NotFound):
        service.get_enterprise(db, 999_999, actor=viewer)
