"""Pages that scale with their page, not with the data (issue 10).

Every list route of the app is found in ``app.url_map`` (a GET page whose endpoint ends in
``_list``, or one of ``OTHER_LISTS``) and must have a case here, so a new list cannot be added
untested. For each, with more rows than a page holds: every page renders at most its page size
of rows; walking the "next page" links visits every row exactly once (no repeat, no gap), as an
admin and as a keeper of one warehouse, who never sees another warehouse's rows on any page; and
the statements a page runs do not grow with the rows it shows. The API lists walk ``next``."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from html import unescape

import pytest

from reserve.agreements.models import Agreement, AgreementLine, Enterprise
from reserve.agreements.report_models import StockReport, Verification
from reserve.api import OPERATIONS, SCHEMAS
from reserve.audit.service import record
from reserve.auth.actor import Actor
from reserve.auth.models import Role
from reserve.disposals.models import Rotation, Scrap
from reserve.labels.models import Label, LabelKind
from reserve.receipts.models import Receipt
from reserve.standards.models import ReserveStandard
from reserve.stock import ledger
from reserve.stock.models import Batch, MovementKind
from reserve.stock.service import move_stock
from reserve.stocktakes.models import Stocktake, StocktakeLine
from reserve.warehouses.models import Location
from tests.agreements.conftest import code as uscc_code

PAGE = 50  # the lists' page size
LINE_PAGE = 100  # a count sheet's
EXTRA = 3  # rows beyond a page, in the keeper's warehouse
ELSEWHERE = 4  # rows in another warehouse

# Pages that are lists without ``_list`` in their endpoint's name.
OTHER_LISTS = {
    "availability.material_detail",  # one material's agreement lines (and its warehouses)
    "disposals.rotation_candidates",  # 临期/过期批次: one row per balance
    "stocktakes.stocktake_detail",  # the count sheet: one row per line
    "warehouses.warehouse_detail",  # a warehouse's locations (41,582 at province scale)
}
# Lists that do not page, and why.
NOT_PAGED = {
    "catalog.category_list": "the category tree of GB/T 38565 (103 codes), shown whole as a tree",
    "warehouses.region_list": "the region tree (GB/T 2260), shown whole as a tree",
    "auth.token_list": "one user's own API tokens",
}


def list_endpoints(app) -> set[str]:
    """The HTML list pages of the app, by the rule above."""
    return {
        rule.endpoint
        for rule in app.url_map.iter_rules()
        if "GET" in rule.methods
        and not rule.endpoint.startswith(("api.", "static"))
        and (rule.endpoint.endswith("_list") or rule.endpoint in OTHER_LISTS)
    }


def _rows(html: str) -> list[str]:
    """The keys of a page's table rows (a row's ``id``, or the material of a stock row)."""
    bodies = re.findall(r"<tbody.*?</tbody>", html, re.S)
    return [
        unescape(key)
        for body in bodies
        for key in re.findall(r'<tr\b[^>]*?\b(?:id|data-material)="([^"]+)"', body)
    ]


def _next(html: str, link_id: str) -> str | None:
    found = re.search(rf'id="{link_id}" href="([^"]+)"', html) or re.search(
        rf'href="([^"]+)"[^>]*id="{link_id}"', html
    )
    return unescape(found.group(1)) if found else None


@dataclass
class World:
    kept: object  # the keeper's warehouse
    other: object
    admin: Actor


@pytest.fixture
def world(db, make_warehouse) -> World:
    return World(
        make_warehouse(code="WH-KEPT", name="本库"),
        make_warehouse(code="WH-ELSE", name="他库"),
        Actor.system("test"),
    )


def _batches(db, material, n: int, *, expiry: date | None = None, tag: str = "L") -> list[Batch]:
    batches = [
        Batch(
            material_id=material.id,
            batch_no=f"{tag}{n:03d}-{i:03d}",
            source="purchase",
            expiry_date=expiry,
        )
        for i in range(n)
    ]
    db.add_all(batches)
    db.flush()
    return batches


def _receive(db, world, location, batch, qty=10):
    return ledger.post_movement(
        db,
        kind=MovementKind.RECEIPT,
        location_id=location.id,
        batch_id=batch.id,
        qty=qty,
        document=ledger.DocumentRef("test", None, "T-1", date.today()),
        actor=world.admin,
    )


def _a1(db, warehouse) -> Location:
    return db.query(Location).filter_by(warehouse_id=warehouse.id, code="A-01-01").one()


# Each case makes PAGE + EXTRA rows the keeper sees and ELSEWHERE rows they do not, and returns
# (the page's path, the row keys in the keeper's warehouse, the others, the page size).
Made = tuple[str, set[str], set[str], int]


def _documents(db, world, model, prefix: str, **fields) -> Made:
    made = {world.kept: [], world.other: []}
    day = date(2026, 3, 1)
    for warehouse, n in ((world.kept, PAGE + EXTRA), (world.other, ELSEWHERE)):
        for i in range(n):
            row = model(
                no=f"{prefix}{warehouse.id:02d}{i:04d}",
                warehouse_id=warehouse.id,
                document_date=day - timedelta(days=i % 7),  # ties on the date: the id decides
                **fields,
            )
            db.add(row)
            made[warehouse].append(row)
    db.flush()
    return tuple({f"{prefix.lower()}-{r.id}" for r in made[w]} for w in (world.kept, world.other))


def case_receipts(db, world, **_) -> Made:
    kept, other = _documents(db, world, Receipt, "RK", source="purchase", created_by_name="test")
    return (
        "/receipts",
        {k.replace("rk-", "receipt-") for k in kept},
        {k.replace("rk-", "receipt-") for k in other},
        PAGE,
    )


def case_rotations(db, world, **_) -> Made:
    kept, other = _documents(db, world, Rotation, "LH", disposition="sold", created_by_name="test")
    rename = lambda keys: {k.replace("lh-", "rotation-") for k in keys}  # noqa: E731
    return "/rotations", rename(kept), rename(other), PAGE


def case_scraps(db, world, **_) -> Made:
    kept, other = _documents(db, world, Scrap, "BF", reason="damaged", requested_by_name="test")
    rename = lambda keys: {k.replace("bf-", "scrap-") for k in keys}  # noqa: E731
    return "/scraps", rename(kept), rename(other), PAGE


def case_stocktakes(db, world, **_) -> Made:
    made = {world.kept: set(), world.other: set()}
    for warehouse, n in ((world.kept, PAGE + EXTRA), (world.other, ELSEWHERE)):
        for i in range(n):
            stocktake = Stocktake(
                no=f"PD{warehouse.id:02d}{i:04d}", warehouse_id=warehouse.id, status="cancelled"
            )
            db.add(stocktake)
            db.flush()
            made[warehouse].add(f"stocktake-{stocktake.id}")
    return "/stocktakes", made[world.kept], made[world.other], PAGE


def case_count_sheet(db, world, make_material, **_) -> Made:
    material = make_material("单帐篷", code="T-SHEET")
    stocktake = Stocktake(no="PD-SHEET", warehouse_id=world.kept.id, created_by_name="test")
    db.add(stocktake)
    db.flush()
    a1 = _a1(db, world.kept)
    keys = set()
    # some batches without an expiry date: they walk after the dated ones, on every database
    for i, batch in enumerate(_batches(db, material, LINE_PAGE + EXTRA)):
        batch.expiry_date = None if i % 5 == 0 else date(2027, 1, 1) + timedelta(days=i % 9)
        line = StocktakeLine(
            stocktake_id=stocktake.id,
            location_id=a1.id,
            batch_id=batch.id,
            material_id=material.id,
            system_qty=i,
        )
        db.add(line)
        db.flush()
        keys.add(f"line-{line.id}")
    return f"/stocktakes/{stocktake.id}", keys, set(), LINE_PAGE


def case_users(db, world, make_user, **_) -> Made:
    users = {f"user-{make_user(Role.VIEWER, username=f'many{n:03d}').id}" for n in range(PAGE + 3)}
    return "/admin/users", users, set(), PAGE


def case_materials(db, world, make_material, **_) -> Made:
    made = {
        f"material-{make_material(f'多行物资{n}', code=f'M{n:05d}').id}" for n in range(PAGE + 3)
    }
    return "/catalog/materials", made, set(), PAGE


def case_standards(db, world, make_material, **_) -> Made:
    made = set()
    for n in range(PAGE + 3):
        material = make_material(f"标准物资{n}", code=f"S{n:05d}")
        standard = ReserveStandard(
            material_id=material.id,
            warehouse_id=(world.kept if n % 2 else world.other).id,
            required_qty=10 + n,
            min_physical_pct=0,
            counts_agreements=False,
            updated_by_name="test",
        )
        db.add(standard)
        db.flush()
        made.add(f"standard-{standard.id}")
    return "/standards", made, set(), PAGE


def case_audit(db, world, **_) -> Made:
    for n in range(PAGE + EXTRA):
        record(db, actor=world.admin, action="create", object_type="test", object_id=n)
    db.flush()
    from sqlalchemy import select

    from reserve.audit.models import AuditEntry

    ids = db.scalars(select(AuditEntry.id).where(AuditEntry.object_type == "test"))
    return "/admin/audit?object_type=test", {f"audit-entry-{i}" for i in ids}, set(), PAGE


def case_warehouses(db, world, make_warehouse, **_) -> Made:
    made = {f"warehouse-{make_warehouse(code=f'WH-M{n:03d}').id}" for n in range(PAGE + 3)}
    return (
        "/warehouses",
        {f"warehouse-{world.kept.id}"},
        made | {f"warehouse-{world.other.id}"},
        PAGE,
    )


def case_locations(db, world, **_) -> Made:
    db.add_all(Location(warehouse_id=world.kept.id, code=f"B-{n:03d}") for n in range(PAGE + 3))
    db.flush()
    ids = db.query(Location.id).filter_by(warehouse_id=world.kept.id)
    return f"/warehouses/{world.kept.id}", {f"location-{i}" for (i,) in ids}, set(), PAGE


def case_labels(db, world, **_) -> Made:
    """A warehouse's labels (标签): one location label per shelf, more than a page."""
    made = {world.kept: set(), world.other: set()}
    for warehouse, n in ((world.kept, PAGE + EXTRA), (world.other, ELSEWHERE)):
        shelves = [Location(warehouse_id=warehouse.id, code=f"L-{n:03d}") for n in range(n)]
        db.add_all(shelves)
        db.flush()
        labels = [
            Label(
                kind=LabelKind.LOCATION.value,
                warehouse_id=warehouse.id,
                location_id=shelf.id,
                first_printed_by_name="test",
            )
            for shelf in shelves
        ]
        db.add_all(labels)
        db.flush()
        made[warehouse] = {f"label-{label.id}" for label in labels}
    return f"/warehouses/{world.kept.id}/labels", made[world.kept], set(), PAGE


