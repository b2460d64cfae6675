from sqlalchemy import select

from reserve.audit.models import AuditEntry
from reserve.auth.models import Role, User


def test_sign_in_and_out(client, auth, make_user):
    make_user(Role.VIEWER, username="viewer1")
    response = auth.login("viewer1")
    assert response.status_code == 302
    assert "Viewer1" in client.get("/").get_data(as_text=True)
    auth.logout()
    assert client.get("/").status_code == 302


def test_failed_sign_in_shows_a_message_in_chinese(client, make_user):
    make_user(Role.VIEWER, username="viewer1")
    response = client.post("/login", data={"username": "viewer1", "password": "nope"})
    assert response.status_code == 200
    assert "用户名或密码错误" in response.get_data(as_text=True)


def test_lockout_message_after_five_failures(client):
    for _ in range(5):
        response = client.post("/login", data={"username": "ghost", "password": "nope"})
    assert "锁定" in response.get_data(as_text=True) and "分钟后再试" in response.get_data(
        as_text=True
    )


def test_next_parameter_cannot_redirect_off_site(client, make_user):
    make_user(Role.VIEWER, username="viewer1")
    response = client.post(
        "/login?next=https://evil.example/x",
        data={"username": "viewer1", "password": "test-password-1"},
    )
    assert response.headers["Location"] == "/"


def test_admin_creates_a_keeper_with_a_warehouse(login_as, make_warehouse, db):
    admin = login_as(Role.ADMIN)
    warehouse = make_warehouse()
    response = admin.post(
        "/admin/users/new",
        data={
            "username": "newkeeper",
            "full_name": "新保管员",
            "password": "temporary-walrus-7",
            "roles": ["keeper"],
            "warehouse_ids": [str(warehouse.id)],
            "enterprise_id": "",
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    user = db.scalar(select(User).where(User.username == "newkeeper"))
    assert user.roles == {Role.KEEPER} and user.warehouse_ids == {warehouse.id}
    assert user.must_change_password
    entry = db.scalar(
        select(AuditEntry).where(
            AuditEntry.object_type == "users", AuditEntry.object_id == str(user.id)
        )
    )
    assert entry.username == admin.user.username and entry.ip == "127.0.0.1"
    assert entry.after["roles"] == ["keeper"]


def test_bad_user_input_shows_a_message_and_creates_nothing(login_as, db):
    admin = login_as(Role.ADMIN)
    response = admin.post(
        "/admin/users/new",
        data={
            "username": "k2",
            "full_name": "X",
            "password": "temporary-walrus-7",
            "roles": ["keeper"],
            "enterprise_id": "",
        },
    )
    assert "至少" in response.get_data(as_text=True) or "保管" in response.get_data(as_text=True)
    assert db.scalar(select(User).where(User.username == "k2")) is None


def test_must_change_password_before_anything_else(client, auth, make_user):
    make_user(Role.VIEWER, username="fresh", must_change_password=True)
    auth.login("fresh")
    response = client.get("/catalog/materials")
    assert response.status_code == 302 and response.headers["Location"].endswith(
        "/account/password"
    )
    response = client.post(
        "/account/password",
        data={"current": "test-password-1", "new": "brand-new-pass", "confirm": "brand-new-pass"},
    )
    assert response.status_code == 302
    assert client.get("/catalog/materials").status_code == 200


def test_disable_and_enable_a_user(login_as, make_user, db):
    admin = login_as(Role.ADMIN)
    user = make_user(Role.VIEWER)
    admin.post(f"/admin/users/{user.id}/toggle")
    db.refresh(user)
    assert not user.is_enabled
    admin.post(f"/admin/users/{user.id}/toggle")
    db.refresh(user)
    assert user.is_enabled


def test_a_disabled_user_is_signed_out_at_the_next_request(login_as, make_user, db, app):
    viewer = login_as(Role.VIEWER)
    admin = login_as(Role.ADMIN)
    admin.post(f"/admin/users/{viewer.user.id}/toggle")
    assert viewer.get("/").status_code == 302


def test_token_page_shows_the_secret_once(login_as):
    viewer = login_as(Role.VIEWER)
    html = viewer.post("/account/tokens", data={"name": "my script"}).get_data(as_text=True)
    assert 'id="token-secret">rsv_' in html
    html = viewer.get("/account/tokens").get_data(as_text=True)
    assert "my script" in html and 'id="token-secret"' not in html


def test_user_list_filters_by_role(login_as, make_user):
    admin = login_as(Role.ADMIN)
    make_user(Role.DISPATCHER, username="disp_one")
    make_user(Role.VIEWER, username="view_one")
    html = admin.get("/admin/users?role=dispatcher").get_data(as_text=True)
    assert "disp_one" in html and "view_one" not in html


def test_language_switch(client):
    assert "登录" in client.get("/login").get_data(as_text=True)
    client.get("/lang/en")
    assert "Sign in" in client.get("/login").get_data(as_text=True)
