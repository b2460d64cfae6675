"""代储企业 (custodian enterprises): the rules for registering and changing them, their
contacts (one on 24-hour duty at most) and the credit-code check (GB 32100-2015)."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session
from stdnum import exceptions as stdnum_errors
from stdnum.cn import uscc

from reserve.agreements.models import (
    Enterprise,
    EnterpriseContact,
    EnterpriseStatus,
    EnterpriseType,
)
from reserve.audit.service import changes, record, snapshot
from reserve.auth.actor import Actor
from reserve.auth.models import Role
from reserve.catalog.service import pinyin_initials
from reserve.errors import Conflict, Forbidden, NotFound, ValidationError
from reserve.forms import normalise_phone
from reserve.texts import check_length, clean_text
from reserve.warehouses.models import Region

MAX_CONTACTS = 10


@dataclass(frozen=True)
class ContactData:
    """联系人: a name and a phone; ``is_duty`` marks the 24-hour duty contact."""

    name: str
    phone: str
    title: str | None = None
    is_duty: bool = False


@dataclass(frozen=True)
class EnterpriseData:
    """The editable fields of an enterprise, as the form and the API deliver them."""

    name: str
    uscc: str
    region_id: int | None = None
    address: str | None = None
    legal_rep: str | None = None
    kind: str | None = None
    enterprise_type: str = EnterpriseType.OTHER.value
    status: str = EnterpriseStatus.ACTIVE.value
    lat: Decimal | None = None
    lng: Decimal | None = None
    contacts: tuple[ContactData, ...] = field(default_factory=tuple)


def normalise_uscc(value: str | None) -> str:
    """统一社会信用代码：full-width characters made ASCII, compacted and upper-cased, then
    checked against GB 32100-2015."""
    number = uscc.compact(unicodedata.normalize("NFKC", value or ""))
    if not number:
        raise ValidationError(_l("Give the unified social credit code."), field="uscc")
    try:
        return uscc.validate(number)
    except stdnum_errors.InvalidLength:
        raise ValidationError(
            _l(
                "A unified social credit code has 18 characters; this one has %(n)s.", n=len(number)
            ),
            field="uscc",
        ) from None
    except stdnum_errors.InvalidFormat:
        raise ValidationError(
            _l(
                "The first 8 characters of the code must be digits, the other 10 digits or "
                "capital letters (not I, O, S, V or Z)."
            ),
            field="uscc",
        ) from None
    except stdnum_errors.InvalidChecksum:
        raise ValidationError(
            _l("The check character is wrong: look for a typing mistake in the code."), field="uscc"
        ) from None
    except stdnum_errors.InvalidComponent:
        raise ValidationError(
            _l("A part of the unified social credit code is not valid."), field="uscc"
        ) from None
    except stdnum_errors.ValidationError:
        raise ValidationError(
            _l("The unified social credit code is not valid."), field="uscc"
        ) from None


def _check_position(data: EnterpriseData) -> None:
    for value, low, high, name, message in (
        (data.lat, -90, 90, "lat", _l("The latitude must be between -90 and 90 degrees.")),
        (data.lng, -180, 180, "lng", _l("The longitude must be between -180 and 180 degrees.")),
    ):
        if value is not None and not (value.is_finite() and low <= value <= high):
            raise ValidationError(message, field=name)
    if (data.lat is None) != (data.lng is None):
        raise ValidationError(
            _l("Give both latitude and longitude, or neither."),
            field="lng" if data.lng is None else "lat",
        )


def _checked_contacts(contacts: tuple[ContactData, ...]) -> list[ContactData]:
    """The contacts cleaned: each with a name and a valid phone, at most one on duty."""
    if len(contacts) > MAX_CONTACTS:
        raise ValidationError(
            _l("An enterprise has at most %(n)s contacts.", n=MAX_CONTACTS), field="contacts"
        )
    cleaned = []
    for n, contact in enumerate(contacts):
        name, title = clean_text(contact.name), clean_text(contact.title)
        where = f"contacts-{n}-"
        if not name:
            raise ValidationError(_l("Give the contact's name."), field=where + "name")
        check_length(name, EnterpriseContact.name, where + "name")
        check_length(title, EnterpriseContact.title, where + "title")
        check_length(clean_text(contact.phone), EnterpriseContact.phone, where + "phone")
        phone = normalise_phone(contact.phone, field=where + "phone")
        if not phone:
            raise ValidationError(_l("Give the contact's phone."), field=where + "phone")
        cleaned.append(ContactData(name=name, phone=phone, title=title, is_duty=contact.is_duty))
    if sum(c.is_duty for c in cleaned) > 1:
        raise ValidationError(
            _l("Only one contact can be the 24-hour duty contact."), field="contacts"
        )
    return cleaned


def _check_enterprise(
    session: Session, data: EnterpriseData, enterprise_id: int | None = None
) -> tuple[str, str, list[ContactData]]:
    name = (data.name or "").strip()
    if not name:
        raise ValidationError(_l("Give the enterprise a name."), field="name")
    check_length(name, Enterprise.name, "name")
    code = normalise_uscc(data.uscc)
    for value, column, field_name in (
        (data.address, Enterprise.address, "address"),
        (data.legal_rep, Enterprise.legal_rep, "legal_rep"),
        (data.kind, Enterprise.kind, "kind"),
    ):
        check_length(clean_text(value), column, field_name)
    if data.enterprise_type not in {t.value for t in EnterpriseType}:
        raise ValidationError(_l("Choose the type of enterprise."), field="enterprise_type")
    if data.status not in {s.value for s in EnterpriseStatus}:
        raise ValidationError(_l("Choose active or suspended."), field="status")
    _check_position(data)
    contacts = _checked_contacts(tuple(data.contacts))
    if data.region_id is not None and session.get(Region, data.region_id) is None:
        raise ValidationError(_l("Unknown region."), field="region_id")
    clash = session.scalar(select(Enterprise.id).where(Enterprise.name == name))
    if clash and clash != enterprise_id:
        raise Conflict(_l("An enterprise named %(name)s already exists.", name=name), field="name")
    clash = session.scalar(select(Enterprise.id).where(Enterprise.uscc == code))
    if clash and clash != enterprise_id:
        raise Conflict(
            _l("The unified social credit code %(code)s is already registered.", code=code),
            field="uscc",
        )
    return name, code, contacts


def _contacts_record(enterprise: Enterprise) -> list[dict]:
    return [
        {"name": c.name, "title": c.title, "phone": c.phone, "is_duty": c.is_duty}
        for c in enterprise.contacts
    ]


def _apply(
    session: Session,
    enterprise: Enterprise,
    data: EnterpriseData,
    name: str,
    code: str,
    contacts: list[ContactData],
) -> None:
    enterprise.name = name
    enterprise.pinyin_initials = pinyin_initials(name)
    enterprise.uscc = code
    enterprise.region_id = data.region_id
    enterprise.address = clean_text(data.address)
    enterprise.legal_rep = clean_text(data.legal_rep)
    enterprise.kind = clean_text(data.kind)
    enterprise.enterprise_type = data.enterprise_type
    enterprise.status = data.status
    enterprise.lat = data.lat
    enterprise.lng = data.lng
    current = [(c.name, c.title, c.phone, c.is_duty) for c in enterprise.contacts]
    wanted = [(c.name, c.title, c.phone, c.is_duty) for c in contacts]
    if current != wanted:
        enterprise.contacts.clear()
        session.flush()  # the old rows go first: the one-duty index sees one set at a time
        enterprise.contacts.extend(
            EnterpriseContact(
                position=n, name=c.name, title=c.title, phone=c.phone, is_duty=c.is_duty
            )
            for n, c in enumerate(contacts, start=1)
        )


def create_enterprise(session: Session, *, data: EnterpriseData, actor: Actor) -> Enterprise:
    """新增代储企业：register an enterprise with a valid, unique unified social credit code."""
    actor.require_role(Role.ADMIN)
    name, code, contacts = _check_enterprise(session, data)
    enterprise = Enterprise()
    session.add(enterprise)
    _apply(session, enterprise, data, name, code, contacts)
    session.flush()
    record(
        session,
        actor=actor,
        action="create",
        obj=enterprise,
        label=str(enterprise),
        after={**snapshot(enterprise), "contacts": _contacts_record(enterprise)},
    )
    return enterprise


def update_enterprise(
    session: Session, *, enterprise_id: int, data: EnterpriseData, actor: Actor
) -> Enterprise:
    """修改代储企业 (its contacts with it)."""
    actor.require_role(Role.ADMIN)
    enterprise = get_enterprise(session, enterprise_id)
    before = {**snapshot(enterprise), "contacts": _contacts_record(enterprise)}
    name, code, contacts = _check_enterprise(session, data, enterprise_id)
    _apply(session, enterprise, data, name, code, contacts)
    session.flush()
    old, new = changes(before, {**snapshot(enterprise), "contacts": _contacts_record(enterprise)})
    record(
        session,
        actor=actor,
        action="update",
        obj=enterprise,
        label=str(enterprise),
        before=old,
        after=new,
    )
    return enterprise


def get_enterprise(
    session: Session, enterprise_id: int, *, actor: Actor | None = None
) -> Enterprise:
    """查看代储企业：an enterprise user sees only its own enterprise; another one's id, like an
    id that does not exist, is "no such enterprise" (no hint which ids exist). A user who sees
    no enterprise at all is refused."""
    if actor is not None:
        if not actor.may_see_some_enterprise:
            raise Forbidden()
        if not actor.may_see_enterprise(enterprise_id):
            raise NotFound(_l("No such enterprise."))
    enterprise = session.get(Enterprise, enterprise_id)
    if enterprise is None:
        raise NotFound(_l("No such enterprise."))
    return enterprise
