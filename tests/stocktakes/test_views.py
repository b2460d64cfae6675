"""Stocktake pages: a keeper opens and counts (blind hides the books from them), submits; an
approver reviews and approves; bad input says why and changes nothing; scope is enforced."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from reserve.auth.models import Role
from reserve.stock.models import StockBalance, StockMovement
from reserve.stocktakes import service
from reserve.stocktakes.models import Stocktake, StocktakeLine, StocktakeStatus

WHOLE = {"whole_warehouse": "y", "all_categories": "y"}  # the scope trees' two roots


def html(response) -> str:
    return response.get_data(as_text=True)


def english(client):
    client.get("/lang/en")  # assert on the English messages, whatever the catalogue holds
    return client


@pytest.fixture
def keeper(login_as, stocked):
    return english(login_as(Role.KEEPER, warehouses=[stocked.warehouse]))


@pytest.fixture
def approver(login_as):
    return english(login_as(Role.APPROVER))


def line_of(db, stocktake_id, location, batch) -> StocktakeLine:
    return db.scalar(
        select(StocktakeLine).where(
            StocktakeLine.stocktake_id == stocktake_id,
            StocktakeLine.location_id == location.id,
            StocktakeLine.batch_id == batch.id,
        )
    )


def open_blind(keeper, stocked, db) -> Stocktake:
    response = keeper.post(
        "/stocktakes/new",
        data={
            "warehouse_id": stocked.warehouse.id,
            **WHOLE,
            "is_blind": "y",
            "note": "月度盘点",
        },
    )
    assert response.status_code == 302, html(response)[:2000]
    return db.scalar(select(Stocktake).order_by(Stocktake.id.desc()))


def post_count(client, stocktake, location, batch, qty, reason=None):
    data = {
        "location_id": location.id,
        "batch_id": batch.id,
        "counted_qty": qty,
        "next": f"/stocktakes/{stocktake.id}?show=all",
    }
    if reason is not None:
        data["reason"] = reason
    return client.post(f"/stocktakes/{stocktake.id}/count", data=data)


def test_keeper_opens_a_blind_stocktake_and_the_books_stay_hidden(db, keeper, approver, stocked):
    form = keeper.get("/stocktakes/new")
    assert form.status_code == 200 and "A-01-01" in html(form)
    stocktake = open_blind(keeper, stocked, db)
    assert stocktake.is_blind and stocktake.warehouse_id == stocked.warehouse.id
    page = html(keeper.get(f"/stocktakes/{stocktake.id}"))
    assert 'id="blind-notice"' in page and 'id="count-sheet"' in page
    assert "Book qty" not in page and 'id="system-' not in page and 'id="variance-' not in page
    assert "T-2026-01" in page and 'id="counted-' in page
    response = post_count(keeper, stocktake, stocked.shelf, stocked.tent_batch, 9, "丢失一顶")
    assert response.status_code == 302
    assert re.search(rf"/stocktakes/{stocktake.id}\?show=all#line-\d+$", response.location)
    assert "(-1" not in html(keeper.get(f"/stocktakes/{stocktake.id}"))
    review = html(approver.get(f"/stocktakes/{stocktake.id}"))
    assert "Book qty" in review and 'id="system-' in review
    line = line_of(db, stocktake.id, stocked.shelf, stocked.tent_batch)
    assert re.search(rf'id="variance-{line.id}">\s*-1', review)


def test_count_submit_approve_through_the_pages(db, keeper, approver, stocked):
    s = stocked
    stocktake = open_blind(keeper, s, db)
    post_count(keeper, stocktake, s.shelf, s.tent_batch, 9, "丢失一顶")
    response = keeper.post(f"/stocktakes/{stocktake.id}/submit", follow_redirects=True)
    assert "still has uncounted lines: 2" in html(response)
    post_count(keeper, stocktake, s.shelf, s.quilt_batch, 5)
    post_count(keeper, stocktake, s.recv, s.quilt_batch, 3)
    response = keeper.post(f"/stocktakes/{stocktake.id}/submit", follow_redirects=True)
    assert "submitted for approval" in html(response)
    assert 'id="stocktake-approve"' not in html(response)
    page = html(approver.get(f"/stocktakes/{stocktake.id}"))
    assert 'id="stocktake-approve"' in page and 'id="stocktake-reject"' in page
    response = approver.post(f"/stocktakes/{stocktake.id}/approve", follow_redirects=True)
    assert "adjustments posted: 1" in html(response)
    db.expire_all()
    assert db.get(Stocktake, stocktake.id).status == StocktakeStatus.POSTED
    assert (
        db.scalar(
            select(StockBalance.qty).where(
                StockBalance.location_id == s.shelf.id, StockBalance.batch_id == s.tent_batch.id
            )
        )
        == 9
    )


def test_bad_counts_say_why_and_change_nothing(db, keeper, stocked):
    s = stocked
    stocktake = open_blind(keeper, s, db)
    for qty, message in (
        ("-1", "cannot be negative"),
        ("1.5", "integer"),
        ("abc", "integer"),
        ("", "Enter the counted quantity"),
        ("1000000001", "implausibly large"),
    ):
        response = post_count(keeper, stocktake, s.shelf, s.tent_batch, qty)
        assert response.status_code == 302, qty
        assert message in html(keeper.get(response.location)), qty
    response = keeper.post(
        f"/stocktakes/{stocktake.id}/count",
        data={
            "location_id": s.shelf.id,
            "batch_no": "NOPE",
            "material_code": s.tent.code,
            "counted_qty": "2",
        },
        follow_redirects=True,
    )
    assert "must be received first" in html(response)
    assert (
        db.scalar(
            select(func.count())
            .select_from(StocktakeLine)
            .where(
                StocktakeLine.stocktake_id == stocktake.id, StocktakeLine.counted_qty.is_not(None)
            )
        )
        == 0
    )


def test_found_stock_is_added_by_material_code_and_batch_number(db, keeper, stocked):
    s = stocked
    stocktake = open_blind(keeper, s, db)
    response = keeper.post(
        f"/stocktakes/{stocktake.id}/count",
        data={
            "location_id": s.recv.id,
            "batch_no": "T-2026-01",
            "material_code": s.tent.code,
            "counted_qty": "2",
            "reason": "收货区发现",
        },
    )
    assert response.status_code == 302
    line = line_of(db, stocktake.id, s.recv, s.tent_batch)
    assert line.is_found and line.counted_qty == 2


def test_approver_who_submitted_is_told_to_find_another(db, login_as, stocked):
    s = stocked
    boss = english(login_as(Role.ADMIN))
    response = boss.post("/stocktakes/new", data={"warehouse_id": s.warehouse.id, **WHOLE})
    stocktake = db.scalar(select(Stocktake).where(Stocktake.warehouse_id == s.warehouse.id))
    assert response.status_code == 302
    for location, batch, qty in (
        (s.shelf, s.tent_batch, 10),
        (s.shelf, s.quilt_batch, 5),
        (s.recv, s.quilt_batch, 3),
    ):
        post_count(boss, stocktake, location, batch, qty)
    boss.post(f"/stocktakes/{stocktake.id}/submit")
    page = html(boss.get(f"/stocktakes/{stocktake.id}"))
    assert 'id="segregation-note"' in page and 'id="stocktake-approve"' not in page
    response = boss.post(f"/stocktakes/{stocktake.id}/approve")
    # separation of duties: told why, back on the stocktake they can see (not the 403 page)
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/stocktakes/{stocktake.id}")
    assert "segregation of duties" in html(boss.get(response.headers["Location"]))
    db.expire_all()
    assert db.get(Stocktake, stocktake.id).status == StocktakeStatus.SUBMITTED


def test_reject_and_cancel(db, keeper, approver, stocked):
    s = stocked
    stocktake = service.open_stocktake(db, warehouse_id=s.warehouse.id, actor=s.keeper_actor)
    for location, batch, qty in (
        (s.shelf, s.tent_batch, 10),
        (s.shelf, s.quilt_batch, 5),
        (s.recv, s.quilt_batch, 3),
    ):
        post_count(keeper, stocktake, location, batch, qty)
    keeper.post(f"/stocktakes/{stocktake.id}/submit")
    response = approver.post(
        f"/stocktakes/{stocktake.id}/reject", data={"reason": ""}, follow_redirects=True
    )
    assert "Give the reason" in html(response)
    response = approver.post(
        f"/stocktakes/{stocktake.id}/reject", data={"reason": "请复盘A区"}, follow_redirects=True
    )
    assert "sent back" in html(response)
    page = html(keeper.get(f"/stocktakes/{stocktake.id}"))
    assert 'id="stocktake-rejected"' in page and "请复盘A区" in page
    keeper.post(f"/stocktakes/{stocktake.id}/cancel")
    db.expire_all()
    assert db.get(Stocktake, stocktake.id).status == StocktakeStatus.CANCELLED


def test_keeper_of_another_warehouse_gets_403(db, login_as, stocked):
    s = stocked
    stocktake = service.open_stocktake(db, warehouse_id=s.warehouse.id, actor=s.keeper_actor)
    stranger = login_as(Role.KEEPER)
    assert stranger.get(f"/stocktakes/{stocktake.id}").status_code == 403
    assert post_count(stranger, stocktake, s.shelf, s.tent_batch, 1).status_code == 403
    assert stranger.post(f"/stocktakes/{stocktake.id}/cancel").status_code == 403
    assert stocktake.no not in html(stranger.get("/stocktakes"))
    assert login_as(Role.KEEPER).get("/stocktakes/999999").status_code == 404
    dispatcher = login_as(Role.DISPATCHER)
    assert dispatcher.get(f"/stocktakes/{stocktake.id}").status_code == 200
    assert post_count(dispatcher, stocktake, s.shelf, s.tent_batch, 1).status_code == 403
    db.expire_all()
    assert line_of(db, stocktake.id, s.shelf, s.tent_batch).counted_qty is None


def test_keeper_cannot_open_in_a_warehouse_they_do_not_keep(db, keeper, make_warehouse):
    other = make_warehouse()
    response = keeper.post("/stocktakes/new", data={"warehouse_id": other.id, **WHOLE})
    assert response.status_code == 200 and "Not a valid choice" in html(response)
    assert db.scalar(select(func.count()).select_from(Stocktake)) == 0


def test_list_and_sheet_do_not_grow_queries_with_lines(
    db, keeper, stocked, make_batch, move, count_queries
):
    s = stocked
    stocktake = service.open_stocktake(db, warehouse_id=s.warehouse.id, actor=s.keeper_actor)
    with count_queries() as few:
        assert keeper.get(f"/stocktakes/{stocktake.id}").status_code == 200
        assert keeper.get("/stocktakes").status_code == 200
    service.cancel_stocktake(db, stocktake_id=stocktake.id, actor=s.keeper_actor)
    for n in range(20):
        move(s.shelf, make_batch(s.tent, f"N-{n}"), 1)
    bigger = service.open_stocktake(db, warehouse_id=s.warehouse.id, actor=s.keeper_actor)
    for line in db.scalars(select(StocktakeLine).where(StocktakeLine.stocktake_id == bigger.id)):
        service.record_count(
            db,
            stocktake_id=bigger.id,
            location_id=line.location_id,
            batch_id=line.batch_id,
            counted_qty=1,
            actor=s.keeper_actor,
        )
    with count_queries() as many:
        assert keeper.get(f"/stocktakes/{bigger.id}").status_code == 200
        assert keeper.get("/stocktakes").status_code == 200
    assert len(many) == len(few)


def test_approval_writes_movements_only_through_the_ledger(db, keeper, approver, stocked):
    s = stocked
    stocktake = service.open_stocktake(db, warehouse_id=s.warehouse.id, actor=s.keeper_actor)
    post_count(keeper, stocktake, s.shelf, s.tent_batch, 12, "多出两顶")
    post_count(keeper, stocktake, s.shelf, s.quilt_batch, 5)
    post_count(keeper, stocktake, s.recv, s.quilt_batch, 0, "全部遗失")
    keeper.post(f"/stocktakes/{stocktake.id}/submit")
    approver.post(f"/stocktakes/{stocktake.id}/approve")
    kinds = db.execute(
        select(StockMovement.kind, StockMovement.qty)
        .where(StockMovement.document_no == stocktake.no)
        .order_by(StockMovement.id)
    ).all()
    assert sorted(kinds) == [("gain", 2), ("loss", -3)]
