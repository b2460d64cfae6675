"""Language choice: Chinese unless the reader picked English (kept in the session); API callers
choose with Accept-Language."""

from babel.support import NullTranslations
from flask import Flask, current_app, has_request_context, request, session
from flask_babel import get_translations


def select_locale() -> str:
    languages = current_app.config["LANGUAGES"]
    if not has_request_context():  # the CLI and background work speak the default language
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    if request.path.startswith("/api/"):
        return (
            request.accept_languages.best_match(languages)
            or current_app.config["BABEL_DEFAULT_LOCALE"]
        )
    chosen = session.get("lang")
    if chosen in languages:
        return chosen
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def request_translations() -> NullTranslations:
    """The reader's catalogue, found once a request and kept on the request (as Flask-Babel
    keeps the locale). Flask-Babel's own template callables look it up on every call (context,
    domain, locale, cache): 700 lookups, a third of a stock page's rendering time."""
    if not has_request_context():
        return get_translations()
    try:
        return request.reserve_translations
    except AttributeError:
        translations = request.reserve_translations = get_translations()
        return translations


def gettext(string: str, **variables) -> str:
    """Flask-Babel's ``gettext`` through the request's catalogue, for code that translates once
    a row (a page's cells); the same result, without the per-call lookups."""
    text = request_translations().ugettext(string)
    return text % variables if variables else text


def install_template_gettext(app: Flask) -> None:
    """Templates translate through ``request_translations`` (after ``babel.init_app``, which
    installs the per-call lookups this replaces)."""
    app.jinja_env.install_gettext_callables(
        gettext=lambda s: request_translations().ugettext(s),
        ngettext=lambda s, p, n: request_translations().ungettext(s, p, n),
        newstyle=True,
        pgettext=lambda c, s: request_translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: request_translations().unpgettext(c, s, p, n),
    )


def fill_english_catalogue(path: str = "reserve/translations/en/LC_MESSAGES/messages.po") -> int:
    """The msgids are English: the en catalogue translates each to itself (``make messages``)."""
    from babel.messages.pofile import read_po, write_po

    with open(path, "rb") as handle:
        catalogue = read_po(handle)
    filled = 0
    for message in catalogue:
        if message.id and not message.string:
            message.string = message.id
            filled += 1
    with open(path, "wb") as handle:
        write_po(handle, catalogue, omit_header=True, sort_output=True, no_location=True)
    return filled
