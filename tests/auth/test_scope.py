"""One scope rule (仓库范围 / 企业范围), on ``Actor``: what every role may see and write, checked
on the rule itself, on the SQL it builds, and on the real services called directly (as the CLI
calls them, with no view or permission table in front); and a source scan that keeps the rule
in ``reserve.auth``."""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import func, select

from reserve.agreements.models import Enterprise
from reserve.agreements.queries import enterprise_choices, enterprise_search
from reserve.agreements.service import get_enterprise
from reserve.auth.actor import Actor
from reserve.auth.models import Role
from reserve.db import local_today
from reserve.disposals.lines import DisposalLineData
from reserve.disposals.models import Scrap
from reserve.disposals.scraps import request_scrap
from reserve.errors import Forbidden, NotFound
from reserve.receipts.models import Receipt, ReceiptStatus
from reserve.receipts.service import ReceiptData, ReceiptLineData, create_receipt, post_receipt
from reserve.stock import ledger
from reserve.stock.models import Batch, MovementKind, StockBalance, StockMove
from reserve.stock.service import move_stock
from reserve.stocktakes.counting import get_stocktake, may_count
from reserve.stocktakes.models import Stocktake
from reserve.stocktakes.service import open_stocktake
from reserve.warehouses.models import Location, Warehouse
from reserve.warehouses.queries import warehouse_choices
from reserve.warehouses.service import get_warehouse

TODAY = local_today()


@dataclass
class World:
    w1: Warehouse
    w2: Warehouse
    e1: Enterprise
    e2: Enterprise
    material: object
    places: dict  # warehouse id -> (from location, to location, batch)
    actors: dict[str, Actor]


# Who may do what. Columns: write W1, write W2, see W1, see W2, see E1, see E2.
# W1 is the warehouse the keepers keep (and the one the plain dispatcher carries); E1 is the
# enterprise user's own enterprise.
EXPECTED = {
    "admin": (True, True, True, True, True, True),
    "system": (True, True, True, True, True, True),  # the CLI and the demo loader
    "dispatcher": (False, False, True, True, True, True),
    "approver": (False, False, True, True, True, True),
    "keeper": (True, False, True, False, False, False),
    "viewer": (False, False, True, True, True, True),
    "enterprise": (False, False, False, False, True, False),
    # Any role may carry warehouses: a dispatcher with W1 but not the keeper role writes nowhere.
    "dispatcher_with_w1": (False, False, True, True, True, True),
    "keeper_dispatcher": (True, False, True, True, True, True),
}
ACTORS = sorted(EXPECTED)


@pytest.fixture
def world(db, make_warehouse, make_material, make_user, make_enterprise, system_actor) -> World:
    w1 = make_warehouse(code="WH-1", name="一号库")
    w2 = make_warehouse(code="WH-2", name="二号库")
    e1 = make_enterprise(name="济南一号代储企业", uscc="91370100MA3C4PYX8L")
    e2 = make_enterprise(name="济南二号代储企业", uscc="91370102MA3C4PYX8N")
    material = make_material("单帐篷", code="TENT-S")
    places = {}
    for warehouse in (w1, w2):
        a1 = db.scalar(
            select(Location).where(
                Location.warehouse_id == warehouse.id, Location.code == "A-01-01"
            )
        )
        a2 = Location(warehouse_id=warehouse.id, code="A-01-02")
        batch = Batch(material_id=material.id, batch_no=f"B-{warehouse.code}", source="purchase")
        db.add_all([a2, batch])
        db.flush()
        ledger.post_movement(
            db,
            kind=MovementKind.RECEIPT,
            location_id=a1.id,
            batch_id=batch.id,
            qty=20,
            document=ledger.DocumentRef("seed", None, None, TODAY),
            actor=system_actor,
        )
        places[warehouse.id] = (a1, a2, batch)

    def actor(*roles: Role, **fields) -> Actor:
        return Actor.for_user(make_user(*roles, **fields))

    actors = {
        "admin": actor(Role.ADMIN),
        "system": Actor.system("cli"),
        "dispatcher": actor(Role.DISPATCHER),
        "approver": actor(Role.APPROVER),
        "keeper": actor(Role.KEEPER, warehouses=[w1]),
        "viewer": actor(Role.VIEWER),
        "enterprise": actor(Role.ENTERPRISE, enterprise=e1),
        "dispatcher_with_w1": actor(Role.DISPATCHER, warehouses=[w1]),
        "keeper_dispatcher": actor(Role.KEEPER, Role.DISPATCHER, warehouses=[w1]),
    }
    assert actors["dispatcher_with_w1"].warehouse_ids == {w1.id}  # the case the rule is about
    return World(w1, w2, e1, e2, material, places, actors)


