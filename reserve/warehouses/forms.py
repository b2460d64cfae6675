"""Region, warehouse and location forms, shared by the pages and the API (lengths from the
columns; the rules themselves live in the service)."""

from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    DecimalField,
    IntegerField,
    SelectChoice,
    SelectField,
    StringField,
)
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from reserve.forms import BoundedForm, optional_int, phone_number
from reserve.warehouses.models import Location, Region, RegionLevel, Warehouse, WarehouseLevel
from reserve.warehouses.service import WarehouseData


def _region_levels():
    return [SelectChoice(level.value, level.label) for level in RegionLevel]


class RegionEditForm(BoundedForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=Region.name.type.length)])
    level = SelectField(_l("Level"), choices=_region_levels())
    parent_id = SelectField(_l("Parent region"), coerce=optional_int, choices=[])


class RegionForm(RegionEditForm):
    code = StringField(
        _l("Code (6 digits, GB/T 2260; a township 9)"),
        validators=[DataRequired(), Length(max=Region.code.type.length)],
    )


class WarehouseForm(BoundedForm):
    code = StringField(
        _l("Code"), validators=[DataRequired(), Length(max=Warehouse.code.type.length)]
    )
    name = StringField(
        _l("Name"), validators=[DataRequired(), Length(max=Warehouse.name.type.length)]
    )
    level = SelectField(
        _l("Level"), choices=[SelectChoice(level.value, level.label) for level in WarehouseLevel]
    )
    region_id = SelectField(
        _l("Region"), coerce=optional_int, choices=[], validators=[DataRequired()]
    )
    address = StringField(
        _l("Address"), validators=[Optional(), Length(max=Warehouse.address.type.length)]
    )
    lat = DecimalField(_l("Latitude"), places=6, validators=[Optional()])
    lng = DecimalField(_l("Longitude"), places=6, validators=[Optional()])
    area_m2 = DecimalField(_l("Floor area (m²)"), places=1, validators=[Optional()])
    phone = StringField(
        _l("Phone"),
        validators=[Optional(), Length(max=Warehouse.phone.type.length), phone_number],
    )
    is_active = BooleanField(_l("In use"), default=True)

    def to_data(self) -> WarehouseData:
        return WarehouseData(
            code=(self.code.data or "").strip(),
            name=self.name.data,
            level=self.level.data,
            region_id=self.region_id.data,
            address=self.address.data,
            lat=self.lat.data,
            lng=self.lng.data,
            area_m2=self.area_m2.data,
            phone=self.phone.data,
            is_active=self.is_active.data,
        )


class LocationForm(BoundedForm):
    code = StringField(
        _l("Location code"), validators=[DataRequired(), Length(max=Location.code.type.length)]
    )
    name = StringField(_l("Name"), validators=[Optional(), Length(max=Location.name.type.length)])


class LocationEditForm(LocationForm):
    is_active = BooleanField(_l("In use"), default=True)


class LocationGridForm(BoundedForm):
    rows = IntegerField(_l("Rows (A, B, C …)"), validators=[InputRequired()])
    cols = IntegerField(_l("Columns (01, 02 …)"), validators=[InputRequired()])
