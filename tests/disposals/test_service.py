from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from reserve.audit.models import AuditEntry
from reserve.auth.models import Role
from reserve.disposals import queries, rotations, scraps
from reserve.disposals.lines import DisposalLineData
from reserve.disposals.models import Disposition, RotationStatus, ScrapReason, ScrapStatus
from reserve.errors import Conflict, Forbidden, InsufficientStock, ValidationError
from reserve.receipts.models import Receipt
from reserve.stock import ledger
from reserve.stock.ledger import PeriodClosed
from reserve.stock.models import ClosedMonth, ItemStatus, MovementKind, SerialItem, StockMovement
from reserve.warehouses.models import Location
from tests.disposals.conftest import days


@pytest.fixture
def setup(db, make_user, make_warehouse, make_material, put_stock, actor_for):
    """A warehouse with 20 tents near expiry, kept by a keeper; an approver."""
    warehouse = make_warehouse()
    tent = make_material("单帐篷", near_expiry_days=90)
    location, batch = put_stock(tent, warehouse, 20, expiry_date=days(30))
    keeper = actor_for(make_user(Role.KEEPER, warehouses=[warehouse]))
    approver = actor_for(make_user(Role.APPROVER))
    return dict(
        warehouse=warehouse,
        tent=tent,
        location=location,
        batch=batch,
        keeper=keeper,
        approver=approver,
    )


def _line(s, qty=5, **changes):
    fields = dict(location_id=s["location"].id, batch_id=s["batch"].id, qty=qty)
    fields.update(changes)
    return DisposalLineData(**fields)


def _rotation(db, s, *lines, **changes):
    fields = dict(
        warehouse_id=s["warehouse"].id,
        disposition=Disposition.SOLD.value,
        document_date=days(0),
        lines=lines or (_line(s),),
        actor=s["keeper"],
        counterparty="济南市某超市",
    )
    fields.update(changes)
    return rotations.create_rotation(db, **fields)


def _scrap(db, s, *lines, **changes):
    fields = dict(
        warehouse_id=s["warehouse"].id,
        reason=ScrapReason.DAMAGED.value,
        document_date=days(0),
        lines=lines or (_line(s),),
        actor=s["keeper"],
    )
    fields.update(changes)
    return scraps.request_scrap(db, **fields)


# Candidates ---------------------------------------------------------------------------------


def test_candidates_show_near_expiry_and_expired_not_fresh(
    db, setup, make_material, put_stock, make_category
):
    s = setup
    _l2, expired = put_stock(s["tent"], s["warehouse"], 4, expiry_date=days(-5))
    put_stock(s["tent"], s["warehouse"], 7, expiry_date=days(400))
    put_stock(s["tent"], s["warehouse"], 9, expiry_date=None)
    quilt = make_material("棉被", category=make_category("1010200"), near_expiry_days=10)
    put_stock(quilt, s["warehouse"], 3, expiry_date=days(30))  # outside the quilt's 10 days

    page = queries.rotation_candidates(db, s["keeper"])
    rows = [(r.batch_no, r.days_left, r.available) for r in page.items]
    assert rows == [(expired.batch_no, -5, 4), (s["batch"].batch_no, 30, 20)]
    assert page.items[0].is_expired and not page.items[1].is_expired

    wider = queries.rotation_candidates(db, s["keeper"], horizon_days=365)
    assert {r.material_name for r in wider.items} == {"单帐篷", "棉被"}
    assert len(wider.items) == 3
    only_expired = queries.rotation_candidates(db, s["keeper"], horizon_days=0)
    assert [r.days_left for r in only_expired.items] == [-5]
    by_category = queries.rotation_candidates(
        db, s["keeper"], horizon_days=365, category_code="1010200"
    )
    assert [r.material_name for r in by_category.items] == ["棉被"]


def test_candidates_are_scoped_and_leave_out_reserved_stock(
    db, setup, make_user, make_warehouse, actor_for
):
    s = setup
    other = actor_for(make_user(Role.KEEPER, warehouses=[make_warehouse()]))
    assert len(queries.rotation_candidates(db, other).items) == 0
    viewer = actor_for(make_user(Role.VIEWER))
    assert len(queries.rotation_candidates(db, viewer).items) == 1
    assert len(queries.rotation_candidates(db, viewer, warehouse_id=-1).items) == 0

    ledger.reserve(
        db,
        location_id=s["location"].id,
        batch_id=s["batch"].id,
        qty=20,
        document=ledger.DocumentRef("test", None, None, date.today()),
        line_id=None,
        actor=s["keeper"],
    )
    assert len(queries.rotation_candidates(db, viewer).items) == 0


