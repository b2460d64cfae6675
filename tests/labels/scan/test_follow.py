"""标签随货: a carton label printed for a batch at a location opens the batch where it is now
after the stock moves — all of it (the label follows), part of it (the label stays with what is
left), or by another path than a move (a stocktake's loss here and gain there: the resolver
finds the one place holding the batch)."""

from __future__ import annotations

from datetime import date
from urllib.parse import parse_qs, urlsplit

import sqlalchemy as sa

from reserve.audit.models import AuditEntry
from reserve.auth.models import Role
from reserve.labels import printing
from reserve.labels.models import Label
from reserve.labels.pdf import label_sheet_pdf
from reserve.labels.queries import label_cards
from reserve.labels.service import MOVE, resolve
from reserve.stock import ledger
from reserve.stock.models import MovementKind
from reserve.stock.service import move_stock
from tests.labels.conftest import read_pdf

OP = "f0110a5e-7b1f-4c3a-8e6d-2f1a0b9c8d7e"


def _print(db, world, copies=2) -> list[Label]:
    """Carton labels for the 10 tents at A-01-01, as a keeper prints them."""
    return printing.label_stock(
        db,
        requests=[printing.StockLabelRequest(world.a1.id, world.batch.id, copies, 10 // copies)],
        actor=world.actor,
    )


def _move(db, world, source, target, qty):
    return move_stock(
        db,
        warehouse_id=world.warehouse.id,
        from_location_id=source.id,
        to_location_id=target.id,
        batch_id=world.batch.id,
        qty=qty,
        actor=world.actor,
    )


def _where(db, world, label, key):
    target = resolve(db, world.actor, world.code(label), key=key)
    return target.location_code, target.qty, target.labelled_location_code


def test_a_printed_label_follows_a_move_of_all_of_it(app, db, scan_world, scan_key, tmp_path):
    world = scan_world
    cartons = _print(db, world)
    cards = label_cards(
        db, [c.id for c in cartons], key=scan_key, base_url=app.config["PUBLIC_BASE_URL"]
    )
    pages, text = read_pdf(label_sheet_pdf(cards, layout="a4-3x8", start=1), tmp_path)
    assert sorted(pages[0]) == sorted(card.url for card in cards) and "A-01-01" in text
    revoked = _print(db, world, copies=1)[0]
    printing.revoke_label(db, label_id=revoked.id, reason="损坏", actor=world.actor)
    move = _move(db, world, world.a1, world.a2, 10)
    for carton in cartons:  # the code printed on it opens the batch at A-01-02, all 10 there
        assert _where(db, world, carton, scan_key) == ("A-01-02", 10, None)
        assert MOVE in resolve(db, world.actor, world.code(carton), key=scan_key).actions
    assert db.get(Label, revoked.id).location_id == world.a1.id  # a revoked one stays put
    assert db.get(Label, world.stock.id).location_id == world.a2.id  # the world's own label too
    entry = db.scalar(sa.select(AuditEntry).where(AuditEntry.action == "follow"))
    assert entry.object_label == move.no and entry.after["labels"] == 3
    assert entry.after["location_id"] == world.a2.id


def test_a_partial_move_leaves_the_labels_with_what_is_left(db, scan_world, scan_key):
    world = scan_world
    cartons = _print(db, world)
    _move(db, world, world.a1, world.a2, 4)
    assert [_where(db, world, c, scan_key) for c in cartons] == [("A-01-01", 6, None)] * 2
    assert db.scalar(sa.select(sa.func.count()).where(AuditEntry.action == "follow")) == 0
    _move(db, world, world.a1, world.b1, 6)  # then the rest goes elsewhere: the labels go too
    assert [_where(db, world, c, scan_key) for c in cartons] == [("B-01-01", 6, None)] * 2


def test_a_move_back_and_forth_keeps_the_labels_with_the_goods(db, scan_world, scan_key):
    world = scan_world
    (carton,) = _print(db, world, copies=1)
    _move(db, world, world.a1, world.b1, 10)
    _move(db, world, world.b1, world.a2, 10)
    _move(db, world, world.a2, world.a1, 3)  # part back: the label stays at A-01-02 with 7
    assert _where(db, world, carton, scan_key) == ("A-01-02", 7, None)


def test_stock_gone_by_another_path_resolves_to_where_the_batch_is(
    db, scan_world, scan_key, count_queries
):
    """A stocktake found the tents at B-01-01, not A-01-01 (盘亏 there, 盘盈 here): no move, so
    no label followed; the scan finds the one location holding the batch."""
    world = scan_world
    (carton,) = _print(db, world, copies=1)
    for kind, place, qty in ((MovementKind.LOSS, world.a1, -10), (MovementKind.GAIN, world.b1, 10)):
        ledger.post_movement(
            db,
            kind=kind,
            location_id=place.id,
            batch_id=world.batch.id,
            qty=qty,
            document=ledger.DocumentRef("stocktake", None, "PD-TEST", date.today()),
            actor=world.actor,
        )
    with count_queries() as statements:
        assert _where(db, world, carton, scan_key) == ("B-01-01", 10, "A-01-01")
    assert len(statements) == 2  # the label, then where its batch is
    assert db.get(Label, carton.id).location_id == world.a1.id  # a scan writes nothing
    # at two places now: which one holds the carton is not known, the label keeps its own
    _move(db, world, world.b1, world.a2, 4)
    target = resolve(db, world.actor, world.code(carton), key=scan_key)
    assert (target.location_code, target.qty, target.actions) == ("A-01-01", 0, ("view",))


def test_the_scan_page_moves_a_carton_and_finds_it_where_it_went(login_as, db, scan_world):
    world = scan_world
    keeper = login_as(Role.KEEPER, warehouses=[world.warehouse])
    form = {"operation_id": OP, "code": world.stock_code, "to": world.b1_code, "qty": "10"}
    response = keeper.post("/scan/moves.json", data=form)
    assert response.status_code == 200, response.get_json()
    looked = keeper.get("/scan/resolve.json", query_string={"code": world.stock_code}).get_json()
    assert (looked["location"]["code"], looked["qty"]) == ("B-01-01", 10)
    assert looked["actions"] == ["view", "move"]
    again = {**form, "operation_id": OP[:-1] + "1", "to": world.a2_code, "qty": "3"}
    assert keeper.post("/scan/moves.json", data=again).status_code == 200  # from B-01-01
    looked = keeper.get("/scan/resolve.json", query_string={"code": world.stock_code}).get_json()
    assert (looked["location"]["code"], looked["qty"]) == ("B-01-01", 7)
    opened = keeper.get(f"/s/{world.stock_code}")
    query = parse_qs(urlsplit(opened.location).query)
    assert query["batch"] == [str(world.batch.id)]
    assert "B-01-01" in keeper.get(opened.location).get_data(as_text=True)


def test_the_scan_page_says_where_a_label_was_printed_when_its_batch_is_elsewhere(
    login_as, db, scan_world
):
    world = scan_world
    for kind, place, qty in ((MovementKind.LOSS, world.a1, -10), (MovementKind.GAIN, world.b1, 10)):
        ledger.post_movement(
            db,
            kind=kind,
            location_id=place.id,
            batch_id=world.batch.id,
            qty=qty,
            document=ledger.DocumentRef("stocktake", None, "PD-TEST", date.today()),
            actor=world.actor,
        )
    keeper = login_as(Role.KEEPER, warehouses=[world.warehouse])
    looked = keeper.get("/scan/resolve.json", query_string={"code": world.stock_code}).get_json()
    assert (looked["location"]["code"], looked["qty"], looked["labelled_location_code"]) == (
        "B-01-01",
        10,
        "A-01-01",
    )
    page = keeper.get("/scan").get_data(as_text=True)
    assert "labelledAt" in page  # the page's script names it


def test_a_queued_move_of_stock_that_moved_meanwhile_is_a_conflict(login_as, db, scan_world):
    """Offline, the keeper scanned the carton at A-01-01; before the move arrives, all of it
    went to A-01-02 and its label followed. The queued move says where it was seen, so it comes
    back as a conflict instead of moving the goods from a place the keeper never saw."""
    world = scan_world
    keeper = login_as(Role.KEEPER, warehouses=[world.warehouse])
    queued = {
        "operation_id": OP,
        "code": world.stock_code,
        "to": world.b1_code,
        "qty": "4",
        "seen_at": "a-01-01",  # as the scan page saw it (any case)
    }
    _move(db, world, world.a1, world.a2, 10)  # meanwhile, another keeper moves all of it
    movements = db.scalar(sa.select(sa.func.count()).select_from(ledger.StockMovement))
    response = keeper.post("/scan/moves.json", data=queued, headers={"Accept": "application/json"})
    assert response.status_code == 409, response.get_json()
    message = response.get_json()["message"]
    assert "A-01-01" in message and "A-01-02" in message and "没有移动" in message
    assert db.scalar(sa.select(sa.func.count()).select_from(ledger.StockMovement)) == movements
    # scanned again where it is, the same move goes through, once
    again = {**queued, "operation_id": OP[:-1] + "2", "seen_at": "A-01-02"}
    assert keeper.post("/scan/moves.json", data=again).status_code == 200
    assert keeper.post("/scan/moves.json", data=again).status_code == 200  # a replay
    assert db.scalar(sa.select(sa.func.count()).select_from(ledger.StockMovement)) == movements + 2
