"""Field-level error marking on every form: each field of each form class in the app, given an
error and rendered through the shared macro (``macros/forms.html``), is red (``is-invalid``,
``aria-invalid``) and says why right under it (``invalid-feedback``), not only in a banner."""

import re

import pytest
from wtforms import SelectChoice
from wtforms.fields import FieldList, FormField, HiddenField

from reserve.forms import BoundedForm, BoundedSubForm
from tests.test_forms import all_form_classes

SKIPPED_TYPES = ("CSRFTokenField", "HiddenField", "SubmitField")


def _leaf_fields(form):
    for f in form:
        if isinstance(f, FieldList):
            for entry in f.entries:
                yield from _leaf_fields(entry.form if isinstance(entry, FormField) else [entry])
        elif isinstance(f, FormField):
            yield from _leaf_fields(f.form)
        elif f.type not in SKIPPED_TYPES and not isinstance(f, HiddenField):
            yield f


def _fields():
    for cls in all_form_classes():
        if cls in (BoundedForm, BoundedSubForm):  # the bases, without fields
            continue
        yield pytest.param(cls, id=f"{cls.__module__}.{cls.__qualname__}")


@pytest.mark.parametrize("form_class", list(_fields()))
def test_every_field_of_every_form_is_marked_where_it_is(app, db, form_class):
    with app.test_request_context("/", method="POST"):
        form = form_class(meta={"csrf": False}) if hasattr(form_class, "meta") else form_class()
        for choice_field in (f for f in _leaf_fields(form) if hasattr(f, "choices")):
            if not choice_field.choices:  # the views fill these from the database
                choice_field.choices = [SelectChoice("1", "one")]
        macro = app.jinja_env.get_template("macros/forms.html").module.field
        fields = list(_leaf_fields(form))
        for f in fields:
            f.errors = ["Why it is wrong"]
            html = str(macro(f))
            control = re.search(rf'<(input|select|textarea)[^>]*name="{f.name}"[^>]*>', html)
            assert control, (f.name, html)
            assert "is-invalid" in control.group(0), (f.name, html)
            assert re.search(
                rf'class="invalid-feedback d-block" id="{re.escape(f.id)}-feedback">'
                r"<div>Why it is wrong</div>",
                html,
            ), (f.name, html)
            assert 'aria-invalid="true"' in html and f'aria-describedby="{f.id}-feedback"' in html


def test_a_field_without_errors_is_not_marked(app, db):
    from reserve.catalog.forms import MaterialForm

    with app.test_request_context("/"):
        form = MaterialForm(meta={"csrf": False})
        macro = app.jinja_env.get_template("macros/forms.html").module.field
        html = str(macro(form.name))
        assert "is-invalid" not in html and "invalid-feedback" not in html
        assert "aria-invalid" not in html