def _enterprises(db, n: int) -> list[Enterprise]:
    made = [
        Enterprise(name=f"多行代储企业{i:03d}", uscc=uscc_code(f"91370100MA3D{i:05d}"))
        for i in range(n)
    ]
    db.add_all(made)
    db.flush()
    return made


def case_enterprises(db, world, **_) -> Made:
    made = {f"enterprise-{e.id}" for e in _enterprises(db, PAGE + EXTRA)}
    return "/enterprises", made, set(), PAGE


def case_agreements(db, world, **_) -> Made:
    enterprise = _enterprises(db, 1)[0]
    start = date.today()
    agreements = [
        Agreement(
            no=f"DC-MANY-{i:03d}",
            enterprise_id=enterprise.id,
            signed_on=start,
            valid_from=start,
            valid_to=start + timedelta(days=365),
            response_hours=24,
            created_by_name="test",
        )
        for i in range(PAGE + EXTRA)
    ]
    db.add_all(agreements)
    db.flush()
    return "/agreements", {f"agreement-row-{a.id}" for a in agreements}, set(), PAGE


def case_stock_reports(db, world, **_) -> Made:
    """库存申报: requested reports of several enterprises (no lines: the count is in SQL)."""
    enterprises = _enterprises(db, 3)
    made = [
        StockReport(
            no=f"SB-MANY-{i:03d}",
            enterprise_id=enterprises[i % 3].id,
            kind="requested",
            status="requested",
            due_on=date.today() + timedelta(days=i % 5),
            created_by_name="test",
        )
        for i in range(PAGE + EXTRA)
    ]
    db.add_all(made)
    db.flush()
    return "/stock-reports", {f"report-row-{r.id}" for r in made}, set(), PAGE


