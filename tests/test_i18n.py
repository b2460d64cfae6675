"""The Chinese (folder ``zh``: Babel reads zh_CN as zh_Hans_CN and falls back to zh) and
English catalogues are complete: every msgid in the code and
templates is translated, with the same placeholders."""

import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[1]
PLACEHOLDER = re.compile(r"%\(\w+\)s|%s|%d")


def _source_msgids() -> set[str]:
    method_map = [("reserve/**.py", "python"), ("reserve/templates/**.html", "jinja2")]
    ids = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(ROOT),
        method_map=method_map,
        keywords={"_": None, "_l": None, "gettext": None, "lazy_gettext": None, "ngettext": (1, 2)},
    ):
        for msgid in message if isinstance(message, tuple) else (message,):
            if msgid:
                ids.add(msgid)
    return ids


@pytest.fixture(scope="module")
def source_msgids():
    return _source_msgids()


@pytest.mark.parametrize("locale", ["zh", "en"])
def test_catalogue_is_complete(source_msgids, locale):
    path = ROOT / "reserve" / "translations" / locale / "LC_MESSAGES" / "messages.po"
    with open(path, "rb") as handle:
        catalogue = read_po(handle)
    translated = {m.id: m.string for m in catalogue if m.id and not m.fuzzy and m.string}
    missing = sorted(source_msgids - set(translated))
    assert not missing, f"{locale}: {len(missing)} untranslated, e.g. {missing[:10]}"
    for msgid, msgstr in translated.items():
        if msgid in source_msgids:
            assert sorted(PLACEHOLDER.findall(msgid)) == sorted(PLACEHOLDER.findall(msgstr)), msgid


def test_chinese_is_the_default(client):
    html = client.get("/login").get_data(as_text=True)
    assert '<html lang="zh-CN">' in html and "登录" in html


def _material_form(category_id, **changes):
    data = {
        "code": "1010100901",
        "name": "折叠床",
        "unit": "张",
        "category_id": str(category_id),
        "tracking": "batch",
        "near_expiry_days": "90",
        "is_active": "y",
    }
    data.update(changes)
    return data


def test_wtforms_messages_come_out_in_the_readers_language(login_as, make_category):
    """WTForms' own messages ("Not a valid integer value", "Number must be at least 0") are
    Chinese on a Chinese page and English on an English one."""
    admin = login_as("admin")
    category = make_category("1010100")
    bad = _material_form(category.id, shelf_life_days="abc", reference_price="-1")
    html = admin.post("/catalog/materials/new", data=bad).get_data(as_text=True)
    assert "不是有效的整数" in html and "数值不能小于 0" in html
    assert "Not a valid integer value" not in html and "Number must be at least" not in html
    admin.get("/lang/en")
    html = admin.post("/catalog/materials/new", data=bad).get_data(as_text=True)
    assert "Not a valid integer value" in html and "Number must be at least 0" in html


@pytest.mark.parametrize(
    "lang, expected", [("zh_CN", ["不是有效的整数", "数值不能小于 0"]), ("en", ["Not a valid"])]
)
def test_a_sub_form_speaks_the_readers_language_too(app, db, lang, expected):
    """A receipt line is a plain WTForms sub-form: it used to answer in English."""
    from werkzeug.datastructures import MultiDict

    from reserve.receipts.forms import ReceiptLineForm

    with app.test_request_context("/receipts/new", method="POST"):
        from flask import session

        session["lang"] = lang
        form = ReceiptLineForm(MultiDict({"qty": "abc", "unit_cost": "-1"}))
        form.validate()
        messages = " ".join(form.qty.errors + form.unit_cost.errors)
    for text in expected:
        assert text in messages, messages
