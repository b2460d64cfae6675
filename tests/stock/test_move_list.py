"""The list of stock moves (移库单): filters, key paging, scope, the detail, people by name."""

from datetime import timedelta

import pytest

from reserve.auth.actor import Actor
from reserve.auth.models import Role
from reserve.stock.move_queries import MoveFilter, move_page
from reserve.stock.service import move_stock
from tests.stock.conftest import TODAY, post


def _move(db, place, qty, *, actor, document_date=TODAY, batch=None, note=None):
    return move_stock(
        db,
        warehouse_id=place.warehouse.id,
        from_location_id=place.a1.id,
        to_location_id=place.a2.id,
        batch_id=(batch or place.batch).id,
        qty=qty,
        document_date=document_date,
        note=note,
        actor=actor,
    )


@pytest.fixture
def keeper(make_user, place):
    user = make_user(Role.KEEPER, username="zhao", full_name="赵保管", warehouses=[place.warehouse])
    return user, Actor.for_user(user)


def test_the_move_list_shows_each_move_with_the_mover_by_name(login_as, db, place, keeper):
    user, actor = keeper
    post(db, place, 30)
    move = _move(db, place, 4, actor=actor, note="腾挪")
    viewer = login_as(Role.VIEWER)
    html = viewer.get("/stock/moves").get_data(as_text=True)
    assert f'id="move-{move.id}"' in html and move.no in html
    assert "A-01-01" in html and "A-01-02" in html and "4 顶" in html
    assert '<span class="person" title="zhao">赵保管</span>' in html
    detail = viewer.get(f"/stock/moves/{move.id}").get_data(as_text=True)
    assert move.no in detail and "腾挪" in detail and 'id="move-qty">4 顶' in detail


def test_the_move_form_leads_to_the_move_it_made(login_as, db, place):
    client = login_as(Role.KEEPER, warehouses=[place.warehouse])
    post(db, place, 30)
    response = client.post(
        "/stock/moves/new",
        data={
            "warehouse_id": place.warehouse.id,
            "material_id": place.material.id,
            "batch_id": place.batch.id,
            "from_location_id": place.a1.id,
            "to_location_id": place.a2.id,
            "qty": 3,
        },
    )
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert 'id="move-qty">3 顶' in page and 'id="move-list-link"' in page


def test_filters_narrow_the_list(login_as, db, place, keeper, make_material, make_batch):
    _user, actor = keeper
    other = make_material("折叠床", code="BED")
    bed = make_batch(other, "BED-1")
    post(db, place, 30)
    post(db, place, 30, batch=bed)
    old = _move(db, place, 1, actor=actor, document_date=TODAY - timedelta(days=10))
    new = _move(db, place, 2, actor=actor)
    beds = _move(db, place, 3, actor=actor, batch=bed)
    client = login_as(Role.DISPATCHER)

    def shown(query):
        html = client.get(f"/stock/moves?{query}").get_data(as_text=True)
        return {m.id for m in (old, new, beds) if f'id="move-{m.id}"' in html}

    assert shown("") == {old.id, new.id, beds.id}
    assert shown(f"material={other.id}") == {beds.id}
    assert shown("q=BED") == {beds.id}
    assert shown(f"from={TODAY.isoformat()}") == {new.id, beds.id}
    assert shown(f"to={(TODAY - timedelta(days=1)).isoformat()}") == {old.id}
    assert shown(f"warehouse={place.warehouse.id}") == {old.id, new.id, beds.id}
    assert shown("warehouse=999999") == set()


def test_the_list_pages_by_key(db, place, keeper):
    _user, actor = keeper
    post(db, place, 30)
    moves = [_move(db, place, 1, actor=actor) for _ in range(5)]
    first = move_page(db, actor, MoveFilter(), per_page=2)
    assert [m.id for m in first.items] == [moves[4].id, moves[3].id]
    second = move_page(db, actor, MoveFilter(), before=int(first.next_key), per_page=2)
    assert [m.id for m in second.items] == [moves[2].id, moves[1].id]
    last = move_page(db, actor, MoveFilter(), before=int(second.next_key), per_page=2)
    assert [m.id for m in last.items] == [moves[0].id] and last.next_key is None


def test_a_keeper_sees_only_the_moves_of_warehouses_they_keep(login_as, db, place, keeper):
    _user, actor = keeper
    post(db, place, 30)
    move = _move(db, place, 1, actor=actor)
    stranger = login_as(Role.KEEPER)  # keeps another warehouse
    assert f'id="move-{move.id}"' not in stranger.get("/stock/moves").get_data(as_text=True)
    assert stranger.get(f"/stock/moves/{move.id}").status_code == 403
    assert login_as(Role.VIEWER).get("/stock/moves/999999").status_code == 404


def test_the_list_costs_the_same_for_one_move_or_many(login_as, db, place, keeper, count_queries):
    _user, actor = keeper
    post(db, place, 100)
    client = login_as(Role.VIEWER)
    _move(db, place, 1, actor=actor)
    client.get("/stock/moves")  # warm the session caches
    with count_queries() as one:
        client.get("/stock/moves")
    for _ in range(8):
        _move(db, place, 1, actor=actor)
    with count_queries() as many:
        client.get("/stock/moves")
    assert len(many) == len(one)


def test_a_bad_date_is_said_and_the_list_still_answers(login_as):
    response = login_as(Role.VIEWER).get("/stock/moves?from=31-01-2026")
    assert response.status_code == 200
    assert "2026-01-31" in response.get_data(as_text=True)