def case_call_ups(db, world, make_material, **_) -> Made:
    from reserve.agreements.callup_models import CallUp
    from reserve.agreements.models import AgreementLine
    from reserve.db import utcnow

    enterprise = _enterprises(db, 1)[0]
    start = date.today()
    agreement = Agreement(
        no="DC-CALLED",
        enterprise_id=enterprise.id,
        signed_on=start,
        valid_from=start,
        valid_to=start + timedelta(days=365),
        response_hours=24,
        status="active",
        created_by_name="test",
    )
    db.add(agreement)
    db.flush()
    line = AgreementLine(
        agreement_id=agreement.id,
        line_no=1,
        material_id=make_material("瓶装饮用水", code="W-CALL").id,
        kind="stock",
        committed_qty=10_000,
    )
    db.add(line)
    db.flush()
    now = utcnow()
    made = [
        CallUp(
            no=f"DY-MANY-{i:03d}",
            line_id=line.id,
            agreement_id=agreement.id,
            enterprise_id=enterprise.id,
            qty=1,
            needed_by=now,
            respond_by=now,
            destination="安置点",
            requested_by_name="test",
            requested_at=now - timedelta(minutes=i % 7),  # ties on the time: the id decides
        )
        for i in range(PAGE + EXTRA)
    ]
    db.add_all(made)
    db.flush()
    return "/call-ups", {f"call-up-{c.id}" for c in made}, set(), PAGE