# The rule itself ------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ACTORS)
def test_the_rule_for_each_role(world, name):
    actor = world.actors[name]
    write1, write2, see1, see2, see_e1, see_e2 = EXPECTED[name]
    w1, w2 = world.w1.id, world.w2.id
    assert (actor.may_write(w1), actor.may_write(w2)) == (write1, write2)
    assert (actor.may_see(w1), actor.may_see(w2)) == (see1, see2)
    assert (actor.may_see_enterprise(world.e1.id), actor.may_see_enterprise(world.e2.id)) == (
        see_e1,
        see_e2,
    )
    writable = actor.writable_warehouse_ids()
    if write1 and write2:
        assert writable is None  # everywhere
    else:
        assert writable == frozenset(w for w, ok in ((w1, write1), (w2, write2)) if ok)
    assert not actor.may_write(None) or writable is None


@pytest.mark.parametrize("name", ACTORS)
def test_the_rule_refuses_with_forbidden(world, name):
    actor = world.actors[name]
    write1, write2, see1, see2, see_e1, see_e2 = EXPECTED[name]
    for allowed, check, arg in (
        (write1, actor.require_write, world.w1.id),
        (write2, actor.require_write, world.w2.id),
        (write1 and write2, actor.require_write, (world.w1.id, world.w2.id)),
        (see1, actor.require_see, world.w1.id),
        (see2, actor.require_see, world.w2.id),
        (see_e1, actor.require_see_enterprise, world.e1.id),
        (see_e2, actor.require_see_enterprise, world.e2.id),
    ):
        args = arg if isinstance(arg, tuple) else (arg,)
        if allowed:
            check(*args)
        else:
            with pytest.raises(Forbidden):
                check(*args)


@pytest.mark.parametrize("name", ACTORS)
def test_the_sql_clauses_for_each_role(db, world, name):
    actor = world.actors[name]
    write1, write2, see1, see2, see_e1, see_e2 = EXPECTED[name]
    ours = Warehouse.id.in_([world.w1.id, world.w2.id])

    def ids(clause) -> set[int]:
        return set(db.scalars(select(Warehouse.id).where(ours, clause)))

    assert ids(actor.visible(Warehouse.id)) == {
        w.id for w, ok in ((world.w1, see1), (world.w2, see2)) if ok
    }
    assert ids(actor.writable(Warehouse.id)) == {
        w.id for w, ok in ((world.w1, write1), (world.w2, write2)) if ok
    }
    enterprises = set(
        db.scalars(
            select(Enterprise.id).where(
                Enterprise.id.in_([world.e1.id, world.e2.id]),
                actor.visible_enterprise(Enterprise.id),
            )
        )
    )
    assert enterprises == {e.id for e, ok in ((world.e1, see_e1), (world.e2, see_e2)) if ok}


# The read side ------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ACTORS)
def test_reads_follow_the_rule(db, world, name):
    actor = world.actors[name]
    write1, write2, see1, see2, see_e1, see_e2 = EXPECTED[name]
    ours = {world.w1.id, world.w2.id}
    seen = {w.id for w, ok in ((world.w1, see1), (world.w2, see2)) if ok}
    written = {w.id for w, ok in ((world.w1, write1), (world.w2, write2)) if ok}
    assert {wid for wid, _ in warehouse_choices(db, actor)} & ours == seen
    assert {wid for wid, _ in warehouse_choices(db, actor, kept_only=True)} & ours == written
    for warehouse, ok in ((world.w1, see1), (world.w2, see2)):
        if ok:
            assert get_warehouse(db, warehouse.id, actor=actor) is warehouse
        else:
            with pytest.raises(Forbidden):
                get_warehouse(db, warehouse.id, actor=actor)
    listed = set(
        db.scalars(enterprise_search(actor=actor, status=None).with_only_columns(Enterprise.id))
    )
    assert listed == {e.id for e, ok in ((world.e1, see_e1), (world.e2, see_e2)) if ok}
    assert {eid for eid, _ in enterprise_choices(db, actor)} == listed
    for enterprise, ok in ((world.e1, see_e1), (world.e2, see_e2)):
        if ok:
            assert get_enterprise(db, enterprise.id, actor=actor) is enterprise
        else:  # an enterprise user: another's is "no such enterprise"; no sight at all: 403
            with pytest.raises(NotFound if Role.ENTERPRISE in actor.roles else Forbidden):
                get_enterprise(db, enterprise.id, actor=actor)


