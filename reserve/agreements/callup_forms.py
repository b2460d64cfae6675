"""The call-up forms (调用, 发运确认, 补储, 撤销), shared by the pages and the API (lengths from
the columns). The forms parse types and lengths; ``reserve.agreements.callups`` checks the
rules."""

from __future__ import annotations

from datetime import datetime

from flask_babel import lazy_gettext as _l
from wtforms import DateField, DateTimeLocalField, IntegerField, SelectField, StringField
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from reserve.agreements.callup_models import CallUp
from reserve.agreements.callups import CallUpData
from reserve.db import SHANGHAI, local_today, utcnow
from reserve.forms import BoundedForm, optional_int


def _length(column) -> Length:
    return Length(max=column.type.length)


class ShanghaiDateTimeField(DateTimeLocalField):
    """A date and time: typed in the page's ``datetime-local`` control (read as Beijing time),
    or ISO 8601 from the API (with its offset, or without: Beijing time). Held aware."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("format", "%Y-%m-%dT%H:%M")
        super().__init__(*args, **kwargs)

    def process_formdata(self, valuelist):
        if not valuelist or not valuelist[0].strip():
            self.data = None
            return
        text = valuelist[0].strip()
        try:
            value = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            self.data = None
            raise ValueError(
                str(_l("Not a valid date and time: give it as 2026-07-20 14:30."))
            ) from None
        self.data = value.replace(tzinfo=SHANGHAI) if value.tzinfo is None else value

    def _value(self):
        if self.raw_data:
            return " ".join(self.raw_data)
        return self.data.astimezone(SHANGHAI).strftime("%Y-%m-%dT%H:%M") if self.data else ""


class CallUpForm(BoundedForm):
    line_id = IntegerField(_l("Agreement line"), validators=[Optional()])  # the service asks
    qty = IntegerField(_l("Quantity"), validators=[InputRequired()])
    needed_by = ShanghaiDateTimeField(_l("Needed by"), validators=[InputRequired()])
    warehouse_id = SelectField(
        _l("Deliver to warehouse"), coerce=optional_int, choices=[], validators=[Optional()]
    )
    destination = StringField(
        _l("Or deliver to"), validators=[Optional(), _length(CallUp.destination)]
    )
    purpose = StringField(_l("Purpose"), validators=[Optional(), _length(CallUp.purpose)])
    note = StringField(_l("Note"), validators=[Optional(), _length(CallUp.note)])
    source = StringField(_l("Reference"), validators=[Optional(), _length(CallUp.source)])

    def to_data(self) -> CallUpData:
        return CallUpData(
            line_id=self.line_id.data,
            qty=self.qty.data,
            needed_by=self.needed_by.data,
            warehouse_id=self.warehouse_id.data,
            destination=self.destination.data,
            purpose=self.purpose.data,
            note=self.note.data,
            source=self.source.data,
        )


class ShipForm(BoundedForm):
    """发运确认."""

    shipped_qty = IntegerField(_l("Quantity shipped"), validators=[InputRequired()])
    vehicle_plate = StringField(_l("Vehicle plate"), validators=[DataRequired(), Length(max=20)])
    driver_name = StringField(
        _l("Driver"), validators=[DataRequired(), _length(CallUp.driver_name)]
    )
    driver_phone = StringField(
        _l("Driver's phone"), validators=[DataRequired(), _length(CallUp.driver_phone)]
    )
    shipped_at = ShanghaiDateTimeField(
        _l("Shipped at"), default=utcnow, validators=[DataRequired()]
    )

    def to_kwargs(self) -> dict:
        return {
            "shipped_qty": self.shipped_qty.data,
            "vehicle_plate": self.vehicle_plate.data,
            "driver_name": self.driver_name.data,
            "driver_phone": self.driver_phone.data,
            "shipped_at": self.shipped_at.data,
        }


class ReplenishForm(BoundedForm):
    """补储."""

    replenished_qty = IntegerField(_l("Quantity replenished"), validators=[InputRequired()])
    replenished_on = DateField(
        _l("Replenished on"), default=local_today, validators=[DataRequired()]
    )
    note = StringField(_l("Note"), validators=[Optional(), _length(CallUp.replenish_note)])

    def to_kwargs(self) -> dict:
        return {
            "replenished_qty": self.replenished_qty.data,
            "replenished_on": self.replenished_on.data,
            "note": self.note.data,
        }


class CancelForm(BoundedForm):
    reason = StringField(_l("Reason"), validators=[DataRequired(), _length(CallUp.cancel_reason)])
