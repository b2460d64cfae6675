"""The JSON API, ``/api/v1``: one blueprint, bearer-token auth (checked with the permission table
in ``reserve.auth.permissions``), JSON errors with stable codes, and an OpenAPI 3 document built
from the route declarations below, so the document cannot drift from the code.

Two rules hold for every route, declared here once: every write honours an ``Idempotency-Key``
(``reserve.api.idempotency``), and input is bounded before any view runs (``check_input``: the
declared query parameters in range, a JSON body of bounded size and depth whose strings carry
no control character or lone surrogate and whose numbers a database can store)."""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from flask import Blueprint, abort, current_app, jsonify, request
from flask_babel import lazy_gettext as _l
from werkzeug.datastructures import MultiDict

from reserve.api.idempotency import HEADER_PARAMETER, REPLAYED_HEADER, WRITE_METHODS, idempotent
from reserve.db import KeyPage, Page
from reserve.errors import ValidationError
from reserve.forms import (
    MAX_BIG_INT,
    MAX_ID,
    MAX_INT,
    checked_query_date,
    checked_query_int,
    text_problem,
)

bp = Blueprint("api", __name__, url_prefix="/api/v1")

API_VERSION = "1.0.0"


@dataclass
class Operation:
    rule: str
    method: str
    endpoint: str
    summary: str
    tag: str
    # (name, type, description); type is "integer", "date", "string" or a JSON schema
    query: tuple[tuple[str, str | dict, str], ...] = ()
    body: str | None = None  # component schema name of the JSON body
    response: str | None = None  # component schema name of one item
    paginated: bool = False
    status: int = 200
    upload: bool = False  # the body is multipart/form-data with a ``file`` (bounded by the view)
    binary: str | None = None  # the response is a file of this media type, not JSON


OPERATIONS: list[Operation] = []
_BY_ENDPOINT: dict[str, Operation] = {}
SCHEMAS: dict[str, dict[str, Any]] = {
    "Error": {
        "type": "object",
        "required": ["error", "message"],
        "properties": {
            "error": {"type": "string", "description": "stable error code"},
            "message": {"type": "string", "description": "text in the caller's language"},
            "field": {"type": "string"},
            "details": {"type": "object"},
        },
    },
}

PAGE_QUERY = (
    ("page", "integer", "page number, from 1"),
    ("per_page", "integer", "rows per page (at most 500)"),
)


def schema(name: str, properties: dict[str, Any], required: tuple[str, ...] = ()) -> str:
    """Declare a component schema for the OpenAPI document; returns its name."""
    SCHEMAS[name] = {"type": "object", "properties": properties}
    if required:
        SCHEMAS[name]["required"] = list(required)
    return name


def route(
    rule: str,
    *,
    method: str = "GET",
    summary: str,
    tag: str,
    query: tuple[tuple[str, str | dict, str], ...] = (),
    body: str | None = None,
    response: str | None = None,
    paginated: bool = False,
    status: int = 200,
    upload: bool = False,
    binary: str | None = None,
) -> Callable:
    """Register an API route and its OpenAPI operation in one declaration. Every write honours
    the ``Idempotency-Key`` header (``reserve.api.idempotency``)."""

    def decorator(view: Callable) -> Callable:
        handler = idempotent(view) if method in WRITE_METHODS else view
        bp.add_url_rule(rule, endpoint=view.__name__, view_func=handler, methods=[method])
        operation = Operation(
            rule,
            method,
            f"api.{view.__name__}",
            summary,
            tag,
            query + (PAGE_QUERY if paginated else ()),
            body,
            response,
            paginated,
            status,
            upload,
            binary,
        )
        OPERATIONS.append(operation)
        _BY_ENDPOINT[operation.endpoint] = operation
        return view

    return decorator


def page_args() -> tuple[int, int]:
    try:
        page = int(request.args.get("page", 1))
        per_page = int(request.args.get("per_page", 50))
    except ValueError as exc:
        raise ValidationError(_l("page and per_page must be whole numbers.")) from exc
    if page < 1 or not 1 <= per_page <= 500:
        raise ValidationError(_l("page must be at least 1 and per_page between 1 and 500."))
    return page, per_page


def page_json(page: Page, serialise: Callable[[Any], dict]) -> Any:
    return jsonify(
        items=[serialise(item) for item in page.items],
        page=page.page,
        per_page=page.per_page,
        total=page.total,
        pages=page.pages,
    )


KEY_PAGE_QUERY = (
    ("after", "string", "the `next` of the previous page (paging by key); omit for the first"),
    ("per_page", "integer", "rows per page (at most 500)"),
)


def key_per_page() -> int:
    try:
        per_page = int(request.args.get("per_page", 50))
    except ValueError as exc:
        raise ValidationError(_l("page and per_page must be whole numbers.")) from exc
    if not 1 <= per_page <= 500:
        raise ValidationError(_l("page must be at least 1 and per_page between 1 and 500."))
    return per_page


