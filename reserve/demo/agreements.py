"""The demo city's virtual reserve (虚拟储备库): 55 custodian enterprises (the plan's "50余家"),
among them 济南统一企业有限公司 and 山东普利思饮用水股份有限公司, with credit codes valid by
checksum (generated: not the firms' real codes), and 80+ agreements over water, instant food,
bedding, tents, pumps, generators and transport — most in force, some ending within the month
(with their renewals drafted), last year's expired, capacity lines at the producers, one
terminated; their stock reports and verifications (``reserve.demo.reports``). Loaded through
the same services as the pages."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session
from stdnum.cn import uscc

from reserve.agreements.service import ContactData, EnterpriseData, create_enterprise
from reserve.agreements.signing import (
    AgreementData,
    LineData,
    activate_agreement,
    create_agreement,
    renew_agreement,
    terminate_agreement,
)
from reserve.auth.actor import Actor
from reserve.catalog.models import Category, Material
from reserve.catalog.service import MaterialData, create_material
from reserve.db import clock_at, local_today
from reserve.demo.clock import demo_moment
from reserve.demo.reports import load_reports
from reserve.warehouses.models import Region

# What each kind of enterprise holds or can produce: catalogue codes.
GROUPS = {
    "water": ("1030100001", "1030100003", "1030100004"),
    "food": ("1030200001", "1030200003", "1030200005"),
    "bedding": ("1020100001", "1020100002", "1010200005"),
    "tents": ("1010101001", "1010102001", "1010103001"),
    "pumps": ("2040101001", "2040102002", "2040200001"),
    "generators": ("2030100002", "2030200001", "2030200002"),
    "transport": ("3999900901",),
}
# The CSV enterprises' business, as a group.
KIND_GROUPS = {
    "食品生产": "food",
    "饮用水": "water",
    "商超": "food",
    "家纺被服": "bedding",
    "帐篷篷布": "tents",
    "泵类及排涝设备": "pumps",
    "发电设备": "generators",
    "物流仓储": "transport",
    "医药流通": "transport",
    "建筑材料": "pumps",
    "粮油": "food",
    "户外装备": "tents",
}
# The generated enterprises: name, group, type (生产/商贸/物流/其他), kind of business.
NAMED = (
    ("济南统一企业有限公司", "food", "production", "方便食品生产"),
    ("山东普利思饮用水股份有限公司", "water", "production", "饮用水生产"),
)
_PLACES = (
    "历下",
    "市中",
    "槐荫",
    "天桥",
    "历城",
    "长清",
    "章丘",
    "济阳",
    "莱芜",
    "钢城",
    "平阴",
    "商河",
)
_WORDS = {
    "water": ("清泉", "趵突泉", "泉润", "山泉"),
    "food": ("鲁味", "齐鲁粮", "好客", "泉城食品"),
    "bedding": ("暖居", "鲁纺", "舒眠", "齐纺"),
    "tents": ("安邦篷业", "鲁篷", "户安", "帐盾"),
    "pumps": ("鲁泵", "泉流机电", "通排", "汇川泵业"),
    "generators": ("鲁电动力", "恒力机电", "宏源电力设备", "泉能"),
    "transport": ("鲁运", "泉通物流", "畅达运输", "齐鲁快运"),
}
_SUFFIX = {
    "water": ("饮品有限公司", "production", "饮用水"),
    "food": ("食品有限公司", "production", "食品生产"),
    "bedding": ("家纺有限公司", "production", "家纺被服"),
    "tents": ("有限公司", "production", "帐篷篷布"),
    "pumps": ("设备有限公司", "trade", "泵类及排涝设备"),
    "generators": ("有限公司", "trade", "发电设备"),
    "transport": ("有限公司", "logistics", "物流运输"),
}
_SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗"
_GIVEN = ("建国", "晓梅", "立新", "文静", "海涛", "丽娜", "志强", "秀英", "国栋", "春燕")
ENTERPRISES = 55
CAPACITY_GROUPS = {"food", "water", "bedding", "tents"}


@dataclass
class DemoVirtualReserve:
    enterprises: int
    agreements: int


def _code(rng: random.Random, region_code: str) -> str:
    """A credit code valid by its check character (GB 32100), made up for the demo."""
    letters = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    body = "91" + region_code + "MA" + "".join(rng.choice(letters) for _ in range(7))
    return body + uscc.calc_check_digit(body)


def _phone(rng: random.Random) -> str:
    return f"1{rng.choice('3589')}{rng.randint(0, 9)}{rng.randint(10_000_000, 99_999_999)}"


def _person(rng: random.Random) -> str:
    return rng.choice(_SURNAMES) + rng.choice(_GIVEN)


def _transport(session: Session, actor: Actor) -> None:
    """运输运力: a logistics firm's agreed trucks, as a catalogue item (辆)."""
    category = session.scalar(select(Category.id).where(Category.code == "3999900"))
    create_material(
        session,
        data=MaterialData(
            code=GROUPS["transport"][0],
            name="应急运输车辆",
            spec="8吨厢式货车 含驾驶员（协议运力）",
            unit="辆",
            category_id=category,
            near_expiry_days=0,
        ),
        actor=actor,
    )