# Rotation -----------------------------------------------------------------------------------


def test_rotation_posts_rotate_out_and_the_balance_drops(db, setup, balance):
    s = setup
    rotation = _rotation(db, s, _line(s, 8))
    assert rotation.status == RotationStatus.DRAFT.value and rotation.no.startswith("LH")
    assert balance(s["location"], s["batch"]) == 20  # a draft takes nothing
    rotations.post_rotation(db, rotation_id=rotation.id, actor=s["keeper"])
    assert rotation.status == RotationStatus.POSTED.value and rotation.posted_at
    assert balance(s["location"], s["batch"]) == 12
    movement = db.scalar(sa.select(StockMovement).where(StockMovement.document_type == "rotation"))
    assert (movement.kind, movement.qty, movement.document_no) == (
        MovementKind.ROTATE_OUT.value,
        -8,
        rotation.no,
    )
    actions = db.scalars(
        sa.select(AuditEntry.action)
        .where(AuditEntry.object_type == "rotations")
        .order_by(AuditEntry.id)
    ).all()
    assert actions == ["create", "post"]


def test_posting_a_rotation_twice_is_refused(db, setup, ledger_state):
    s = setup
    rotation = _rotation(db, s)
    rotations.post_rotation(db, rotation_id=rotation.id, actor=s["keeper"])
    before = ledger_state()
    with pytest.raises(Conflict, match="already posted"):
        rotations.post_rotation(db, rotation_id=rotation.id, actor=s["keeper"])
    assert ledger_state() == before


def test_rotation_of_serial_items_issues_them(db, setup, make_material, put_stock, balance):
    s = setup
    pump = make_material("排水泵", unit="台", tracking="serial", near_expiry_days=90)
    location, batch = put_stock(
        pump, s["warehouse"], 3, expiry_date=days(10), serial_nos=("P-1", "P-2", "P-3")
    )
    rotation = _rotation(
        db,
        s,
        DisposalLineData(location.id, batch.id, 2, ("P-3", "P-1")),
        disposition=Disposition.DRILL.value,
    )
    assert rotation.lines[0].serial_nos == ["P-1", "P-3"]
    rotations.post_rotation(db, rotation_id=rotation.id, actor=s["keeper"])
    statuses = dict(db.execute(sa.select(SerialItem.serial_no, SerialItem.status)).all())
    assert statuses == {"P-1": "issued", "P-2": "in_stock", "P-3": "issued"}
    assert balance(location, batch) == 1


def test_posting_fails_cleanly_when_the_stock_has_gone(db, setup, ledger_state):
    s = setup
    first = _rotation(db, s, _line(s, 15))
    second = _rotation(db, s, _line(s, 5), _line(s, 10))  # checked when both were there
    rotations.post_rotation(db, rotation_id=first.id, actor=s["keeper"])
    before = ledger_state()
    with pytest.raises(InsufficientStock) as error, db.begin_nested():
        rotations.post_rotation(db, rotation_id=second.id, actor=s["keeper"])
    message = str(error.value.message)
    assert "单帐篷" in message and "A-01-01" in message and "0 顶 available" in message
    db.expire_all()
    assert ledger_state() == before
    assert second.status == RotationStatus.DRAFT.value


def test_link_replacement_needs_a_receipt_of_the_same_warehouse(db, setup, make_warehouse):
    s = setup
    rotation = _rotation(db, s)

    def receipt(warehouse, no, status="posted"):
        row = Receipt(
            no=no,
            warehouse_id=warehouse.id,
            source="purchase",
            document_date=days(0),
            status=status,
            created_by_name="test",
        )
        db.add(row)
        db.flush()
        return row

    here = receipt(s["warehouse"], "RK-HERE")
    there = receipt(make_warehouse(), "RK-THERE")
    cancelled = receipt(s["warehouse"], "RK-GONE", status="cancelled")
    with pytest.raises(ValidationError, match="RK-THERE is for another warehouse"):
        rotations.link_replacement(
            db, rotation_id=rotation.id, receipt_id=there.id, actor=s["keeper"]
        )
    with pytest.raises(ValidationError, match="RK-GONE is cancelled"):
        rotations.link_replacement(
            db, rotation_id=rotation.id, receipt_id=cancelled.id, actor=s["keeper"]
        )
    with pytest.raises(ValidationError, match="No such receipt"):
        rotations.link_replacement(
            db, rotation_id=rotation.id, receipt_id=999_999, actor=s["keeper"]
        )
    assert rotation.replacement_receipt_id is None
    rotations.link_replacement(db, rotation_id=rotation.id, receipt_id=here.id, actor=s["keeper"])
    assert rotation.replacement_receipt_id == here.id
    assert queries.receipt_no(db, here.id) == "RK-HERE"
    assert queries.receipt_options(db, s["warehouse"].id) == [(here.id, "RK-HERE")]
    linked = _rotation(db, s, replacement_receipt_id=here.id)  # or at creation
    assert linked.replacement_receipt_id == here.id


