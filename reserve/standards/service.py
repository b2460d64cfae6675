"""储备标准: the admin's rules for setting, changing and removing a reserve standard, each
change kept as a ``StandardChange`` (who, when, old → new) and in the audit log."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from reserve.audit.service import record
from reserve.auth.actor import Actor
from reserve.auth.models import Role
from reserve.catalog.models import Material
from reserve.db import utcnow
from reserve.errors import Conflict, NotFound, ValidationError
from reserve.standards.models import ReserveStandard, StandardChange
from reserve.warehouses.models import Region, RegionLevel, Warehouse

MAX_QTY = 10**12
# A region standard is for a district, a county or the city (the bureau's levels above a
# warehouse); a province's or a township's is not the city bureau's to set.
REGION_LEVELS = (RegionLevel.CITY.value, RegionLevel.DISTRICT.value, RegionLevel.COUNTY.value)


@dataclass(frozen=True)
class StandardData:
    """What a standard says (the form, the API and a row of the Excel import alike)."""

    material_id: int | None
    warehouse_id: int | None
    region_id: int | None
    required_qty: int | None
    min_physical_pct: int | None = 0
    counts_agreements: bool = False
    basis: str | None = None


def _values(standard: ReserveStandard) -> dict:
    return {
        "required_qty": standard.required_qty,
        "min_physical_pct": standard.min_physical_pct,
        "counts_agreements": bool(standard.counts_agreements),
        "basis": standard.basis,
    }


def scope_label(session: Session, *, warehouse_id: int | None, region_id: int | None) -> str:
    if warehouse_id:
        warehouse = session.get(Warehouse, warehouse_id)
        return f"{warehouse.code} {warehouse.name}" if warehouse else "-"
    region = session.get(Region, region_id) if region_id else None
    return f"{region.code} {region.name}" if region else "-"


def check_standard(
    session: Session, data: StandardData, *, standard_id: int | None = None
) -> list[ValidationError]:
    """Every problem of ``data`` (empty when it may be saved); nothing is written."""
    errors: list[ValidationError] = []
    if not data.material_id or session.get(Material, data.material_id) is None:
        errors.append(ValidationError(_l("Choose a material."), field="material_id"))
    if bool(data.warehouse_id) == bool(data.region_id):
        errors.append(
            ValidationError(
                _l("A standard is for one warehouse or for one region, not both."),
                field="warehouse_id",
            )
        )
    elif data.warehouse_id and session.get(Warehouse, data.warehouse_id) is None:
        errors.append(ValidationError(_l("No such warehouse."), field="warehouse_id"))
    elif data.region_id:
        region = session.get(Region, data.region_id)
        if region is None:
            errors.append(ValidationError(_l("No such region."), field="region_id"))
        elif region.level not in REGION_LEVELS:
            errors.append(
                ValidationError(
                    _l("A region standard is for the city, a district or a county."),
                    field="region_id",
                )
            )
    if data.required_qty is None or not 0 < data.required_qty <= MAX_QTY:
        errors.append(
            ValidationError(
                _l("The required quantity is a whole number above zero."), field="required_qty"
            )
        )
    if data.min_physical_pct is None or not 0 <= data.min_physical_pct <= 100:
        errors.append(
            ValidationError(
                _l("The physical share is a whole percentage from 0 to 100."),
                field="min_physical_pct",
            )
        )
    if data.counts_agreements and data.warehouse_id:
        errors.append(
            ValidationError(
                _l("Agreement stock counts only for a region's standard, not a warehouse's."),
                field="counts_agreements",
            )
        )
    if data.basis and len(data.basis) > ReserveStandard.basis.type.length:
        errors.append(ValidationError(_l("The basis is too long."), field="basis"))
    if not errors:
        scope = (
            ReserveStandard.warehouse_id == data.warehouse_id
            if data.warehouse_id
            else ReserveStandard.region_id == data.region_id
        )
        clash = session.scalar(
            select(ReserveStandard.id).where(ReserveStandard.material_id == data.material_id, scope)
        )
        if clash and clash != standard_id:
            errors.append(
                Conflict(
                    _l("This material already has a standard for this scope."),
                    field="material_id",
                )
            )
    return errors


def _raise_first(errors: list) -> None:
    if errors:
        raise errors[0]


def _history(
    session: Session,
    standard: ReserveStandard,
    *,
    action: str,
    before: dict | None,
    after: dict | None,
    reason: str | None,
    actor: Actor,
) -> None:
    label = scope_label(session, warehouse_id=standard.warehouse_id, region_id=standard.region_id)
    session.add(
        StandardChange(
            standard_id=standard.id if action != "delete" else None,
            material_id=standard.material_id,
            scope_label=label[:120],
            action=action,
            before=before,
            after=after,
            reason=reason,
            changed_by_id=actor.user_id,
            changed_by_name=actor.username,
        )
    )
    record(
        session,
        actor=actor,
        action="delete" if action == "delete" else "create" if before is None else "update",
        object_type="reserve_standards",
        object_id=standard.id,
        label=label,
        before=before,
        after=after,
    )


def get_standard(session: Session, standard_id: int) -> ReserveStandard:
    standard = session.get(ReserveStandard, standard_id)
    if standard is None:
        raise NotFound(_l("No such reserve standard."))
    return standard


def save_standard(
    session: Session,
    *,
    data: StandardData,
    actor: Actor,
    standard_id: int | None = None,
    action: str | None = None,
) -> ReserveStandard:
    """设定储备标准: a new standard, or new figures for an existing one (its material and
    scope stay); history and audit in the same transaction."""
    actor.require_role(Role.ADMIN)
    standard = get_standard(session, standard_id) if standard_id else None
    if standard is not None:  # material and scope are the standard's identity
        data = StandardData(
            **{
                **asdict(data),
                "material_id": standard.material_id,
                "warehouse_id": standard.warehouse_id,
                "region_id": standard.region_id,
            }
        )
    _raise_first(check_standard(session, data, standard_id=standard_id))
    before = _values(standard) if standard is not None else None
    if standard is None:
        standard = ReserveStandard(
            material_id=data.material_id,
            warehouse_id=data.warehouse_id or None,
            region_id=data.region_id or None,
        )
        session.add(standard)
    standard.required_qty = data.required_qty
    standard.min_physical_pct = data.min_physical_pct
    standard.counts_agreements = bool(data.counts_agreements)
    standard.basis = (data.basis or "").strip() or None
    standard.updated_by_id = actor.user_id
    standard.updated_by_name = actor.username
    standard.updated_at = utcnow()
    session.flush()
    after = _values(standard)
    if before == after:
        return standard
    default = "create" if before is None else "update"
    _history(
        session,
        standard,
        action=action or default,
        before=before,
        after=after,
        reason=None,
        actor=actor,
    )
    return standard


def delete_standard(
    session: Session, *, standard_id: int, reason: str, actor: Actor
) -> ReserveStandard:
    """删除储备标准: with the reason, kept in its history."""
    actor.require_role(Role.ADMIN)
    standard = get_standard(session, standard_id)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError(_l("Say why the standard is removed."), field="reason")
    if len(reason) > StandardChange.reason.type.length:
        raise ValidationError(_l("The reason is too long."), field="reason")
    _history(
        session,
        standard,
        action="delete",
        before=_values(standard),
        after=None,
        reason=reason,
        actor=actor,
    )
    session.execute(
        StandardChange.__table__.update()
        .where(StandardChange.standard_id == standard.id)
        .values(standard_id=None)
    )
    session.delete(standard)
    session.flush()
    return standard