def test_without_an_actor_the_choices_are_every_warehouse_and_enterprise(db, world):
    """Assigning keepers or an enterprise to a user lists them all (no reader's scope)."""
    assert {world.w1.id, world.w2.id} <= {wid for wid, _ in warehouse_choices(db)}
    assert {world.e1.id, world.e2.id} <= {eid for eid, _ in enterprise_choices(db)}


# The services, called directly ----------------------------------------------------------------


def _receipt_count(db) -> int:
    return db.scalar(select(func.count()).select_from(Receipt))


@pytest.mark.parametrize("name", ACTORS)
@pytest.mark.parametrize("which", ["w1", "w2"])
def test_post_a_receipt(db, world, name, which):
    actor = world.actors[name]
    warehouse = getattr(world, which)
    allowed = actor.may_write(warehouse.id)
    assert allowed == EXPECTED[name][0 if which == "w1" else 1]
    a1, _a2, _batch = world.places[warehouse.id]
    data = ReceiptData(
        warehouse_id=warehouse.id,
        source="purchase",
        document_date=TODAY,
        lines=(
            ReceiptLineData(
                material_id=world.material.id, batch_no="NEW", qty=5, location_id=a1.id
            ),
        ),
    )
    before = _receipt_count(db)
    if not allowed:
        with pytest.raises(Forbidden):
            create_receipt(db, data=data, actor=actor)
        assert _receipt_count(db) == before
        return
    receipt = post_receipt(
        db, receipt_id=create_receipt(db, data=data, actor=actor).id, actor=actor
    )
    assert receipt.status == ReceiptStatus.POSTED.value
    assert receipt.warehouse_id == warehouse.id
    assert _receipt_count(db) == before + 1


@pytest.mark.parametrize("name", ACTORS)
def test_post_someone_elses_draft(db, world, name):
    """Posting checks the scope again: a draft written by the admin in W1 is posted only by
    someone who writes in W1."""
    actor = world.actors[name]
    a1, _a2, _batch = world.places[world.w1.id]
    draft = create_receipt(
        db,
        data=ReceiptData(
            warehouse_id=world.w1.id,
            source="purchase",
            document_date=TODAY,
            lines=(
                ReceiptLineData(
                    material_id=world.material.id, batch_no="NEW", qty=5, location_id=a1.id
                ),
            ),
        ),
        actor=world.actors["admin"],
    )
    if EXPECTED[name][0]:
        assert post_receipt(db, receipt_id=draft.id, actor=actor).status == "posted"
    else:
        with pytest.raises(Forbidden):
            post_receipt(db, receipt_id=draft.id, actor=actor)
        assert db.get(Receipt, draft.id).status == ReceiptStatus.DRAFT.value


@pytest.mark.parametrize("name", ACTORS)
@pytest.mark.parametrize("which", ["w1", "w2"])
def test_start_a_stocktake(db, world, name, which):
    actor = world.actors[name]
    warehouse = getattr(world, which)
    allowed = EXPECTED[name][0 if which == "w1" else 1]
    count = select(func.count()).select_from(Stocktake)
    before = db.scalar(count)
    if not allowed:
        with pytest.raises(Forbidden):
            open_stocktake(db, warehouse_id=warehouse.id, actor=actor)
        assert db.scalar(count) == before
        return
    stocktake = open_stocktake(db, warehouse_id=warehouse.id, actor=actor)
    assert stocktake.warehouse_id == warehouse.id and db.scalar(count) == before + 1
    assert may_count(actor, stocktake)
    assert get_stocktake(db, stocktake.id, actor=actor) is stocktake


