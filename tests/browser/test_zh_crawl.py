"""A zh_CN crawl: every demo role signs in, visits every GET page it can reach (the links from
the landing page and menus, followed; then every registered GET route, filled with ids met on
the way), and no visible text is English outside the allowlist (codes, units, proper names,
abbreviations such as PDF, Excel, API).

The failure lists ``page → word (the text around it)`` for each page, as one report: add the
msgid's translation, or wrap a bare string in ``_()``. It runs on a copy of the demo city with
Flask's test client (no browser: it reads the HTML the server sends, text and the attributes a
reader sees)."""

from __future__ import annotations

import re
from collections import defaultdict
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import pytest

from reserve import create_app
from reserve.demo import DEMO_USERS

pytestmark = pytest.mark.slow

DEMO_PASSWORD = "reserve-demo"
# Words a Chinese page may show: abbreviations and file formats, units, the product's and
# people's names (the demo logins are user names), and the language switch's own label.
ALLOWED = {
    "PDF", "Excel", "API", "CSV", "ID", "IP", "URL", "QR", "JSON", "UUID", "HTTPS", "Bearer",
    "GB", "GB/T", "kg", "km", "m", "mm", "cm", "m²", "m³", "L", "ml", "t", "Reserve", "English",
    "true", "false", "rsv", "curl", "OpenAPI", "Chromium", "Asia", "Shanghai", "Authorization",
    "Ku",  # Ku 波段 (a satellite band), in a material's spec
    *(username for username, _role, _description in DEMO_USERS),
    "system", "cli", "demo",  # the names the system itself acts under in the audit log
}  # fmt: skip
WORD = re.compile(r"[A-Za-z][A-Za-z'’]*[a-z][A-Za-z'’]*")  # a word with a lower-case letter
VISIBLE_ATTRIBUTES = ("placeholder", "title", "alt", "aria-label")
SKIP_PATHS = ("/logout", "/lang/", "/static/", "/api/", "/healthz")
PER_PATTERN = 2  # pages visited for each URL pattern (``/receipts/<id>``): the rest look alike


class VisibleText(HTMLParser):
    """The text a reader sees, and the links on the page."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.text: list[str] = []
        self.links: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag in ("script", "style", "template") or "hidden" in attrs:
            self._hidden += 1 if tag in ("script", "style", "template") else 0
        if tag == "a" and attrs.get("href"):
            self.links.append(attrs["href"])
        for name in VISIBLE_ATTRIBUTES:
            if attrs.get(name):
                self.text.append(attrs[name])
        if tag == "input" and attrs.get("type") in ("submit", "button") and attrs.get("value"):
            self.text.append(attrs["value"])

    def handle_endtag(self, tag):
        if tag in ("script", "style", "template") and self._hidden:
            self._hidden -= 1

    def handle_data(self, data):
        if not self._hidden and data.strip():
            self.text.append(data.strip())


def english_words(texts: list[str], allowed: set[str]) -> list[tuple[str, str]]:
    found = []
    for text in texts:
        for match in WORD.finditer(text):
            word = match.group().strip("'’")
            if word in allowed or (match.start() and text[match.start() - 1].isdigit()):
                continue  # allowed, or a unit after its number (20000mAh, 30min)
            start = max(0, match.start() - 20)
            found.append((word, text[start : match.end() + 20].replace("\n", " ")))
    return found


def pattern_of(path: str) -> str:
    return re.sub(r"/\d+", "/<id>", path)


def crawl(client, queue: list[str], allowed: set[str], visited: set[str], seen_patterns):
    """The problems by page; ``visited`` and ``seen_patterns`` (the paths seen for each URL
    pattern) are kept between calls."""
    problems: dict[str, list] = {}
    while queue:
        path = queue.pop(0)
        parts = urlsplit(path)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        if path in visited or parts.path.startswith(SKIP_PATHS):
            continue
        pattern = pattern_of(parts.path) + ("?" if parts.query else "")
        if len(seen_patterns[pattern]) >= PER_PATTERN:
            continue
        visited.add(path)
        seen_patterns[pattern].append(parts.path)
        response = client.get(path)
        if response.status_code in (301, 302, 303):
            queue.append(urlsplit(response.headers["Location"]).path)
            continue
        if response.status_code != 200 or response.mimetype != "text/html":
            continue
        page = VisibleText()
        page.feed(response.get_data(as_text=True))
        words = english_words(page.text, allowed)
        if words:
            problems[path] = words
        for href in page.links:
            target = urlsplit(urljoin(path, href))
            if target.netloc or target.scheme in ("mailto", "tel", "javascript"):
                continue
            if target.path.startswith("/") and not target.path.startswith(SKIP_PATHS):
                queue.append(target.path + (f"?{target.query}" if target.query else ""))
    return problems


def route_paths(app, seen_patterns: dict[str, list[str]]) -> list[str]:
    """Every GET route without arguments, and each one with ids as met during the crawl."""
    paths = []
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.rule.startswith(SKIP_PATHS):
            continue
        if not rule.arguments:
            paths.append(rule.rule)
            continue
        if all(rule._converters[a].__class__.__name__.endswith("IntegerConverter") for a in
               rule.arguments):  # fmt: skip
            pattern = re.sub(r"<[^>]+>", "<id>", rule.rule)
            paths.extend(seen_patterns.get(pattern, [])[:1])
    return paths


@pytest.fixture
def demo_app(demo_copy):
    return create_app({"SQLALCHEMY_DATABASE_URI": demo_copy, "WTF_CSRF_ENABLED": False})


def demo_codes(app) -> set[str]:
    """The demo's pinyin initials (shown beside a material's name): codes, not English."""
    from sqlalchemy import select

    from reserve.catalog.models import Material
    from reserve.extensions import db

    with app.app_context():
        return set(db.session.scalars(select(Material.pinyin_initials)))


def test_every_page_is_chinese_for_every_role(demo_app):
    allowed = ALLOWED | demo_codes(demo_app) | {"zp"}  # zp = 帐篷, the search box's example
    report = []
    for username, _role, _description in DEMO_USERS:
        client = demo_app.test_client()
        response = client.post("/login", data={"username": username, "password": DEMO_PASSWORD})
        assert response.status_code == 302, f"{username} cannot sign in"
        visited: set[str] = set()
        seen: dict[str, list[str]] = defaultdict(list)
        problems = crawl(client, ["/"], allowed, visited, seen)
        problems.update(crawl(client, route_paths(demo_app, seen), allowed, visited, seen))
        assert len(seen) > 3, f"{username}: the crawl reached only {sorted(seen)}"
        for path, words in sorted(problems.items()):
            listed = "; ".join(f"{w} ({context!r})" for w, context in words[:8])
            report.append(f"{username} {path} → {listed}")
    assert not report, "English on Chinese pages:\n" + "\n".join(report)
