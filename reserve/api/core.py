"""API routes that belong to no one feature: who am I."""

from flask import jsonify

from reserve.api import route, schema
from reserve.auth.permissions import current_actor

ME = schema(
    "Me",
    {
        "id": {"type": "integer"},
        "username": {"type": "string"},
        "roles": {"type": "array", "items": {"type": "string"}},
        "warehouse_ids": {"type": "array", "items": {"type": "integer"}},
        "enterprise_id": {"type": "integer", "nullable": True},
    },
)


@route("/me", summary="The token's user, roles and scopes", tag="auth", response=ME)
def me():
    actor = current_actor()
    return jsonify(
        id=actor.user_id,
        username=actor.username,
        roles=sorted(actor.roles),
        warehouse_ids=sorted(actor.warehouse_ids),
        enterprise_id=actor.enterprise_id,
    )
