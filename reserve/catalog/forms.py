"""Category and material forms, shared by the pages and the API (lengths from the columns)."""

from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    DecimalField,
    IntegerField,
    SelectChoice,
    SelectField,
    StringField,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from reserve.catalog import queries
from reserve.catalog.models import Category, Material, Tracking
from reserve.catalog.service import MAX_DAYS, MaterialData
from reserve.forms import BLANK_LABEL, BoundedForm, optional_int, select_choices


class CategoryForm(BoundedForm):
    code = StringField(_l("Code (7 digits)"), validators=[DataRequired(), Length(min=7, max=7)])
    name = StringField(
        _l("Name"), validators=[DataRequired(), Length(max=Category.name.type.length)]
    )
    parent_id = SelectField(_l("Parent"), coerce=optional_int, choices=[])
    is_local = BooleanField(_l("Local extension (本地扩展)"))


class CategoryEditForm(BoundedForm):
    name = StringField(
        _l("Name"), validators=[DataRequired(), Length(max=Category.name.type.length)]
    )
    is_local = BooleanField(_l("Local extension (本地扩展)"))


class MaterialForm(BoundedForm):
    code = StringField(
        _l("Code"),
        validators=[DataRequired(), Length(max=Material.code.type.length)],
        description=_l("The category's 7-digit code and 3 digits: 1010101001."),
    )
    name = StringField(
        _l("Name"), validators=[DataRequired(), Length(max=Material.name.type.length)]
    )
    spec = StringField(
        _l("Spec / model"), validators=[Optional(), Length(max=Material.spec.type.length)]
    )
    unit = StringField(
        _l("Unit"), validators=[DataRequired(), Length(max=Material.unit.type.length)]
    )
    category_id = SelectField(
        _l("Category"), coerce=optional_int, choices=[], validators=[DataRequired()]
    )
    tracking = SelectField(
        _l("Tracking"), choices=[SelectChoice(t.value, t.label) for t in Tracking]
    )
    shelf_life_days = IntegerField(
        _l("Shelf life (days)"), validators=[Optional(), NumberRange(min=0, max=MAX_DAYS)]
    )
    near_expiry_days = IntegerField(
        _l("Near-expiry warning (days)"),
        default=90,
        validators=[Optional(), NumberRange(min=0, max=MAX_DAYS)],
    )
    reference_price = DecimalField(
        _l("Reference unit price (yuan)"), places=2, validators=[Optional(), NumberRange(min=0)]
    )
    unit_weight_kg = DecimalField(
        _l("Unit weight (kg)"), places=3, validators=[Optional(), NumberRange(min=0)]
    )
    unit_volume_m3 = DecimalField(
        _l("Unit volume (m³)"), places=4, validators=[Optional(), NumberRange(min=0)]
    )
    is_active = BooleanField(_l("In use"), default=True)
    is_returnable = BooleanField(_l("Returnable after use (tents, beds, pumps, generators)"))

    def to_data(self) -> MaterialData:
        return MaterialData(
            code=self.code.data.strip(),
            name=self.name.data,
            unit=self.unit.data,
            category_id=self.category_id.data,
            tracking=self.tracking.data,
            spec=self.spec.data,
            shelf_life_days=self.shelf_life_days.data,
            near_expiry_days=self.near_expiry_days.data
            if self.near_expiry_days.data is not None
            else 90,
            reference_price=self.reference_price.data,
            unit_weight_kg=self.unit_weight_kg.data,
            unit_volume_m3=self.unit_volume_m3.data,
            is_active=self.is_active.data,
            is_returnable=self.is_returnable.data,
        )


def material_form(session, **kwargs) -> MaterialForm:
    """The material form with its category choices (categories below the top level)."""
    form = MaterialForm(**kwargs)
    form.category_id.choices = select_choices(
        queries.category_choices(session, min_level=2), blank=BLANK_LABEL
    )
    return form
