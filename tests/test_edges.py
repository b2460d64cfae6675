"""The pages' edge is written once (``reserve.errors.run_and_redirect`` / ``run_form``): no view
catches a domain error by hand (a source scan, like the ledger's), and the helper does what
every view relies on — one transaction, a translated flash, a redirect or the form again with
the error on its field, and the 403/404 pages for the page's own object."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import get_flashed_messages
from flask import session as web_session
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import FieldList, Form, FormField, IntegerField, StringField

from reserve.auth.models import Role
from reserve.errors import (
    Conflict,
    Forbidden,
    NotFound,
    ReserveError,
    ValidationError,
    run_and_redirect,
    run_form,
)
from reserve.warehouses.models import Region

PACKAGE = Path(__file__).resolve().parents[1] / "reserve"
# A view may catch an error that is not the domain's, where no service is called: the health
# check answers 503 when the database is down.
ALLOWED = {("main/views.py", "healthz")}


def _domain_error_names() -> set[str]:
    """ReserveError, every subclass of it the app defines, and what is wider than it."""
    import reserve.auth.service  # noqa: F401  (LoginRefused and the like)

    names, todo = set(), [ReserveError]
    while todo:
        cls = todo.pop()
        names.add(cls.__name__)
        todo.extend(cls.__subclasses__())
    return names | {"Exception", "BaseException"}


def _caught(handler: ast.ExceptHandler) -> list[str]:
    if handler.type is None:
        return ["<bare except>"]
    types = handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
    names = []
    for node in types:
        if isinstance(node, ast.Attribute):
            names.append(node.attr)
        elif isinstance(node, ast.Name):
            names.append(node.id)
    return names


def hand_caught_domain_errors(source: str, filename: str = "views.py") -> list[str]:
    """Every ``except`` in ``source`` that catches a domain error, as 'file:line function: Name'."""
    domain = _domain_error_names()
    found = []
    tree = ast.parse(source)
    for function in ast.walk(tree):
        if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        for node in ast.walk(function):
            if isinstance(node, ast.ExceptHandler):
                for name in _caught(node):
                    if (name in domain or name == "<bare except>") and (
                        filename,
                        function.name,
                    ) not in ALLOWED:
                        found.append(f"{filename}:{node.lineno} {function.name}: {name}")
    return sorted(set(found))


def test_no_view_catches_a_domain_error_by_hand(app):
    views = sorted(PACKAGE.rglob("views.py"))
    assert len(views) >= 9  # the scan really reads the features' views
    found = []
    for path in views:
        found += hand_caught_domain_errors(
            path.read_text(encoding="utf-8"), str(path.relative_to(PACKAGE))
        )
    assert found == [], "use reserve.errors.run_and_redirect / run_form instead:\n" + "\n".join(
        found
    )


@pytest.mark.parametrize(
    "handler, caught",
    [
        ("except ReserveError as error:\n        pass", "ReserveError"),
        ("except Conflict:\n        pass", "Conflict"),
        ("except (ValueError, errors.NotFound):\n        pass", "NotFound"),
        ("except service.LoginRefused:\n        pass", "LoginRefused"),
        ("except InsufficientStock:\n        pass", "InsufficientStock"),
        ("except Exception:\n        pass", "Exception"),
        ("except:\n        pass", "<bare except>"),
    ],
)
def test_the_scan_catches_each_way_of_writing_it(app, handler, caught):
    source = f"def view():\n    try:\n        work()\n    {handler}\n"
    assert hand_caught_domain_errors(source) == [f"views.py:4 view: {caught}"]
    assert hand_caught_domain_errors(source.replace("view", "healthz"), "main/views.py") == []


def test_the_scan_leaves_other_errors_alone(app):
    source = "def view():\n    try:\n        int(x)\n    except ValueError:\n        pass\n"
    assert hand_caught_domain_errors(source) == []


# The helper itself ----------------------------------------------------------------------------


def _regions(db) -> int:
    return db.scalar(sa.select(sa.func.count()).select_from(Region).where(Region.code == "379901"))


def _add_region(session, *, fail: ReserveError | None = None):
    region = Region(code="379901", name="测试区", level="county")
    session.add(region)
    session.flush()
    if fail is not None:
        raise fail
    return region


def test_success_commits_flashes_and_redirects(app, db):
    with app.test_request_context("/"):
        response = run_and_redirect(
            lambda session: _add_region(session),
            success=lambda region: f"created {region.code}",
            to=lambda region: f"/regions/{region.id}",
            back="/regions",
        )
        assert response.status_code == 302 and response.location.startswith("/regions/")
        assert get_flashed_messages(with_categories=True) == [("success", "created 379901")]
    assert _regions(db) == 1


def test_a_domain_error_rolls_back_flashes_in_the_readers_language_and_goes_back(app, db):
    message = _l("This conflicts with existing data.")
    for lang, expected in (("en", "This conflicts with existing data."), ("zh", None)):
        with app.test_request_context("/"):
            web_session["lang"] = lang
            response = run_and_redirect(
                lambda session: _add_region(session, fail=Conflict(message)),
                success="never",
                to="/done",
                back="/form",
            )
            assert response.status_code == 302 and response.location == "/form"
            flashed = get_flashed_messages(with_categories=True)
            assert len(flashed) == 1 and flashed[0][0] == "danger"
            if expected:
                assert flashed[0][1] == expected
            else:  # the Chinese catalogue translates it
                assert flashed[0][1] != "This conflicts with existing data."
                assert any("\u4e00" <= ch <= "\u9fff" for ch in flashed[0][1])
    assert _regions(db) == 0


@pytest.mark.parametrize("error", [Forbidden(), NotFound(), Forbidden(_l("No."))])
def test_forbidden_and_not_found_of_the_page_become_the_error_pages(app, db, error):
    with app.test_request_context("/"):
        with pytest.raises(type(error)):
            run_and_redirect(
                lambda session: _add_region(session, fail=error), success="never", to="/done"
            )
        assert get_flashed_messages() == []
    assert _regions(db) == 0


def test_a_not_found_about_what_was_typed_is_shown_not_a_404(app, db):
    with app.test_request_context("/"):
        response = run_and_redirect(
            lambda session: _add_region(
                session, fail=NotFound(_l("No such batch."), field="batch_no")
            ),
            success="never",
            to="/sheet",
        )
        assert response.location == "/sheet"
        assert get_flashed_messages(with_categories=True) == [
            ("danger", "没有这个批次。")
        ]  # zh first
    assert _regions(db) == 0


def test_to_that_depends_on_the_result_needs_a_way_back(app, db):
    with app.test_request_context("/"), pytest.raises(TypeError, match="back="):
        run_and_redirect(lambda session: None, success=None, to=lambda result: "/x")


class _Line(Form):
    qty = IntegerField("Quantity")


class _Form(FlaskForm):
    class Meta:
        csrf = False

    name = StringField("Name")
    lines = FieldList(FormField(_Line), min_entries=3)


@pytest.mark.parametrize(
    "error, where",
    [
        (ValidationError("bad name", field="name"), "name"),
        (ValidationError("Line 2: bad", field="lines-1-qty"), 1),
        (ValidationError("Line 3: bad", field="qty", line=3), 2),
    ],
)
def test_run_form_puts_the_error_on_its_field_and_returns_none(app, db, error, where):
    with app.test_request_context("/", method="POST", data={"name": "x"}):
        form = _Form()
        assert form.validate()
        assert (
            run_form(form, lambda session: _add_region(session, fail=error), success="-", to="/")
            is None
        )
        if where == "name":
            assert form.name.errors == [error.message]
        else:
            assert form.lines.entries[where].form.qty.errors == [error.message]
            others = [e for i, e in enumerate(form.lines.entries) if i != where]
            assert all(not e.form.qty.errors for e in others)
        assert get_flashed_messages() == [error.message]
    assert _regions(db) == 0


def test_run_form_leaves_the_form_alone_when_the_field_is_unknown(app, db):
    with app.test_request_context("/", method="POST", data={}):
        form = _Form()
        error = ValidationError("odd", field="no_such_field")
        assert (
            run_form(form, lambda session: _add_region(session, fail=error), success="-", to="/")
            is None
        )
        assert not form.name.errors and get_flashed_messages() == ["odd"]


def test_on_error_may_replace_the_error_shown(app, db):
    with app.test_request_context("/"):
        run_and_redirect(
            lambda session: _add_region(session, fail=Conflict("first")),
            success="never",
            to="/x",
            on_error=lambda error: Conflict(f"{error.message}, then second"),
        )
        assert get_flashed_messages() == ["first, then second"]


# Through real pages ---------------------------------------------------------------------------


def test_a_service_error_is_shown_on_its_field_of_the_page(login_as, make_category, make_material):
    from tests.catalog.test_views import _material_form

    admin = login_as(Role.ADMIN)
    admin.get("/lang/en")
    category = make_category("1010101")
    make_material(code="1010101009", category=category)
    form = _material_form(category.id, code="1010101009")
    response = admin.post("/catalog/materials/new", data=form)
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "already exists" in html
    code_input = re.search(r'<input[^>]*name="code"[^>]*>', html).group(0)
    assert "is-invalid" in code_input and 'value="1010101009"' in code_input  # typed stays
    assert html.count("is-invalid") == 1
