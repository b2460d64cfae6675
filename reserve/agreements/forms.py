"""The enterprise and agreement forms, shared by the pages and the API (lengths from the
columns). The forms parse types and lengths; the services check the rules."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    DateField,
    DecimalField,
    FieldList,
    FormField,
    IntegerField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from reserve.agreements.models import (
    Agreement,
    Enterprise,
    EnterpriseContact,
    EnterpriseStatus,
    EnterpriseType,
    LineKind,
)
from reserve.agreements.service import MAX_CONTACTS, ContactData, EnterpriseData
from reserve.agreements.signing import AgreementData, LineData
from reserve.auth.forms import MultiCheckboxField
from reserve.db import local_today
from reserve.documents import MAX_LINES
from reserve.forms import BoundedForm, BoundedSubForm, optional_int, select_choices

BLANK_CONTACTS = 3
BLANK_LINES = 4


def _length(column) -> Length:
    return Length(max=column.type.length)


def _given(field) -> bool:
    if field.raw_data:
        return any(str(v).strip() for v in field.raw_data)
    return field.data not in (None, "", False)


class ContactForm(BoundedSubForm):
    name = StringField(
        _l("Contact person"), validators=[Optional(), _length(EnterpriseContact.name)]
    )
    title = StringField(_l("Position"), validators=[Optional(), _length(EnterpriseContact.title)])
    phone = StringField(_l("Phone"), validators=[Optional(), _length(EnterpriseContact.phone)])
    is_duty = BooleanField(_l("24-hour duty"))

    def is_blank(self) -> bool:
        return not any(_given(f) for f in (self.name, self.title, self.phone, self.is_duty))

    def to_data(self) -> ContactData:
        return ContactData(
            name=self.name.data or "",
            phone=self.phone.data or "",
            title=self.title.data,
            is_duty=bool(self.is_duty.data),
        )


class EnterpriseForm(BoundedForm):
    name = StringField(_l("Name"), validators=[DataRequired(), _length(Enterprise.name)])
    # 18 characters, but spaces and dashes typed between the groups are allowed.
    uscc = StringField(
        _l("Unified social credit code"), validators=[DataRequired(), Length(max=30)]
    )
    enterprise_type = SelectField(
        _l("Type of enterprise"),
        choices=select_choices((t.value, t.label) for t in EnterpriseType),
        default=EnterpriseType.OTHER.value,
    )
    region_id = SelectField(_l("Region"), coerce=optional_int, choices=[], validators=[Optional()])
    kind = StringField(_l("Kind of business"), validators=[Optional(), _length(Enterprise.kind)])
    address = StringField(_l("Address"), validators=[Optional(), _length(Enterprise.address)])
    legal_rep = StringField(
        _l("Legal representative"), validators=[Optional(), _length(Enterprise.legal_rep)]
    )
    lat = DecimalField(_l("Latitude"), places=6, validators=[Optional()])
    lng = DecimalField(_l("Longitude"), places=6, validators=[Optional()])
    status = SelectField(
        _l("Status"),
        choices=select_choices((s.value, s.label) for s in EnterpriseStatus),
        default=EnterpriseStatus.ACTIVE.value,
    )
    contacts = FieldList(FormField(ContactForm), max_entries=MAX_CONTACTS)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        while len(self.contacts.entries) < BLANK_CONTACTS:
            self.contacts.append_entry()

    def drop_blank_contacts(self) -> EnterpriseForm:
        self.contacts.entries = [e for e in self.contacts.entries if not e.form.is_blank()]
        while len(self.contacts.entries) < BLANK_CONTACTS:
            self.contacts.append_entry()
        return self

    def to_data(self) -> EnterpriseData:
        return EnterpriseData(
            name=self.name.data,
            uscc=self.uscc.data,
            region_id=self.region_id.data,
            address=self.address.data,
            legal_rep=self.legal_rep.data,
            kind=self.kind.data,
            enterprise_type=self.enterprise_type.data,
            status=self.status.data,
            lat=self.lat.data,
            lng=self.lng.data,
            contacts=tuple(
                e.form.to_data() for e in self.contacts.entries if not e.form.is_blank()
            ),
        )


class AgreementLineForm(BoundedSubForm):
    material_id = SelectField(
        _l("Material"), coerce=optional_int, choices=[], validate_choice=False
    )
    kind = SelectField(
        _l("Kind"),
        choices=select_choices((k.value, k.label) for k in LineKind),
        default=LineKind.STOCK.value,
    )
    committed_qty = IntegerField(_l("Committed quantity / maximum total"), validators=[Optional()])
    unit_price = DecimalField(
        _l("Agreed unit price (yuan)"), places=2, validators=[Optional(), NumberRange(min=0)]
    )
    daily_qty = IntegerField(_l("Daily quantity"), validators=[Optional()])
    lead_hours = IntegerField(_l("Lead time (hours)"), validators=[Optional()])

    def is_blank(self) -> bool:
        return not any(
            _given(f)
            for f in (
                self.material_id,
                self.committed_qty,
                self.unit_price,
                self.daily_qty,
                self.lead_hours,
            )
        )

    def to_data(self) -> LineData:
        return LineData(
            material_id=self.material_id.data,
            kind=self.kind.data,
            committed_qty=self.committed_qty.data,
            unit_price=self.unit_price.data,
            daily_qty=self.daily_qty.data,
            lead_hours=self.lead_hours.data,
        )


class AgreementForm(BoundedForm):
    no = StringField(_l("Agreement no."), validators=[DataRequired(), _length(Agreement.no)])
    enterprise_id = SelectField(
        _l("Enterprise"), coerce=optional_int, choices=[], validators=[DataRequired()]
    )
    signed_on = DateField(_l("Signed on"), default=local_today, validators=[DataRequired()])
    valid_from = DateField(_l("Valid from"), validators=[DataRequired()])
    valid_to = DateField(_l("Valid to"), validators=[DataRequired()])
    response_hours = IntegerField(_l("Response time (hours)"), validators=[DataRequired()])
    region_ids = MultiCheckboxField(_l("Delivery area"), coerce=int, choices=[])
    rotation_duty = TextAreaField(
        _l("Rotation duty"), validators=[Optional(), _length(Agreement.rotation_duty)]
    )
    storage_fee = DecimalField(
        _l("Storage fee (yuan per unit per year)"),
        places=2,
        validators=[Optional(), NumberRange(min=0)],
    )
    compensation_note = TextAreaField(
        _l("Compensation terms"), validators=[Optional(), _length(Agreement.compensation_note)]
    )
    note = TextAreaField(_l("Note"), validators=[Optional(), _length(Agreement.note)])
    lines = FieldList(FormField(AgreementLineForm), max_entries=MAX_LINES)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        while len(self.lines.entries) < BLANK_LINES:
            self.lines.append_entry()

    def set_choices(self, enterprises, regions, materials) -> AgreementForm:
        self.enterprise_id.choices = select_choices(enterprises, blank="—")
        self.region_ids.choices = select_choices(regions)
        options = select_choices(materials, blank="—")
        for entry in self.lines:
            entry.material_id.choices = options
        return self

    def drop_blank_lines(self) -> AgreementForm:
        """Filled lines first, so "line 3" in a message is the third row shown."""
        self.lines.entries = [e for e in self.lines.entries if not e.form.is_blank()]
        while len(self.lines.entries) < BLANK_LINES:
            self.lines.append_entry()
        return self

    def to_data(self) -> AgreementData:
        return AgreementData(
            no=self.no.data or "",
            enterprise_id=self.enterprise_id.data,
            signed_on=self.signed_on.data,
            valid_from=self.valid_from.data,
            valid_to=self.valid_to.data,
            response_hours=self.response_hours.data,
            region_ids=tuple(self.region_ids.data or ()),
            rotation_duty=self.rotation_duty.data,
            storage_fee=self.storage_fee.data,
            compensation_note=self.compensation_note.data,
            note=self.note.data,
            lines=tuple(e.form.to_data() for e in self.lines.entries if not e.form.is_blank()),
        )


class TerminateForm(BoundedForm):
    reason = StringField(
        _l("Reason"), validators=[DataRequired(), _length(Agreement.termination_reason)]
    )


class RenewForm(BoundedForm):
    no = StringField(_l("New agreement no."), validators=[Optional(), _length(Agreement.no)])