@pytest.mark.parametrize("name", ACTORS)
def test_see_and_count_a_stocktake_of_w2(db, world, name):
    actor = world.actors[name]
    stocktake = open_stocktake(db, warehouse_id=world.w2.id, actor=world.actors["admin"])
    _w1, write2, _s1, see2, *_ = EXPECTED[name]
    assert may_count(actor, stocktake) == write2
    if see2:
        assert get_stocktake(db, stocktake.id, actor=actor) is stocktake
    else:
        with pytest.raises(Forbidden):
            get_stocktake(db, stocktake.id, actor=actor)


def _balance(db, location, batch) -> int:
    return db.scalar(
        select(StockBalance.qty).where(
            StockBalance.location_id == location.id, StockBalance.batch_id == batch.id
        )
    )


@pytest.mark.parametrize("name", ACTORS)
@pytest.mark.parametrize("which", ["w1", "w2"])
def test_move_stock(db, world, name, which):
    actor = world.actors[name]
    warehouse = getattr(world, which)
    allowed = EXPECTED[name][0 if which == "w1" else 1]
    a1, a2, batch = world.places[warehouse.id]

    def move():
        return move_stock(
            db,
            warehouse_id=warehouse.id,
            from_location_id=a1.id,
            to_location_id=a2.id,
            batch_id=batch.id,
            qty=3,
            actor=actor,
        )

    if not allowed:
        with pytest.raises(Forbidden):
            move()
        assert _balance(db, a1, batch) == 20
        assert db.scalar(select(func.count()).select_from(StockMove)) == 0
        return
    move()
    assert (_balance(db, a1, batch), _balance(db, a2, batch)) == (17, 3)


@pytest.mark.parametrize("name", ACTORS)
@pytest.mark.parametrize("which", ["w1", "w2"])
def test_request_a_scrap(db, world, name, which):
    actor = world.actors[name]
    warehouse = getattr(world, which)
    allowed = EXPECTED[name][0 if which == "w1" else 1]
    a1, _a2, batch = world.places[warehouse.id]

    def request():
        return request_scrap(
            db,
            warehouse_id=warehouse.id,
            reason="damaged",
            document_date=TODAY,
            lines=(DisposalLineData(location_id=a1.id, batch_id=batch.id, qty=2),),
            actor=actor,
        )

    count = select(func.count()).select_from(Scrap)
    if not allowed:
        with pytest.raises(Forbidden):
            request()
        assert db.scalar(count) == 0
        return
    scrap = request()
    assert scrap.warehouse_id == warehouse.id and db.scalar(count) == 1


def test_a_dispatcher_carrying_a_warehouse_passes_no_service_check(db, world):
    """The bug behind the rule: any role may carry warehouses, and the services used to check
    only the ids, so a dispatcher with W1 could post into W1 from the CLI. (Fails on c993e02^.)"""
    dispatcher = world.actors["dispatcher_with_w1"]
    a1, a2, batch = world.places[world.w1.id]
    data = ReceiptData(
        warehouse_id=world.w1.id,
        source="purchase",
        document_date=TODAY,
        lines=(
            ReceiptLineData(material_id=world.material.id, batch_no="X", qty=1, location_id=a1.id),
        ),
    )
    with pytest.raises(Forbidden):
        create_receipt(db, data=data, actor=dispatcher)
    with pytest.raises(Forbidden):
        open_stocktake(db, warehouse_id=world.w1.id, actor=dispatcher)
    with pytest.raises(Forbidden):
        move_stock(
            db,
            warehouse_id=world.w1.id,
            from_location_id=a1.id,
            to_location_id=a2.id,
            batch_id=batch.id,
            qty=1,
            actor=dispatcher,
        )
    with pytest.raises(Forbidden):
        request_scrap(
            db,
            warehouse_id=world.w1.id,
            reason="damaged",
            document_date=TODAY,
            lines=(DisposalLineData(location_id=a1.id, batch_id=batch.id, qty=1),),
            actor=dispatcher,
        )
    assert _balance(db, a1, batch) == 20 and _receipt_count(db) == 0


# The source scan ------------------------------------------------------------------------------

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "reserve"

# Deciding scope by hand is allowed only here: the rule itself, the user administration that
# edits a user's kept warehouses and enterprise, the API's "me" (which reports the scope), and
# the demo loader (which assigns it).
ALLOWED = {
    "reserve/api/core.py",
    "reserve/demo/__init__.py",
    "reserve/demo/stock.py",
}
ALLOWED_PACKAGES = ("reserve/auth/",)

