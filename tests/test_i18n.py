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
