"""The Chinese catalogue speaks the glossary (docs/glossary.md): each checked term's English
forms, wherever a msgid uses them, come out as the one Chinese term, and the variants the
glossary rules out appear in no translation."""

import re
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[1]


def checked_terms() -> list[tuple[str, list[str], list[str]]]:
    """(Chinese term, English forms, banned variants) from the glossary's first table."""
    text = (ROOT / "docs" / "glossary.md").read_text(encoding="utf-8")
    section = text.split("## 统一用语", 1)[1].split("\n## ", 1)[0]
    terms = []
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 4 or cells[0] in ("中文", "") or set(cells[0]) <= {"-"}:
            continue
        chinese, english, _meaning, banned = cells
        banned_words = [re.sub(r"（.*?）", "", b).strip() for b in re.split(r"[、,]", banned)]
        terms.append(
            (chinese, [e.strip() for e in english.split(" / ")], [b for b in banned_words if b])
        )
    return terms


def catalogue() -> list[tuple[str, str]]:
    path = ROOT / "reserve" / "translations" / "zh" / "LC_MESSAGES" / "messages.po"
    with open(path, "rb") as handle:
        messages = read_po(handle)
    pairs = []
    for m in messages:
        if not m.id:
            continue
        ids = m.id if isinstance(m.id, tuple) else (m.id,)
        strings = m.string if isinstance(m.string, tuple) else (m.string,)
        pairs.append((" ".join(ids), " ".join(s or "" for s in strings)))
    return pairs


TERMS = checked_terms()


def test_the_glossary_table_is_read():
    chinese = {t[0] for t in TERMS}
    assert {"过账", "仓库保管员", "领导", "范围", "查询"} <= chinese
    assert dict((t[0], t[2]) for t in TERMS)["过账"] == ["记账"]


@pytest.mark.parametrize("chinese, english, banned", TERMS, ids=[t[0] for t in TERMS])
def test_the_catalogue_uses_the_term(chinese, english, banned):
    pattern = re.compile(r"\b(?:" + "|".join(map(re.escape, english)) + r")\b", re.IGNORECASE)
    wrong = [
        f"{msgid!r} → {msgstr!r}"
        for msgid, msgstr in catalogue()
        if pattern.search(msgid) and chinese not in msgstr
    ]
    assert not wrong, f"these translations should say {chinese}:\n" + "\n".join(wrong)
    for variant in banned:
        used = [
            f"{msgid!r} → {msgstr!r}"
            for msgid, msgstr in catalogue()
            # a variant inside the term itself (保管员 in 仓库保管员) is the term
            if variant in (msgstr.replace(chinese, "") if variant in chinese else msgstr)
        ]
        assert not used, f"{variant} is not used (say {chinese}):\n" + "\n".join(used)