def case_verifications(db, world, **_) -> Made:
    enterprises = _enterprises(db, 3)
    made = [
        Verification(
            no=f"HC-MANY-{i:03d}",
            enterprise_id=enterprises[i % 3].id,
            status="planned",
            planned_on=date.today() + timedelta(days=i % 5),
            inspectors="张伟",
            created_by_name="test",
        )
        for i in range(PAGE + EXTRA)
    ]
    db.add_all(made)
    db.flush()
    return "/verifications", {f"verification-row-{v.id}" for v in made}, set(), PAGE


def _stocked(db, world, make_material, *, expiry=None) -> tuple[list, list]:
    """One material per row: PAGE + EXTRA held in the kept warehouse, ELSEWHERE in the other."""
    held = {world.kept: [], world.other: []}
    for warehouse, n in ((world.kept, PAGE + EXTRA), (world.other, ELSEWHERE)):
        a1 = _a1(db, warehouse)
        for i in range(n):
            material = make_material(f"库存物资{i}", code=f"S{warehouse.id:02d}{i:03d}")
            batch = _batches(db, material, 1, expiry=expiry)[0]
            _receive(db, world, a1, batch)
            held[warehouse].append((material, a1, batch))
    return held[world.kept], held[world.other]


def case_stock(db, world, make_material, **_) -> Made:
    kept, other = _stocked(db, world, make_material)
    return "/stock", {m.code for m, _l, _b in kept}, {m.code for m, _l, _b in other}, PAGE


def case_availability(db, world, make_material, **_) -> Made:
    """可调用资源一览: one row per material, like the stock list (office roles only)."""
    kept, other = _stocked(db, world, make_material)
    return "/availability", {m.code for m, _l, _b in kept}, {m.code for m, _l, _b in other}, PAGE


