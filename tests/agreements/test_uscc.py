"""统一社会信用代码: codes whose check characters are computed here by hand from GB 32100-2015's
weights (not by python-stdnum), accepted in lower case, with spaces and in full width; wrong
ones refused with their reason."""

import pytest

from reserve.agreements.service import normalise_uscc
from reserve.errors import ValidationError
from tests.agreements.conftest import CHARSET, WEIGHTS, gb32100_check


def test_the_hand_computation_on_a_worked_example():
    # 91350100M000100Y4: Σ value × weight = 9·1 + 1·3 + 3·9 + 5·27 + 0·19 + 1·26 + 0·16 + 0·17
    # + M(21)·20 + 0·29 + 0·25 + 0·13 + 1·8 + 0·24 + 0·10 + Y(30)·30 + 4·28 = 1640;
    # 1640 mod 31 = 28; 31 − 28 = 3.
    body = "91350100M000100Y4"
    assert sum(CHARSET.index(c) * w for c, w in zip(body, WEIGHTS, strict=True)) == 1640
    assert gb32100_check(body) == "3"
    assert CHARSET.index("M") == 21 and CHARSET.index("Y") == 30


@pytest.mark.parametrize(
    "body",
    [
        "91350100M000100Y4",
        "91370100MA3C4PYX8",
        "913701007262741W0",
        "12100000400010398",  # a public institution (事业单位): 1 and 2
        "51110000500000000",  # a social organisation
        "92370102MA3AAAAAA",  # an individual business (个体工商户)
    ],
)
def test_a_code_with_its_hand_computed_check_character_is_valid(body):
    good = body + gb32100_check(body)
    assert normalise_uscc(good) == good


def test_lower_case_spaces_dashes_and_full_width_are_read_as_typed_on_paper():
    good = "91350100M000100Y4" + gb32100_check("91350100M000100Y4")
    assert normalise_uscc(good.lower()) == good
    assert normalise_uscc(f" {good[:8]} {good[8:12]}-{good[12:]} ") == good
    full_width = "".join(chr(ord(c) + 0xFEE0) for c in good.lower())  # ｍ, ０ …
    assert normalise_uscc(full_width) == good
    assert normalise_uscc(good[:9] + "\u3000" + good[9:]) == good  # the ideographic space


def _wrong_check(body: str) -> str:
    right = gb32100_check(body)
    return body + next(c for c in CHARSET if c != right)


@pytest.mark.parametrize(
    "value, words",
    [
        (_wrong_check("91350100M000100Y4"), "The check character is wrong"),
        (_wrong_check("91370100MA3C4PYX8"), "The check character is wrong"),
        (_wrong_check("91370100MA3C4PYX8").lower(), "The check character is wrong"),
        ("91350100M000100Y4", "has 18 characters; this one has 17"),
        ("91350100M000100Y43X", "has 18 characters; this one has 19"),
        ("9135010OM000100Y43", "The first 8 characters"),  # a letter O among the 8 digits
        ("", "Give the unified social credit code"),
    ],
)
def test_a_wrong_code_is_refused_with_its_reason(value, words):
    with pytest.raises(ValidationError) as error:
        normalise_uscc(value)
    assert words in str(error.value.message) and error.value.field == "uscc"
