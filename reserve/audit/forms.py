"""The audit log's filter form (GET, no CSRF: it only reads)."""

from datetime import date

from flask_babel import lazy_gettext as _l
from wtforms import DateField, SelectField, StringField
from wtforms.validators import Length, Optional, ValidationError

from reserve.audit.models import AuditEntry
from reserve.forms import BoundedForm

EARLIEST = date(1900, 1, 1)
LATEST = date(2999, 12, 31)
DATE_MESSAGE = _l("Not a valid date: use the form YYYY-MM-DD.")


def _length(column) -> Length:
    return Length(max=column.type.length)


def _in_range(_form, field) -> None:
    if field.data and not EARLIEST <= field.data <= LATEST:
        raise ValidationError(_l("Pick a date between 1900 and 2999."))


class AuditFilterForm(BoundedForm):
    class Meta:
        csrf = False

    username = StringField(_l("User name"), validators=[Optional(), _length(AuditEntry.username)])
    object_type = SelectField(_l("Object type"), choices=[], validators=[Optional()])
    object_id = StringField(_l("Object ID"), validators=[Optional(), _length(AuditEntry.object_id)])
    action = SelectField(_l("Action"), choices=[], validators=[Optional()])
    date_from = DateField(
        _l("From"), validators=[Optional(), _in_range], invalid_value_message=DATE_MESSAGE
    )
    date_to = DateField(
        _l("To"), validators=[Optional(), _in_range], invalid_value_message=DATE_MESSAGE
    )

    def validate_date_to(self, field) -> None:
        start = self.date_from.data
        if field.data and start and not self.date_from.errors and field.data < start:
            raise ValidationError(_l("The end date is before the start date."))

    def filters(self) -> dict:
        """The filters that passed validation, as ``audit_page`` keywords; a field in error is
        left out (and shown with its message)."""
        names = ("username", "object_type", "object_id", "action", "date_from", "date_to")
        return {
            name: (self[name].data or None) if not self[name].errors else None for name in names
        }
