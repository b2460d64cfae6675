"""/s/<code>: the link in a label's QR opens the labelled thing's page, after sign-in."""

from __future__ import annotations

from urllib.parse import urlsplit

from reserve.auth.models import Role


def test_the_link_signs_in_first_and_returns_to_the_label(app, client, world):
    code = world.code(world.stock_label)
    response = client.get(f"/s/{code}")
    assert response.status_code == 302 and "/login" in response.location
    response = client.post(
        urlsplit(response.location).path + "?" + urlsplit(response.location).query,
        data={"username": world.keeper.username, "password": "test-password-1"},
    )
    assert response.status_code == 302 and urlsplit(response.location).path == f"/s/{code}"
    page = client.get(f"/s/{code}")
    assert page.status_code == 302
    target = urlsplit(page.location)
    assert target.path == f"/stock/materials/{world.tent.id}"
    assert f"batch={world.tent_batch.id}" in target.query
    shown = client.get(page.location)
    assert shown.status_code == 200 and "T-2026-01" in shown.get_data(as_text=True)


def test_each_kind_opens_its_page(login_as, world):
    keeper = login_as(Role.KEEPER, warehouses=[world.home])
    item = keeper.get(f"/s/{world.code(world.item_label)}")
    assert urlsplit(item.location).fragment == f"item-{world.items[0].id}"
    assert keeper.get(item.location).status_code == 200
    place = keeper.get(f"/S/{world.code(world.location_label).lower()}")
    assert urlsplit(place.location).path == f"/warehouses/{world.home.id}"
    assert urlsplit(place.location).fragment == f"location-{world.shelf.id}"


def test_refused_links_say_why(login_as, world):
    keeper = login_as(Role.KEEPER, warehouses=[world.home])
    code = world.code(world.stock_label)
    bad = keeper.get(f"/s/{code[:-1]}{'Z' if code[-1] != 'Z' else 'Y'}")
    assert bad.status_code == 422 and "标签码无效" in bad.get_data(as_text=True)
    assert keeper.get(f"/s/{world.code(world.other_label)}").status_code == 403


def test_every_role(app, db, login_as, world):
    code = world.code(world.other_label)
    for role, status in [
        (Role.ADMIN, 302),
        (Role.DISPATCHER, 302),
        (Role.APPROVER, 302),
        (Role.VIEWER, 302),
        (Role.KEEPER, 403),  # keeps another warehouse
        (Role.ENTERPRISE, 403),
    ]:
        assert login_as(role).get(f"/s/{code}").status_code == status, role
