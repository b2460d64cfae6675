"""Stocktake forms, shared by the pages and the API (lengths from the columns)."""

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, IntegerField, SelectField, SelectMultipleField, StringField
from wtforms.validators import InputRequired, Length, Optional

from reserve.catalog.models import Material
from reserve.forms import BoundedForm
from reserve.stock.models import Batch, SerialItem
from reserve.stocktakes.models import Stocktake, StocktakeLine
from reserve.warehouses.models import Location


class StocktakeForm(BoundedForm):
    warehouse_id = SelectField(
        _l("Warehouse"), coerce=int, choices=[], validators=[InputRequired()]
    )
    location_ids = SelectMultipleField(
        _l("Only these locations"), coerce=int, choices=[], validators=[Optional()]
    )
    category_ids = SelectMultipleField(
        _l("Only these categories"), coerce=int, choices=[], validators=[Optional()]
    )
    is_blind = BooleanField(_l("Blind count: hide the book quantities from the counter"))
    note = StringField(_l("Note"), validators=[Optional(), Length(max=Stocktake.note.type.length)])


class CountForm(BoundedForm):
    """One count: the place by id (the count sheet) or by code (a person, a label); the batch by
    id or by its number and material code."""

    location_id = IntegerField(_l("Location"), validators=[Optional()])
    location_code = StringField(
        _l("Location code"), validators=[Optional(), Length(max=Location.code.type.length)]
    )
    batch_id = IntegerField(_l("Batch"), validators=[Optional()])
    batch_no = StringField(
        _l("Batch no."), validators=[Optional(), Length(max=Batch.batch_no.type.length)]
    )
    material_code = StringField(
        _l("Material code"), validators=[Optional(), Length(max=Material.code.type.length)]
    )
    serial_no = StringField(
        _l("Serial no."), validators=[Optional(), Length(max=SerialItem.serial_no.type.length)]
    )
    counted_qty = IntegerField(
        _l("Counted quantity"),
        validators=[
            InputRequired(message=_l("Enter the counted quantity (0 when nothing is there)."))
        ],
    )
    reason = StringField(
        _l("Reason for the difference"),
        validators=[Optional(), Length(max=StocktakeLine.reason.type.length)],
    )

    def count_data(self) -> dict:
        """The count as given, for ``record_count_by_codes``: ids from the sheet, codes from a
        person or a label. A reason not sent stays None (the recorded one is kept)."""
        return {
            name: self[name].data
            for name in (
                "location_id",
                "location_code",
                "batch_id",
                "batch_no",
                "material_code",
                "serial_no",
                "counted_qty",
                "reason",
            )
        }


class RejectForm(BoundedForm):
    reason = StringField(
        _l("Reason for sending it back"),
        validators=[
            InputRequired(message=_l("Give the reason for sending the stocktake back.")),
            Length(max=Stocktake.reject_reason.type.length),
        ],
    )


class CancelForm(BoundedForm):
    reason = StringField(_l("Reason"), validators=[Optional(), Length(max=200)])
