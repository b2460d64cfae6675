"""Sessions that end: a copied cookie dies with its session, and a password change, a reset, a
change of roles, a deactivation or "sign out everywhere" ends the other devices' sessions."""

from flask import session
from sqlalchemy import event, select

from reserve.audit.models import AuditEntry
from reserve.auth.models import Role
from reserve.auth.sessions import SESSION_VERSION_KEY, load_user
from tests.conftest import AuthActions

NEW_PASSWORD = "quiet-harbour-lantern-42"


def _device(app, user, password: str = "test-password-1"):
    client = app.test_client()
    assert AuthActions(client).login(user.username, password).status_code == 302
    return client


def _signed_out(client, url: str = "/") -> bool:
    response = client.get(url)
    return response.status_code == 302 and "/login" in response.headers["Location"]


def _replay(app, cookie: str):
    thief = app.test_client()
    thief.set_cookie("session", cookie)
    return thief


def test_a_cookie_copied_before_logout_replays_to_the_login_page(app, make_user, db):
    user = make_user(Role.KEEPER, username="copied")
    device = _device(app, user)
    assert device.get("/stock").status_code == 200
    cookie = device.get_cookie("session").value
    assert _replay(app, cookie).get("/stock").status_code == 200  # the copy works while live
    device.post("/logout")
    assert _signed_out(_replay(app, cookie), "/stock")
    assert db.scalar(select(AuditEntry.action).where(AuditEntry.action == "logout"))
    assert _device(app, user).get("/stock").status_code == 200  # signing in again works


def test_a_password_change_signs_out_the_other_devices(app, make_user):
    user = make_user(Role.VIEWER, username="two-devices")
    first, second = _device(app, user), _device(app, user)
    response = first.post(
        "/account/password",
        data={"current": "test-password-1", "new": NEW_PASSWORD, "confirm": NEW_PASSWORD},
    )
    assert response.status_code == 302
    assert first.get("/").status_code == 200  # the device that changed it stays signed in
    assert _signed_out(second)


def test_sign_out_everywhere(app, make_user, db):
    user = make_user(Role.VIEWER, username="everywhere")
    first, second = _device(app, user), _device(app, user)
    page = first.get("/account/password").get_data(as_text=True)
    assert 'id="sign-out-everywhere"' in page and "在所有设备上退出" in page
    response = first.post("/account/sessions/end", follow_redirects=True)
    assert "您已在所有设备上退出登录" in response.get_data(as_text=True)
    assert _signed_out(first) and _signed_out(second)
    entry = db.scalar(select(AuditEntry).where(AuditEntry.action == "sign_out_everywhere"))
    assert entry.user_id == user.id


def test_an_admin_reset_a_role_change_and_a_deactivation_end_the_sessions(app, make_user, login_as):
    admin = login_as(Role.ADMIN)
    user = make_user(Role.VIEWER, username="changed")

    device = _device(app, user)
    admin.post(f"/admin/users/{user.id}/password", data={"password": NEW_PASSWORD})
    assert _signed_out(device)

    device = _device(app, user, NEW_PASSWORD)  # (must change it first: still a session)
    admin.post(
        f"/admin/users/{user.id}",
        data={"full_name": "Changed", "roles": ["dispatcher"], "enterprise_id": ""},
    )
    assert _signed_out(device)

    device = _device(app, user, NEW_PASSWORD)
    admin.post(f"/admin/users/{user.id}", data={"full_name": "Renamed", "roles": ["dispatcher"]})
    assert device.get("/account/password").status_code == 200  # a new name ends nothing

    admin.post(f"/admin/users/{user.id}/toggle")
    assert _signed_out(device)


def test_the_user_and_their_scope_load_in_one_statement(app, db, make_user, make_warehouse):
    """The loader runs on every request: the user row, roles and kept warehouses together."""
    houses = [make_warehouse(), make_warehouse()]
    keeper = make_user(Role.KEEPER, Role.DISPATCHER, warehouses=houses)
    db.flush()
    seen = []

    def before(_conn, _cursor, statement, *_args):
        if not statement.lstrip().upper().startswith(("SAVEPOINT", "RELEASE", "ROLLBACK")):
            seen.append(statement)

    with app.test_request_context():
        session[SESSION_VERSION_KEY] = keeper.session_version
        db.expunge_all()
        event.listen(db.get_bind().engine, "before_cursor_execute", before)
        try:
            user = load_user(str(keeper.id))
            roles, kept = user.roles, user.warehouse_ids
        finally:
            event.remove(db.get_bind().engine, "before_cursor_execute", before)
    assert len(seen) == 1, seen
    assert roles == {Role.KEEPER, Role.DISPATCHER}
    assert kept == {h.id for h in houses}
    with app.test_request_context():
        session[SESSION_VERSION_KEY] = keeper.session_version + 1  # an ended session
        assert load_user(str(keeper.id)) is None
        assert load_user("not a number") is None
