"""扫码解析 (reserve.labels.service.resolve): what each kind of label stands for, what the
scanning actor may do with it, and every refusal — each a clear error that changes nothing but
the audit log, and a bad code refused before any query."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from reserve.audit.models import AuditEntry
from reserve.errors import Forbidden, NotFound
from reserve.labels import printing
from reserve.labels.codes import BadCode, make_code
from reserve.labels.models import Label, LabelKind
from reserve.labels.service import COUNT, MOVE, VIEW, LabelRevoked, UnreadableCode, resolve
from reserve.stock.models import StockMovement
from reserve.stocktakes.service import open_stocktake


def _audit_count(db, action="refuse_code") -> int:
    entries = select(func.count()).select_from(AuditEntry)
    return db.scalar(entries.where(AuditEntry.action == action))


def _movements(db) -> int:
    return db.scalar(select(func.count()).select_from(StockMovement))


def test_a_stock_label_is_its_batch_at_its_location(db, world, key, count_queries):
    code = world.code(world.stock_label)
    with count_queries() as statements:
        target = resolve(db, world.keeper_actor, code.lower(), key=key)
    assert len(statements) == 1  # one statement, by primary key
    assert target.kind is LabelKind.STOCK and target.code == code and target.url == f"/s/{code}"
    assert (target.warehouse_code, target.location_code) == ("WH-L1", "A-01-01")
    assert (target.material_name, target.spec, target.unit) == ("单帐篷", "3×4米", "顶")
    assert (target.batch_no, target.qty, target.available, target.qty_at_label) == (
        "T-2026-01",
        40,
        40,
        40,
    )
    assert target.serial_item_id is None and target.expiry_state is None
    assert target.actions == (VIEW, MOVE)


def test_an_item_label_is_the_item_where_it_is_now(db, world, key):
    target = resolve(db, world.keeper_actor, world.code(world.item_label), key=key)
    assert target.kind is LabelKind.ITEM
    assert (target.serial_no, target.item_status, target.qty) == ("GEN-001", "in_stock", 1)
    assert (target.material_name, target.tracking, target.location_code) == (
        "柴油发电机",
        "serial",
        "A-01-01",
    )


def test_a_location_label_names_the_place_only(db, world, key):
    target = resolve(db, world.keeper_actor, world.code(world.location_label), key=key)
    assert target.kind is LabelKind.LOCATION
    assert (target.location_id, target.material_id, target.batch_id, target.qty) == (
        world.shelf.id,
        None,
        None,
        None,
    )
    assert target.actions == (VIEW,)


def test_a_viewer_may_look_but_not_move(db, world, key):
    target = resolve(db, world.viewer_actor, world.code(world.other_label), key=key)
    assert target.actions == (VIEW,) and target.warehouse_code == "WH-L2"


def test_count_is_offered_while_a_stocktake_covers_it(db, world, key, count_queries):
    stocktake = open_stocktake(db, warehouse_id=world.home.id, actor=world.keeper_actor)
    db.flush()
    target = resolve(db, world.keeper_actor, world.code(world.stock_label), key=key)
    assert target.actions == (VIEW, MOVE, COUNT)
    assert (target.stocktake_id, target.stocktake_no) == (stocktake.id, stocktake.no)
    # a viewer sees the same label, but counts nothing
    assert resolve(db, world.viewer_actor, world.code(world.stock_label), key=key).actions == (
        VIEW,
    )


@pytest.mark.parametrize(
    "text",
    ["", " ", "X" * 10_240, "not a code", "https://example.com/s/"],
)
def test_malformed_input_is_refused_before_any_query(db, world, key, count_queries, text):
    before = _audit_count(db)
    with count_queries() as statements, pytest.raises(UnreadableCode) as refused:
        resolve(db, world.keeper_actor, text, key=key)
    assert refused.value.reason == "malformed" and refused.value.status == 422
    assert isinstance(refused.value, BadCode)
    assert statements == []
    assert _audit_count(db) == before  # noise is not a forgery


def test_one_character_changed_is_refused_without_a_lookup_and_audited(
    db, world, key, count_queries
):
    code = world.code(world.stock_label)
    changed = code[:5] + ("Z" if code[5] != "Z" else "Y") + code[6:]
    before, moved = _audit_count(db), _movements(db)
    with count_queries() as statements, pytest.raises(UnreadableCode) as refused:
        resolve(db, world.keeper_actor, changed, key=key)
        db.flush()
    assert refused.value.reason == "mac"
    assert not [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    db.flush()
    assert _audit_count(db) == before + 1
    entry = db.scalars(select(AuditEntry).order_by(AuditEntry.id.desc())).first()
    assert (entry.username, entry.object_type, entry.object_label) == (
        world.keeper.username,
        "labels",
        changed,
    )
    assert _movements(db) == moved


def test_a_forged_code_of_another_key_is_refused(db, world, key):
    forged = make_code(world.stock_label.id, key=b"x" * 32)
    with pytest.raises(UnreadableCode) as refused:
        resolve(db, world.keeper_actor, forged, key=key)
    assert refused.value.reason == "mac"


def test_a_revoked_label_no_longer_scans(db, world, key):
    printing.revoke_label(
        db, label_id=world.stock_label.id, reason="受潮损坏", actor=world.keeper_actor
    )
    with pytest.raises(LabelRevoked) as refused:
        resolve(db, world.keeper_actor, world.code(world.stock_label), key=key)
    assert refused.value.status == 410 and "受潮损坏" in str(refused.value.message)


def test_a_label_of_another_warehouse_is_refused_to_its_non_keeper(db, world, key):
    with pytest.raises(Forbidden):
        resolve(db, world.keeper_actor, world.code(world.other_label), key=key)


def test_a_well_formed_code_of_no_label_is_not_found(db, world, key):
    top = db.scalar(select(func.max(Label.id)))
    with pytest.raises(NotFound):
        resolve(db, world.keeper_actor, make_code(top + 1000, key=key), key=key)


def test_an_item_issued_is_no_longer_here(db, world, key):
    from reserve.stock.ledger import DocumentRef, post_movement
    from reserve.stock.models import MovementKind

    post_movement(
        db,
        kind=MovementKind.ISSUE,
        location_id=world.shelf.id,
        batch_id=world.gen_batch.id,
        qty=-1,
        document=DocumentRef("test", None, "OUT", world.tent_batch.received_at.date()),
        actor=world.system,
        serial_nos=["GEN-001"],
    )
    target = resolve(db, world.keeper_actor, world.code(world.item_label), key=key)
    assert (target.item_status, target.qty, target.location_id) == ("issued", 0, None)
    assert MOVE not in target.actions
