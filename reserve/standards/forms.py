"""储备标准 forms, shared by the pages and the API."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from sqlalchemy import select
from sqlalchemy.orm import Session
from wtforms import BooleanField, IntegerField, SelectField, StringField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from reserve.catalog.models import Material
from reserve.forms import BLANK_LABEL, BoundedForm, optional_int, select_choices
from reserve.standards.models import ReserveStandard, StandardChange
from reserve.standards.service import REGION_LEVELS, StandardData
from reserve.warehouses.models import Region
from reserve.warehouses.queries import warehouse_choices


class StandardForm(BoundedForm):
    material_id = SelectField(_l("Material"), coerce=optional_int, choices=[])
    warehouse_id = SelectField(_l("Warehouse"), coerce=optional_int, choices=[])
    region_id = SelectField(_l("Region"), coerce=optional_int, choices=[])
    required_qty = IntegerField(
        _l("Required quantity"), validators=[DataRequired(), NumberRange(min=1)]
    )
    min_physical_pct = IntegerField(
        _l("Minimum physical share (per cent)"),
        default=0,
        validators=[Optional(), NumberRange(min=0, max=100)],
    )
    counts_agreements = BooleanField(_l("Agreement stock counts (region standards only)"))
    basis = StringField(
        _l("Basis of calculation"),
        validators=[Optional(), Length(max=ReserveStandard.basis.type.length)],
        description=_l("E.g. 5,000 people to shelter × 1 quilt each."),
    )

    def to_data(self) -> StandardData:
        return StandardData(
            material_id=self.material_id.data,
            warehouse_id=self.warehouse_id.data,
            region_id=self.region_id.data,
            required_qty=self.required_qty.data,
            min_physical_pct=self.min_physical_pct.data or 0,
            counts_agreements=bool(self.counts_agreements.data),
            basis=self.basis.data,
        )


def standard_form(session: Session, **kwargs) -> StandardForm:
    form = StandardForm(**kwargs)
    materials = session.execute(
        select(Material.id, Material.code, Material.name, Material.spec)
        .where(Material.is_active.is_(True))
        .order_by(Material.code)
    ).all()
    form.material_id.choices = select_choices(
        ((m.id, f"{m.code} {m.name}{' ' + m.spec if m.spec else ''}") for m in materials),
        blank=BLANK_LABEL,
    )
    form.warehouse_id.choices = select_choices(warehouse_choices(session), blank=BLANK_LABEL)
    regions = session.execute(
        select(Region.id, Region.code, Region.name)
        .where(Region.level.in_(REGION_LEVELS))
        .order_by(Region.code)
    ).all()
    form.region_id.choices = select_choices(
        ((r.id, f"{r.code} {r.name}") for r in regions), blank=BLANK_LABEL
    )
    return form


class StandardDeleteForm(BoundedForm):
    reason = StringField(
        _l("Reason for removal"),
        validators=[DataRequired(), Length(max=StandardChange.reason.type.length)],
    )


class StandardImportForm(BoundedForm):
    file = FileField(_l("Excel file (.xlsx)"), validators=[DataRequired()])


class ShortfallFilterForm(BoundedForm):
    class Meta:
        csrf = False

    category = SelectField(_l("Category"), choices=[], validate_choice=False)
    region_id = SelectField(_l("Region"), coerce=optional_int, choices=[], validate_choice=False)
    severity = SelectField(_l("Severity"), choices=[], validate_choice=False)