# Scrap --------------------------------------------------------------------------------------


def test_scrap_request_approve_post(db, setup, balance):
    s = setup
    scrap = _scrap(db, s, _line(s, 6), reason=ScrapReason.EXPIRED.value)
    assert scrap.status == ScrapStatus.REQUESTED.value and scrap.no.startswith("BF")
    assert balance(s["location"], s["batch"]) == 20  # requesting reserves nothing
    scraps.approve_scrap(db, scrap_id=scrap.id, actor=s["approver"], note="同意")
    assert scrap.status == ScrapStatus.APPROVED.value and scrap.decision_note == "同意"
    scraps.post_scrap(db, scrap_id=scrap.id, actor=s["keeper"])
    assert scrap.status == ScrapStatus.POSTED.value
    assert balance(s["location"], s["batch"]) == 14
    movement = db.scalar(sa.select(StockMovement).where(StockMovement.document_type == "scrap"))
    assert (movement.kind, movement.qty) == (MovementKind.SCRAP.value, -6)
    actions = db.scalars(
        sa.select(AuditEntry.action)
        .where(AuditEntry.object_type == "scraps")
        .order_by(AuditEntry.id)
    ).all()
    assert actions == ["request", "approve", "post"]
    with pytest.raises(Conflict, match="already posted"):
        scraps.post_scrap(db, scrap_id=scrap.id, actor=s["keeper"])
    assert balance(s["location"], s["batch"]) == 14


def test_scrapped_serial_items_are_marked(db, setup, make_material, put_stock):
    s = setup
    generator = make_material("发电机", unit="台", tracking="serial")
    location, batch = put_stock(generator, s["warehouse"], 2, serial_nos=("G-1", "G-2"))
    scrap = _scrap(db, s, DisposalLineData(location.id, batch.id, 1, ("G-2",)))
    scraps.approve_scrap(db, scrap_id=scrap.id, actor=s["approver"])
    scraps.post_scrap(db, scrap_id=scrap.id, actor=s["keeper"])
    item = db.scalar(sa.select(SerialItem).where(SerialItem.serial_no == "G-2"))
    assert item.status == "scrapped"


def test_the_requester_cannot_approve_their_own_scrap(
    db, setup, keeper_and_approver, actor_for, ledger_state
):
    s = setup
    both = actor_for(keeper_and_approver(s["warehouse"]))
    scrap = _scrap(db, s, actor=both)
    before = ledger_state()
    with pytest.raises(Forbidden, match="another person must approve"):
        scraps.approve_scrap(db, scrap_id=scrap.id, actor=both)
    assert scrap.status == ScrapStatus.REQUESTED.value and ledger_state() == before
    scraps.approve_scrap(db, scrap_id=scrap.id, actor=s["approver"])  # someone else may


def test_only_approvers_decide(db, setup):
    s = setup
    scrap = _scrap(db, s)
    with pytest.raises(Forbidden):
        scraps.approve_scrap(db, scrap_id=scrap.id, actor=s["keeper"])
    with pytest.raises(Forbidden):
        scraps.reject_scrap(db, scrap_id=scrap.id, reason="no", actor=s["keeper"])


