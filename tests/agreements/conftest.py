"""Agreement fixtures: credit codes with check characters computed by hand from GB 32100-2015
(independently of python-stdnum, which the code under test uses), and a draft-agreement
factory."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from reserve.agreements import signing
from reserve.agreements.signing import AgreementData, LineData
from reserve.db import local_today

# GB 32100-2015 §4: the 31 characters (no I, O, S, V, Z), their values 0-30, and the weights
# 3^(i) mod 31 of the 17 positions.
CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def gb32100_check(body: str) -> str:
    """The 18th character for 17: C18 = 31 − (Σ value(Ci) × Wi mod 31), 31 written as 0."""
    assert len(body) == 17
    total = sum(CHARSET.index(c) * w for c, w in zip(body, WEIGHTS, strict=True))
    return CHARSET[(31 - total % 31) % 31]


def code(body: str) -> str:
    return body + gb32100_check(body)


TODAY = local_today()


def agreement_data(enterprise_id: int, material_id: int, **changes) -> AgreementData:
    fields = dict(
        no="XY-2026-001",
        enterprise_id=enterprise_id,
        signed_on=TODAY - timedelta(days=10),
        valid_from=TODAY - timedelta(days=10),
        valid_to=TODAY + timedelta(days=355),
        response_hours=12,
        storage_fee=None,
        lines=(LineData(material_id=material_id, kind="stock", committed_qty=1000),),
    )
    fields.update(changes)
    return AgreementData(**fields)


def capacity(material_id: int, daily=2000, lead=48, total=20000) -> LineData:
    return LineData(
        material_id=material_id,
        kind="capacity",
        committed_qty=total,
        daily_qty=daily,
        lead_hours=lead,
    )


@pytest.fixture
def site(db, make_enterprise, make_material, make_region):
    """A city, two enterprises and two materials (water by the box, quilts)."""

    class Site:
        region = make_region()
        own = make_enterprise("济南统一企业有限公司", code("91370100MA3C4PYX8"))
        other = make_enterprise("山东普利思饮用水股份有限公司", code("91370112MA3L3PWR0"))
        water = make_material(code="1010100001", name="瓶装饮用水", unit="箱")
        quilt = make_material(code="1010100002", name="棉被", unit="床")

    return Site


@pytest.fixture
def make_agreement(db, system_actor, site):
    def make(activate: bool = False, **changes):
        changes.setdefault("enterprise_id", site.own.id)
        data = agreement_data(material_id=site.water.id, **changes)
        agreement = signing.create_agreement(db, data=data, actor=system_actor)
        if activate:
            signing.activate_agreement(db, agreement_id=agreement.id, actor=system_actor)
        db.flush()
        return agreement

    return make


def days(n: int) -> date:
    return TODAY + timedelta(days=n)