# PENDING: files that still decide scope by hand on this branch only because other engineers
# are converting them to Actor.require_write / visible() at the same time (the document
# services and the views). The lead empties this list at merge; an entry that no longer
# offends fails test_the_pending_list_is_not_stale, so it cannot linger.
PENDING: set[str] = set()

RULE_METHODS = {"visible_warehouse_ids", "require_keeps", "sees_all_warehouses"}
ROLE_TESTS = {"has_role", "require_role", "roles", "is_admin"}


def _text(node: ast.AST) -> str:
    return ast.unparse(node)


def _mentions_warehouse(node: ast.AST) -> bool:
    return any(
        (isinstance(n, ast.Name) and "warehouse" in n.id)
        or (isinstance(n, ast.Attribute) and "warehouse" in n.attr)
        for n in ast.walk(node)
    )


def _tests_roles(node: ast.AST) -> bool:
    return any(isinstance(n, ast.Attribute) and n.attr in ROLE_TESTS for n in ast.walk(node))


def scope_offences(source: str) -> list[tuple[int, str]]:
    """Places in ``source`` that decide warehouse scope by themselves."""
    found: list[tuple[int, str]] = []
    tree = ast.parse(source)
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute):
            if node.attr == "warehouse_ids" and "form" not in _text(node.value):
                found.append((node.lineno, f"reads {_text(node)}"))
            elif node.attr in RULE_METHODS:
                found.append((node.lineno, f"uses {_text(node)}"))
            elif node.attr == "KEEPER" and _text(node.value) == "Role":
                found.append((node.lineno, "tests the keeper role"))
        # A role test next to a warehouse: in one condition (and, or, if-else), or a role
        # test guarding a block that touches a warehouse.
        if isinstance(node, ast.If | ast.While):
            test, scope = node.test, [node.test, *node.body]
        elif isinstance(node, ast.IfExp | ast.Assert):
            test, scope = node.test, [node]
        elif isinstance(node, ast.BoolOp):
            test, scope = node, [node]
        else:
            continue
        if _tests_roles(test) and any(_mentions_warehouse(part) for part in scope):
            found.append((node.lineno, f"role test next to a warehouse: {_text(test)}"))
    return sorted(set(found))


def _offenders() -> dict[str, list[str]]:
    offenders: dict[str, list[str]] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(ROOT).as_posix()
        if rel in ALLOWED or rel.startswith(ALLOWED_PACKAGES):
            continue
        found = scope_offences(path.read_text(encoding="utf-8"))
        if found:
            offenders[rel] = [f"{rel}:{line}: {what}" for line, what in found]
    return offenders


def test_nothing_outside_auth_decides_warehouse_scope():
    offenders = {rel: lines for rel, lines in _offenders().items() if rel not in PENDING}
    assert offenders == {}, "ask Actor (may_write / require_write / visible(column)):\n" + (
        "\n".join(line for lines in offenders.values() for line in lines)
    )


def test_the_pending_list_is_not_stale():
    still = set(_offenders())
    stale = sorted(PENDING - still)
    assert stale == [], f"these files follow the rule now: remove them from PENDING: {stale}"


@pytest.mark.parametrize(
    "source",
    [
        "visible = actor.visible_warehouse_ids()",
        "actor.require_keeps([warehouse.id])",
        "ids = actor.warehouse_ids",
        "stmt = stmt.where(Warehouse.id.in_(current_user.warehouse_ids))",
        "ok = actor.has_role(Role.KEEPER)",
        "if actor.has_role(Role.ADMIN) or receipt.warehouse_id in kept:\n    pass",
        "ok = actor.is_admin or warehouse_id in kept",
        "if Role.ADMIN in actor.roles:\n    stmt = stmt.where(Stock.warehouse_id == 1)",
    ],
)
def test_the_scan_catches_a_hand_made_rule(source):
    assert scope_offences(source), source


@pytest.mark.parametrize(
    "source",
    [
        "stmt = stmt.where(actor.visible(Receipt.warehouse_id))",
        "actor.require_write(receipt.warehouse_id)",
        "form.warehouse_ids.choices = warehouse_choices(db.session)",
        "actor.require_role(Role.ADMIN)",
        "if actor.has_role(Role.APPROVER):\n    return True",
        "ids = sorted(set(warehouse_ids))",
    ],
)
def test_the_scan_lets_the_rule_pass(source):
    assert scope_offences(source) == [], source
