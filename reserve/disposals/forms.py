"""Rotation and scrap forms. A line names an available (location, batch) as ``"<location
id>:<batch id>"``; quantities are handed to the service as typed, so the ledger's one rule for
quantities gives the message."""

from __future__ import annotations

import re

from flask_babel import lazy_gettext as _l
from wtforms import DateField, FieldList, FormField, SelectChoice, SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from reserve.db import local_today
from reserve.disposals.lines import DisposalLineData
from reserve.disposals.models import Disposition, Rotation, Scrap, ScrapReason
from reserve.documents import MAX_LINES, line_message
from reserve.forms import BoundedForm, BoundedSubForm, optional_int

LINE_ROWS = 5
STOCK_VALUE = re.compile(r"^(\d+):(\d+)$")
SERIAL_SEPARATORS = re.compile(r"[\s,，、;；]+")


def parse_stock(value: str | None) -> tuple[int, int] | None:
    match = STOCK_VALUE.match((value or "").strip())
    return (int(match.group(1)), int(match.group(2))) if match else None


def parse_qty(text: str | None):
    """A whole number when the text is one; otherwise what was typed, for the service to
    refuse with its message (1.5 stays 1.5, "abc" stays "abc")."""
    text = (text or "").strip()
    try:
        return int(text)
    except ValueError:
        try:
            return float(text)
        except ValueError:
            return text or None


class LineForm(BoundedSubForm):
    stock = SelectField(_l("Stock (location · batch)"), choices=[], validate_choice=False)
    qty = StringField(_l("Quantity"), validators=[Optional(), Length(max=20)])
    serial_nos = StringField(_l("Serial numbers"), validators=[Optional(), Length(max=2000)])

    def is_blank(self) -> bool:
        return (
            not (self.stock.data or "").strip()
            and not (self.qty.data or "").strip()
            and not (self.serial_nos.data or "").strip()
        )


class _DisposalForm(BoundedForm):
    document_date = DateField(_l("Document date"), validators=[DataRequired()], default=local_today)
    lines = FieldList(FormField(LineForm), min_entries=LINE_ROWS, max_entries=MAX_LINES)

    def validate_lines(self, field):
        filled = 0
        for n, entry in enumerate(field.entries, start=1):
            if entry.form.is_blank():
                continue
            filled += 1
            if parse_stock(entry.form.stock.data) is None:
                raise ValidationError(line_message(n, _l("choose the stock.")))
        if not filled:
            raise ValidationError(_l("Add at least one line."))

    def chosen(self) -> tuple[tuple[int, int], ...]:
        """The (location, batch) pairs the lines name, to keep them among the choices."""
        pairs = (parse_stock(entry.form.stock.data) for entry in self.lines.entries)
        return tuple(pair for pair in pairs if pair)

    def line_data(self) -> tuple[DisposalLineData, ...]:
        lines = []
        for entry in self.lines.entries:
            if entry.form.is_blank():
                continue
            location_id, batch_id = parse_stock(entry.form.stock.data) or (0, 0)
            serials = tuple(
                s for s in SERIAL_SEPARATORS.split(entry.form.serial_nos.data or "") if s
            )
            lines.append(
                DisposalLineData(
                    location_id=location_id,
                    batch_id=batch_id,
                    qty=parse_qty(entry.form.qty.data),
                    serial_nos=serials,
                )
            )
        return tuple(lines)


class RotationForm(_DisposalForm):
    disposition = SelectField(
        _l("Disposition"), choices=[SelectChoice(d.value, d.label) for d in Disposition]
    )
    counterparty = StringField(
        _l("Buyer or recipient"),
        validators=[Optional(), Length(max=Rotation.counterparty.type.length)],
    )
    replacement_receipt_id = SelectField(
        _l("Replacement receipt"), coerce=optional_int, choices=[], validate_choice=False
    )
    note = StringField(_l("Note"), validators=[Optional(), Length(max=Rotation.note.type.length)])


class ScrapForm(_DisposalForm):
    reason = SelectField(
        _l("Reason"), choices=[SelectChoice(r.value, r.label) for r in ScrapReason]
    )
    reason_text = StringField(
        _l("What happened"), validators=[Optional(), Length(max=Scrap.reason_text.type.length)]
    )
    note = StringField(_l("Note"), validators=[Optional(), Length(max=Scrap.note.type.length)])


class LinkReplacementForm(BoundedForm):
    receipt_id = SelectField(
        _l("Replacement receipt"),
        coerce=optional_int,
        choices=[],
        validate_choice=False,
        validators=[DataRequired()],
    )


class ApproveForm(BoundedForm):
    note = StringField(
        _l("Note"), validators=[Optional(), Length(max=Scrap.decision_note.type.length)]
    )


class RejectForm(BoundedForm):
    reason = StringField(
        _l("Reason for rejection"), validators=[Length(max=Scrap.decision_note.type.length)]
    )
