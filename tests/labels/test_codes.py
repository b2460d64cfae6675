"""The code scheme (reserve.labels.codes): short, in an alphabet without look-alikes, refused
on any single-character change or neighbour transposition, and bound to the key."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reserve.auth.keys import derive_key
from reserve.labels.codes import (
    ALPHABET,
    MAX_CODE,
    MAX_ID,
    BadCode,
    grouped,
    label_key,
    make_code,
    parse_code,
)

KEY = label_key("a-test-secret-key-of-enough-length-0123456789")
OTHER_KEY = label_key("another-secret-key-of-enough-length-9876543210")
IDS = st.integers(min_value=1, max_value=MAX_ID)
SMALL_IDS = st.integers(min_value=1, max_value=5_000_000)


def test_alphabet_has_no_look_alikes():
    assert not set("0O1IL") & set(ALPHABET)
    assert len(set(ALPHABET)) == len(ALPHABET) == 31


def test_label_key_is_the_apps_derived_key(app):
    assert label_key(app.config["SECRET_KEY"]) == derive_key(app, "label-mac")
    assert label_key("x" * 40) != label_key("y" * 40)


@given(IDS)
def test_a_code_reads_back_and_is_short(label_id):
    code = make_code(label_id, key=KEY)
    assert len(code) <= MAX_CODE and set(code) <= set(ALPHABET)
    assert parse_code(code, key=KEY) == label_id


def test_a_million_labels_keep_13_characters():
    assert len(make_code(1, key=KEY)) == 12
    assert len(make_code(1_000_000, key=KEY)) == 13


@given(SMALL_IDS)
def test_every_way_a_person_or_scanner_gives_it_is_accepted(label_id):
    code = make_code(label_id, key=KEY)
    for text in (
        code.lower(),
        grouped(code),
        " ".join(grouped(code).split("-")),
        f"  {code}\n",
        f"http://127.0.0.1:5000/s/{code}",
        f"HTTP://RESERVE.EXAMPLE.GOV.CN/S/{code}",
        f"https://reserve.example.gov.cn/app/s/{grouped(code)}?from=camera",
    ):
        assert parse_code(text, key=KEY) == label_id


@given(SMALL_IDS, st.data())
def test_every_single_character_change_is_refused(label_id, data):
    code = make_code(label_id, key=KEY)
    at = data.draw(st.integers(0, len(code) - 1))
    other = data.draw(st.sampled_from([s for s in ALPHABET if s != code[at]]))
    with pytest.raises(BadCode) as refused:
        parse_code(code[:at] + other + code[at + 1 :], key=KEY)
    assert refused.value.reason == "mac"


@pytest.mark.parametrize("label_id", [1, 2, 31, 999, 923_520, 1_000_000, 28_629_150, MAX_ID])
def test_every_single_character_change_of_these_codes_is_refused(label_id):
    code = make_code(label_id, key=KEY)
    for at in range(len(code)):
        for other in ALPHABET:
            if other != code[at]:
                with pytest.raises(BadCode):
                    parse_code(code[:at] + other + code[at + 1 :], key=KEY)


@given(SMALL_IDS, st.data())
def test_every_neighbour_transposition_is_refused(label_id, data):
    code = make_code(label_id, key=KEY)
    at = data.draw(st.integers(0, len(code) - 2))
    swapped = code[:at] + code[at + 1] + code[at] + code[at + 2 :]
    if swapped == code:
        return  # two equal neighbours: swapping them changes nothing
    with pytest.raises(BadCode):
        parse_code(swapped, key=KEY)


@given(SMALL_IDS)
def test_a_code_made_with_another_key_is_refused(label_id):
    with pytest.raises(BadCode) as refused:
        parse_code(make_code(label_id, key=OTHER_KEY), key=KEY)
    assert refused.value.reason == "mac"


@pytest.mark.parametrize(
    "text",
    ["", "   ", "2345", "X" * 10_000, "7KQ2-M9XD-4TOO", "ABCDEFGHJK01", "帐篷标签码是什么呢", None],
)
def test_what_is_not_a_code_is_malformed(text):
    with pytest.raises(BadCode) as refused:
        parse_code(text, key=KEY)
    assert refused.value.reason == "malformed"


def test_grouped_reads_in_fours():
    code = make_code(42, key=KEY)
    assert grouped(code) == f"{code[:4]}-{code[4:8]}-{code[8:]}"
    assert grouped("7kq2m9xd4t") == "7KQ2-M9XD-4T"


@pytest.mark.parametrize("bad", [0, -1, MAX_ID + 1, True, 1.0])
def test_no_code_for_an_impossible_id(bad):
    with pytest.raises(ValueError):
        make_code(bad, key=KEY)