def key_page_json(page: KeyPage, serialise: Callable[[Any], dict]) -> Any:
    """A page read by key: the items, and ``next`` (the ``after`` of the next page, or null)."""
    return jsonify(items=[serialise(item) for item in page.items], next=page.next_key)


def form_from_json(form_class: type, obj: Any = None):
    """Validate a JSON body with the feature's WTForms class (the same rules as the page)."""
    payload = request.get_json(silent=True)
    if not isinstance(payload, dict):
        raise ValidationError(_l("The request body must be a JSON object."))
    data = MultiDict()
    for key, value in payload.items():
        for item in value if isinstance(value, list) else [value]:
            data.add(
                key,
                ""
                if item is None
                else str(item)
                if not isinstance(item, bool)
                else ("y" if item else ""),
            )
    form = form_class(formdata=data, obj=obj, meta={"csrf": False})
    for item in form:  # an absent JSON boolean keeps its default (HTML forms omit unchecked boxes)
        if item.type == "BooleanField" and item.name not in payload:
            item.data = getattr(obj, item.name, item.default) if obj else item.default
    if not form.validate():
        field_name, messages = next(iter(form.errors.items()))
        raise ValidationError(
            f"{getattr(form, field_name).label.text}: {messages[0]}",
            field=field_name,
            errors=form.errors,
        )
    return form


_CONVERTER = re.compile(r"<(?:(\w+):)?(\w+)>")


def openapi_path(rule: str) -> tuple[str, list[dict]]:
    params = []
    for converter, name in _CONVERTER.findall(rule):
        params.append(
            {
                "name": name,
                "in": "path",
                "required": True,
                "schema": {"type": "integer", "minimum": 1, "maximum": MAX_ID}
                if converter in ("int", "id")
                else {"type": "string"},
            }
        )
    return "/api/v1" + _CONVERTER.sub(r"{\2}", rule), params


def openapi_document() -> dict[str, Any]:
    paths: dict[str, dict] = {}
    error = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
    for op in OPERATIONS:
        path, params = openapi_path(op.rule)
        params += [
            {
                "name": n,
                "in": "query",
                "required": False,
                "schema": query_schema(t),
                "description": d,
            }
            for n, t, d in op.query
        ]
        if op.method in WRITE_METHODS:
            params.append(HEADER_PARAMETER)
        if op.response and op.paginated:
            body_schema = {
                "type": "object",
                "properties": {
                    "items": {
                        "type": "array",
                        "items": {"$ref": f"#/components/schemas/{op.response}"},
                    },
                    "page": {"type": "integer"},
                    "per_page": {"type": "integer"},
                    "total": {"type": "integer"},
                    "pages": {"type": "integer"},
                },
            }
        elif op.response:
            body_schema = {"$ref": f"#/components/schemas/{op.response}"}
        else:
            body_schema = {"type": "object"}
        operation: dict[str, Any] = {
            "operationId": op.endpoint.replace(".", "_"),
            "summary": op.summary,
            "tags": [op.tag],
            "parameters": params,
            "responses": {
                str(op.status): {
                    "description": "OK",
                    "content": (
                        {op.binary: {"schema": {"type": "string", "format": "binary"}}}
                        if op.binary
                        else {"application/json": {"schema": body_schema}}
                    ),
                    **(
                        {
                            "headers": {
                                REPLAYED_HEADER: {
                                    "description": "true when this is the stored response "
                                    "to an earlier request with the same Idempotency-Key",
                                    "schema": {"type": "string", "enum": ["true"]},
                                }
                            }
                        }
                        if op.method in WRITE_METHODS
                        else {}
                    ),
                },
                "401": {"description": "missing, unknown or revoked token", **error},
                "403": {"description": "the token's user may not do this", **error},
                "404": {"description": "not found", **error},
                "422": {"description": "invalid input", **error},
                **(
                    {
                        "409": {
                            "description": "a conflict, or a request with the same "
                            "Idempotency-Key is still running",
                            **error,
                        }
                    }
                    if op.method in WRITE_METHODS
                    else {}
                ),
            },
        }
        if op.endpoint == "api.openapi":
            operation["security"] = []
        if op.upload:
            operation["requestBody"] = {
                "required": True,
                "content": {
                    "multipart/form-data": {
                        "schema": {
                            "type": "object",
                            "required": ["file"],
                            "properties": {"file": {"type": "string", "format": "binary"}},
                        }
                    }
                },
            }
        elif op.body:
            operation["requestBody"] = {
                "required": True,
                "content": {
                    "application/json": {"schema": {"$ref": f"#/components/schemas/{op.body}"}}
                },
            }
        paths.setdefault(path, {})[op.method.lower()] = operation
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "Reserve API — 应急物资储备管理系统",
            "version": API_VERSION,
            "description": "Per-user bearer tokens (create them under 'API tokens'). "
            'Errors are {"error": code, "message": text}.',
        },
        "servers": [{"url": "/"}],
        "security": [{"bearerAuth": []}],
        "paths": dict(sorted(paths.items())),
        "components": {
            "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"}},
            "schemas": SCHEMAS,
        },
    }


