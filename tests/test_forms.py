"""The shared input bounds of ``reserve.forms``: every form is bounded, text fields refuse
control characters with a message, integer fields refuse what the database cannot store, and
``<int:…>`` in every route is a bounded id."""

import importlib
import inspect
import pkgutil

import pytest
from werkzeug.datastructures import MultiDict
from wtforms import Form as PlainForm

import reserve
from reserve.forms import MAX_ID, BoundedForm, BoundedSubForm, IdIntegerConverter, optional_int


@pytest.fixture
def english(app, db):
    with app.test_request_context("/api/v1/forms", headers={"Accept-Language": "en"}):
        yield


def all_form_classes():
    for module_info in pkgutil.walk_packages(reserve.__path__, "reserve."):
        if not module_info.name.endswith(".forms"):
            continue
        module = importlib.import_module(module_info.name)
        for _name, cls in inspect.getmembers(module, inspect.isclass):
            if issubclass(cls, PlainForm) and cls.__module__ == module.__name__:
                yield cls


def test_every_feature_form_has_the_shared_bounds():
    classes = list(all_form_classes())
    assert len(classes) > 20
    unbounded = [c.__qualname__ for c in classes if not issubclass(c, BoundedForm | BoundedSubForm)]
    assert unbounded == []


@pytest.mark.parametrize("text", ["帐篷\x00", "a\x1bb", "\x7f"])
def test_text_fields_refuse_control_characters(english, text):
    from reserve.stocktakes.forms import CountForm

    form = CountForm(
        formdata=MultiDict(
            {"counted_qty": "1", "reason": text, "batch_id": "1", "location_id": "1"}
        ),
        meta={"csrf": False},
    )
    assert not form.validate()
    assert form.errors["reason"] == ["Control characters (such as NUL) are not allowed in text."]


def test_tabs_and_new_lines_are_text(english):
    from reserve.stocktakes.forms import CountForm

    form = CountForm(
        formdata=MultiDict({"counted_qty": "1", "reason": "a\tb\r\nc"}), meta={"csrf": False}
    )
    form.validate()
    assert "reason" not in form.errors


def test_integer_fields_refuse_what_the_database_cannot_store(english):
    from reserve.stocktakes.forms import CountForm

    form = CountForm(
        formdata=MultiDict({"counted_qty": str(2**63), "batch_id": str(2**31)}),
        meta={"csrf": False},
    )
    assert not form.validate()
    assert form.errors["counted_qty"] == ["The number is too large."]
    assert form.errors["batch_id"] == ["This is not a valid id."]


def test_ids_are_bounded(app):
    assert optional_int("7") == 7 and optional_int("") is None
    for bad in (str(MAX_ID + 1), "0", "-1"):
        with pytest.raises(ValueError):
            optional_int(bad)
    assert app.url_map.converters["int"] is IdIntegerConverter
    adapter = app.url_map.bind("localhost")
    assert adapter.match(f"/api/v1/receipts/{MAX_ID}")[1] == {"receipt_id": MAX_ID}


@pytest.mark.parametrize(
    "url",
    [
        "/stocktakes?warehouse_id={big}",
        "/warehouses?region={big}",
        "/rotations?warehouse_id={big}",
        "/account/tokens?user_id={big}",
        "/receipts?warehouse={big}",
        "/scraps?warehouse_id={big}",
    ],
)
def test_page_query_numbers_beyond_the_database_are_422(login_as, url):
    from reserve.auth.models import Role

    response = login_as(Role.ADMIN).get(url.format(big=2**64))
    assert response.status_code == 422
    assert "之间的整数" in response.get_data(as_text=True)
