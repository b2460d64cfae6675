"""A small province for the availability view: two cities, two districts of one of them, a
warehouse in three of those places, three enterprises and their agreements, with the newest
report and verification written on the lines as the reports helper's services will write them
(the contract of ``AgreementLine``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

import pytest

from reserve.agreements import signing
from reserve.agreements.models import AgreementLine, EnterpriseContact
from reserve.agreements.signing import AgreementData, LineData
from reserve.auth.actor import Actor
from reserve.db import local_today
from reserve.stock import ledger
from reserve.stock.models import Batch, MovementKind
from reserve.warehouses.models import Location
from tests.agreements.conftest import code as uscc

TODAY = local_today()


def days_ago(n: int) -> date:
    return TODAY - timedelta(days=n)


def at_noon(day: date) -> datetime:
    return datetime.combine(day, time(4, 0), tzinfo=UTC)  # 12:00 in Asia/Shanghai


@dataclass
class Province:
    province: object
    jinan: object
    lixia: object
    licheng: object
    qingdao: object
    water: object
    quilt: object
    tent: object
    wh_jinan: object
    wh_lixia: object
    wh_qingdao: object
    e_lixia: object
    e_qingdao: object
    e_licheng: object
    a_city: object  # 济南 delivery area: water (reported below), quilt capacity
    a_none: object  # no delivery area, enterprise in 青岛: water never verified or reported
    a_district: object  # 历城 delivery area: water, failed verification
    line_city: object
    line_capacity: object
    line_none: object
    line_failed: object


def _receive(db, warehouse, material, qty: int) -> None:
    batch = Batch(
        material_id=material.id, batch_no=f"B-{warehouse.code}-{material.id}", source="purchase"
    )
    db.add(batch)
    db.flush()
    location = db.query(Location).filter_by(warehouse_id=warehouse.id, code="A-01-01").one()
    ledger.post_movement(
        db,
        kind=MovementKind.RECEIPT,
        location_id=location.id,
        batch_id=batch.id,
        qty=qty,
        document=ledger.DocumentRef("test", None, "T-1", TODAY),
        actor=Actor.system("test"),
    )


def _agreement(db, no, enterprise, lines, *, regions=(), start=None, end=None, activate=True):
    start = start or days_ago(100)
    ended = end is not None and end < TODAY  # activated while in force, then run out
    data = AgreementData(
        no=no,
        enterprise_id=enterprise.id,
        signed_on=start,
        valid_from=start,
        valid_to=TODAY + timedelta(days=265) if end is None or ended else end,
        response_hours=12,
        region_ids=tuple(r.id for r in regions),
        lines=tuple(lines),
    )
    actor = Actor.system("test")
    agreement = signing.create_agreement(db, data=data, actor=actor)
    if activate:
        signing.activate_agreement(db, agreement_id=agreement.id, actor=actor)
    if ended:
        agreement.valid_to = end
    db.flush()
    return agreement


def _line(db, agreement, material, kind="stock") -> AgreementLine:
    return (
        db.query(AgreementLine)
        .filter_by(agreement_id=agreement.id, material_id=material.id, kind=kind)
        .one()
    )


@pytest.fixture
def province(db, make_region, make_warehouse, make_material, make_enterprise) -> Province:
    p = make_region("370000", "山东省", "province")
    jinan = make_region("370100", "济南市", "city", p)
    lixia = make_region("370102", "历下区", "district", jinan)
    licheng = make_region("370112", "历城区", "district", jinan)
    qingdao = make_region("370200", "青岛市", "city", p)
    water = make_material("瓶装饮用水", code="1010100001", unit="箱")
    quilt = make_material("棉被", code="1010100002", unit="床")
    tent = make_material("单帐篷", code="1010100003", unit="顶")
    wh_jinan = make_warehouse(code="WH-JN", name="济南市储备库", region=jinan)
    wh_lixia = make_warehouse(code="WH-LX", name="历下区储备库", level="county", region=lixia)
    wh_qingdao = make_warehouse(code="WH-QD", name="青岛市储备库", region=qingdao)
    _receive(db, wh_jinan, water, 500)
    _receive(db, wh_lixia, water, 200)
    _receive(db, wh_qingdao, water, 1000)
    _receive(db, wh_jinan, tent, 40)
    e_lixia = make_enterprise("济南统一企业有限公司", uscc("91370102MA3C4PYX1"), region_id=lixia.id)
    e_qingdao = make_enterprise(
        "山东普利思饮用水股份有限公司", uscc("91370112MA3L3PWR0"), region_id=qingdao.id
    )
    e_licheng = make_enterprise("历城被服厂", uscc("91370112MA3L3PWR1"), region_id=licheng.id)
    db.add(
        EnterpriseContact(
            enterprise_id=e_lixia.id, position=1, name="王值班", phone="13800000001", is_duty=True
        )
    )
    db.add(
        EnterpriseContact(enterprise_id=e_lixia.id, position=2, name="李经理", phone="13800000002")
    )
    a_city = _agreement(
        db,
        "XY-CITY",
        e_lixia,
        [
            LineData(material_id=water.id, kind="stock", committed_qty=1000),
            LineData(
                material_id=quilt.id,
                kind="capacity",
                committed_qty=20000,
                daily_qty=2000,
                lead_hours=48,
            ),
        ],
        regions=[jinan],
    )
    a_none = _agreement(
        db, "XY-NONE", e_qingdao, [LineData(material_id=water.id, kind="stock", committed_qty=300)]
    )
    a_district = _agreement(
        db,
        "XY-DIST",
        e_licheng,
        [LineData(material_id=water.id, kind="stock", committed_qty=400)],
        regions=[licheng],
    )
    # not in force: a draft, and one past its end
    _agreement(
        db,
        "XY-DRAFT",
        e_lixia,
        [LineData(material_id=tent.id, kind="stock", committed_qty=999)],
        activate=False,
    )
    _agreement(
        db,
        "XY-OLD",
        e_qingdao,
        [LineData(material_id=tent.id, kind="stock", committed_qty=777)],
        start=days_ago(500),
        end=days_ago(135),
    )
    line_city = _line(db, a_city, water)
    line_city.reported_qty, line_city.reported_at = 800, at_noon(days_ago(5))  # below 1000
    line_city.capped_qty = 800
    line_city.verified_qty, line_city.verified_on, line_city.verification_passed = (
        1000,
        days_ago(10),
        True,
    )
    line_failed = _line(db, a_district, water)
    line_failed.reported_qty, line_failed.reported_at = 400, at_noon(days_ago(3))
    line_failed.verified_qty, line_failed.verified_on, line_failed.verification_passed = (
        100,
        days_ago(2),
        False,
    )
    line_failed.capped_qty = 100
    db.flush()
    return Province(
        p,
        jinan,
        lixia,
        licheng,
        qingdao,
        water,
        quilt,
        tent,
        wh_jinan,
        wh_lixia,
        wh_qingdao,
        e_lixia,
        e_qingdao,
        e_licheng,
        a_city,
        a_none,
        a_district,
        line_city,
        _line(db, a_city, quilt, "capacity"),
        _line(db, a_none, water),
        line_failed,
    )