def case_availability_lines(db, world, make_material, **_) -> Made:
    """One material's agreement lines in the availability view: one in force per enterprise,
    a third of them capacity (listed apart on the same page)."""
    material = make_material("瓶装饮用水", code="W-LINES", unit="箱")
    start = date.today() - timedelta(days=1)
    lines = []
    for i, enterprise in enumerate(_enterprises(db, PAGE + EXTRA)):
        agreement = Agreement(
            no=f"DC-LINE-{i:03d}",
            enterprise_id=enterprise.id,
            signed_on=start,
            valid_from=start,
            valid_to=start + timedelta(days=365),
            response_hours=1 + i % 5,  # ties on the response time: the line id decides
            status="active",
            created_by_name="test",
        )
        db.add(agreement)
        db.flush()
        capacity = i % 3 == 0
        line = AgreementLine(
            agreement_id=agreement.id,
            line_no=1,
            material_id=material.id,
            kind="capacity" if capacity else "stock",
            committed_qty=100,
            daily_qty=50 if capacity else None,
            lead_hours=24 if capacity else None,
        )
        db.add(line)
        db.flush()
        lines.append(line)
    return (
        f"/availability/materials/{material.id}",
        {f"availability-line-{x.id}" for x in lines},
        set(),
        PAGE,
    )


def case_candidates(db, world, make_material, **_) -> Made:
    kept, other = _stocked(db, world, make_material, expiry=date.today() + timedelta(days=5))
    key = lambda rows: {f"candidate-{loc.id}-{b.id}" for _m, loc, b in rows}  # noqa: E731
    return "/rotations/candidates", key(kept), key(other), PAGE


def case_moves(db, world, make_material, **_) -> Made:
    made = {world.kept: set(), world.other: set()}
    material = make_material("单帐篷", code="T-MOVE")
    for warehouse, n in ((world.kept, PAGE + EXTRA), (world.other, ELSEWHERE)):
        a1 = _a1(db, warehouse)
        a2 = Location(warehouse_id=warehouse.id, code="A-01-02")
        db.add(a2)
        db.flush()
        batch = _batches(db, material, 1, tag=warehouse.code)[0]
        _receive(db, world, a1, batch, qty=n)
        for _i in range(n):
            move = move_stock(
                db,
                warehouse_id=warehouse.id,
                from_location_id=a1.id,
                to_location_id=a2.id,
                batch_id=batch.id,
                qty=1,
                document_date=date.today(),
                note=None,
                actor=world.admin,
            )
            made[warehouse].add(f"move-{move.id}")
    return "/stock/moves", made[world.kept], made[world.other], PAGE


def case_pick_lists(db, world, make_material, **_) -> Made:
    """我的拣货单: approved orders with a stock source in each warehouse (rows of the contract)."""
    from reserve.db import utcnow
    from reserve.orders.models import AllocationOrder, OrderLine, OrderSource

    material = make_material("单帐篷", code="T-PICK")
    made = {world.kept: set(), world.other: set()}
    now = utcnow()
    for warehouse, n in ((world.kept, PAGE + EXTRA), (world.other, ELSEWHERE)):
        batch = _batches(db, material, 1, tag=f"P{warehouse.id}")[0]
        for i in range(n):
            order = AllocationOrder(
                no=f"DB-{warehouse.id:02d}-{i:04d}",
                kind="dispatch",
                status="approved",
                requesting_unit="test",
                site_address="安置点",
                needed_by=now + timedelta(minutes=i % 7),  # ties on the time: the id decides
                created_by_name="test",
                approved_by_name="test",
                approved_at=now,
            )
            db.add(order)
            db.flush()
            line = OrderLine(order_id=order.id, line_no=1, material_id=material.id, requested_qty=1)
            db.add(line)
            db.flush()
            db.add(
                OrderSource(
                    order_id=order.id,
                    line_id=line.id,
                    kind="stock",
                    warehouse_id=warehouse.id,
                    location_id=_a1(db, warehouse).id,
                    batch_id=batch.id,
                    qty=1,
                )
            )
            made[warehouse].add(f"picklist-{order.id}-{warehouse.id}")
    db.flush()
    return "/pick-lists", made[world.kept], made[world.other], PAGE


