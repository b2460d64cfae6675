"""Template filters and globals: local time, quantities with units, pagination links."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from decimal import Decimal

from flask import Flask, current_app, g, has_request_context, request, url_for
from flask_babel import format_datetime, get_locale
from flask_login import current_user
from markupsafe import Markup, escape

from reserve.auth.queries import full_names
from reserve.extensions import db
from reserve.stock.expiry import expiry_state


def local_time(value: datetime | None, fmt: str = "yyyy-MM-dd HH:mm") -> str:
    """A UTC time shown in Asia/Shanghai (the app's Babel time zone)."""
    if value is None:
        return ""
    return format_datetime(value, fmt)


def qty(value: int | None, unit: str | None = None) -> str:
    """A quantity with its unit: ``1,200 顶``."""
    if value is None:
        return ""
    text = f"{value:,}"
    return f"{text} {unit}" if unit else text


def decimal(value: Decimal | float | None, places: int = 2) -> str:
    if value is None:
        return ""
    return f"{Decimal(value):,.{places}f}"


def url_with(**changes) -> str:
    """The current page's URL with some query arguments changed (for sorting and paging)."""
    args = request.args.to_dict()
    for key, value in changes.items():
        if value is None:
            args.pop(key, None)
        else:
            args[key] = value
    return url_for(request.endpoint, **(request.view_args or {}), **args)


def options(choices, selected: object = None) -> Markup:
    """``<option>`` elements of (value, label) pairs, the one whose value reads as ``selected``
    marked: a filter's hundred categories or warehouses drawn in one join, not a template loop
    of a hundred iterations (values and labels escaped, as the template would)."""
    chosen = None if selected is None else str(selected)
    return Markup(
        "".join(
            f'<option value="{escape(value)}"'
            f"{' selected' if str(value) == chosen else ''}>{escape(label)}</option>"
            for value, label in choices
        )
    )


_ID_SENTINEL = 2_147_483_647  # an id no row has: url_for builds around it, once


def id_url(endpoint: str, key: str, **values) -> Callable[[object], str]:
    """``url_for(endpoint, key=<id>, **values)`` for every row of a page, built once: the URL
    around a placeholder id, then each row's id formatted into it (a page of 50 rows, 50 URL
    builds saved). Ids are integers (``<int:…>`` routes); anything else is refused."""
    head, found, tail = url_for(endpoint, **{key: _ID_SENTINEL}, **values).rpartition(
        str(_ID_SENTINEL)
    )
    if not found:
        raise ValueError(f"{endpoint} does not put {key} into its URL")
    return lambda row_id: f"{head}{int(row_id)}{tail}"


def static_url(filename: str) -> str:
    """``url_for('static', filename=…)``, built once per process for each (script root, file):
    base.html's eight stylesheets and scripts cost a dictionary lookup a page, not a URL build."""
    urls = current_app.extensions.setdefault("reserve.static_urls", {})
    key = (request.script_root if has_request_context() else "", filename)
    url = urls.get(key)
    if url is None:
        url = urls[key] = url_for("static", filename=filename)
    return url


def person(who) -> Markup:
    """A person by name, the login in a tooltip: ``<span title="keeper">赵保管</span>``.

    Takes a login (documents keep ``<verb>_by_name``, movements ``username``) or a user. The
    names are read once per request, in one statement, whatever the number of rows; a login
    with no user (the system, the demo loader) is shown as it is."""
    if who is None or who == "":
        return Markup("")
    username = getattr(who, "username", None)
    if username is not None:
        name = getattr(who, "full_name", None) or username
    else:
        username = str(who)
        name = _names().get(username, username)
    if name == username:
        return Markup('<span class="person">{}</span>').format(escape(username))
    return Markup('<span class="person" title="{}">{}</span>').format(username, name)


def _names() -> dict[str, str]:
    if not has_request_context():
        return full_names(db.session)
    if "person_names" not in g:
        g.person_names = full_names(db.session)
    return g.person_names


def main_menu() -> Markup:
    """The signed-in reader's main menu (``_menu.html``), drawn once per process for each
    language and set of roles and then reused: the same two dozen links and words on every
    page were a third of a list page's time over its queries. It depends on nothing else
    (an enterprise user's menu links to their enterprise, so theirs is drawn every time, not
    kept once per enterprise)."""
    roles = frozenset(current_user.roles)
    enterprise_id = current_user.enterprise_id if "enterprise" in roles else None
    key = (current_locale(), request.script_root, roles)
    menus = current_app.extensions.setdefault("reserve.menus", {})
    menu = None if enterprise_id else menus.get(key)
    if menu is None:
        template = current_app.jinja_env.get_template("_menu.html")
        menu = Markup(template.render(roles=roles, enterprise_id=enterprise_id))
        if not enterprise_id:
            menus[key] = menu
    return menu


def current_locale() -> str:
    """The configured language code ("zh_CN" or "en"); Babel itself says zh_Hans_CN."""
    locale = get_locale()
    return "zh_CN" if locale is not None and locale.language == "zh" else "en"


def register(app: Flask) -> None:
    app.add_template_filter(local_time, "local_time")
    app.add_template_filter(qty, "qty")
    app.add_template_filter(decimal, "decimal")
    app.add_template_filter(person, "person")
    app.add_template_global(person, "person")
    app.add_template_global(url_with, "url_with")
    app.add_template_global(options, "options")
    app.add_template_global(id_url, "id_url")
    app.add_template_global(static_url, "static_url")
    app.add_template_global(current_locale, "current_locale")
    app.add_template_global(main_menu, "main_menu")
    app.add_template_global(expiry_state, "expiry_state")
