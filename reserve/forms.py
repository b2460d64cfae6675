"""Form pieces every feature's forms share (the form-side twin of ``templating.py``), and the
bounds every edge applies to what comes in: ids in URLs, integers, dates and text.

Ids are the database's ``INTEGER`` (PostgreSQL: 2³¹ − 1; SQLite would take 2⁶³ − 1, but the
production database is the bound). Text may not carry control characters: NUL breaks
PostgreSQL, and the rest break the Excel exports and the terminal of whoever reads a log."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from datetime import date
from typing import Any

from flask import Flask, Request, current_app, has_request_context, request
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.i18n import translations as wtforms_translations
from werkzeug.datastructures import ImmutableMultiDict
from werkzeug.routing import IntegerConverter
from wtforms import Form as PlainForm
from wtforms import IntegerField, SelectChoice, StringField
from wtforms.validators import StopValidation

from reserve.errors import ValidationError

MAX_ID = 2**31 - 1
MAX_INT = 2**31 - 1
MAX_BIG_INT = 2**63 - 1  # what any database binds (SQLite's INTEGER, PostgreSQL's bigint)
# Dates typed into filters: wide enough for any real paper, narrow enough that ``+ 1 day`` and
# ``- 1 day`` never leave Python's calendar (9999-12-31 + 1 day is an OverflowError).
MIN_QUERY_DATE = date(1900, 1, 1)
MAX_QUERY_DATE = date(2999, 12, 31)
MAX_DAYS = 36_500  # a horizon in days ("expiring within"): a century is plenty
# C0 controls except tab, line feed and carriage return (text areas keep their lines), and DEL.
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
CONTROL_MESSAGE = _l("Control characters (such as NUL) are not allowed in text.")


BLANK_LABEL = "—"


def select_choices(pairs: Iterable[tuple[Any, Any]], *, blank: Any = None) -> list[SelectChoice]:
    """A select's options from ``(value, label)`` pairs, as WTForms 3.3 wants them
    (``SelectChoice``; tuples are deprecated and go in 3.4). ``blank`` (a label, e.g.
    ``BLANK_LABEL``) puts an empty first option: "none" or "all"."""
    options = [SelectChoice("", blank)] if blank is not None else []
    options += [SelectChoice(str(value), label) for value, label in pairs]
    return options


# 电话: a mainland mobile (1[3-9] and 9 digits, +86 allowed) or a landline with its area code
# (010, 02x: 3 digits; the others 4), a local number of 7 or 8 digits from 2-9, and an optional
# extension. Stored as 13812345678 or 0531-88886666 (-123).
_MOBILE = re.compile(r"(?:\+?86-?)?(1[3-9]\d)-?(\d{4})-?(\d{4})")
_LANDLINE = re.compile(
    r"\(?(0(?:[12]\d|[3-9]\d{2}))\)?-?([2-9]\d{6,7})(?:(?:-|#|转|分机|ext\.?|x)(\d{1,6}))?",
    re.IGNORECASE,
)
PHONE_MESSAGE = _l(
    "Not a phone number: give a mobile number of 11 digits starting with 13-19 (13812345678), "
    "or a landline with its area code (0531-88886666, an extension as 0531-88886666-123)."
)


def normalise_phone(value: str | None, *, field: str = "phone") -> str | None:
    """电话号码：a mobile or a landline with area code, in one written form; empty is None."""
    text = unicodedata.normalize("NFKC", value or "")  # full-width digits and brackets
    compact = re.sub(r"[\u2010-\u2015]", "-", re.sub(r"\s+", "", text))
    if not compact:
        return None
    if mobile := _MOBILE.fullmatch(compact):
        return "".join(mobile.groups())
    if landline := _LANDLINE.fullmatch(compact):
        area, number, extension = landline.groups()
        return f"{area}-{number}" + (f"-{extension}" if extension else "")
    raise ValidationError(PHONE_MESSAGE, field=field)


def phone_number(form, field) -> None:
    """Validator: a phone number (see ``normalise_phone``), normalised in place."""
    from wtforms.validators import ValidationError as FieldError

    try:
        field.data = normalise_phone(field.data, field=field.name)
    except ValidationError as error:
        raise FieldError(str(error.message)) from None


def optional_int(value):
    """Coerce a select's value to an id; the empty choice ("", or "None" as WTForms renders a
    missing value) means none. An id outside 1 … 2³¹ − 1 cannot exist and is refused."""
    if value in (None, "", "None"):
        return None
    number = int(value)
    if not 1 <= number <= MAX_ID:
        raise ValueError("not an id")
    return number


def checked_query_int(name: str, number: int, *, low: int = -MAX_INT, high: int = MAX_INT) -> int:
    """A whole number from a query string, within bounds, or a 422 that says the bounds."""

    if not low <= number <= high:
        raise ValidationError(
            _l(
                "%(name)s must be a whole number from %(low)s to %(high)s.",
                name=name,
                low=low,
                high=high,
            ),
            field=name,
        )
    return number


def checked_query_date(name: str, day: date) -> date:
    """A date from a query string within the calendar we can compute with, or a 422."""

    if not MIN_QUERY_DATE <= day <= MAX_QUERY_DATE:
        raise ValidationError(
            _l(
                "%(name)s must be a date like 2026-01-31, from %(low)s to %(high)s.",
                name=name,
                low=MIN_QUERY_DATE.isoformat(),
                high=MAX_QUERY_DATE.isoformat(),
            ),
            field=name,
        )
    return day


def text_problem(value: str) -> Any | None:
    """Why a text cannot be stored (a control character, a lone surrogate), or None."""
    if CONTROL_CHARACTERS.search(value):
        return CONTROL_MESSAGE
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return _l("The text is not valid Unicode.")
    return None


def no_control_characters(form, field) -> None:
    """Validator: refuse NUL and other control characters in a text field."""
    values = field.raw_data or ([field.data] if isinstance(field.data, str) else [])
    for value in values:
        problem = text_problem(str(value))
        if problem is not None:
            field.errors[:] = []
            raise StopValidation(str(problem))


def bounded_int(form, field) -> None:
    """Validator: an id field (``…_id``) holds 1 … 2³¹ − 1; any other whole number is one a
    database can bind (|n| ≤ 2⁶³ − 1; the services bound quantities and days more tightly)."""
    if not isinstance(field.data, int):
        return
    if field.short_name.endswith("_id") and not 1 <= field.data <= MAX_ID:
        raise StopValidation(str(_l("This is not a valid id.")))
    if abs(field.data) > MAX_BIG_INT:
        raise StopValidation(str(_l("The number is too large.")))


# WTForms' own messages that its Chinese catalogue gets wrong ("at least 0" as 大于 0, "cannot
# be edited" as 必填) or lacks (the date ranges): our catalogue words these; the rest come from
# WTForms' catalogue (the one Flask-WTF loads for the reader's locale).
WTFORMS_WORDING = {
    message._args[0]: message
    for message in (
        _l("Number must be at least %(min)s."),
        _l("Number must be at most %(max)s."),
        _l("Number must be between %(min)s and %(max)s."),
        _l("Date must be at least %(min)s."),
        _l("Date must be at most %(max)s."),
        _l("Date must be between %(min)s and %(max)s."),
        _l("This field cannot be edited."),
        _l("This field is disabled and cannot have a value."),
        _l("Not a valid week value."),
        _l("Invalid Choice: could not coerce."),
    )
}


class FormTranslations:
    """The translations every form (and sub-form) of the app uses: WTForms' messages in the
    reader's language, ours where ``WTFORMS_WORDING`` words them."""

    def gettext(self, string: str) -> str:
        if string in WTFORMS_WORDING:
            return str(WTFORMS_WORDING[string])
        return wtforms_translations.gettext(string)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return wtforms_translations.ngettext(singular, plural, n)


