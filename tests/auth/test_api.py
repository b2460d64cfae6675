from sqlalchemy import select

from reserve.audit.models import AuditEntry
from reserve.auth.actor import Actor
from reserve.auth.models import Role
from reserve.auth.service import change_password, reset_password, sign_out

NEW_PASSWORD = "quiet-harbour-lantern-42"


def test_api_without_a_token_is_refused_with_a_stable_code(client):
    response = client.get("/api/v1/materials")
    assert response.status_code == 401
    assert response.get_json()["error"] == "unauthorized"


def test_api_with_a_revoked_token_is_refused(client, api_token, db):
    from reserve.auth.models import ApiToken
    from reserve.db import utcnow

    headers, user = api_token(Role.VIEWER)
    assert client.get("/api/v1/me", headers=headers).status_code == 200
    for token in db.query(ApiToken).filter_by(user_id=user.id):
        token.revoked_at = utcnow()
    db.flush()
    response = client.get("/api/v1/me", headers=headers)
    assert response.status_code == 401
    assert response.get_json()["error"] == "unauthorized"


def test_me_tells_roles_and_scopes(client, api_token, make_warehouse):
    warehouse = make_warehouse()
    headers, user = api_token(Role.KEEPER, warehouses=[warehouse])
    body = client.get("/api/v1/me", headers=headers).get_json()
    assert body["username"] == user.username
    assert body["roles"] == ["keeper"] and body["warehouse_ids"] == [warehouse.id]


def test_a_session_cookie_does_not_open_the_api(login_as):
    admin = login_as(Role.ADMIN)
    assert admin.get("/api/v1/me").status_code == 401


def test_api_errors_are_json_in_the_callers_language(client, api_token):
    headers, _ = api_token(Role.VIEWER)
    response = client.get("/api/v1/materials/999999", headers=headers)
    assert response.status_code == 404
    body = response.get_json()
    assert body["error"] == "not_found" and body["message"]
    response = client.get("/api/v1/materials?per_page=x", headers=headers)
    assert response.status_code == 422 and response.get_json()["error"] == "invalid"


def test_an_admin_reset_and_sign_out_everywhere_revoke_the_tokens(client, api_token, db):
    """The account may be in other hands: every way in ends, audited; a routine change of
    one's own password keeps the tokens (the PDAs and enterprise systems keep working)."""
    admin = Actor.system("admin")
    headers, user = api_token(Role.KEEPER)
    change_password(db, user_id=user.id, current="test-password-1", new=NEW_PASSWORD, actor=admin)
    assert client.get("/api/v1/me", headers=headers).status_code == 200
    reset_password(db, user_id=user.id, new_password=NEW_PASSWORD + "-x", actor=admin)
    assert client.get("/api/v1/me", headers=headers).status_code == 401
    revoked = db.scalars(
        select(AuditEntry).where(
            AuditEntry.action == "revoke", AuditEntry.object_type == "api_tokens"
        )
    ).all()
    assert len(revoked) == 1

    headers, user = api_token(Role.VIEWER)
    sign_out(db, user_id=user.id, actor=Actor.for_user(user), everywhere=True)
    assert client.get("/api/v1/me", headers=headers).status_code == 401