def _enterprise_rows(rng: random.Random, csv_rows: list[dict]) -> list[dict]:
    rows = [{**row, "group": KIND_GROUPS.get(row["kind"], "food")} for row in csv_rows]
    districts = [
        c
        for c in (
            "370102",
            "370103",
            "370104",
            "370105",
            "370112",
            "370113",
            "370114",
            "370115",
            "370116",
            "370117",
            "370124",
            "370126",
        )
    ]
    for name, group, kind_type, kind in NAMED:
        rows.append(
            {
                "name": name,
                "group": group,
                "enterprise_type": kind_type,
                "kind": kind,
                "region_code": rng.choice(districts),
            }
        )
    groups = list(GROUPS)
    n = 0
    while len(rows) < ENTERPRISES:
        group = groups[n % len(groups)]
        place = _PLACES[(n // len(groups)) % len(_PLACES)]
        word = _WORDS[group][(n // len(groups)) % len(_WORDS[group])]
        suffix, kind_type, kind = _SUFFIX[group]
        name = f"济南{place}{word}{suffix}"
        n += 1
        if any(r["name"] == name for r in rows):
            continue
        rows.append(
            {
                "name": name,
                "group": group,
                "enterprise_type": kind_type,
                "kind": kind,
                "region_code": districts[n % len(districts)],
            }
        )
    return rows


def load_enterprises(
    session: Session, actor: Actor, regions: dict[str, int], csv_rows: list[dict]
) -> list[tuple[int, str]]:
    """The enterprises, as (id, group)."""
    rng = random.Random(55)
    out = []
    for row in _enterprise_rows(rng, csv_rows):
        if "uscc" in row:  # a CSV row: its own code, position and contacts
            contacts = (
                ContactData(name=row["contact_name"], phone=row["contact_phone"]),
                ContactData(
                    name=row["duty_name"], phone=row["duty_phone"], title="值班", is_duty=True
                ),
            )
            lat, lng = Decimal(row["lat"]), Decimal(row["lng"])
            code = row["uscc"]
        else:
            contacts = (
                ContactData(name=_person(rng), phone=_phone(rng), title="经理"),
                ContactData(name=_person(rng), phone=_phone(rng), title="值班", is_duty=True),
            )
            lat = Decimal(f"{36.45 + rng.random() * 0.5:.6f}")
            lng = Decimal(f"{116.7 + rng.random() * 0.8:.6f}")
            code = _code(rng, row["region_code"])
        enterprise = create_enterprise(
            session,
            actor=actor,
            data=EnterpriseData(
                name=row["name"],
                uscc=code,
                region_id=regions.get(row["region_code"]),
                address=row.get("address") or None,
                legal_rep=row.get("legal_rep") or _person(rng),
                kind=row["kind"],
                enterprise_type=row["enterprise_type"],
                lat=lat,
                lng=lng,
                contacts=contacts,
            ),
        )
        out.append((enterprise.id, row["group"]))
    return out


def _lines(rng: random.Random, group: str, materials: dict[str, int], with_capacity: bool):
    codes = GROUPS[group]
    if group == "transport":
        return (
            LineData(
                material_id=materials[codes[0]],
                kind="capacity",
                committed_qty=rng.choice((40, 60, 100)),
                daily_qty=rng.choice((10, 20, 30)),
                lead_hours=rng.choice((2, 4, 6)),
            ),
        )
    chosen = rng.sample(codes, k=rng.choice((1, 2, 2, 3)))
    lines = [
        LineData(
            material_id=materials[c],
            kind="stock",
            committed_qty=rng.choice((200, 300, 500, 800, 1000, 2000, 5000))
            if not c.startswith("20")
            else rng.choice((5, 10, 20, 30)),
            unit_price=Decimal(rng.choice(("24.00", "36.50", "120.00", "380.00", "680.00"))),
        )
        for c in chosen
    ]
    if with_capacity:
        daily = rng.choice((500, 1000, 2000))
        lines.append(
            LineData(
                material_id=materials[chosen[0]],
                kind="capacity",
                committed_qty=daily * rng.choice((10, 15, 30)),
                daily_qty=daily,
                lead_hours=rng.choice((24, 48, 72)),
            )
        )
    return tuple(lines)


def load_agreements(session: Session, actor: Actor, enterprises: list[tuple[int, str]]) -> int:
    """The agreements, through the services; dates are around today."""
    rng = random.Random(80)
    today = local_today()
    materials = dict(
        session.execute(
            select(Material.code, Material.id).where(
                Material.code.in_([c for codes in GROUPS.values() for c in codes])
            )
        ).all()
    )
    districts = list(
        session.scalars(select(Region.id).where(Region.level.in_(("district", "county"))))
    )
    count = 0

    def draft(no, enterprise_id, group, start, end, capacity=False):
        nonlocal count
        count += 1
        return create_agreement(
            session,
            data=AgreementData(
                no=no,
                enterprise_id=enterprise_id,
                signed_on=start - timedelta(days=rng.randint(3, 20)),
                valid_from=start,
                valid_to=end,
                response_hours=rng.choice((2, 4, 6, 12, 24)),
                region_ids=tuple(rng.sample(districts, k=min(len(districts), rng.randint(1, 4)))),
                rotation_duty="企业负责到期前轮换，保持协议数量不低于承诺量（总量稳定、动态平衡）",
                storage_fee=Decimal(rng.choice(("0.80", "1.20", "2.00", "5.00"))),
                compensation_note="储备费按年度核查合格后拨付；调用物资按协议单价结算",
                lines=_lines(rng, group, materials, capacity),
            ),
            actor=actor,
        )

    def activate(agreement, on):
        with clock_at(demo_moment(on)):
            activate_agreement(session, agreement_id=agreement.id, actor=actor)

    for n, (enterprise_id, group) in enumerate(enterprises):
        year = today.year
        capacity = group in CAPACITY_GROUPS and n % 3 == 0
        if n == 2:  # one terminated early: the firm stopped production
            ended = draft(
                f"JNYJ-{year - 1}-T{n:03d}",
                enterprise_id,
                group,
                today - timedelta(days=300),
                today + timedelta(days=65),
            )
            activate(ended, today - timedelta(days=300))
            with clock_at(demo_moment(today - timedelta(days=120))):
                terminate_agreement(
                    session, agreement_id=ended.id, reason="企业停产整改，提前终止协议", actor=actor
                )
        if n < 20:  # last year's, now expired
            old = draft(
                f"JNYJ-{year - 2}-{n:03d}",
                enterprise_id,
                group,
                today - timedelta(days=730),
                today - timedelta(days=366),
            )
            activate(old, today - timedelta(days=730))
        if n % 7 == 3:  # ending within the month, its renewal drafted
            start, end = today - timedelta(days=340), today + timedelta(days=rng.randint(5, 25))
        else:
            start = today - timedelta(days=rng.randint(20, 300))
            end = start + timedelta(days=365 * rng.choice((1, 2, 3)))
        current = draft(f"JNYJ-{year}-{n:03d}", enterprise_id, group, start, end, capacity)
        if n == len(enterprises) - 1:
            continue  # one new enterprise's first agreement is still a draft
        activate(current, start)
        if n % 7 == 3:
            renew_agreement(session, agreement_id=current.id, no=None, actor=actor)
            count += 1
    return count


def load_virtual_reserve(
    session: Session, actor: Actor, regions: dict[str, int], csv_rows: list[dict]
) -> tuple[list[int], int]:
    """代储企业 and 代储协议 of the demo city: (enterprise ids, number of agreements)."""
    _transport(session, actor)
    enterprises = load_enterprises(session, actor, regions, csv_rows)
    agreements = load_agreements(session, actor, enterprises)
    load_reports(session, actor, [e for e, _group in enterprises])
    return [e for e, _group in enterprises], agreements