def test_reject_needs_a_reason_and_ends_the_request(db, setup, ledger_state):
    s = setup
    scrap = _scrap(db, s)
    with pytest.raises(ValidationError, match="reason for the rejection"):
        scraps.reject_scrap(db, scrap_id=scrap.id, reason="  ", actor=s["approver"])
    scraps.reject_scrap(db, scrap_id=scrap.id, reason="尚可使用，转轮换", actor=s["approver"])
    assert scrap.status == ScrapStatus.REJECTED.value
    assert (
        scrap.decision_note == "尚可使用，转轮换"
        and scrap.rejected_by_name == s["approver"].username
    )
    before = ledger_state()
    with pytest.raises(Conflict, match="was rejected .* cannot be posted"):
        scraps.post_scrap(db, scrap_id=scrap.id, actor=s["keeper"])
    with pytest.raises(Conflict, match="no longer awaiting approval"):
        scraps.approve_scrap(db, scrap_id=scrap.id, actor=s["approver"])
    assert ledger_state() == before


def test_a_requested_scrap_cannot_be_posted_before_approval(db, setup):
    s = setup
    scrap = _scrap(db, s)
    with pytest.raises(Conflict, match="only once approved"):
        scraps.post_scrap(db, scrap_id=scrap.id, actor=s["keeper"])


def test_posting_an_approved_scrap_when_the_stock_has_gone(db, setup, ledger_state):
    s = setup
    scrap = _scrap(db, s, _line(s, 20))
    scraps.approve_scrap(db, scrap_id=scrap.id, actor=s["approver"])
    rotation = _rotation(db, s, _line(s, 15))
    rotations.post_rotation(db, rotation_id=rotation.id, actor=s["keeper"])
    before = ledger_state()
    with pytest.raises(InsufficientStock, match="5 顶 available, 20 顶 wanted"), db.begin_nested():
        scraps.post_scrap(db, scrap_id=scrap.id, actor=s["keeper"])
    db.expire_all()
    assert ledger_state() == before and scrap.status == ScrapStatus.APPROVED.value


# Bad input changes nothing -------------------------------------------------------------------


@pytest.mark.parametrize(
    "qty, message",
    [
        (0, "greater than zero"),
        (-1, "greater than zero"),
        (1.5, "whole number"),
        ("3", "whole number"),
        (None, "whole number"),
        (10**10, "implausibly large"),
        (21, "Only 20 顶 of 单帐篷 .* available at A-01-01; 21 顶 asked for"),
    ],
)
@pytest.mark.parametrize("document", ["rotation", "scrap"])
def test_bad_quantities_give_a_message_and_change_nothing(
    db, setup, ledger_state, qty, message, document
):
    s = setup
    before = ledger_state()
    with pytest.raises(ValidationError, match=f"Line 1: .*{message}"):
        (_rotation if document == "rotation" else _scrap)(db, s, _line(s, qty))
    assert ledger_state() == before


def test_two_lines_together_more_than_available(db, setup, ledger_state):
    s = setup
    before = ledger_state()
    with pytest.raises(ValidationError, match="Line 2: Only 20 顶 .* 25 顶 asked for"):
        _scrap(db, s, _line(s, 15), _line(s, 10))
    assert ledger_state() == before


def test_bad_lines_give_a_message_and_change_nothing(
    db, setup, make_material, make_warehouse, put_stock, ledger_state
):
    s = setup
    pump = make_material("排水泵", unit="台", tracking="serial")
    pump_at, pump_batch = put_stock(pump, s["warehouse"], 2, serial_nos=("P-1", "P-2"))
    elsewhere, other_batch = put_stock(s["tent"], make_warehouse(), 5)
    receiving = db.scalar(
        sa.select(Location).where(
            Location.warehouse_id == s["warehouse"].id, Location.code == "RECV"
        )
    )
    cases = [
        (_line(s, batch_id=other_batch.id), "has no available stock at A-01-01"),
        (_line(s, location_id=receiving.id), "has no available stock at RECV"),
        (_line(s, location_id=elsewhere.id), "not in this warehouse"),
        (_line(s, batch_id=999_999), "No such batch"),
        (DisposalLineData(pump_at.id, pump_batch.id, 1, ("P-9",)), "Not in stock at A-01-01"),
        (DisposalLineData(pump_at.id, pump_batch.id, 2, ("P-1",)), "give 2 different serial"),
        (DisposalLineData(pump_at.id, pump_batch.id, 2, ("P-1", "P-1")), "give 2 different"),
        (_line(s, serial_nos=("X-1",)), "not tracked by serial number"),
    ]
    before = ledger_state()
    for line, message in cases:
        for create in (_rotation, _scrap):
            with pytest.raises(ValidationError, match=message):
                create(db, s, line)
    assert ledger_state() == before


