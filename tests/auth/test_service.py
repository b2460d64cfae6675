import pytest
from sqlalchemy import func, select

from reserve.audit.models import AuditEntry
from reserve.auth import service
from reserve.auth.actor import Actor
from reserve.auth.models import ApiToken, LoginThrottle, Role, User
from reserve.errors import Conflict, Forbidden, ValidationError


def _count(db, model):
    return db.scalar(select(func.count()).select_from(model))


def test_passwords_are_hashed_not_stored(db, system_actor):
    user = service.create_user(
        db,
        username="zhang",
        full_name="张三",
        password="s3cret-quokka-pass",
        roles=["viewer"],
        actor=system_actor,
    )
    assert "s3cret-quokka-pass" not in user.password_hash
    assert user.password_hash.startswith(("scrypt:", "pbkdf2:"))


def test_authenticate_succeeds_and_records_the_sign_in(db, make_user):
    user = make_user(Role.VIEWER, username="li")
    assert service.authenticate(db, username="LI", password="test-password-1") is user
    assert user.last_login_at is not None
    assert db.scalar(select(AuditEntry.action).where(AuditEntry.user_id == user.id)) == "login"


@pytest.mark.parametrize("username", ["li", "nobody-here"])
def test_five_failures_lock_the_name_from_that_address_the_same_whether_or_not_it_exists(
    db, make_user, username
):
    make_user(Role.VIEWER, username="li")
    messages = []
    for _ in range(5):
        with pytest.raises(service.LoginRefused):
            service.authenticate(db, username=username, password="wrong", ip="10.0.0.9")
        messages.append(
            str(service.record_failed_login(db, username=username, ip="10.0.0.9").message)
        )
    assert messages[0] == "Wrong user name or password."
    assert "Try again in 1 minutes" in messages[-1]
    with pytest.raises(service.LoginRefused) as refused:  # the right password, a stranger's address
        service.authenticate(db, username=username, password="test-password-1", ip="10.0.0.9")
    assert refused.value.locked_minutes == 1
    if username == "li":  # from another address the owner signs in
        service.authenticate(db, username=username, password="test-password-1", ip="10.0.0.10")


def test_a_disabled_user_cannot_sign_in(db, make_user):
    make_user(Role.VIEWER, username="gone", is_enabled=False)
    with pytest.raises(service.LoginRefused):
        service.authenticate(db, username="gone", password="test-password-1")


def test_success_clears_the_failure_count(db, make_user):
    make_user(Role.VIEWER, username="wang")
    service.record_failed_login(db, username="wang", ip="10.0.0.1")
    assert db.get(LoginThrottle, ("name", "wang", "10.0.0.1")).failed_count == 1
    service.authenticate(db, username="wang", password="test-password-1", ip="10.0.0.1")
    assert db.get(LoginThrottle, ("name", "wang", "10.0.0.1")) is None


def test_create_user_rules_change_nothing_when_broken(db, make_warehouse, system_actor):
    users_before = _count(db, User)
    cases = [
        (dict(username="a b", roles=["viewer"]), ValidationError),
        (dict(username="ok_name", roles=[]), ValidationError),
        (dict(username="ok_name", roles=["wizard"]), ValidationError),
        (dict(username="ok_name", roles=["keeper"]), ValidationError),  # keeps nothing
        (dict(username="ok_name", roles=["enterprise"]), ValidationError),  # no enterprise
        (dict(username="ok_name", roles=["viewer"], password="short"), ValidationError),
    ]
    for fields, error in cases:
        fields.setdefault("password", "long-enough-1")
        with pytest.raises(error):
            service.create_user(db, full_name="X", actor=system_actor, **fields)
    assert _count(db, User) == users_before


def test_duplicate_user_names_differ_only_in_case(db, make_user, system_actor):
    make_user(Role.VIEWER, username="Zhao")
    with pytest.raises(Conflict):
        service.create_user(
            db,
            username="zhao",
            full_name="X",
            password="long-enough-1",
            roles=["viewer"],
            actor=system_actor,
        )


