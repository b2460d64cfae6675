"""Domain errors and the one place each edge (pages, API, CLI) turns them into a response.

Services raise a ``ReserveError`` subclass with a stable ``code``; the message is a lazy
translation so it is rendered in the reader's language. The pages' edge is here too:
``run_and_redirect`` and ``run_form`` call a service in a transaction and turn its outcome into
a flash and a redirect (or the form again, the error on its field), so no view catches a
``ReserveError`` itself (tests/test_edges.py keeps it so)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import Flask, flash, jsonify, redirect, render_template, request
from flask_babel import LazyString
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from reserve.db import transaction

T = TypeVar("T")


class ReserveError(Exception):
    code = "error"
    status = 400
    shown_where_acted = False  # a 403/404 naming no field becomes the error page, unless this
    default_message = _l("The request could not be carried out.")

    def __init__(self, message: Any = None, *, field: str | None = None, **details: Any):
        self.message = message if message is not None else self.default_message
        self.field = field
        self.details = details
        super().__init__(str(self.message))

    def to_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"error": self.code, "message": str(self.message)}
        if self.field:
            body["field"] = self.field
        if self.details:
            body["details"] = self.details
        return body


class ValidationError(ReserveError):
    code = "invalid"
    status = 422
    default_message = _l("The data is not valid.")


class ValidationErrors(ValidationError):
    """Several errors found at once (every bad line of a document), each naming its own field:
    the message is their summary, ``errors`` the errors themselves (in the API's body too)."""

    SHOWN = 10  # the summary lists this many, then says how many more

    def __init__(self, errors: list[ReserveError]):
        self.errors = list(errors)
        super().__init__(LazyString(self._summary))

    def _summary(self) -> str:
        listed = "; ".join(str(e.message) for e in self.errors[: self.SHOWN])
        more = len(self.errors) - self.SHOWN
        if more > 0:
            listed = str(_l("%(listed)s; and %(n)s more", listed=listed, n=more))
        return str(_l("%(n)s errors: %(listed)s", n=len(self.errors), listed=listed))

    def to_dict(self) -> dict[str, Any]:
        body = super().to_dict()
        body["errors"] = [error.to_dict() for error in self.errors]
        return body


class NotFound(ReserveError):
    code = "not_found"
    status = 404
    default_message = _l("Not found.")


class Forbidden(ReserveError):
    code = "forbidden"
    status = 403
    default_message = _l("You do not have permission to do this.")


class SeparationOfDuties(Forbidden):
    """职责分离: a refusal of what the actor did to a document they may see (approving their
    own request, removing their own admin role). It names nothing they could not see, so a
    page shows its reason where they acted, instead of the generic 403 page."""

    code = "separation_of_duties"
    shown_where_acted = True


class Unauthorized(ReserveError):
    code = "unauthorized"
    status = 401
    default_message = _l("Authentication required.")


class Conflict(ReserveError):
    code = "conflict"
    status = 409
    default_message = _l("This conflicts with existing data.")


class IdempotencyKeyInUse(Conflict):
    code = "idempotency_in_progress"
    default_message = _l(
        "A request with this Idempotency-Key is still being processed; retry in a moment."
    )


class IdempotencyKeyReused(ReserveError):
    code = "idempotency_key_reused"
    status = 422
    default_message = _l(
        "This Idempotency-Key was already used for a different request; use a new key."
    )


class InsufficientStock(Conflict):
    code = "insufficient_stock"
    default_message = _l("Not enough stock available.")


class InvalidLabel(ReserveError):
    code = "invalid_label"
    default_message = _l("This label is not valid.")


def flash_error(error: ReserveError) -> None:
    """Show a domain error on the next page, in the reader's language."""
    flash(str(error.message), "danger")


# The pages' edge ------------------------------------------------------------------------------

Message = Any  # a translated str or a lazy string
Outcome = Callable[[T], Message] | Message | None
Target = Callable[[T], "str | Response"] | str


def _attempt(
    call: Callable[[Session], T], on_error: Callable[[ReserveError], ReserveError] | None
) -> tuple[bool, Any]:
    """Run ``call`` in one transaction. A domain error rolls it back and is flashed, unless it
    is about the page's own object (403/404 naming no field): that one becomes the 403/404 page
    through the error handler. An error naming a field is about what the user typed (an
    unknown batch number, say) and is shown on the page they typed it in."""
    try:
        with transaction() as session:
            return True, call(session)
    except ReserveError as error:
        if error.status in (403, 404) and not error.field and not error.shown_where_acted:
            raise
        if on_error is not None:
            error = on_error(error)
        flash_error(error)
        return False, error


def _succeeded(result: T, success: Outcome, to: Target) -> Response:
    message = success(result) if callable(success) else success
    if message:
        flash(str(message), "success")
    target = to(result) if callable(to) else to
    return target if isinstance(target, Response) else redirect(target)


def run_and_redirect(
    call: Callable[[Session], T],
    *,
    success: Outcome,
    to: Target,
    back: str | None = None,
    on_error: Callable[[ReserveError], ReserveError] | None = None,
) -> Response:
    """A page action: ``call(session)`` inside ``transaction()``; on success flash ``success``
    (a message, or a function of the result) and redirect to ``to`` (a URL, or a function of
    the result giving a URL or a response); on a domain error roll back, flash its message
    and redirect to ``back`` (default: ``to``). Forbidden and NotFound give the 403/404 page.
    ``on_error`` may replace the error to show (after the rollback)."""
    if back is None and callable(to):
        raise TypeError("run_and_redirect: give back= when to= depends on the result")
    done, outcome = _attempt(call, on_error)
    if done:
        return _succeeded(outcome, success, to)
    return redirect(back if back is not None else to)


def run_form(
    form,
    call: Callable[[Session], T],
    *,
    success: Outcome,
    to: Target,
    on_error: Callable[[ReserveError], ReserveError] | None = None,
) -> Response | None:
    """A form page: as :func:`run_and_redirect`, but a domain error also marks the form field
    it names and returns None, so the view renders the form again with what was typed."""
    done, outcome = _attempt(call, on_error)
    if done:
        return _succeeded(outcome, success, to)
    show_on_form(form, outcome)
    return None


def show_on_form(form, error: ReserveError) -> None:
    """Put a service error on the WTForms field it names: ``error.field`` is a field's name
    (``supplier``, or ``lines-2-qty`` in a list of lines, as WTForms names them), or a line's
    field (``qty``) with the line number (from 1) in ``error.details["line"]``. Several errors
    (``ValidationErrors``) go each on its own field."""
    for each in getattr(error, "errors", None) or ():
        show_on_form(form, each)
    name = error.field
    line = error.details.get("line")
    if name and isinstance(line, int) and not name.startswith("lines-") and "lines" in form:
        name = f"lines-{line - 1}-{name}"
    field = _find_field(form, name) if name else None
    if field is not None:
        field.errors = [*field.errors, str(error.message)]


def _find_field(fields, name: str):
    """The field called ``name``; in a list of lines by position (``lines-2-qty`` is the third
    row shown, whatever its row was named when it was posted)."""
    for field in fields:
        if field.name == name:
            return field
        if not name.startswith(field.name + "-"):
            continue
        if field.type == "FieldList":
            index, _sep, rest = name[len(field.name) + 1 :].partition("-")
            if index.isdigit() and int(index) < len(field.entries):
                entry = field.entries[int(index)]
                return _find_field(entry, f"{entry.name}-{rest}") if rest else entry
        elif field.type == "FormField":
            return _find_field(field, name)
    return None


def wants_json() -> bool:
    """The API, the health check, and a page's script that asked for JSON (a count saved
    without a reload): browsers navigating ask for HTML first."""
    if request.path.startswith("/api/") or request.path == "/healthz":
        return True
    return request.accept_mimetypes.best == "application/json"


HTTP_MESSAGES = {
    400: _l("The request was not understood."),
    401: _l("Authentication required."),
    403: _l("You do not have permission to open this page."),
    404: _l("The page you asked for does not exist."),
    405: _l("This action is not allowed here."),
    413: _l("The upload is too large."),
    500: _l("Something went wrong on our side. The error has been logged."),
}
HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "too_large",
    500: "server_error",
}


def _error_response(status: int, code: str, message: Any):
    if wants_json():
        return jsonify({"error": code, "message": str(message)}), status
    template = f"errors/{status}.html" if status in (403, 404, 500) else "errors/error.html"
    return render_template(template, status=status, message=message), status


def error_response(error: ReserveError):
    """A domain error's answer: JSON for the API and the pages' scripts, a page otherwise (for
    a handler of a narrower error that does something first, then answers as usual)."""
    if wants_json():
        return jsonify(error.to_dict()), error.status
    return _error_response(error.status, error.code, error.message)


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(ReserveError)
    def handle_reserve_error(error: ReserveError):
        return error_response(error)

    @app.errorhandler(HTTPException)
    def handle_http_error(error: HTTPException):
        status = error.code or 500
        message = HTTP_MESSAGES.get(status, error.description)
        if status == 400 and getattr(error, "description", None) and "CSRF" in error.description:
            message = _l("The form has expired. Please reload the page and try again.")
        return _error_response(status, HTTP_CODES.get(status, "http_error"), message)

    @app.errorhandler(Exception)
    def handle_unexpected(error: Exception):
        app.logger.exception("Unhandled error on %s", request.path)
        return _error_response(500, "server_error", HTTP_MESSAGES[500])