def case_orders(db, world, make_material, **_) -> Made:
    """调拨单列表: dispatches with a stock source in each warehouse (rows of the contract)."""
    from reserve.db import utcnow
    from reserve.orders.models import AllocationOrder, OrderLine, OrderSource

    material = make_material("棉帐篷", code="T-ORDER")
    made = {world.kept: set(), world.other: set()}
    now = utcnow()
    for warehouse, n in ((world.kept, PAGE + EXTRA), (world.other, ELSEWHERE)):
        batch = _batches(db, material, 1, tag=f"O{warehouse.id}")[0]
        for i in range(n):
            order = AllocationOrder(
                no=f"DB-O{warehouse.id:02d}-{i:04d}",
                kind="dispatch",
                status="draft",
                requesting_unit="test",
                site_address="安置点",
                needed_by=now + timedelta(hours=1),
                created_at=now - timedelta(minutes=i % 7),  # ties on the time: the id decides
                created_by_name="test",
            )
            db.add(order)
            db.flush()
            line = OrderLine(order_id=order.id, line_no=1, material_id=material.id, requested_qty=2)
            db.add(line)
            db.flush()
            db.add(
                OrderSource(
                    order_id=order.id,
                    line_id=line.id,
                    kind="stock",
                    warehouse_id=warehouse.id,
                    location_id=_a1(db, warehouse).id,
                    batch_id=batch.id,
                    qty=1,
                )
            )
            made[warehouse].add(f"order-{order.id}")
    db.flush()
    return "/orders", made[world.kept], made[world.other], PAGE


def case_events(db, world, **_) -> Made:
    """事件列表: the office's, not a warehouse's (a keeper sees none)."""
    from reserve.db import utcnow
    from reserve.orders.models import Event

    now = utcnow()
    made = set()
    for i in range(PAGE + EXTRA):
        event = Event(
            name=f"事件{i:03d}",
            kind="flood",
            level="4",
            region_id=world.kept.region_id,
            started_at=now - timedelta(hours=i % 7),  # ties on the time: the id decides
            created_by_name="test",
        )
        db.add(event)
        db.flush()
        made.add(f"event-{event.id}")
    return "/events", made, set(), PAGE


CASES: dict[str, Callable[..., Made]] = {
    "receipts.receipt_list": case_receipts,
    "disposals.rotation_list": case_rotations,
    "disposals.scrap_list": case_scraps,
    "disposals.rotation_candidates": case_candidates,
    "stocktakes.stocktake_list": case_stocktakes,
    "stocktakes.stocktake_detail": case_count_sheet,
    "auth.user_list": case_users,
    "catalog.material_list": case_materials,
    "audit.entry_list": case_audit,
    "warehouses.warehouse_list": case_warehouses,
    "warehouses.warehouse_detail": case_locations,
    "labels.label_list": case_labels,
    "agreements.enterprise_list": case_enterprises,
    "agreements.agreement_list": case_agreements,
    "reports.report_list": case_stock_reports,
    "reports.verification_list": case_verifications,
    "callups.call_up_list": case_call_ups,
    "stock.stock_list": case_stock,
    "stock.move_list": case_moves,
    "availability.availability_list": case_availability,
    "availability.material_detail": case_availability_lines,
    "orders_floor.pick_list": case_pick_lists,
    "orders.order_list": case_orders,
    "orders.event_list": case_events,
    "standards.standard_list": case_standards,
}
NEXT_LINK = {
    "stock.stock_list": "stock-next",
    "stock.move_list": "move-older",
    "audit.entry_list": "audit-older",
    "stocktakes.stocktake_detail": "line-next-page",
    "warehouses.warehouse_detail": "location-next-page",
}
FIRST_PAGE_READS = {"warehouses.warehouse_detail": 1}  # the receiving area, shown first
# lists a keeper does not see at all (administration; the virtual reserve is the office's)
ADMIN_ONLY = {
    "auth.user_list",
    "audit.entry_list",
    "agreements.enterprise_list",
    "agreements.agreement_list",
    "availability.availability_list",
    "availability.material_detail",
    "reports.report_list",
    "reports.verification_list",
    "callups.call_up_list",
    "orders.event_list",
}
# not by warehouse (reserve standards: every reader sees every standard; the shortfall is scoped)
UNSCOPED = {
    "auth.user_list",
    "catalog.material_list",
    "audit.entry_list",
    "standards.standard_list",
}


