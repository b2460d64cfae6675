"""标签码: the short code printed on a label and held by its QR (``<PUBLIC_BASE_URL>/s/<code>``).

A code is the label's id, a keyed MAC of that id, and one check character, written in an
alphabet of 31 symbols without look-alikes (no 0/O, no 1/I/L)::

    <id: 4+ symbols, base 31, big-endian> <MAC: 7 symbols> <check: 1 symbol>

- The **MAC** is HMAC-SHA256 of the id under a key derived from ``SECRET_KEY`` (``label_key``),
  cut to 7 symbols (31⁷ ≈ 2.75·10¹⁰, about 34.7 bits): a forged code is refused without a
  database hit, and one made under another key is refused too.
- The **check character** is the weighted sum ``Σ (i+1)·v_i mod 31`` of the symbols before it.
  31 is prime and the weights are distinct and below 31, so *every* change of one character
  and *every* transposition of two different neighbours changes the sum: a mistyped code is
  refused always, not with probability 1 − 31⁻⁷.

Ids up to 31⁴ − 1 (923,520) give 12 symbols; the 16-symbol limit (a QR of version ≤ 3 with
the base URL) holds for ids below 31⁸ (8.5·10¹¹). Flask-free: the CLI, tests and the bench use it
directly."""

from __future__ import annotations

import hashlib
import hmac
import re

from reserve.auth.keys import derive_from_secret

ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"  # 31 symbols: no 0/O, no 1/I/L
BASE = len(ALPHABET)
_VALUE = {symbol: value for value, symbol in enumerate(ALPHABET)}
ID_MIN_SYMBOLS = 4
MAC_SYMBOLS = 7
MAX_CODE = 16
MIN_CODE = ID_MIN_SYMBOLS + MAC_SYMBOLS + 1
MAX_ID = BASE ** (MAX_CODE - MAC_SYMBOLS - 1) - 1
MAX_TEXT = 300  # longer than any URL a label holds: refused before any other work
KEY_PURPOSE = "label-mac"

_URL_PATH = re.compile(r"/s/([^/?#]*)(?:[?#].*)?$", re.IGNORECASE)
_SEPARATORS = re.compile(r"[\s\-\u2010-\u2015\u00ad\u3000]+")  # spaces, hyphens, dashes


class BadCode(ValueError):
    """A code refused before any lookup: ``reason`` is ``"malformed"`` (not a label code at
    all) or ``"mac"`` (the shape of a code, but a character is wrong or it is forged)."""

    def __init__(self, reason: str, text: str = ""):
        if reason not in ("malformed", "mac"):
            raise ValueError(f"unknown reason {reason!r}")
        self.reason = reason
        self.text = text[:40]
        super().__init__(f"label code refused ({reason})")


def label_key(secret_key: str) -> bytes:
    """The labels' MAC key, derived from ``SECRET_KEY`` (HKDF-SHA256, purpose ``label-mac``):
    the same bytes as ``reserve.auth.keys.derive_key(app, "label-mac")``."""
    if not secret_key:
        raise ValueError("label_key needs the application's SECRET_KEY")
    return derive_from_secret(secret_key, KEY_PURPOSE)


def _symbols(number: int, width: int) -> str:
    out = []
    while number:
        number, digit = divmod(number, BASE)
        out.append(ALPHABET[digit])
    return "".join(reversed(out)).rjust(width, ALPHABET[0])


def _mac(label_id: int, key: bytes) -> str:
    digest = hmac.new(key, b"reserve-label:" + label_id.to_bytes(8, "big"), hashlib.sha256)
    return _symbols(int.from_bytes(digest.digest()[:8], "big") % BASE**MAC_SYMBOLS, MAC_SYMBOLS)


def _check(body: str) -> str:
    return ALPHABET[sum((i + 1) * _VALUE[s] for i, s in enumerate(body)) % BASE]


def make_code(label_id: int, *, key: bytes) -> str:
    """The canonical code of a label: upper case, no separators, at most 16 symbols."""
    if isinstance(label_id, bool) or not isinstance(label_id, int) or not 1 <= label_id <= MAX_ID:
        raise ValueError(f"a label id is a whole number from 1 to {MAX_ID}")
    body = _symbols(label_id, ID_MIN_SYMBOLS) + _mac(label_id, key)
    return body + _check(body)


def canonical(text: str) -> str:
    """What a scanner, a camera or a person gave, as a bare code: the part after ``/s/`` of a
    URL, without spaces and hyphens, upper case. Raises BadCode("malformed") for anything that
    cannot be a code (empty, too long, a character outside the alphabet)."""
    if not isinstance(text, str) or len(text) > MAX_TEXT:
        raise BadCode("malformed", text if isinstance(text, str) else "")
    stripped = text.strip()
    found = _URL_PATH.search(stripped)
    if found:
        stripped = found.group(1)
    code = _SEPARATORS.sub("", stripped).upper()
    if not MIN_CODE <= len(code) <= MAX_CODE or any(s not in _VALUE for s in code):
        raise BadCode("malformed", text)
    return code


def parse_code(text: str, *, key: bytes) -> int:
    """The label id a code stands for, checked without any database: accepts lower case,
    spaces, hyphens and the whole label URL (``…/s/<code>``); raises BadCode."""
    code = canonical(text)
    body, check = code[:-1], code[-1]
    id_part, mac = body[:-MAC_SYMBOLS], body[-MAC_SYMBOLS:]
    if check != _check(body):
        raise BadCode("mac", text)
    label_id = 0
    for symbol in id_part:
        label_id = label_id * BASE + _VALUE[symbol]
    if label_id < 1 or id_part != _symbols(label_id, ID_MIN_SYMBOLS):
        raise BadCode("mac", text)  # not the canonical spelling of an id: never issued
    if not hmac.compare_digest(mac, _mac(label_id, key)):
        raise BadCode("mac", text)
    return label_id


def grouped(code: str) -> str:
    """The code in groups of four for reading aloud and typing: ``7KQ2-M9XD-4T``."""
    bare = _SEPARATORS.sub("", code).upper()
    return "-".join(bare[i : i + 4] for i in range(0, len(bare), 4))


def label_url(base_url: str, code: str) -> str:
    """What a label's QR holds: ``<base_url>/s/<code>``. A base URL of scheme and host only is
    written in capitals (``HTTP://HOST:PORT/S/CODE``, a route too): a QR then encodes it in its
    alphanumeric mode and stays small (version ≤ 3 for a host of up to about 30 characters)."""
    base = base_url.rstrip("/")
    _scheme, _sep, rest = base.partition("://")
    if rest and "/" not in rest and base.isascii():
        return f"{base.upper()}/S/{code}"
    return f"{base}/s/{code}"
