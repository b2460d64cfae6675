"""代储企业 (custodian enterprises): the rules for registering and changing them."""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session
from stdnum import exceptions as stdnum_errors
from stdnum.cn import uscc

from reserve.agreements.models import Enterprise
from reserve.audit.service import changes, record, snapshot
from reserve.auth.actor import Actor
from reserve.auth.models import Role
from reserve.errors import Conflict, NotFound, ValidationError
from reserve.forms import normalise_phone
from reserve.warehouses.models import Region


@dataclass(frozen=True)
class EnterpriseData:
    """The editable fields of an enterprise, as the form and the API deliver them."""

    name: str
    uscc: str
    region_id: int | None = None
    address: str | None = None
    legal_rep: str | None = None
    contact_name: str | None = None
    contact_phone: str | None = None
    duty_phone: str | None = None
    kind: str | None = None
    is_active: bool = True


def normalise_uscc(value: str | None) -> str:
    """统一社会信用代码：compact and upper-case it, then check it against GB 32100-2015."""
    number = uscc.compact(value or "")
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


def _clean(value: str | None) -> str | None:
    return (value or "").strip() or None


def _check_length(value: str | None, column, field: str) -> None:
    if value and len(value) > column.type.length:
        raise ValidationError(
            _l("Too long: at most %(n)s characters.", n=column.type.length), field=field
        )


def _check_enterprise(
    session: Session, data: EnterpriseData, enterprise_id: int | None = None
) -> tuple[str, str]:
    name = (data.name or "").strip()
    if not name:
        raise ValidationError(_l("Give the enterprise a name."), field="name")
    _check_length(name, Enterprise.name, "name")
    code = normalise_uscc(data.uscc)
    for value, column, field in (
        (data.address, Enterprise.address, "address"),
        (data.legal_rep, Enterprise.legal_rep, "legal_rep"),
        (data.contact_name, Enterprise.contact_name, "contact_name"),
        (data.contact_phone, Enterprise.contact_phone, "contact_phone"),
        (data.duty_phone, Enterprise.duty_phone, "duty_phone"),
        (data.kind, Enterprise.kind, "kind"),
    ):
        _check_length(_clean(value), column, field)
    normalise_phone(data.contact_phone, field="contact_phone")
    normalise_phone(data.duty_phone, field="duty_phone")
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
    return name, code


def _apply(enterprise: Enterprise, data: EnterpriseData, name: str, code: str) -> None:
    enterprise.name = name
    enterprise.uscc = code
    enterprise.region_id = data.region_id
    enterprise.address = _clean(data.address)
    enterprise.legal_rep = _clean(data.legal_rep)
    enterprise.contact_name = _clean(data.contact_name)
    enterprise.contact_phone = normalise_phone(data.contact_phone, field="contact_phone")
    enterprise.duty_phone = normalise_phone(data.duty_phone, field="duty_phone")
    enterprise.kind = _clean(data.kind)
    enterprise.is_active = data.is_active


def create_enterprise(session: Session, *, data: EnterpriseData, actor: Actor) -> Enterprise:
    """新增代储企业：register an enterprise with a valid, unique unified social credit code."""
    actor.require_role(Role.ADMIN)
    name, code = _check_enterprise(session, data)
    enterprise = Enterprise()
    _apply(enterprise, data, name, code)
    session.add(enterprise)
    record(
        session,
        actor=actor,
        action="create",
        obj=enterprise,
        label=str(enterprise),
        after=snapshot(enterprise),
    )
    return enterprise


def update_enterprise(
    session: Session, *, enterprise_id: int, data: EnterpriseData, actor: Actor
) -> Enterprise:
    """修改代储企业."""
    actor.require_role(Role.ADMIN)
    enterprise = get_enterprise(session, enterprise_id)
    before = snapshot(enterprise)
    name, code = _check_enterprise(session, data, enterprise_id)
    _apply(enterprise, data, name, code)
    session.flush()
    old, new = changes(before, snapshot(enterprise))
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
    """查看代储企业：an enterprise user may only see its own enterprise."""
    if actor is not None:
        actor.require_see_enterprise(enterprise_id)
    enterprise = session.get(Enterprise, enterprise_id)
    if enterprise is None:
        raise NotFound(_l("No such enterprise."))
    return enterprise