def test_every_list_route_has_a_case(app):
    found = list_endpoints(app)
    missing = found - set(CASES) - set(NOT_PAGED)
    assert not missing, f"list pages without a paging case in {__name__}: {sorted(missing)}"
    stale = (set(CASES) | set(NOT_PAGED)) - found
    assert not stale, f"cases for routes that are not list pages: {sorted(stale)}"


def _walk(client, path: str, link_id: str, page_size: int) -> tuple[list[str], int]:
    seen, pages, url = [], 0, path
    while url:
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
        html = response.get_data(as_text=True)
        rows = _rows(html)
        assert len(rows) <= page_size, (url, len(rows))
        seen += rows
        pages += 1
        url = _next(html, link_id)
        assert pages < 10, "the next-page links do not end"
    return seen, pages


@pytest.fixture(params=sorted(CASES))
def made(request, db, world, make_user, make_material, make_warehouse):
    endpoint = request.param
    path, kept, other, size = CASES[endpoint](
        db, world, make_user=make_user, make_material=make_material, make_warehouse=make_warehouse
    )
    return endpoint, path, kept, other, size


def test_walking_the_pages_shows_every_row_once(login_as, world, made):
    endpoint, path, kept, other, size = made
    link = NEXT_LINK.get(endpoint, "next-page")
    admin = login_as(Role.ADMIN)
    seen, pages = _walk(admin, path, link, size)
    assert len(seen) == len(set(seen)), "a row came twice"
    if endpoint in ("warehouses.warehouse_list", "auth.user_list"):  # and the signed-in ones
        assert kept | other <= set(seen) and pages >= 2
    else:
        assert set(seen) == kept | other and pages >= 2, (len(seen), len(kept | other))
    if endpoint in ADMIN_ONLY:
        return
    keeper = login_as(Role.KEEPER, warehouses=[world.kept])
    seen, _pages = _walk(keeper, path, link, size)
    assert len(seen) == len(set(seen))
    if endpoint in UNSCOPED:
        assert kept <= set(seen)
    else:
        assert set(seen) == kept, "a keeper saw another warehouse's rows, or missed their own"


def test_a_page_runs_the_same_statements_however_many_rows_it_shows(login_as, count_queries, made):
    """The statements a page runs do not grow with its rows: the first page (full) and the
    last (a few rows) run as many."""
    endpoint, path, _kept, _other, size = made
    client = login_as(Role.ADMIN)
    client.get(path)  # warm: the session's user, the translations
    with count_queries() as full:
        html = client.get(path).get_data(as_text=True)
    assert len(_rows(html)) == size
    last = _next(html, NEXT_LINK.get(endpoint, "next-page"))
    with count_queries() as short:
        html = client.get(last).get_data(as_text=True)
    assert 0 < len(_rows(html)) < size
    assert len(full) == len(short) + FIRST_PAGE_READS.get(endpoint, 0), (len(full), len(short))


# The API --------------------------------------------------------------------------------------

