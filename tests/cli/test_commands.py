from sqlalchemy import func, select

from reserve.auth.models import Role, User


def test_create_admin_prompts_for_the_password(app, db):
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=["users", "create-admin", "--username", "boss"],
        input="first-admin-pass\nfirst-admin-pass\n",
    )
    assert result.exit_code == 0, result.output
    user = db.scalar(select(User).where(User.username == "boss"))
    assert user.roles == {Role.ADMIN}


def test_create_admin_refuses_a_short_password(app, db):
    result = app.test_cli_runner().invoke(
        args=["users", "create-admin", "--username", "boss2"], input="short\nshort\n"
    )
    assert result.exit_code == 1
    assert "至少" in result.output and "8" in result.output
    assert db.scalar(select(User).where(User.username == "boss2")) is None


def test_demo_loads_the_city_and_refuses_a_second_time(app, db):
    from reserve.agreements.models import Enterprise
    from reserve.catalog.models import Material
    from reserve.warehouses.models import Location, Warehouse

    runner = app.test_cli_runner()
    result = runner.invoke(args=["demo", "--password", "demo-pass-1"])
    assert result.exit_code == 0, result.output
    for username in ("admin", "dispatcher", "approver", "keeper", "enterprise", "viewer"):
        assert username in result.output
    assert db.scalar(select(func.count()).select_from(Warehouse)) == 16
    assert db.scalar(select(func.count()).select_from(Material)) >= 290
    assert db.scalar(select(func.count()).select_from(Enterprise)) >= 10
    assert db.scalar(select(func.count()).select_from(Location)) > 16 * 5
    municipal = db.scalar(select(Warehouse).where(Warehouse.level == "city"))
    assert 19000 <= municipal.area_m2 <= 20000
    towns = db.scalars(select(Warehouse).where(Warehouse.level == "township")).all()
    assert sorted((w.region.code, w.region.name, w.region.parent.code) for w in towns) == [
        ("370112019", "柳埠街道", "370112"),  # real 统计用区划代码, under their county
        ("370124102", "东阿镇", "370124"),
        ("370126107", "玉皇庙镇", "370126"),
    ]
    keeper = db.scalar(select(User).where(User.username == "keeper"))
    assert keeper.warehouse_ids == {municipal.id}
    enterprise = db.scalar(select(User).where(User.username == "enterprise"))
    assert enterprise.enterprise_id is not None

    verified = runner.invoke(args=["stock", "verify"])  # balances, reservations, serial items
    assert verified.exit_code == 0, verified.output

    again = runner.invoke(args=["demo"])
    assert again.exit_code == 1 and "不为空" in again.output
    quiet = runner.invoke(args=["demo", "--if-empty", "--password", "demo-pass-1"])
    assert quiet.exit_code == 0
    # a second ``make run`` prints the logins again
    assert "not loaded" in quiet.output and "password 'demo-pass-1'" in quiet.output
    for username in ("admin", "dispatcher", "approver", "keeper", "enterprise", "viewer"):
        assert f"  {username} " in quiet.output
    assert "password was changed" not in quiet.output
    other = runner.invoke(args=["demo", "--if-empty", "--password", "another-Pass-77"])
    assert other.exit_code == 0 and "password was changed" in other.output
