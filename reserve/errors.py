"""Domain errors and the one place each edge (pages, API, CLI) turns them into a response.

Services raise a ``ReserveError`` subclass with a stable ``code``; the message is a lazy
translation so it is rendered in the reader's language."""

from __future__ import annotations

from typing import Any

from flask import Flask, flash, jsonify, render_template, request
from flask_babel import lazy_gettext as _l
from werkzeug.exceptions import HTTPException


class ReserveError(Exception):
    code = "error"
    status = 400
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


class NotFound(ReserveError):
    code = "not_found"
    status = 404
    default_message = _l("Not found.")


class Forbidden(ReserveError):
    code = "forbidden"
    status = 403
    default_message = _l("You do not have permission to do this.")


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


def _wants_json() -> bool:
    return request.path.startswith("/api/") or request.path == "/healthz"


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
    if _wants_json():
        return jsonify({"error": code, "message": str(message)}), status
    template = f"errors/{status}.html" if status in (403, 404, 500) else "errors/error.html"
    return render_template(template, status=status, message=message), status


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(ReserveError)
    def handle_reserve_error(error: ReserveError):
        if _wants_json():
            return jsonify(error.to_dict()), error.status
        return _error_response(error.status, error.code, error.message)

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