FORM_TRANSLATIONS = FormTranslations()


class _BoundedMeta:
    """Adds the shared text and number bounds to every field the form binds, and speaks the
    reader's language (a plain WTForms sub-form would otherwise answer in English)."""

    def get_translations(self, form):
        if has_request_context() and current_app.config.get("WTF_I18N_ENABLED", True):
            return FORM_TRANSLATIONS
        return super().get_translations(form)

    def bind_field(self, form, unbound_field, options):
        field = super().bind_field(form, unbound_field, options)
        if isinstance(field, StringField):  # TextAreaField and PasswordField too
            field.validators = [no_control_characters, *field.validators]
        elif isinstance(field, IntegerField):
            field.validators = [bounded_int, *field.validators]
        return field


class BoundedForm(FlaskForm):
    """The base of every form: CSRF (Flask-WTF) plus the shared input bounds."""

    class Meta(_BoundedMeta, FlaskForm.Meta):
        pass


class BoundedSubForm(PlainForm):
    """The base of a repeated sub-form (``FormField``/``FieldList``), with the same bounds."""

    class Meta(_BoundedMeta, PlainForm.Meta):
        pass


class IdIntegerConverter(IntegerConverter):
    """``<int:…>`` in this app: a database id, 1 … 2³¹ − 1; anything else is a 404."""

    def __init__(self, map, *args, **kwargs):
        kwargs.setdefault("min", 1)
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)


def refuse_control_characters_in_request() -> None:
    """``before_request``: no query or form value may carry a control character (the edge
    filter for every page and API call; JSON bodies are checked by the API blueprint)."""

    sources = [request.args]
    if request.method in ("POST", "PUT", "PATCH", "DELETE") and request.mimetype in (
        "application/x-www-form-urlencoded",
        "multipart/form-data",
    ):
        sources.append(request.form)
    for source in sources:
        for name, value in source.items(multi=True):
            # a malformed multipart part can come out with no name or value: nothing to check
            problem = text_problem(name or "") or text_problem(value or "")
            if problem is not None:
                raise ValidationError(problem, field=name)


class BoundedValues(ImmutableMultiDict):
    """Query and form values whose ``get(name, type=int)`` (werkzeug's idiom, used by every
    list page for ids, pages and filters) refuses a number no database column can hold, with
    a 422 that says the bounds, instead of binding it (SQLite: OverflowError, a 500)."""

    def get(self, key, default=None, type=None):
        value = super().get(key, default, type)
        if type is int and isinstance(value, int) and value is not default:
            checked_query_int(key, value)
        return value


class BoundedRequest(Request):
    parameter_storage_class = BoundedValues


def register_input_bounds(app: Flask) -> None:
    """Ids in every URL are bounded (``int`` is the id converter), integers read from queries
    and forms are bounded, and text is filtered."""
    app.request_class = BoundedRequest
    app.url_map.converters["int"] = IdIntegerConverter
    app.url_map.converters["id"] = IdIntegerConverter
    app.before_request(refuse_control_characters_in_request)
