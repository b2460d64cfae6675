"""Stocktake forms, shared by the pages and the API (lengths from the columns)."""

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, IntegerField, SelectField, SelectMultipleField, StringField
from wtforms.validators import InputRequired, Length, Optional

from reserve.catalog.models import Material
from reserve.forms import MAX_ID, BoundedForm
from reserve.stock.models import Batch, SerialItem
from reserve.stocktakes.models import Stocktake, StocktakeLine
from reserve.warehouses.models import Location


class StocktakeForm(BoundedForm):
    """What to count, chosen in two checkbox trees (warehouse → rows → locations; categories):
    every ticked box adds to the scope, a row or a category bringing what is under it. The
    locations must be chosen (the whole warehouse is a box too); so must the categories."""

    warehouse_id = SelectField(
        _l("Warehouse"), coerce=int, choices=[], validators=[InputRequired()]
    )
    whole_warehouse = BooleanField(_l("The whole warehouse"))
    location_rows = SelectMultipleField(
        _l("Rows"), choices=[], validate_choice=False, validators=[Optional()]
    )
    location_ids = SelectMultipleField(
        _l("Locations"), coerce=int, choices=[], validate_choice=False, validators=[Optional()]
    )
    all_categories = BooleanField(_l("All categories"), default=True)
    category_ids = SelectMultipleField(
        _l("Categories"), coerce=int, choices=[], validate_choice=False, validators=[Optional()]
    )
    is_blind = BooleanField(_l("Blind count: hide the book quantities from the counter"))
    note = StringField(_l("Note"), validators=[Optional(), Length(max=Stocktake.note.type.length)])

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        for ids in (self.location_ids, self.category_ids):
            if any(not 1 <= i <= MAX_ID for i in ids.data or ()):
                ids.errors = [*ids.errors, _l("This is not a valid id.")]
                valid = False
        if not (self.whole_warehouse.data or self.location_rows.data or self.location_ids.data):
            self.location_ids.errors = [
                *self.location_ids.errors,
                _l("Choose what to count: the whole warehouse, whole rows or single locations."),
            ]
            valid = False
        if not (self.all_categories.data or self.category_ids.data):
            self.category_ids.errors = [
                *self.category_ids.errors,
                _l("Choose the categories to count, or all categories."),
            ]
            valid = False
        return valid

    def scope(self) -> dict:
        """The scope for ``open_stocktake``: nothing narrower where a whole is ticked."""
        whole, every = self.whole_warehouse.data, self.all_categories.data
        return {
            "location_ids": () if whole else tuple(self.location_ids.data or ()),
            "location_rows": () if whole else tuple(self.location_rows.data or ()),
            "category_ids": () if every else tuple(self.category_ids.data or ()),
        }


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