def test_several_roles_and_scopes(db, make_warehouse, make_enterprise, system_actor):
    w1, w2 = make_warehouse(), make_warehouse()
    user = service.create_user(
        db,
        username="multi",
        full_name="多角色",
        password="long-enough-1",
        roles=["keeper", "dispatcher"],
        warehouse_ids=[w1.id, w2.id],
        actor=system_actor,
    )
    assert user.roles == {Role.KEEPER, Role.DISPATCHER}
    assert user.warehouse_ids == {w1.id, w2.id}
    actor = Actor.for_user(user)
    assert actor.sees_all_warehouses  # a dispatcher sees everything
    service.update_user(
        db,
        user_id=user.id,
        full_name="多角色",
        roles=["keeper"],
        warehouse_ids=[w1.id],
        actor=system_actor,
    )
    assert Actor.for_user(user).visible_warehouse_ids() == {w1.id}


def test_an_admin_cannot_lock_themselves_out(db, make_user):
    admin = make_user(Role.ADMIN)
    actor = Actor.for_user(admin)
    with pytest.raises(Forbidden):
        service.set_user_enabled(db, user_id=admin.id, enabled=False, actor=actor)
    with pytest.raises(Forbidden):
        service.update_user(db, user_id=admin.id, full_name="x", roles=["viewer"], actor=actor)


def test_only_admins_manage_users(db, make_user):
    viewer = make_user(Role.VIEWER)
    with pytest.raises(Forbidden):
        service.create_user(
            db,
            username="x_y",
            full_name="x",
            password="long-enough-1",
            roles=["viewer"],
            actor=Actor.for_user(viewer),
        )


def test_reset_password_forces_a_change(db, make_user, system_actor):
    user = make_user(Role.VIEWER)
    service.reset_password(
        db, user_id=user.id, new_password="temporary-walrus-7", actor=system_actor
    )
    assert user.must_change_password
    service.change_password(
        db,
        user_id=user.id,
        current="temporary-walrus-7",
        new="my-own-pass-2",
        actor=Actor.for_user(user),
    )
    assert not user.must_change_password
    assert service.authenticate(db, username=user.username, password="my-own-pass-2") is user


def test_change_password_needs_the_current_one(db, make_user):
    user = make_user(Role.VIEWER)
    with pytest.raises(ValidationError):
        service.change_password(
            db, user_id=user.id, current="wrong", new="whatever-123", actor=Actor.for_user(user)
        )


def test_tokens_are_stored_hashed_and_can_be_revoked(db, make_user):
    user = make_user(Role.VIEWER)
    token, secret = service.create_api_token(
        db, user_id=user.id, name="script", actor=Actor.for_user(user)
    )
    assert secret.startswith("rsv_") and secret not in token.token_hash
    assert service.user_for_api_token(db, secret) is user
    service.revoke_api_token(db, token_id=token.id, actor=Actor.for_user(user))
    assert service.user_for_api_token(db, secret) is None
    assert service.user_for_api_token(db, "rsv_forged") is None


def test_only_the_owner_or_an_admin_touches_a_token(db, make_user):
    owner, other, admin = make_user(Role.VIEWER), make_user(Role.VIEWER), make_user(Role.ADMIN)
    token, _ = service.create_api_token(db, user_id=owner.id, name="x", actor=Actor.for_user(owner))
    with pytest.raises(Forbidden):
        service.revoke_api_token(db, token_id=token.id, actor=Actor.for_user(other))
    with pytest.raises(Forbidden):
        service.create_api_token(db, user_id=owner.id, name="y", actor=Actor.for_user(other))
    service.revoke_api_token(db, token_id=token.id, actor=Actor.for_user(admin))
    assert db.get(ApiToken, token.id).is_revoked
