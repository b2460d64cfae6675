"""Stock filters and the move form."""

from flask_babel import lazy_gettext as _l
from wtforms import DateField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from reserve.forms import BoundedForm, optional_int
from reserve.stock.ledger import MAX_QTY


class MoveForm(BoundedForm):
    warehouse_id = SelectField(
        _l("Warehouse"), coerce=optional_int, choices=[], validators=[DataRequired()]
    )
    material_id = SelectField(
        _l("Material"), coerce=optional_int, choices=[], validators=[DataRequired()]
    )
    batch_id = SelectField(
        _l("Batch"), coerce=optional_int, choices=[], validators=[DataRequired()]
    )
    from_location_id = SelectField(
        _l("From location"), coerce=optional_int, choices=[], validators=[DataRequired()]
    )
    to_location_id = SelectField(
        _l("To location"), coerce=optional_int, choices=[], validators=[DataRequired()]
    )
    qty = IntegerField(_l("Quantity"), validators=[DataRequired(), NumberRange(min=1, max=MAX_QTY)])
    serial_nos = TextAreaField(
        _l("Serial numbers (one per line, for serial-tracked items)"),
        validators=[Optional(), Length(max=20000)],
    )
    document_date = DateField(_l("Date"), validators=[Optional()])
    note = StringField(_l("Note"), validators=[Optional(), Length(max=200)])