API_CASES = {  # endpoint: (path, the JSON key of a row, the case that makes the rows, per page)
    "api.receipt_list": ("/api/v1/receipts", "id", case_receipts, 20),
    "api.material_list": ("/api/v1/materials", "id", case_materials, 20),
    "api.warehouse_list": ("/api/v1/warehouses", "id", case_warehouses, 20),
    "api.location_list": ("/api/v1/warehouses/{kept}/locations", "id", case_locations, 20),
    "api.region_list": ("/api/v1/regions", "code", None, 20),
    "api.category_list": ("/api/v1/categories", "code", None, 20),
    "api.stock_list": ("/api/v1/stock", "code", case_stock, PAGE),  # a fixed page of materials
    "api.enterprise_list": ("/api/v1/enterprises", "id", case_enterprises, 20),
    "api.agreement_list": ("/api/v1/agreements", "id", case_agreements, 20),
    "api.availability_list": ("/api/v1/availability", "code", case_availability, 20),
    "api.stock_report_list": ("/api/v1/stock-reports", "id", case_stock_reports, 20),
    "api.verification_list": ("/api/v1/verifications", "id", case_verifications, 20),
    "api.call_up_list": ("/api/v1/call-ups", "id", case_call_ups, 20),
    "api.my_pick_lists": ("/api/v1/pick-lists", "key", case_pick_lists, 20),
    "api.order_list": ("/api/v1/orders", "id", case_orders, 20),
    "api.event_list": ("/api/v1/events", "id", case_events, 20),
}
API_LISTED_ELSEWHERE = {
    "api.stock_card": "one material's movements by key (`before`), tested in tests/stock/",
    "api.receipt_attachment_list": "one receipt's attachments (its scanned papers), not paged",
    "api.agreement_attachment_list": "one agreement's attachments (its signed scans), not paged",
    "api.verification_attachment_list": "one verification's photos, not paged",
}


def api_list_endpoints() -> set[str]:
    """API operations that answer a page of items."""
    return {
        op.endpoint
        for op in OPERATIONS
        if op.method == "GET"
        and (
            op.paginated
            or op.key_paged
            or (op.response and "items" in SCHEMAS.get(op.response, {}).get("properties", {}))
        )
    }


def test_every_api_list_has_a_case_and_none_pages_by_number():
    found = api_list_endpoints()
    assert found - set(API_CASES) - set(API_LISTED_ELSEWHERE) == set()
    assert set(API_CASES) <= found
    assert [op.endpoint for op in OPERATIONS if op.paginated] == []


def _reference_rows(db, world, endpoint, make_region, make_category) -> set[str]:
    if endpoint == "api.region_list":
        city = world.kept.region
        for n in range(PAGE + EXTRA):
            make_region(f"3701{n + 10:02d}", f"区{n}", "district", city)
        return set()
    for n in range(PAGE + EXTRA):
        make_category(f"10101{n + 10:02d}")
    return set()


@pytest.mark.parametrize("endpoint", sorted(API_CASES))
def test_the_api_lists_walk_next_through_every_row_once(
    client,
    db,
    world,
    api_token,
    make_user,
    make_material,
    make_warehouse,
    make_region,
    make_category,
    endpoint,
):
    path, key, make, per_page = API_CASES[endpoint]
    if make is None:
        _reference_rows(db, world, endpoint, make_region, make_category)
        expected = None
    else:
        _path, kept, other, _size = make(
            db,
            world,
            make_user=make_user,
            make_material=make_material,
            make_warehouse=make_warehouse,
        )
        expected = {k.rsplit("-", 1)[-1] for k in kept | other} if key == "id" else kept | other
    path = path.format(kept=world.kept.id)
    headers, _user = api_token(Role.ADMIN)
    seen, after, pages = [], None, 0
    while True:
        query = {"per_page": per_page, **({"after": after} if after else {})}
        response = client.get(path, query_string=query, headers=headers)
        assert response.status_code == 200, response.get_json()
        body = response.get_json()
        assert len(body["items"]) <= per_page
        seen += [str(item[key]) for item in body["items"]]
        pages += 1
        after = body["next"]
        if after is None:
            break
        assert pages < 20, "the next keys do not end"
    assert len(seen) == len(set(seen)), "a row came twice"
    assert pages >= 2 and len(seen) >= PAGE + EXTRA
    if expected is not None:
        assert expected <= set(seen)
