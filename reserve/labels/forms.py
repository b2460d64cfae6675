"""Label forms: the layout and start position of a print, cartons per receipt line, the
things chosen on a warehouse's label page, and a revocation's reason."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import (
    FieldList,
    FormField,
    IntegerField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional
from wtforms.validators import ValidationError as FieldError
from wtforms.widgets import HiddenInput

from reserve.forms import BoundedForm, BoundedSubForm
from reserve.labels.pdf import SHEETS, Layout
from reserve.labels.printing import MAX_COPIES, REASON_MAX

LAYOUT_HELP = {
    Layout.A4_3X8: _l("A4 sheet, 3 × 8 labels of 70 × 37 mm"),
    Layout.A4_2X5: _l("A4 sheet, 2 × 5 labels"),
    Layout.THERMAL_60X40: _l("Label printer, 60 × 40 mm"),
    Layout.THERMAL_100X70: _l("Label printer, 100 × 70 mm"),
}
MAX_START = max(sheet.per_page for sheet in SHEETS.values())


class PrintOptions:
    """Mixed into each print form: the layout and where to start on a used A4 sheet."""

    layout = SelectField(
        _l("Layout"),
        choices=[SelectChoice(layout.value, LAYOUT_HELP[layout]) for layout in Layout],
        default=Layout.A4_3X8.value,
    )
    start = IntegerField(
        _l("Start at label no."),
        default=1,
        validators=[InputRequired(), NumberRange(min=1, max=MAX_START)],
        description=_l("On a partly used A4 sheet: the first free position, counted row by row."),
    )

    def validate_start(self, field) -> None:
        per_page = SHEETS[Layout(self.layout.data)].per_page if self.layout.data else MAX_START
        if field.data is not None and field.data > per_page:
            raise FieldError(_l("This layout has %(n)s labels a page.", n=per_page))


class CartonForm(BoundedSubForm):
    line_id = IntegerField(widget=HiddenInput(), validators=[DataRequired()])
    cartons = IntegerField(
        _l("Labels (cartons)"), validators=[InputRequired(), NumberRange(min=0, max=MAX_COPIES)]
    )


class ReceiptLabelsForm(PrintOptions, BoundedForm):
    lines = FieldList(FormField(CartonForm), min_entries=0, max_entries=500)


class ChosenLabelsForm(PrintOptions, BoundedForm):
    """Print labels for what was ticked on a warehouse's page: batches at locations (with
    copies each), serial items or locations, by id."""

    kind = SelectField(
        _l("Labels for"),
        choices=[
            SelectChoice("stock", _l("Batches at locations")),
            SelectChoice("item", _l("Serial items")),
            SelectChoice("location", _l("Locations")),
        ],
    )
    chosen = SelectMultipleField(_l("Chosen"), choices=[], validate_choice=False)
    copies = IntegerField(
        _l("Labels each"),
        default=1,
        validators=[Optional(), NumberRange(min=1, max=MAX_COPIES)],
    )


class ReprintForm(PrintOptions, BoundedForm):
    chosen = SelectMultipleField(_l("Labels"), choices=[], validate_choice=False)


class RevokeForm(BoundedForm):
    reason = StringField(
        _l("Reason"),
        validators=[DataRequired(), Length(max=REASON_MAX)],
        description=_l("Lost, damaged, stuck on the wrong carton …"),
    )
