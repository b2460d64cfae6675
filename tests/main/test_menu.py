"""The main menu is drawn once per process for each language and set of roles
(``reserve.templating.main_menu``): every role still sees its own entries, in its language,
and an enterprise user the link to their own enterprise, never another's."""

from __future__ import annotations

import re

import pytest
from markupsafe import Markup

from reserve.auth.models import Role
from reserve.templating import options

ENTRIES = {  # a link each role sees in its menu, and one it must not
    Role.ADMIN: ("/admin/audit", None),
    Role.KEEPER: ("/stock/moves/new", "/admin/audit"),
    Role.DISPATCHER: ("/agreements", "/stock/moves/new"),
    Role.APPROVER: ("/enterprises", "/admin/audit"),
    Role.VIEWER: ("/stock", "/stock/moves/new"),
    Role.ENTERPRISE: ("/agreements", "/warehouses"),
}


def _menu(html: str) -> str:
    match = re.search(
        r'<ul class="navbar-nav me-auto">.*?</ul>\s*<ul class="navbar-nav ms-auto">', html, re.S
    )
    assert match, html[:2000]
    return match.group(0)


@pytest.mark.parametrize("role", list(ENTRIES))
def test_each_role_sees_its_menu_twice_the_same(login_as, role):
    client = login_as(role)
    first = _menu(client.get("/").get_data(as_text=True))
    again = _menu(client.get("/").get_data(as_text=True))
    assert first == again
    shown, hidden = ENTRIES[role]
    assert f'href="{shown}"' in first
    if hidden:
        assert f'href="{hidden}"' not in first


def test_the_menu_follows_the_language(login_as):
    client = login_as(Role.KEEPER)
    assert ">库存<" in _menu(client.get("/").get_data(as_text=True))
    client.get("/lang/en")
    english = _menu(client.get("/").get_data(as_text=True))
    assert ">Stock<" in english and ">库存<" not in english


def test_an_enterprise_user_is_linked_to_their_own_enterprise(login_as, make_enterprise):
    one = login_as(Role.ENTERPRISE, enterprise=make_enterprise())
    other = make_enterprise(name="济南另一食品有限公司", uscc="91370100MA3C4PYX9X")
    two = login_as(Role.ENTERPRISE, enterprise=other)
    mine = _menu(one.get("/").get_data(as_text=True))
    theirs = _menu(two.get("/").get_data(as_text=True))
    assert f'href="/enterprises/{one.user.enterprise_id}"' in mine
    assert f'href="/enterprises/{other.id}"' in theirs
    assert f'href="/enterprises/{other.id}"' not in mine


def test_options_escape_and_mark_the_chosen_one():
    html = options([(1, "甲 <库>"), ("2", 'B "x"')], "2")
    assert isinstance(html, Markup)
    assert html == (
        '<option value="1">甲 &lt;库&gt;</option><option value="2" selected>B &#34;x&#34;</option>'
    )
    assert "selected" not in options([(1, "a")], None)