def test_a_serial_item_no_longer_in_stock_is_refused(
    db, setup, make_material, put_stock, ledger_state
):
    s = setup
    pump = make_material("排水泵", unit="台", tracking="serial")
    location, batch = put_stock(pump, s["warehouse"], 2, serial_nos=("P-1", "P-2"))
    ledger.post_movement(  # sent for repair: out of stock through the ledger
        db,
        kind=MovementKind.ISSUE,
        location_id=location.id,
        batch_id=batch.id,
        qty=-1,
        document=ledger.DocumentRef("test", None, None, date.today()),
        actor=s["keeper"],
        serial_nos=["P-1"],
        serial_status=ItemStatus.REPAIR,
    )
    before = ledger_state()
    with pytest.raises(ValidationError, match="Not in stock at A-01-01 .*: P-1"):
        _scrap(db, s, DisposalLineData(location.id, batch.id, 1, ("P-1",)))
    assert ledger_state() == before


def test_bad_headers_give_a_message_and_change_nothing(db, setup, ledger_state):
    s = setup
    db.add(ClosedMonth(month=days(-40).strftime("%Y-%m"), closed_by="test"))
    db.flush()
    before = ledger_state()
    cases = [
        (_rotation, dict(document_date=days(2)), ValidationError, "in the future"),
        (_scrap, dict(document_date=days(2)), ValidationError, "in the future"),
        (_rotation, dict(document_date=days(-40)), PeriodClosed, "is closed"),
        (_rotation, dict(disposition="burnt"), ValidationError, "where the stock goes"),
        (_rotation, dict(counterparty="x" * 101), ValidationError, "at most 100"),
        (_scrap, dict(reason="lost"), ValidationError, "reason for the scrap"),
        (_scrap, dict(reason="other"), ValidationError, "Describe the reason"),
        (_scrap, dict(lines=()), ValidationError, "at least one line"),
    ]
    for create, changes, error, message in cases:
        with pytest.raises(error, match=message):
            create(db, s, **changes)
    assert ledger_state() == before


# Scope --------------------------------------------------------------------------------------


def test_a_keeper_of_another_warehouse_is_refused(
    db, setup, make_user, make_warehouse, actor_for, ledger_state
):
    s = setup
    other = actor_for(make_user(Role.KEEPER, warehouses=[make_warehouse()]))
    rotation = _rotation(db, s)
    scrap = _scrap(db, s)
    scraps.approve_scrap(db, scrap_id=scrap.id, actor=s["approver"])
    before = ledger_state()
    with pytest.raises(Forbidden):
        _rotation(db, s, actor=other)
    with pytest.raises(Forbidden):
        _scrap(db, s, actor=other)
    with pytest.raises(Forbidden):
        rotations.get_rotation(db, rotation.id, actor=other)
    with pytest.raises(Forbidden):
        rotations.post_rotation(db, rotation_id=rotation.id, actor=other)
    with pytest.raises(Forbidden):
        scraps.post_scrap(db, scrap_id=scrap.id, actor=other)
    with pytest.raises(Forbidden):  # an approver sees every warehouse but keeps none
        scraps.post_scrap(db, scrap_id=scrap.id, actor=s["approver"])
    assert ledger_state() == before
    assert len(queries.rotation_page(db, other).items) == 0
    assert len(queries.scrap_page(db, other).items) == 0
    assert len(queries.scrap_page(db, s["approver"]).items) == 1


def test_document_date_may_be_earlier_in_an_open_month(db, setup):
    s = setup
    earlier = days(0) - timedelta(days=days(0).day - 1)  # the first of this month
    rotation = _rotation(db, s, document_date=earlier)
    assert rotation.no.startswith(f"LH{earlier:%Y%m%d}")


def test_a_document_posted_meanwhile_is_not_posted_again(db, setup, ledger_state):
    """Two keepers press "post" at once: the state change is one conditional UPDATE."""
    from reserve.disposals.models import Rotation

    s = setup
    rotation = _rotation(db, s)
    db.execute(
        sa.update(Rotation)
        .where(Rotation.id == rotation.id)
        .values(status="posted")
        .execution_options(synchronize_session=False)
    )  # the other keeper's post
    before = ledger_state()
    with pytest.raises(Conflict, match="already posted"), db.begin_nested():
        rotations.post_rotation(db, rotation_id=rotation.id, actor=s["keeper"])
    assert ledger_state() == before
