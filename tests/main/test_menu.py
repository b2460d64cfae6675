"""The main menu is drawn once per process for each language and set of roles
(``reserve.templating.main_menu``): every role still sees its own entries, in its language,
and an enterprise user the link to their own enterprise, never another's."""

from __future__ import annotations

import re

import pytest
from markupsafe import Markup
from sqlalchemy import select

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


def test_id_url_builds_a_rows_url_as_url_for_would(app):
    with app.test_request_context("/", base_url="http://x/sub"):
        from flask import url_for

        from reserve.templating import id_url, static_url

        card = id_url("stock.stock_card", "material_id", warehouse=3)
        assert card(17) == url_for("stock.stock_card", material_id=17, warehouse=3)
        assert card(17).startswith("/sub/")
        detail = id_url("warehouses.warehouse_detail", "warehouse_id")
        assert [detail(i) for i in (1, 22)] == [
            url_for("warehouses.warehouse_detail", warehouse_id=i) for i in (1, 22)
        ]
        with pytest.raises(ValueError):
            detail("1 or 1=1")
        after = id_url("warehouses.warehouse_list", "after")  # an id in the query string
        assert after(5) == url_for("warehouses.warehouse_list", after=5)
        assert static_url("js/app.js") == url_for("static", filename="js/app.js")
    with app.test_request_context("/", base_url="http://x/other"):
        assert static_url("js/app.js") == "/other/static/js/app.js"  # per script root


def test_a_list_pages_links_are_the_routes(app, db, login_as, make_warehouse):
    warehouse = make_warehouse()
    client = login_as(Role.ADMIN)
    html = client.get("/warehouses").get_data(as_text=True)
    assert f'href="/warehouses/{warehouse.id}"' in html
    detail = client.get(f"/warehouses/{warehouse.id}").get_data(as_text=True)
    with app.test_request_context("/"):
        from flask import url_for

        from reserve.warehouses.models import Location

        locations = db.scalars(select(Location).where(Location.warehouse_id == warehouse.id))
        for location in locations:
            assert (
                f'href="{url_for("warehouses.location_edit", location_id=location.id)}"' in detail
            )
