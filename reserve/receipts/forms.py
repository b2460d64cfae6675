"""The receipt form (header and a list of lines), shared by the pages and the API. The form
parses types and lengths; the service checks the rules."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import (
    DateField,
    DecimalField,
    FieldList,
    Form,
    FormField,
    IntegerField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional
from wtforms.widgets import HiddenInput

from reserve.db import local_today
from reserve.documents import MAX_LINES, line_message
from reserve.forms import BLANK_LABEL, BoundedForm, BoundedSubForm, optional_int, select_choices
from reserve.receipts.models import Receipt, ReceiptLine
from reserve.receipts.service import ReceiptData, ReceiptLineData
from reserve.stock.models import Batch, BatchSource

BLANK_ROWS = 5


def _optional_int(value):
    if value in (None, "", "None"):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _given(field) -> bool:
    """Something was typed or chosen (even if it does not parse)."""
    if field.raw_data:
        return any(str(v).strip() for v in field.raw_data)
    return field.data not in (None, "")


class ReceiptLineForm(BoundedSubForm):
    material_id = SelectField(
        _l("Material"), coerce=_optional_int, choices=[], validate_choice=False
    )
    batch_no = StringField(_l("Batch no."), validators=[Length(max=Batch.batch_no.type.length)])
    production_date = DateField(_l("Production date"), validators=[Optional()])
    expiry_date = DateField(_l("Expiry date"), validators=[Optional()])
    qty = IntegerField(_l("Quantity"), validators=[Optional()])
    location_id = SelectField(
        _l("Location"), coerce=_optional_int, choices=[], validate_choice=False
    )
    unit_cost = DecimalField(
        _l("Unit cost (yuan)"), places=2, validators=[Optional(), NumberRange(min=0)]
    )
    serials = TextAreaField(_l("Serial numbers"))
    expiry_reason = StringField(
        _l("Reason for receiving it anyway"),
        validators=[Length(max=ReceiptLine.expiry_reason.type.length)],
    )

    def is_blank(self) -> bool:
        return not any(
            _given(f)
            for f in (
                self.material_id,
                self.batch_no,
                self.qty,
                self.production_date,
                self.expiry_date,
                self.unit_cost,
                self.serials,
                self.expiry_reason,
            )
        )

    def to_data(self) -> ReceiptLineData:
        return ReceiptLineData(
            material_id=self.material_id.data,
            batch_no=(self.batch_no.data or "").strip(),
            qty=self.qty.data,
            location_id=self.location_id.data,
            production_date=self.production_date.data,
            expiry_date=self.expiry_date.data,
            unit_cost=self.unit_cost.data,
            serials=tuple(s.strip() for s in (self.serials.data or "").splitlines() if s.strip()),
            expiry_reason=(self.expiry_reason.data or "").strip() or None,
        )


class ReceiptForm(BoundedForm):
    warehouse_id = IntegerField(_l("Warehouse"), widget=HiddenInput(), validators=[DataRequired()])
    source = SelectField(
        _l("Source"), choices=[SelectChoice(s.value, s.label) for s in BatchSource]
    )
    # 协议调用: the shipped call-up whose goods these are (with that source only)
    call_up_id = SelectField(
        _l("Call-up"),
        coerce=optional_int,
        choices=[],
        validate_choice=False,  # the service checks the call-up (shipped, material, quantity)
        validators=[Optional()],
    )
    supplier = StringField(
        _l("Supplier"), validators=[Optional(), Length(max=Receipt.supplier.type.length)]
    )
    funding_source = StringField(
        _l("Funding source"),
        validators=[Optional(), Length(max=Receipt.funding_source.type.length)],
    )
    paper_no = StringField(
        _l("Document / contract no."),
        validators=[Optional(), Length(max=Receipt.paper_no.type.length)],
    )
    document_date = DateField(_l("Document date"), default=local_today, validators=[DataRequired()])
    note = TextAreaField(_l("Note"), validators=[Optional(), Length(max=Receipt.note.type.length)])
    # No min_entries: WTForms pads by re-reading the form data at the next index, which after
    # it compacts a gap (rows 0, 2, 3) would read row 3 twice. Pad with empty rows instead.
    lines = FieldList(FormField(ReceiptLineForm), max_entries=MAX_LINES)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        while len(self.lines.entries) < BLANK_ROWS:
            self.lines.append_entry()

    def set_choices(
        self,
        materials: list[tuple[int, str]],
        locations: list[tuple[int, str]],
        call_ups: list[tuple[int, str]] = (),
    ) -> None:
        self.call_up_id.choices = select_choices(call_ups, blank=BLANK_LABEL)
        material_choices = [SelectChoice("", "—")] + [
            SelectChoice(str(v), label) for v, label in materials
        ]
        location_choices = [SelectChoice(str(v), label) for v, label in locations]
        for entry in self.lines:
            entry.material_id.choices = material_choices
            entry.location_id.choices = location_choices

    def to_data(self) -> ReceiptData:
        return ReceiptData(
            warehouse_id=self.warehouse_id.data,
            source=self.source.data,
            call_up_id=self.call_up_id.data,
            document_date=self.document_date.data,
            supplier=self.supplier.data,
            funding_source=self.funding_source.data,
            paper_no=self.paper_no.data,
            note=self.note.data,
            lines=tuple(entry.form.to_data() for entry in self.lines if not entry.form.is_blank()),
        )

    def drop_blank_lines(self) -> ReceiptForm:
        """Keep the filled lines first, so 'line 3' in a service's message (and its field
        ``lines-2-…``) is the third row shown."""
        self.lines.entries = [e for e in self.lines.entries if not e.form.is_blank()]
        while len(self.lines.entries) < BLANK_ROWS:
            self.lines.append_entry()
        return self


def all_errors(form: Form) -> list[tuple[str, str]]:
    """Every error on the form as (field name, 'Line 2, Quantity: …'), header first, then the
    lines in order: what the page's summary lists, read from the fields themselves."""
    found: list[tuple[str, str]] = []
    for field in form:
        if field.name == "lines":
            for index, entry in enumerate(field.entries):
                for sub in entry.form:
                    for message in sub.errors:
                        found.append(
                            (
                                f"lines-{index}-{sub.short_name}",
                                str(line_message(index + 1, message, label=sub.label.text)),
                            )
                        )
            continue
        for message in field.errors if isinstance(field.errors, list | tuple) else ():
            found.append((field.name, f"{field.label.text}: {message}"))
    return found


def first_error(form: Form) -> tuple[str, str]:
    """The first form error as (field name, 'Line 2, Quantity: …') for a message or the API."""
    found = all_errors(form)
    return found[0] if found else ("", str(_l("The data is not valid.")))
