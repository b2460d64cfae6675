"""The password policy: zxcvbn score >= 3, no names, our own reasons in the reader's language,
for admin-set temporary passwords and own changes alike."""

import pytest
from sqlalchemy import select

from reserve.auth import service
from reserve.auth.actor import Actor
from reserve.auth.models import Role, User
from reserve.auth.passwords import check_password_rules
from reserve.errors import ValidationError


@pytest.mark.parametrize(
    ("password", "reason"),
    [
        ("12345678", "最常见的密码"),
        ("password", "最常见的密码"),
        ("aaaaaaaa", "重复的字符"),
        ("abcdefghij", "连续的字符"),
        ("zxcvbnm,./", "键盘上相邻的按键"),
        ("19851012", "日期和年份"),
        ("zhangwei2024", "用户名或姓名"),  # the user's own name, with a year
        ("Zhangwei!", "用户名或姓名"),
        ("wang.ming.1", "用户名或姓名"),
    ],
)
def test_weak_passwords_are_refused_with_our_reason(app_ctx, password, reason):
    with pytest.raises(ValidationError) as refused:
        check_password_rules(password, names=("zhangwei", "Wang Ming"))
    message = str(refused.value.message)
    assert message.startswith("该密码太容易被猜中。") and reason in message
    for english in ("guess", "common", "Add another word", "Avoid", "similar"):
        assert english not in message  # never zxcvbn's own (English) feedback


@pytest.mark.parametrize(
    "password", ["quiet-harbour-lantern-42", "reserve-demo", "test-password-1"]
)
def test_strong_passwords_pass(app_ctx, password):
    check_password_rules(password, names=("zhangwei", "张伟"))


def test_the_length_rule_comes_first(app_ctx):
    with pytest.raises(ValidationError, match="至少须有 8 个字符"):
        check_password_rules("Xy7!", names=())
    with pytest.raises(ValidationError, match="过长"):
        check_password_rules("x" * 129, names=())


def test_an_admin_cannot_set_a_weak_temporary_password(db, make_user, system_actor):
    user = make_user(Role.VIEWER, username="victim")
    before = user.password_hash
    with pytest.raises(ValidationError):
        service.reset_password(db, user_id=user.id, new_password="victim-1234", actor=system_actor)
    with pytest.raises(ValidationError):
        service.create_user(
            db,
            username="newbie",
            full_name="New",
            password="password1",
            roles=["viewer"],
            actor=system_actor,
        )
    assert user.password_hash == before
    assert db.scalar(select(User).where(User.username == "newbie")) is None


def test_an_own_change_to_a_weak_password_is_refused(db, make_user):
    user = make_user(Role.VIEWER)
    before = user.password_hash
    with pytest.raises(ValidationError) as refused:
        service.change_password(
            db,
            user_id=user.id,
            current="test-password-1",
            new="aaaaaaaa",
            actor=Actor.for_user(user),
        )
    assert refused.value.field == "new"
    assert user.password_hash == before and user.session_version == 0


def test_the_reason_is_shown_in_chinese_on_the_pages(login_as, db):
    admin = login_as(Role.ADMIN)
    response = admin.post(
        "/admin/users/new",
        data={
            "username": "weakling",
            "full_name": "弱密码",
            "password": "12345678",
            "roles": ["viewer"],
            "enterprise_id": "",
        },
    )
    html = response.get_data(as_text=True)
    assert "该密码太容易被猜中" in html and "最常见的密码" in html
    assert "common" not in html and "top-10" not in html
    assert db.scalar(select(User).where(User.username == "weakling")) is None
    viewer = login_as(Role.VIEWER)
    response = viewer.post(
        "/account/password",
        data={"current": "test-password-1", "new": "aaaaaaaa", "confirm": "aaaaaaaa"},
    )
    assert "重复的字符" in response.get_data(as_text=True)


def test_the_demo_password_meets_the_policy_for_every_demo_user(app_ctx):
    from reserve.demo import _FULL_NAMES, DEMO_USERS

    for username, _role, _description in DEMO_USERS:
        check_password_rules("reserve-demo", names=(username, _FULL_NAMES[username]))
