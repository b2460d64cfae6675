"""A small reserve for standards, computed by hand:

- 济南市 (city) with 平阴县 under it; 市级库 WH-C in the city, 平阴库 WH-P in 平阴县;
- tents (顶): WH-C 200 (of which 30 reserved for an order) + 500 expired; WH-P 100;
  physical available: WH-C 170, WH-P 100, the city 270;
- pumps (台, serial): WH-P 3 received, 1 issued (out in service) → 2;
- an agreement in force for 1,000 tents of an enterprise registered in 平阴县, capped at 400 by
  a failed verification, 50 called up → 350 callable, counting for 平阴县 and the city."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pytest

from reserve.agreements import signing
from reserve.auth.actor import Actor
from reserve.standards.service import StandardData, save_standard
from reserve.stock import ledger
from reserve.stock.models import Batch, MovementKind
from reserve.warehouses.models import Location, Region
from tests.agreements.conftest import TODAY, agreement_data, code


@dataclass
class Site:
    city: object
    county: object
    wc: object
    wp: object
    tent: object
    pump: object
    agreement: object
    admin: Actor


def _loc(db, warehouse):
    return db.query(Location).filter_by(warehouse_id=warehouse.id, code="A-01-01").one()


def _doc():
    return ledger.DocumentRef("test", None, "T-1", TODAY)


@pytest.fixture
def site(db, make_region, make_warehouse, make_material, make_enterprise, make_category):
    admin = Actor.system("test")
    city = make_region("370100", "济南市", "city")
    county = make_region("370124", "平阴县", "county", parent=city)
    wc = make_warehouse(code="WH-C", name="市级库", region=city)
    wp = make_warehouse(code="WH-P", name="平阴库", region=county)
    tent = make_material("帐篷", code="1010100001", unit="顶")
    pump = make_material(
        "水泵", code="2010100001", unit="台", tracking="serial", category=make_category("2010100")
    )
    good = Batch(material_id=tent.id, batch_no="G1", expiry_date=TODAY + timedelta(days=300))
    old = Batch(material_id=tent.id, batch_no="X1", expiry_date=TODAY + timedelta(days=5))
    py = Batch(material_id=tent.id, batch_no="P1", expiry_date=None)
    pumps = Batch(material_id=pump.id, batch_no="B-PUMP")
    for batch in (good, old, py, pumps):
        batch.source = "purchase"
        db.add(batch)
    db.flush()
    post = dict(kind=MovementKind.RECEIPT, document=_doc(), actor=admin)
    ledger.post_movement(db, location_id=_loc(db, wc).id, batch_id=good.id, qty=200, **post)
    ledger.post_movement(db, location_id=_loc(db, wc).id, batch_id=old.id, qty=500, **post)
    ledger.post_movement(db, location_id=_loc(db, wp).id, batch_id=py.id, qty=100, **post)
    ledger.post_movement(
        db,
        location_id=_loc(db, wp).id,
        batch_id=pumps.id,
        qty=3,
        serial_nos=["P-1", "P-2", "P-3"],
        **post,
    )
    ledger.post_movement(
        db,
        kind=MovementKind.ISSUE,
        location_id=_loc(db, wp).id,
        batch_id=pumps.id,
        qty=-1,
        serial_nos=["P-1"],
        document=_doc(),
        actor=admin,
    )
    ledger.reserve(
        db,
        location_id=_loc(db, wc).id,
        batch_id=good.id,
        qty=30,
        document=_doc(),
        line_id=None,
        actor=admin,
    )
    old.expiry_date = TODAY - timedelta(days=1)  # expired since it came in
    enterprise = make_enterprise(
        "平阴帐篷制造有限公司", code("91370124MA3C4PYX8"), region_id=county.id
    )
    agreement = signing.create_agreement(
        db, data=agreement_data(enterprise.id, tent.id), actor=admin
    )
    signing.activate_agreement(db, agreement_id=agreement.id, actor=admin)
    line = agreement.lines[0]
    line.capped_qty, line.verified_qty, line.verification_passed = 400, 400, False
    line.called_qty = 50
    db.flush()
    return Site(city, county, wc, wp, tent, pump, agreement, admin)


@pytest.fixture
def standard(db, site):
    """Make a standard: ``standard(material, scope, required, pct=0, agreements=False)``."""

    def make(material, scope, required, pct=0, agreements=False):
        is_region = isinstance(scope, Region)
        return save_standard(
            db,
            data=StandardData(
                material_id=material.id,
                warehouse_id=None if is_region else scope.id,
                region_id=scope.id if is_region else None,
                required_qty=required,
                min_physical_pct=pct,
                counts_agreements=agreements,
            ),
            actor=site.admin,
        )

    return make
