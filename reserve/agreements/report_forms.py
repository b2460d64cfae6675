"""The stock report and verification forms (库存申报, 核查), shared by the pages. The forms
parse types and lengths; the services (``reserve.agreements.reports``) check the rules.

A report form has one row per stock line of the enterprise's agreements in force, in the
order ``reports.stock_lines`` gives them, so "第 n 行" in a message is the n-th row shown."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import (
    DateField,
    FieldList,
    FormField,
    HiddenField,
    IntegerField,
    MonthField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, Optional

from reserve.agreements.report_models import (
    StockReport,
    StockReportLine,
    Verification,
    VerificationLine,
)
from reserve.agreements.reports import CountData, PlanData, RecordData, ReportData, ReportLineData
from reserve.db import local_today
from reserve.documents import MAX_LINES
from reserve.forms import BoundedForm, BoundedSubForm, optional_int, select_choices


def _length(column) -> Length:
    return Length(max=column.type.length)


class ReportRowForm(BoundedSubForm):
    agreement_line_id = HiddenField(filters=[optional_int])
    held_qty = IntegerField(_l("Quantity held"), validators=[Optional()])
    batch_no = StringField(
        _l("Batch no."), validators=[Optional(), _length(StockReportLine.batch_no)]
    )
    expiry_on = DateField(_l("Expiry date"), validators=[Optional()])
    note = StringField(_l("Note"), validators=[Optional(), _length(StockReportLine.note)])

    def to_data(self) -> ReportLineData:
        return ReportLineData(
            agreement_line_id=self.agreement_line_id.data,
            held_qty=self.held_qty.data,
            batch_no=self.batch_no.data,
            expiry_on=self.expiry_on.data,
            note=self.note.data,
        )


class ReportForm(BoundedForm):
    period_month = MonthField(_l("Month reported"), validators=[Optional()])
    note = TextAreaField(_l("Note"), validators=[Optional(), _length(StockReport.note)])
    lines = FieldList(FormField(ReportRowForm), max_entries=MAX_LINES)

    def prefill(self, stock_lines, held: dict | None = None) -> ReportForm:
        """One row per stock line (``reports.stock_lines``), with what a draft already says."""
        held = held or {}
        self.lines.entries = []
        for line in stock_lines:
            entry = self.lines.append_entry()
            entry.agreement_line_id.data = line.id
            if line.id in held:
                row = held[line.id]
                entry.held_qty.data = row.held_qty
                entry.batch_no.data = row.batch_no
                entry.expiry_on.data = row.expiry_on
                entry.note.data = row.note
        return self

    def to_data(self, enterprise_id: int | None) -> ReportData:
        return ReportData(
            enterprise_id=enterprise_id,
            period_month=self.period_month.data,
            note=self.note.data,
            lines=tuple(entry.form.to_data() for entry in self.lines.entries),
        )


class RequestForm(BoundedForm):
    enterprise_id = SelectField(
        _l("Enterprise"), coerce=optional_int, choices=[], validators=[DataRequired()]
    )
    due_on = DateField(_l("Due on"), validators=[DataRequired()])
    message = TextAreaField(
        _l("Message to the enterprise"),
        validators=[Optional(), _length(StockReport.request_message)],
    )

    def set_choices(self, enterprises) -> RequestForm:
        self.enterprise_id.choices = select_choices(enterprises, blank="—")
        return self


class PlanForm(BoundedForm):
    enterprise_id = SelectField(
        _l("Enterprise"), coerce=optional_int, choices=[], validators=[DataRequired()]
    )
    planned_on = DateField(_l("Planned date"), default=local_today, validators=[DataRequired()])
    inspectors = StringField(
        _l("Inspectors"), validators=[DataRequired(), _length(Verification.inspectors)]
    )
    corrects_id = HiddenField(filters=[optional_int])

    def set_choices(self, enterprises) -> PlanForm:
        self.enterprise_id.choices = select_choices(enterprises, blank="—")
        return self

    def to_data(self) -> PlanData:
        return PlanData(
            enterprise_id=self.enterprise_id.data,
            planned_on=self.planned_on.data,
            inspectors=self.inspectors.data,
            corrects_id=self.corrects_id.data,
        )


RESULTS = (("", _l("By the count")), ("passed", _l("Passed")), ("failed", _l("Failed")))
"""合格/不合格 per line: by default as the count says (see ``reports.default_passed``)."""


class CountRowForm(BoundedSubForm):
    agreement_line_id = HiddenField(filters=[optional_int])
    counted_qty = IntegerField(_l("Quantity counted"), validators=[Optional()])
    result = SelectField(_l("Result"), choices=select_choices(RESULTS), default="")
    note = StringField(_l("Finding"), validators=[Optional(), _length(VerificationLine.note)])

    def to_data(self) -> CountData:
        passed = {"passed": True, "failed": False}.get(self.result.data)
        return CountData(
            agreement_line_id=self.agreement_line_id.data,
            counted_qty=self.counted_qty.data,
            passed=passed,
            note=self.note.data,
        )


class RecordForm(BoundedForm):
    checked_on = DateField(_l("Checked on"), default=local_today, validators=[DataRequired()])
    findings = TextAreaField(
        _l("Findings"), validators=[Optional(), _length(Verification.findings)]
    )
    lines = FieldList(FormField(CountRowForm), max_entries=MAX_LINES)

    def prefill(self, stock_lines) -> RecordForm:
        self.lines.entries = []
        for line in stock_lines:
            self.lines.append_entry().agreement_line_id.data = line.id
        return self

    def to_data(self) -> RecordData:
        return RecordData(
            checked_on=self.checked_on.data,
            findings=self.findings.data,
            lines=tuple(entry.form.to_data() for entry in self.lines.entries),
        )


class CancelForm(BoundedForm):
    reason = StringField(
        _l("Reason"), validators=[DataRequired(), _length(Verification.cancel_reason)]
    )
