"""The enterprise form, shared by the pages and the API (lengths from the columns)."""

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional

from reserve.agreements.models import Enterprise
from reserve.agreements.service import EnterpriseData
from reserve.forms import BoundedForm, optional_int, phone_number


def _length(column) -> Length:
    return Length(max=column.type.length)


class EnterpriseForm(BoundedForm):
    name = StringField(_l("Name"), validators=[DataRequired(), _length(Enterprise.name)])
    # 18 characters, but spaces and dashes typed between the groups are allowed.
    uscc = StringField(
        _l("Unified social credit code"), validators=[DataRequired(), Length(max=30)]
    )
    region_id = SelectField(_l("Region"), coerce=optional_int, choices=[], validators=[Optional()])
    kind = StringField(_l("Kind of business"), validators=[Optional(), _length(Enterprise.kind)])
    address = StringField(_l("Address"), validators=[Optional(), _length(Enterprise.address)])
    legal_rep = StringField(
        _l("Legal representative"), validators=[Optional(), _length(Enterprise.legal_rep)]
    )
    contact_name = StringField(
        _l("Contact person"), validators=[Optional(), _length(Enterprise.contact_name)]
    )
    contact_phone = StringField(
        _l("Contact phone"),
        validators=[Optional(), _length(Enterprise.contact_phone), phone_number],
    )
    duty_phone = StringField(
        _l("Duty phone (24 h)"),
        validators=[Optional(), _length(Enterprise.duty_phone), phone_number],
    )
    is_active = BooleanField(_l("Active"), default=True)

    def to_data(self) -> EnterpriseData:
        return EnterpriseData(
            name=self.name.data,
            uscc=self.uscc.data,
            region_id=self.region_id.data,
            address=self.address.data,
            legal_rep=self.legal_rep.data,
            contact_name=self.contact_name.data,
            contact_phone=self.contact_phone.data,
            duty_phone=self.duty_phone.data,
            kind=self.kind.data,
            is_active=self.is_active.data,
        )
