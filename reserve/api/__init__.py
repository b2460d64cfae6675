"""The JSON API, ``/api/v1``: one blueprint, bearer-token auth (checked with the permission table
in ``reserve.auth.permissions``), JSON errors with stable codes, and an OpenAPI 3 document built
from the route declarations below, so the document cannot drift from the code."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, jsonify, request
from flask_babel import lazy_gettext as _l
from werkzeug.datastructures import MultiDict

from reserve.db import Page
from reserve.errors import ValidationError

bp = Blueprint("api", __name__, url_prefix="/api/v1")

API_VERSION = "1.0.0"


@dataclass
class Operation:
    rule: str
    method: str
    endpoint: str
    summary: str
    tag: str
    query: tuple[tuple[str, str, str], ...] = ()  # (name, type, description)
    body: str | None = None  # component schema name of the JSON body
    response: str | None = None  # component schema name of one item
    paginated: bool = False
    status: int = 200


OPERATIONS: list[Operation] = []
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
    query: tuple[tuple[str, str, str], ...] = (),
    body: str | None = None,
    response: str | None = None,
    paginated: bool = False,
    status: int = 200,
) -> Callable:
    """Register an API route and its OpenAPI operation in one declaration."""

    def decorator(view: Callable) -> Callable:
        bp.add_url_rule(rule, endpoint=view.__name__, view_func=view, methods=[method])
        OPERATIONS.append(
            Operation(
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
            )
        )
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
                "schema": {"type": "integer" if converter == "int" else "string"},
            }
        )
    return "/api/v1" + _CONVERTER.sub(r"{\2}", rule), params


def openapi_document() -> dict[str, Any]:
    paths: dict[str, dict] = {}
    error = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
    for op in OPERATIONS:
        path, params = openapi_path(op.rule)
        params += [
            {"name": n, "in": "query", "required": False, "schema": {"type": t}, "description": d}
            for n, t, d in op.query
        ]
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
                    "content": {"application/json": {"schema": body_schema}},
                },
                "401": {"description": "missing, unknown or revoked token", **error},
                "403": {"description": "the token's user may not do this", **error},
                "404": {"description": "not found", **error},
                "422": {"description": "invalid input", **error},
            },
        }
        if op.endpoint == "api.openapi":
            operation["security"] = []
        if op.body:
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


@route("/openapi.json", summary="This OpenAPI document", tag="meta")
def openapi():
    return jsonify(openapi_document())


from reserve.api import core  # noqa: E402,F401  (routes that belong to no feature)