def query_schema(kind: str | dict) -> dict[str, Any]:
    """The OpenAPI schema of a declared query parameter; its bounds are also enforced."""
    if isinstance(kind, dict):
        return kind
    if kind == "integer":
        return {"type": "integer", "minimum": -MAX_INT, "maximum": MAX_INT}
    if kind == "date":
        return {"type": "string", "format": "date"}
    return {"type": kind}


def _check_query(operation: Operation) -> None:
    for name, kind, _description in operation.query:
        value = request.args.get(name)
        if value in (None, ""):
            continue
        declared = query_schema(kind)
        low, high = declared.get("minimum", -MAX_INT), declared.get("maximum", MAX_INT)
        if declared["type"] == "integer":
            try:
                number = int(value)
            except ValueError:
                number = high + 1  # not a number: the same message, with the bounds
            checked_query_int(name, number, low=low, high=high)
        elif declared.get("format") == "date":
            try:
                day = date.fromisoformat(value)
            except ValueError:
                day = date.max  # not a date: the same message, with the window
            checked_query_date(name, day)


_JSON_SPECIAL = re.compile(rb'["\\\[\]{}]')


def json_too_deep(raw: bytes, limit: int) -> bool:
    """Whether a JSON text nests arrays and objects deeper than ``limit``, found in one linear
    pass over its brackets and quotes, before the parser (which recurses) sees it."""
    depth, in_string, skip = 0, False, -1
    for match in _JSON_SPECIAL.finditer(raw):
        at = match.start()
        if at == skip:
            continue
        char = raw[at]
        if in_string:
            if char == 0x5C:  # a backslash escapes the next character, quote or backslash
                skip = at + 1
            elif char == 0x22:
                in_string = False
        elif char == 0x22:
            in_string = True
        elif char in (0x5B, 0x7B):
            depth += 1
            if depth > limit:
                return True
        elif char in (0x5D, 0x7D):
            depth -= 1
    return False


def _check_json_value(value: Any, path: str) -> None:
    if isinstance(value, str):
        problem = text_problem(value)
        if problem is not None:
            raise ValidationError(f"{path}: {problem}" if path else problem, field=path or None)
    elif isinstance(value, bool):
        return
    elif isinstance(value, int):
        name = path.rsplit(".", 1)[-1]
        if (name == "id" or name.endswith("_id")) and not 1 <= value <= MAX_ID:
            raise ValidationError(_l("%(name)s is not a valid id.", name=path), field=path)
        if abs(value) > MAX_BIG_INT:  # no database binds it; the forms bound smaller ones
            raise ValidationError(_l("%(name)s: the number is too large.", name=path), field=path)
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise ValidationError(_l("%(name)s: the number is not finite.", name=path), field=path)
    elif isinstance(value, dict):
        for key, item in value.items():
            problem = text_problem(key)
            if problem is not None:
                raise ValidationError(problem)
            _check_json_value(item, f"{path}.{key}" if path else key)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _check_json_value(item, f"{path}[{index}]")


def _check_json_body() -> None:
    limit = current_app.config["API_MAX_BODY_BYTES"]
    if (request.content_length or 0) > limit:
        abort(413)
    raw = request.get_data(cache=True)
    if len(raw) > limit:
        abort(413)
    if not raw.strip():
        return
    if json_too_deep(raw, current_app.config["API_MAX_JSON_DEPTH"]):
        raise ValidationError(
            _l(
                "The JSON body is nested more than %(n)s levels deep.",
                n=current_app.config["API_MAX_JSON_DEPTH"],
            )
        )
    payload = request.get_json(silent=True)  # cached: the view reads the same object
    if payload is not None:
        _check_json_value(payload, "")


@bp.before_request
def check_input():
    """Bounded input for every API call, before the view: declared query parameters in
    their range, and a JSON body of bounded size and depth, with valid text and numbers."""
    operation = _BY_ENDPOINT.get(request.endpoint or "")
    if operation is not None:
        _check_query(operation)
    if request.method in WRITE_METHODS and not (operation is not None and operation.upload):
        _check_json_body()  # an upload is multipart, bounded by MAX_CONTENT_LENGTH and its view


@route("/openapi.json", summary="This OpenAPI document", tag="meta")
def openapi():
    return jsonify(openapi_document())


from reserve.api import core  # noqa: E402,F401  (routes that belong to no feature)
