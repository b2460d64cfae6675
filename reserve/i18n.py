"""Language choice: Chinese unless the reader picked English (kept in the session); API callers
choose with Accept-Language."""

from flask import current_app, has_request_context, request, session


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
