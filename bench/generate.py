"""Fill an empty database with a generated city or province for the benchmarks.

    .venv/bin/python -m bench.generate --scale city --database-url sqlite:///bench/city.db
    .venv/bin/python -m bench.generate --scale province \
        --database-url postgresql://postgres@127.0.0.1:5432/reserve_bench

The schema comes from the app's migrations; the rows come from bulk Core inserts (chunks of
``CHUNK`` rows, one transaction per step), never from the services, which audit every row.

Each step is a function ``generate_<thing>(conn, scale, rng) -> {table: rows}`` listed in
``STEPS``. A step reads what it needs from the database (ids of the rows earlier steps wrote),
so a new step (stock, movements, labels …) is one function appended to the list. Every step has
its own random generator seeded from ``--seed`` and its name: adding a step leaves the data of
the others unchanged."""

from __future__ import annotations

import argparse
import csv
import itertools
import math
import random
import sys
import time
from array import array
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import sqlalchemy as sa
from stdnum.cn import uscc

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script: make ``reserve`` importable
    sys.path.insert(0, str(ROOT))

DEMO_DATA = ROOT / "reserve" / "demo" / "data"
REALDATA = Path(__file__).resolve().parent / "data"  # copied from shared/realdata (MCA, NBS)
DIVISIONS = REALDATA / "shandong_divisions_mca2024.txt"
JINAN_STREETS = REALDATA / "jinan_streets_nbs2023.csv"

CHUNK = 5_000
PASSWORD = "bench-password"
# The end of the generated year of history (fixed, so a seed always gives the same rows).
HISTORY_END = datetime(2026, 6, 30, 16, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Scale:
    name: str
    prefecture_prefix: str | None  # "3701": one city (济南); None: the whole province
    materials: int
    enterprises: int
    extra_keepers: int
    audit_entries: int
    township_warehouses: int
    batches: int
    serial_items: int
    balances: int  # (location, batch) rows
    movements: int
    heavy_batches: int  # of the heavy material (the stock-card scenario's)
    heavy_balances: int
    heavy_movements: int
    labels: int = 0  # printed QR labels: every location, every item in stock, then cartons
    agreements: int = 0  # 代储协议 (spread over the enterprises)
    agreement_lines: int = 0  # their lines, stock and capacity


SCALES = {
    "city": Scale(
        "city",
        "3701",
        materials=300,
        enterprises=55,
        extra_keepers=50,
        audit_entries=50_000,
        township_warehouses=3,
        batches=6_000,
        serial_items=3_000,
        balances=15_000,
        movements=200_000,
        heavy_batches=60,
        heavy_balances=300,
        heavy_movements=12_000,
        labels=20_000,
        agreements=85,
        agreement_lines=300,
    ),
    "province": Scale(
        "province",
        None,
        materials=1_500,
        enterprises=1_000,
        extra_keepers=800,
        audit_entries=1_000_000,
        township_warehouses=97,
        batches=60_000,
        serial_items=40_000,
        balances=250_000,
        movements=3_000_000,
        heavy_batches=200,
        heavy_balances=1_200,
        heavy_movements=56_000,
        labels=1_000_000,
        agreements=3_000,
        agreement_lines=10_000,
    ),
}

ROLE_USERS = (  # username, role, full name (as the demo city)
    ("admin", "admin", "王管理"),
    ("dispatcher", "dispatcher", "李调度"),
    ("approver", "approver", "张局长"),
    ("keeper", "keeper", "赵保管"),
    ("enterprise", "enterprise", "刘企业"),
    ("viewer", "viewer", "陈领导"),
)

AREA_CODES = {  # 长途区号 of the 16 prefectures, for enterprise duty phones
    "3701": "0531",
    "3702": "0532",
    "3703": "0533",
    "3704": "0632",
    "3705": "0546",
    "3706": "0535",
    "3707": "0536",
    "3708": "0537",
    "3709": "0538",
    "3710": "0631",
    "3711": "0633",
    "3713": "0539",
    "3714": "0534",
    "3715": "0635",
    "3716": "0543",
    "3717": "0530",
}
SURNAMES = (
    "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹"
    "袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏薛叶阎"
)
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红建国立新文志海波晓梅雪浩东亮"
ROADS = (
    "经十路",
    "工业北路",
    "和平路",
    "解放路",
    "人民路",
    "建设路",
    "黄河路",
    "泰山路",
    "新华路",
    "中心大街",
    "滨河路",
    "府前街",
    "胜利路",
    "开发区大道",
    "文化路",
    "振兴街",
)
BRANDS = (
    "泉源",
    "鲁信",
    "华康",
    "齐鲁",
    "安澜",
    "瑞丰",
    "鑫达",
    "恒通",
    "宏远",
    "金泰",
    "永安",
    "长盛",
    "聚福",
    "东岳",
    "海晟",
    "盛世",
    "润泽",
    "福瑞",
    "泰和",
    "兴业",
    "中正",
    "天成",
    "惠民",
    "益康",
    "万通",
    "顺达",
    "鸿运",
    "荣昌",
    "嘉禾",
    "民生",
    "安泰",
    "广源",
    "德润",
    "明珠",
    "汇丰",
    "新元",
    "宝华",
    "同舟",
    "远航",
    "信和",
)
ENTERPRISE_TYPES = {  # kind of business → 企业类型
    "食品生产": "production",
    "饮用水": "production",
    "家纺被服": "production",
    "帐篷篷布": "production",
    "应急装备": "production",
    "救生器材": "production",
    "商超": "trade",
    "粮油": "trade",
    "医药流通": "trade",
    "发电设备": "trade",
    "泵类及排涝设备": "trade",
    "户外装备": "trade",
    "建筑材料": "trade",
    "物流仓储": "logistics",
}
INDUSTRIES = (  # (name part, kind) after the demo enterprises
    ("食品", "食品生产"),
    ("饮品", "饮用水"),
    ("商贸", "商超"),
    ("家纺", "家纺被服"),
    ("篷布", "帐篷篷布"),
    ("粮油", "粮油"),
    ("物流", "物流仓储"),
    ("医药", "医药流通"),
    ("机电设备", "发电设备"),
    ("泵业", "泵类及排涝设备"),
    ("户外用品", "户外装备"),
    ("建材", "建筑材料"),
    ("应急装备", "应急装备"),
    ("救生器材", "救生器材"),
)
SPEC_VARIANTS = ("", "加强型", "轻便型", "经济型", "高寒型", "2024版", "加厚型", "出口标准")
TOWNSHIP_AREAS = ("东部片区", "西部片区", "南部山区", "北部沿河", "中心镇", "城关街道")
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
ORG_CODE_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)


# -- helpers ---------------------------------------------------------------------------------


def chunked(rows: Iterable[dict], size: int = CHUNK) -> Iterator[list[dict]]:
    iterator = iter(rows)
    while chunk := list(itertools.islice(iterator, size)):
        yield chunk


def insert(conn: sa.Connection, table_name: str, rows: Iterable[dict]) -> int:
    """Bulk INSERT in chunks (an executemany per chunk); returns the number of rows."""
    table = table_of(table_name)
    count = 0
    for chunk in chunked(rows):
        conn.execute(table.insert(), chunk)
        count += len(chunk)
    return count


def table_of(name: str) -> sa.Table:
    from reserve.db import Base

    return Base.metadata.tables[name]


def csv_rows(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8-sig") as handle:
        return list(csv.DictReader(handle))


def person(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.choices(GIVEN, k=rng.choice((1, 2))))


def mobile(rng: random.Random) -> str:
    return rng.choice(("13", "15", "18", "17")) + f"{rng.randrange(10**9):09d}"


def org_code(body: str) -> str:
    """A GB 11714 organisation code: 8 characters and the check character."""
    total = sum(USCC_ALPHABET.index(ch) * w for ch, w in zip(body, ORG_CODE_WEIGHTS, strict=True))
    check = 11 - total % 11
    return body + {10: "X", 11: "0"}.get(check, str(check))


def make_uscc(rng: random.Random, region_code: str) -> str:
    """A valid 统一社会信用代码 (GB 32100-2015): 9 1 (工商, 企业), region, org code, check."""
    body = "".join(rng.choices(USCC_ALPHABET, k=8))
    first17 = "91" + region_code + org_code(body)
    number = first17 + uscc.calc_check_digit(first17)
    return uscc.validate(number)


def past(rng: random.Random, days: int = 365) -> datetime:
    return HISTORY_END - timedelta(seconds=rng.randrange(days * 86_400))


def divisions(scale: Scale) -> list[tuple[str, str, str, str | None]]:
    """(code, name, level, parent code) of the real GB/T 2260 divisions in the scale."""
    result = []
    for line in DIVISIONS.read_text(encoding="utf-8").splitlines():
        code, name = line.split()
        if code.endswith("0000"):
            level, parent = "province", None
        elif code.endswith("00"):
            level, parent = "city", code[:2] + "0000"
        else:
            level = "district" if name.endswith("区") else "county"
            parent = code[:4] + "00"
        if (
            scale.prefecture_prefix
            and level != "province"
            and not code.startswith(scale.prefecture_prefix)
        ):
            continue
        result.append((code, name, level, parent))
    return result


def rows_of(conn: sa.Connection, sql: str) -> list:
    return list(conn.execute(sa.text(sql)))


# -- steps -----------------------------------------------------------------------------------


def townships() -> list[tuple[str, str, str, str]]:
    """(code, name, level, county code) of Jinan's 街道/镇: 9-digit 统计用区划代码 (NBS 2023)."""
    return [
        (row["code"], row["name"], "township", row["areaCode"]) for row in csv_rows(JINAN_STREETS)
    ]


def generate_regions(conn, scale: Scale, rng: random.Random) -> dict[str, int]:
    ids: dict[str, int] = {}
    rows = []
    counties = {code for code, _name, _level, _parent in divisions(scale)}
    known = divisions(scale) + [t for t in townships() if t[3] in counties]
    for n, (code, name, level, parent) in enumerate(known, start=1):
        ids[code] = n
        rows.append(
            {
                "id": n,
                "code": code,
                "name": name,
                "level": level,
                "parent_id": ids.get(parent) if parent else None,
            }
        )
    return {"regions": insert(conn, "regions", rows)}


def generate_categories(conn, scale: Scale, rng: random.Random) -> dict[str, int]:
    from reserve.catalog.service import category_level

    ids: dict[str, int] = {}
    rows = []
    for n, row in enumerate(csv_rows(DEMO_DATA / "categories.csv"), start=1):
        ids[row["code"]] = n
        rows.append(
            {
                "id": n,
                "code": row["code"],
                "name": row["name"],
                "level": category_level(row["code"]),
                "parent_id": ids.get(row["parent_code"]) if row["parent_code"] else None,
                "is_local": row["is_local"] == "1",
            }
        )
    return {"categories": insert(conn, "categories", rows)}


def generate_materials(conn, scale: Scale, rng: random.Random) -> dict[str, int]:
    """The demo materials, then the same materials again with spec variants and codes
    ``<code>-02`` …, until the scale's count."""
    from reserve.catalog.service import pinyin_initials

    categories = dict(rows_of(conn, "SELECT code, id FROM categories"))
    demo = csv_rows(DEMO_DATA / "materials.csv")
    initials: dict[str, str] = {}

    def dec(value: str) -> Decimal | None:
        return Decimal(value) if value else None

    def rows():
        for n in range(scale.materials):
            row = demo[n % len(demo)]
            variant = n // len(demo)
            name = row["name"]
            if name not in initials:
                initials[name] = pinyin_initials(name)
            spec = row["spec"] or ""
            if variant:
                spec = f"{spec} {SPEC_VARIANTS[variant % len(SPEC_VARIANTS)]}".strip()
            price = dec(row["reference_price"])
            if price is not None and variant:
                price = (price * Decimal(1 + 0.05 * variant)).quantize(Decimal("0.01"))
            yield {
                "id": n + 1,
                "code": row["code"] + (f"-{variant + 1:02d}" if variant else ""),
                "name": name,
                "spec": spec or None,
                "unit": row["unit"],
                "category_id": categories[row["category_code"]],
                "tracking": row["tracking"],
                "shelf_life_days": int(row["shelf_life_days"]) if row["shelf_life_days"] else None,
                "near_expiry_days": int(row["near_expiry_days"] or 90),
                "reference_price": price,
                "unit_weight_kg": dec(row["unit_weight_kg"]),
                "unit_volume_m3": dec(row["unit_volume_m3"]),
                "pinyin_initials": initials[name],
                "is_active": rng.random() > 0.02,
                "created_at": past(rng),
            }

    return {"materials": insert(conn, "materials", rows())}


def _warehouse_plan(conn, scale: Scale, rng: random.Random) -> list[dict]:
    """The warehouses' rows: the demo city's, or one per level and region of the province."""
    regions = {r.code: r for r in rows_of(conn, "SELECT id, code, name, level FROM regions")}
    if scale.prefecture_prefix:  # the demo city: its 16 real-looking warehouses
        plan = []
        for row in csv_rows(DEMO_DATA / "warehouses.csv"):
            plan.append(
                {
                    "code": row["code"],
                    "name": row["name"],
                    "level": row["level"],
                    "region_id": regions[row["region_code"]].id,
                    "address": row["address"],
                    "lat": Decimal(row["lat"]),
                    "lng": Decimal(row["lng"]),
                    "area_m2": Decimal(row["area_m2"]),
                }
            )
        return plan

    prefectures = {r.code[:4]: r for r in regions.values() if r.level == "city"}
    streets: dict[str, list[tuple[str, str]]] = {}  # county code → its townships (code, name)
    for row in csv_rows(JINAN_STREETS):
        if row["name"].endswith(("街道", "镇", "乡")):
            streets.setdefault(row["areaCode"], []).append((row["code"], row["name"]))

    def place(region, *, level: str, name: str, seq: int, area: int, county=None) -> dict:
        prefecture = prefectures.get(region.code[:4])
        city_name = prefecture.name if prefecture else ""
        county = county or region
        district = county.name if county.level in ("district", "county") else ""
        return {
            "code": f"SD-{region.code}-{seq:02d}",
            "name": name,
            "level": level,
            "region_id": region.id,
            "address": f"{city_name}{district}{rng.choice(ROADS)}{rng.randrange(1, 3000)}号",
            "lat": Decimal(f"{rng.uniform(34.5, 38.2):.6f}"),
            "lng": Decimal(f"{rng.uniform(115.0, 122.5):.6f}"),
            "area_m2": Decimal(area),
        }

    province = regions["370000"]
    plan = [place(province, level="province", name="山东省应急物资综合储备库", seq=1, area=32_000)]
    for prefecture in sorted(prefectures.values(), key=lambda r: r.code):
        plan.append(
            place(
                prefecture,
                level="city",
                name=f"{prefecture.name}应急物资综合储备库",
                seq=1,
                area=rng.randrange(8_000, 20_000),
            )
        )
    counties = sorted(
        (r for r in regions.values() if r.level in ("district", "county")), key=lambda r: r.code
    )
    for county in counties:
        plan.append(
            place(
                county,
                level="district",
                name=f"{county.name}应急物资储备库",
                seq=1,
                area=rng.randrange(1_500, 6_000),
            )
        )
    for county in sorted(rng.sample(counties, scale.township_warehouses), key=lambda r: r.code):
        local = streets.get(county.code)
        town_code, town = rng.choice(local) if local else (None, rng.choice(TOWNSHIP_AREAS))
        plan.append(
            place(
                regions.get(town_code, county),  # its real township region where one is known
                level="township",
                name=f"{county.name}{town}应急物资储备点",
                seq=2,
                area=rng.randrange(300, 900),
                county=county,
            )
        )
    return plan


def generate_warehouses(conn, scale: Scale, rng: random.Random) -> dict[str, int]:
    rows = [
        row | {"id": n, "phone": None, "is_active": True, "created_at": past(rng)}
        for n, row in enumerate(_warehouse_plan(conn, scale, rng), start=1)
    ]
    return {"warehouses": insert(conn, "warehouses", rows)}


def generate_locations(conn, scale: Scale, rng: random.Random) -> dict[str, int]:
    """A receiving area and a 排-列-层 grid (A-01-01 …) per warehouse, sized by its level."""
    demo = {
        row["code"]: (int(row["location_rows"]), int(row["location_cols"]), 3)
        for row in csv_rows(DEMO_DATA / "warehouses.csv")
    }

    def grid(code: str, level: str, area: Decimal) -> tuple[int, int, int]:
        if code in demo:
            return demo[code]
        if level in ("province", "city"):
            return (20, 30, 3) if area >= 30_000 else (10, 20, 3)
        if level == "township":
            return (2, 4, 2)
        sized = random.Random(code)  # the same grid for a warehouse whatever the seed
        return sized.randrange(5, 10), sized.randrange(8, 13), 3

    warehouses = rows_of(conn, "SELECT id, code, level, area_m2 FROM warehouses ORDER BY id")

    def rows():
        for warehouse in warehouses:
            yield {
                "warehouse_id": warehouse.id,
                "code": "RECV",
                "name": "收货区",
                "is_receiving": True,
                "is_active": True,
            }
            n_rows, n_cols, n_tiers = grid(warehouse.code, warehouse.level, warehouse.area_m2)
            for r, c, t in itertools.product(range(n_rows), range(n_cols), range(n_tiers)):
                code = f"{chr(65 + r)}-{c + 1:02d}-{t + 1:02d}"
                yield {
                    "warehouse_id": warehouse.id,
                    "code": code,
                    "name": None,
                    "is_receiving": False,
                    "is_active": rng.random() > 0.01,
                }

    return {"locations": insert(conn, "locations", rows())}


def generate_enterprises(conn, scale: Scale, rng: random.Random) -> dict[str, int]:
    from reserve.catalog.service import pinyin_initials

    regions = [
        r
        for r in rows_of(conn, "SELECT id, code, name, level FROM regions")
        if r.level in ("district", "county")
    ]
    cities = {
        r.code[:4]: r.name
        for r in rows_of(conn, "SELECT code, name FROM regions")
        if r.code.endswith("00") and not r.code.endswith("0000")
    }
    names: set[str] = set()
    codes: set[str] = set()
    rows = []
    while len(rows) < scale.enterprises:
        region = rng.choice(regions)
        city = cities[region.code[:4]]
        industry, kind = rng.choice(INDUSTRIES)
        place = city.removesuffix("市")
        name = f"{place}{rng.choice(BRANDS)}{industry}{rng.choice(('有限公司', '股份有限公司'))}"
        if name in names:
            name = f"{place}{region.name}{rng.choice(BRANDS)}{industry}有限公司"
        if name in names:
            continue
        code = make_uscc(rng, region.code)
        if code in codes:
            continue
        names.add(name)
        codes.add(code)
        rows.append(
            {
                "id": len(rows) + 1,
                "name": name,
                "uscc": code,
                "region_id": region.id,
                "address": f"{city}{region.name}{rng.choice(ROADS)}{rng.randrange(1, 3000)}号",
                "legal_rep": person(rng),
                "kind": kind,
                "enterprise_type": ENTERPRISE_TYPES.get(kind, "other"),
                "status": "active" if rng.random() > 0.03 else "suspended",
                "lat": Decimal(f"{34.4 + rng.random() * 3.8:.6f}"),
                "lng": Decimal(f"{114.8 + rng.random() * 7.6:.6f}"),
                "pinyin_initials": pinyin_initials(name),
                "created_at": past(rng),
            }
        )
    return {"enterprises": insert(conn, "enterprises", rows)}


def generate_enterprise_contacts(conn, scale: Scale, rng: random.Random) -> dict[str, int]:
    """Two or three contacts an enterprise, the last on 24-hour duty (a landline)."""
    enterprises = rows_of(
        conn,
        "SELECT e.id, r.code FROM enterprises e JOIN regions r ON r.id = e.region_id ORDER BY e.id",
    )

    def rows():
        for enterprise in enterprises:
            count = rng.choice((2, 2, 3))
            for position in range(1, count + 1):
                duty = position == count
                yield {
                    "enterprise_id": enterprise.id,
                    "position": position,
                    "name": person(rng),
                    "title": "值班" if duty else rng.choice(("经理", "仓储主管", "销售")),
                    "phone": f"{AREA_CODES[enterprise.code[:4]]}-"
                    f"{rng.randrange(8_000_0000, 8_999_9999)}"
                    if duty
                    else mobile(rng),
                    "is_duty": duty,
                }

    return {"enterprise_contacts": insert(conn, "enterprise_contacts", rows())}


def generate_agreements(conn, scale: Scale, rng: random.Random) -> dict[str, int]:
    """代储协议 and their lines: about three an enterprise over the years (one in force now,
    earlier ones expired, a few drafts and terminated), 3 or 4 lines each, a fifth of them
    capacity; the materials of an enterprise's agreements in force never overlap."""
    enterprises = [r.id for r in rows_of(conn, "SELECT id FROM enterprises ORDER BY id")]
    materials = [r.id for r in rows_of(conn, "SELECT id FROM materials ORDER BY id")]
    districts = [
        r.id
        for r in rows_of(
            conn, "SELECT id FROM regions WHERE level IN ('district', 'county') ORDER BY id"
        )
    ]
    admin = conn.scalar(sa.text("SELECT id FROM users WHERE username = 'admin'"))
    today = date.today()
    agreements, lines, regions = [], [], []
    per_line = max(1, scale.agreement_lines // max(1, scale.agreements))
    extra_lines = scale.agreement_lines - per_line * scale.agreements
    for n in range(scale.agreements):
        enterprise = enterprises[n % len(enterprises)]
        generation = n // len(enterprises)  # 0: in force now; 1, 2 …: earlier, expired
        if generation == 0:
            start = today - timedelta(days=rng.randrange(10, 300))
            end = start + timedelta(days=365 * rng.choice((1, 2, 3)))
            status = rng.choices(("active", "draft", "terminated"), (90, 6, 4))[0]
        else:
            end = today - timedelta(days=300 + 365 * (generation - 1) + rng.randrange(1, 60))
            start = end - timedelta(days=365)
            status = "active"  # past its end: reads as expired
        agreement_id = n + 1
        at = datetime.combine(start, datetime.min.time(), tzinfo=UTC)
        agreements.append(
            {
                "id": agreement_id,
                "no": f"XY-{start.year}-{agreement_id:05d}",
                "enterprise_id": enterprise,
                "signed_on": start - timedelta(days=rng.randrange(3, 20)),
                "valid_from": start,
                "valid_to": end,
                "response_hours": rng.choice((2, 4, 6, 12, 24, 48)),
                "rotation_duty": "企业负责到期前轮换",
                "storage_fee": Decimal(rng.choice(("0.80", "1.20", "2.00", "5.00"))),
                "compensation_note": "储备费按年度核查合格后拨付",
                "status": status,
                "termination_reason": "企业停产" if status == "terminated" else None,
                "created_by_id": admin,
                "created_by_name": "admin",
                "created_at": at,
                "activated_by_id": admin if status != "draft" else None,
                "activated_by_name": "admin" if status != "draft" else None,
                "activated_at": at if status != "draft" else None,
                "terminated_by_id": admin if status == "terminated" else None,
                "terminated_by_name": "admin" if status == "terminated" else None,
                "terminated_at": at + timedelta(days=30) if status == "terminated" else None,
            }
        )
        regions.extend(
            {"agreement_id": agreement_id, "region_id": r}
            for r in rng.sample(districts, k=min(len(districts), rng.randrange(1, 4)))
        )
        count = per_line + (1 if n < extra_lines else 0)
        for line_no, material in enumerate(rng.sample(materials, k=count), start=1):
            capacity = rng.random() < 0.2
            daily = rng.choice((100, 500, 1000, 2000))
            lines.append(
                {
                    "agreement_id": agreement_id,
                    "line_no": line_no,
                    "material_id": material,
                    "kind": "capacity" if capacity else "stock",
                    "committed_qty": daily * rng.choice((10, 20, 30))
                    if capacity
                    else rng.choice((50, 100, 300, 500, 1000, 5000)),
                    "unit_price": Decimal(rng.choice(("24.00", "120.00", "680.00"))),
                    "daily_qty": daily if capacity else None,
                    "lead_hours": rng.choice((24, 48, 72)) if capacity else None,
                    "called_qty": 0,
                }
            )
    return {
        "agreements": insert(conn, "agreements", agreements),
        "agreement_regions": insert(conn, "agreement_regions", regions),
        "agreement_lines": insert(conn, "agreement_lines", lines),
    }


def _month_starts(first: date, last: date) -> list[date]:
    months, day = [], first.replace(day=1)
    while day <= last:
        months.append(day)
        day = (day + timedelta(days=32)).replace(day=1)
    return months


def generate_reports_and_verifications(conn, scale: Scale, rng: random.Random) -> dict[str, int]:
    """A year of 库存申报 and 核查 on the stock lines of the agreements in force at the time:
    a monthly report per enterprise (submitted early the next month; a tenth of the
    enterprises stopped reporting two to five months ago, and one report line in twelve is
    below commitment), and a verification of each enterprise about every quarter (one line in
    twenty fails or counts short). The lines' evidence columns (``reported_*``, ``verified_*``,
    ``capped_qty``) are then those of the newest report and verification, by the rule of
    ``reserve.agreements.reports`` (nothing is shipped in the bench: ``shipped_qty`` is 0)."""
    today = date.today()
    start = today - timedelta(days=365)
    lines_of: dict[int, list] = {}
    for row in rows_of(
        conn,
        "SELECT l.id, l.committed_qty, a.enterprise_id, a.valid_from, a.valid_to"
        " FROM agreement_lines l JOIN agreements a ON a.id = l.agreement_id"
        " WHERE l.kind = 'stock' AND a.status = 'active' ORDER BY l.id",
    ):
        lines_of.setdefault(row.enterprise_id, []).append(row)
    admin = conn.scalar(sa.text("SELECT id FROM users WHERE username = 'admin'"))
    reports, report_lines, verifications, verification_lines = [], [], [], []
    events: list[tuple[datetime, int, str, int, bool]] = []  # (when, line, kind, qty, passed)

    def day(value) -> date:
        return date.fromisoformat(value) if isinstance(value, str) else value  # SQLite: text

    def in_force(line, first: date, last: date) -> bool:
        return day(line.valid_from) <= last and day(line.valid_to) >= first

    for enterprise_id, lines in lines_of.items():
        stopped = today - timedelta(days=rng.randrange(60, 150)) if rng.random() < 0.1 else today
        for month in _month_starts(start, today - timedelta(days=28)):
            month_end = (month + timedelta(days=32)).replace(day=1) - timedelta(days=1)
            filed = month_end + timedelta(days=rng.randrange(1, 10))
            due = [line for line in lines if in_force(line, month, month_end)]
            if not due or filed >= min(stopped, today):
                continue
            report_id = len(reports) + 1
            at = datetime.combine(filed, datetime.min.time(), tzinfo=UTC) + timedelta(
                hours=rng.randrange(1, 10)
            )
            reports.append(
                {
                    "id": report_id,
                    "no": f"SB{filed.year}-{report_id:06d}",
                    "enterprise_id": enterprise_id,
                    "kind": "monthly",
                    "status": "submitted",
                    "period_month": month,
                    "created_by_name": "enterprise",
                    "created_at": at - timedelta(hours=1),
                    "submitted_by_name": "enterprise",
                    "submitted_at": at,
                }
            )
            for line_no, line in enumerate(due, start=1):
                held = line.committed_qty
                if rng.random() < 1 / 12:
                    held = rng.randrange(0, line.committed_qty)
                report_lines.append(
                    {
                        "report_id": report_id,
                        "line_no": line_no,
                        "agreement_line_id": line.id,
                        "committed_qty": line.committed_qty,
                        "held_qty": held,
                    }
                )
                events.append((at, line.id, "report", held, True))
        checked = start + timedelta(days=rng.randrange(0, 90))
        while checked <= today - timedelta(days=1):
            due = [line for line in lines if in_force(line, checked, checked)]
            if due:
                verification_id = len(verifications) + 1
                at = datetime.combine(checked, datetime.min.time(), tzinfo=UTC) + timedelta(hours=8)
                results = []
                for line_no, line in enumerate(due, start=1):
                    short = rng.random() < 0.05
                    counted = rng.randrange(0, line.committed_qty) if short else line.committed_qty
                    results.append((line_no, line, counted, not short))
                verifications.append(
                    {
                        "id": verification_id,
                        "no": f"HC{checked.year}-{verification_id:06d}",
                        "enterprise_id": enterprise_id,
                        "status": "recorded",
                        "planned_on": checked,
                        "inspectors": f"{person(rng)}、{person(rng)}",
                        "checked_on": checked,
                        "passed": all(r[3] for r in results),
                        "created_by_id": admin,
                        "created_by_name": "admin",
                        "created_at": at - timedelta(days=7),
                        "recorded_by_id": admin,
                        "recorded_by_name": "admin",
                        "recorded_at": at,
                    }
                )
                for line_no, line, counted, passed in results:
                    verification_lines.append(
                        {
                            "verification_id": verification_id,
                            "line_no": line_no,
                            "agreement_line_id": line.id,
                            "committed_qty": line.committed_qty,
                            "shipped_qty": 0,
                            "counted_qty": counted,
                            "passed": passed,
                        }
                    )
                    events.append((at, line.id, "verification", counted, passed))
            checked += timedelta(days=rng.randrange(60, 130))
    # the newest evidence on each line, applied in time order by the services' rule
    committed = {line.id: line.committed_qty for lines in lines_of.values() for line in lines}
    state: dict[int, dict] = {}
    for at, line_id, kind, qty, passed in sorted(events, key=lambda e: (e[0], e[1])):
        s = state.setdefault(
            line_id,
            {
                "id": line_id,
                "rq": None,
                "ra": None,
                "vq": None,
                "vo": None,
                "vp": None,
                "cap": None,
            },
        )
        if kind == "report":
            s["rq"], s["ra"] = qty, at
            if qty < committed[line_id]:
                s["cap"] = qty
            elif s["vp"] is not False:
                s["cap"] = None
        else:
            s["vq"], s["vo"], s["vp"] = qty, at.date(), passed
            s["cap"] = qty if (not passed or qty < committed[line_id]) else None
    counts = {
        "stock_reports": insert(conn, "stock_reports", reports),
        "stock_report_lines": insert(conn, "stock_report_lines", report_lines),
        "verifications": insert(conn, "verifications", verifications),
        "verification_lines": insert(conn, "verification_lines", verification_lines),
    }
    update = sa.text(
        "UPDATE agreement_lines SET reported_qty = :rq, reported_at = :ra, verified_qty = :vq,"
        " verified_on = :vo, verification_passed = :vp, capped_qty = :cap WHERE id = :id"
    ).bindparams(sa.bindparam("ra", type_=table_of("agreement_lines").c.reported_at.type))
    for chunk in chunked(state.values()):
        conn.execute(update, chunk)
    counts["(line evidence)"] = len(state)
    return counts


def generate_users(conn, scale: Scale, rng: random.Random) -> dict[str, int]:
    """One user per role (password ``bench-password``, hashed once with the app's method) and
    the extra keepers ``keeper001`` …; roles and kept warehouses in their own steps."""
    from reserve.auth.service import hash_password

    password_hash = hash_password(PASSWORD)
    first_enterprise = conn.scalar(sa.text("SELECT min(id) FROM enterprises"))
    rows = []
    for n, (username, role, full_name) in enumerate(ROLE_USERS, start=1):
        rows.append(
            {
                "id": n,
                "username": username,
                "full_name": full_name,
                "enterprise_id": first_enterprise if role == "enterprise" else None,
            }
        )
    for k in range(1, scale.extra_keepers + 1):
        rows.append(
            {
                "id": len(rows) + 1,
                "username": f"keeper{k:03d}",
                "full_name": person(rng),
                "enterprise_id": None,
            }
        )
    for row in rows:
        row.update(
            phone=mobile(rng),
            password_hash=password_hash,
            is_enabled=True,
            must_change_password=False,
            created_at=past(rng, 730),
            last_login_at=None,
        )
    return {"users": insert(conn, "users", rows)}


def generate_user_roles(conn, scale: Scale, rng: random.Random) -> dict[str, int]:
    roles = dict((u, r) for u, r, _name in ROLE_USERS)
    users = rows_of(conn, "SELECT id, username FROM users ORDER BY id")
    rows = [{"user_id": u.id, "role": roles.get(u.username, "keeper")} for u in users]
    return {"user_roles": insert(conn, "user_roles", rows)}


def generate_user_warehouses(conn, scale: Scale, rng: random.Random) -> dict[str, int]:
    """The role user ``keeper`` keeps the top warehouse; each extra keeper keeps 1–3, and every
    warehouse has at least one keeper."""
    warehouses = [w.id for w in rows_of(conn, "SELECT id FROM warehouses ORDER BY id")]
    keepers = rows_of(
        conn, "SELECT id, username FROM users WHERE username LIKE 'keeper%' ORDER BY id"
    )
    rows = []
    for n, keeper in enumerate(keepers):
        if keeper.username == "keeper":
            kept = {warehouses[0]}
        else:
            kept = {warehouses[n % len(warehouses)]}
            kept.update(rng.sample(warehouses, rng.randrange(0, 3)))
        rows.extend({"user_id": keeper.id, "warehouse_id": w} for w in sorted(kept))
    return {"user_warehouses": insert(conn, "user_warehouses", rows)}


# (object type, action, weight, who): "self" the user signs in, "admin" an administrator,
# "keeper" a keeper, "any" anyone.
AUDIT_MIX = (
    ("users", "login", 36, "self"),
    ("materials", "update", 12, "admin"),
    ("materials", "create", 5, "admin"),
    ("locations", "update", 9, "keeper"),
    ("locations", "create", 4, "keeper"),
    ("warehouses", "update", 3, "admin"),
    ("warehouses", "generate_locations", 1, "admin"),
    ("warehouses", "create", 1, "admin"),
    ("enterprises", "update", 6, "any"),
    ("enterprises", "create", 1, "admin"),
    ("categories", "update", 1, "admin"),
    ("regions", "update", 1, "admin"),
    ("users", "update", 4, "admin"),
    ("users", "create", 2, "admin"),
    ("users", "password_change", 3, "self"),
    ("users", "password_reset", 1, "admin"),
    ("users", "login_locked", 1, "system"),
    ("users", "disable", 1, "admin"),
    ("users", "enable", 1, "admin"),
    ("api_tokens", "create", 2, "any"),
    ("api_tokens", "revoke", 1, "any"),
)
AUDIT_OBJECTS = {  # object type → SQL giving (id, label)
    "users": "SELECT id, username FROM users",
    "materials": "SELECT id, code || ' ' || name FROM materials",
    "locations": "SELECT l.id, w.code || '/' || l.code FROM locations l "
    "JOIN warehouses w ON w.id = l.warehouse_id",
    "warehouses": "SELECT id, code || ' ' || name FROM warehouses",
    "enterprises": "SELECT id, name FROM enterprises",
    "categories": "SELECT id, code || ' ' || name FROM categories",
    "regions": "SELECT id, code || ' ' || name FROM regions",
}


def _audit_change(action: str, object_type: str, label: str, rng: random.Random):
    if action == "update":
        field = {
            "materials": "spec",
            "locations": "name",
            "enterprises": "status",
            "users": "phone",
        }.get(object_type, "name")
        return {field: f"{label[:20]} 旧"}, {field: f"{label[:20]} 新"}
    if action == "create":
        return None, {"label": label, "is_active": True}
    if action == "generate_locations":
        return None, {"rows": rng.randrange(2, 20), "cols": rng.randrange(4, 30), "created": 60}
    if action in ("enable", "disable"):
        return {"is_enabled": action == "disable"}, {"is_enabled": action == "enable"}
    return None, None


def generate_audit_entries(conn, scale: Scale, rng: random.Random) -> dict[str, int]:
    """A year of the log: ids in time order (append-only), mostly working hours, local time."""
    users = rows_of(conn, "SELECT id, username FROM users ORDER BY id")
    user_by_id = {u.id: u for u in users}
    admins = [u for u in users if u.username == "admin"]
    keepers = [u for u in users if u.username.startswith("keeper")]
    objects = {kind: rows_of(conn, sql) for kind, sql in AUDIT_OBJECTS.items()}
    ip_of = {u.id: f"10.37.{u.id // 250}.{u.id % 250 + 2}" for u in users}
    mix = [m for m in AUDIT_MIX if m[0] in objects or m[0] == "api_tokens"]
    weights = list(itertools.accumulate(m[2] for m in mix))
    n = scale.audit_entries
    start = HISTORY_END - timedelta(days=365)
    # Sorted instants: a day, then an hour weighted to 08:00–18:00 Asia/Shanghai (00–10 UTC).
    hours = [h for h in range(24) for _ in range(6 if 0 <= h < 10 else 1)]
    offsets = sorted(
        rng.randrange(365) * 86_400 + rng.choice(hours) * 3_600 + rng.randrange(3_600)
        for _ in range(n)
    )

    def rows():
        token_id = 0
        for offset in offsets:
            object_type, action, _w, who = rng.choices(mix, cum_weights=weights)[0]
            if object_type == "api_tokens":
                token_id += action == "create"
                obj_id, label = max(token_id, 1), f"token {max(token_id, 1)}"
            else:
                obj_id, label = rng.choice(objects[object_type])
            if who == "self":
                actor = user_by_id[obj_id]
            elif who == "admin":
                actor = rng.choice(admins) if rng.random() < 0.7 else rng.choice(users[:3])
            elif who == "keeper":
                actor = rng.choice(keepers)
            elif who == "any":
                actor = rng.choice(users)
            else:
                actor = None
            before, after = _audit_change(action, object_type, label, rng)
            yield {
                "at": start + timedelta(seconds=offset),
                "user_id": actor.id if actor else None,
                "username": actor.username if actor else "system",
                "ip": ip_of[actor.id] if actor else None,
                "action": action,
                "object_type": object_type,
                "object_id": str(obj_id),
                "object_label": label[:200],
                "before": before,
                "after": after,
            }

    return {"audit_entries": insert(conn, "audit_entries", rows())}


# -- stock -----------------------------------------------------------------------------------
# Batches, balances, serial items and movements, consistent with the ledger: the movements of
# each (location, batch) sum to its balance, and ``balance_after`` is the running balance in id
# order (``ledger.verify`` finds nothing). Offsets ``t`` are seconds since HISTORY_START, which
# is midnight in Asia/Shanghai, so ``t // DAY`` is the index of the local day.

DAY = 86_400
HISTORY_START = HISTORY_END - timedelta(days=365)
SPAN = 365 * DAY
FIRST_DAY = (HISTORY_START + timedelta(hours=8)).date()  # 2025-07-01
LAST_DAY = FIRST_DAY + timedelta(days=364)  # 2026-06-30: "today" of the generated data
OFFSET_BITS = 24  # a movement's sort key: offset << OFFSET_BITS | its index
IN_STOCK_SHARE = 0.9  # of the serial items; the rest were issued, are in use, repaired, scrapped

BATCH_SOURCES = ("purchase", "higher_allocation", "donation", "transfer_in", "return")
BATCH_SOURCE_WEIGHTS = (70, 82, 90, 97, 100)  # cumulative
FUNDING = ("省级应急物资储备资金", "市级财政预算", "中央自然灾害救灾资金", "县级财政预算")
ITEM_STATUSES = ("issued", "in_use", "repair", "scrapped")
ITEM_STATUS_WEIGHTS = (40, 65, 80, 100)  # cumulative
# Movement kinds: those raising a balance and those lowering it, with cumulative weights.
KINDS = (
    "receipt",
    "issue",
    "transfer_out",
    "transfer_in",
    "move_out",
    "move_in",
    "gain",
    "loss",
    "rotate_out",
    "scrap",
)
K = {kind: n for n, kind in enumerate(KINDS)}
UP = (K["receipt"], K["transfer_in"], K["move_in"], K["gain"])
UP_WEIGHTS = (20, 55, 90, 100)
DOWN = (K["issue"], K["transfer_out"], K["move_out"], K["loss"], K["rotate_out"], K["scrap"])
DOWN_WEIGHTS = (50, 68, 86, 91, 97, 100)
SMALL = {K["gain"], K["loss"], K["scrap"]}  # count differences and breakage: a few units
CLOSE_UP = (K["receipt"], K["transfer_in"], K["move_in"])
CLOSE_DOWN = (K["issue"], K["transfer_out"], K["move_out"])
DOCUMENTS = {  # kind → (document type, number prefix), as reserve.stock.numbering
    "receipt": ("receipt", "RK"),
    "issue": ("order", "DB"),
    "transfer_out": ("order", "DB"),
    "transfer_in": ("order", "DB"),
    "move_out": ("move", "YK"),
    "move_in": ("move", "YK"),
    "gain": ("stocktake", "PD"),
    "loss": ("stocktake", "PD"),
    "rotate_out": ("rotation", "LH"),
    "scrap": ("scrap", "BF"),
}
NOTES = {"gain": "盘盈", "loss": "盘亏", "rotate_out": "临期轮换出库", "scrap": "破损报废"}
MOVEMENT_COLUMNS = (
    "id",
    "posted_at",
    "document_date",
    "kind",
    "material_id",
    "batch_id",
    "location_id",
    "warehouse_id",
    "qty",
    "balance_after",
    "document_type",
    "document_id",
    "document_no",
    "user_id",
    "username",
    "note",
)


def bulk(conn: sa.Connection, table_name: str, columns: tuple, rows: Iterable[tuple]) -> int:
    """Bulk load tuples: COPY on PostgreSQL (psycopg's ``cursor.copy``), else ``insert``."""
    if conn.dialect.name != "postgresql":
        return insert(conn, table_name, (dict(zip(columns, row, strict=True)) for row in rows))
    count = 0
    cursor = conn.connection.driver_connection.cursor()
    with cursor.copy(f"COPY {table_name} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)
            count += 1
    return count


@contextmanager
def bulk_load(conn: sa.Connection, table_name: str) -> Iterator[None]:
    """PostgreSQL: drop the table's foreign keys and non-unique indexes for a big load and
    create them again after it (a sort per index and a join per key, not work per row)."""
    if conn.dialect.name != "postgresql":
        yield
        return
    table = {"table": table_name}
    indexes = conn.execute(
        sa.text(
            "SELECT c.relname, pg_get_indexdef(i.indexrelid) FROM pg_index i "
            "JOIN pg_class c ON c.oid = i.indexrelid "
            "WHERE i.indrelid = CAST(:table AS regclass) AND NOT i.indisunique"
        ),
        table,
    ).all()
    keys = conn.execute(
        sa.text(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid = CAST(:table AS regclass) AND contype = 'f'"
        ),
        table,
    ).all()
    for name, _definition in keys:
        conn.exec_driver_sql(f'ALTER TABLE {table_name} DROP CONSTRAINT "{name}"')
    for name, _definition in indexes:
        conn.exec_driver_sql(f'DROP INDEX "{name}"')
    yield
    for _name, definition in indexes:
        conn.exec_driver_sql(definition)
    for name, definition in keys:
        conn.exec_driver_sql(f'ALTER TABLE {table_name} ADD CONSTRAINT "{name}" {definition}')


def heavy_material(conn: sa.Connection) -> tuple[int, str]:
    """The stock-card scenario's material: the first serial-free material by code."""
    row = conn.execute(
        sa.text("SELECT id, code FROM materials WHERE tracking <> 'serial' ORDER BY code LIMIT 1")
    ).one()
    return row.id, row.code


def lot_size(tracking: str, price) -> int:
    """A typical quantity moved at once: a few pumps, dozens of tents, thousands of bottles."""
    if tracking == "serial":
        return 3
    if price is None or float(price) <= 0:
        return 100
    return int(min(2_000, max(2, 30_000 / float(price))))


def working_time(rng: random.Random, t: int, lower: int, upper: int = SPAN) -> int:
    """Warehouses work 08:00–18:00 local time: move most other offsets into that day's hours."""
    second = t % DAY
    if 8 * 3600 <= second < 18 * 3600 or rng.random() < 0.1:
        return t
    moved = t - second + 8 * 3600 + rng.randrange(10 * 3600)
    return moved if lower <= moved < upper else t


def _batch_dates(rng: random.Random, material) -> tuple[date | None, date | None, int]:
    """Production and expiry dates (from the shelf life: some expired by LAST_DAY, some near
    expiry, most not) and the offset the batch came in at (never before its production)."""
    life = material.shelf_life_days
    roll = rng.random()
    production = expiry = None
    if life and roll < 0.08 and life <= 730:  # expired before "today"
        expiry = LAST_DAY - timedelta(days=rng.randrange(1, 180))
    elif life and roll < 0.2:  # near expiry
        expiry = LAST_DAY + timedelta(days=rng.randrange(material.near_expiry_days + 1))
    if expiry is not None and expiry - timedelta(days=life) < LAST_DAY - timedelta(days=2):
        production = expiry - timedelta(days=life)
        earliest = max(0, (production - FIRST_DAY).days * DAY)
        received = rng.randrange(earliest, SPAN - DAY)
    else:
        received = rng.randrange(SPAN - DAY)
        day = FIRST_DAY + timedelta(days=received // DAY)
        if life:
            production = day - timedelta(days=rng.randrange(min(life // 3, 180) + 1))
            expiry = production + timedelta(days=life)
        elif rng.random() > 0.05:
            production, expiry = day - timedelta(days=rng.randrange(365)), None
        else:
            expiry = None
    return production, expiry, working_time(rng, received, received, SPAN - 3600)


def generate_batches(conn, scale: Scale, rng: random.Random) -> dict[str, int]:
    """Batches numbered by production date (2026031501), ids in the order they came in."""
    materials = rows_of(
        conn,
        "SELECT id, code, tracking, shelf_life_days, near_expiry_days, reference_price "
        "FROM materials ORDER BY code",
    )
    heavy_id, heavy_code = heavy_material(conn)
    print(f"heavy material: id {heavy_id}, code {heavy_code}", file=sys.stderr)
    suppliers = [r.name for r in rows_of(conn, "SELECT name FROM enterprises ORDER BY id")]
    others = [m for m in materials if m.id != heavy_id]
    weights = [rng.uniform(0.3, 1.7) * (0.5 if m.tracking == "serial" else 1) for m in others]
    share = (scale.batches - scale.heavy_batches) / sum(weights)
    plan = [(m, max(1, round(w * share))) for m, w in zip(others, weights, strict=True)]
    plan.insert(0, (next(m for m in materials if m.id == heavy_id), scale.heavy_batches))
    planned = []
    for material, count in plan:
        numbers: dict[str, int] = {}
        price = Decimal(str(material.reference_price)) if material.reference_price else None
        for _ in range(count):
            production, expiry, received = _batch_dates(rng, material)
            stamp = f"{production or FIRST_DAY + timedelta(days=received // DAY):%Y%m%d}"
            numbers[stamp] = numbers.get(stamp, 0) + 1
            source = rng.choices(BATCH_SOURCES, cum_weights=BATCH_SOURCE_WEIGHTS)[0]
            cost = None
            if price is not None and source == "purchase":
                cost = (price * Decimal(f"{rng.uniform(0.9, 1.1):.3f}")).quantize(Decimal("0.01"))
            supplier = {
                "purchase": rng.choice(suppliers),
                "donation": rng.choice(suppliers),
                "higher_allocation": "山东省应急物资储备中心",
            }.get(source)
            funding = {"purchase": rng.choice(FUNDING), "donation": "社会捐赠"}.get(source)
            planned.append(
                (
                    received,
                    material.id,
                    f"{stamp}{numbers[stamp]:02d}",
                    production,
                    expiry,
                    source,
                    supplier,
                    funding,
                    cost,
                    HISTORY_START + timedelta(seconds=received),
                )
            )
    planned.sort(key=lambda row: row[0])
    columns = (
        "id",
        "material_id",
        "batch_no",
        "production_date",
        "expiry_date",
        "source",
        "supplier",
        "funding_source",
        "unit_cost",
        "received_at",
    )
    rows = ((n, *row[1:]) for n, row in enumerate(planned, start=1))
    return {"batches": bulk(conn, "batches", columns, rows)}


def generate_stock_balances(conn, scale: Scale, rng: random.Random) -> dict[str, int]:
    """Each batch at a location of its home warehouse (weighted by size), most at a few more
    locations there or in other warehouses; ids grouped by batch, the home location first."""
    heavy_id, _ = heavy_material(conn)
    batches = rows_of(
        conn,
        "SELECT b.id, b.material_id, m.tracking, m.reference_price "
        "FROM batches b JOIN materials m ON m.id = b.material_id ORDER BY b.id",
    )
    grid: dict[int, list[int]] = {}
    receiving: dict[int, int] = {}
    for loc in rows_of(
        conn, "SELECT id, warehouse_id, is_receiving FROM locations WHERE is_active ORDER BY id"
    ):
        if loc.is_receiving:
            receiving.setdefault(loc.warehouse_id, loc.id)
        else:
            grid.setdefault(loc.warehouse_id, []).append(loc.id)
    warehouses = sorted(grid)
    cum = list(itertools.accumulate(len(grid[w]) for w in warehouses))
    heavy = [i for i, b in enumerate(batches) if b.material_id == heavy_id]
    others = [i for i, b in enumerate(batches) if b.material_id != heavy_id]
    extra = Counter(rng.choices(heavy, k=max(0, scale.heavy_balances - len(heavy))))
    extra.update(rng.choices(others, k=max(0, scale.balances - scale.heavy_balances - len(others))))

    rows: list[list] = []
    serial_rows: list[list] = []
    for i, batch in enumerate(batches):
        home = rng.choices(warehouses, cum_weights=cum)[0]
        first = receiving.get(home) if rng.random() < 0.15 else None
        places = [(first or rng.choice(grid[home]), home)]
        seen = {places[0][0]}
        for _ in range(extra[i]):
            wh = home if rng.random() < 0.7 else rng.choices(warehouses, cum_weights=cum)[0]
            for _try in range(5):
                loc = rng.choice(grid[wh])
                if loc not in seen:
                    seen.add(loc)
                    places.append((loc, wh))
                    break
        lot = lot_size(batch.tracking, batch.reference_price)
        for loc, wh in places:
            qty = 0
            if batch.tracking != "serial" and rng.random() >= 0.12:
                qty = rng.randint(1, 4 * lot)
            row = [len(rows) + 1, loc, batch.id, batch.material_id, wh, qty, 0]
            rows.append(row)
            if batch.tracking == "serial":
                serial_rows.append(row)
    if serial_rows:  # serial stock: one unit per in-stock item (next step), spread at random
        for _ in range(round(scale.serial_items * IN_STOCK_SHARE)):
            rng.choice(serial_rows)[5] += 1
    for row in rows:
        if row[5] > 0 and rng.random() < 0.06:
            row[6] = rng.randint(1, row[5])  # reserved for an approved order
    columns = ("id", "location_id", "batch_id", "material_id", "warehouse_id", "qty", "reserved")
    return {"stock_balances": bulk(conn, "stock_balances", columns, map(tuple, rows))}


def generate_stock_reservations(conn, scale: Scale, rng: random.Random) -> dict[str, int]:
    """预留: the open reservations the balances' ``reserved`` caches (one per reserved balance,
    for a line of an approved allocation order), and twice as many closed ones (consumed by a
    shipment or released) at random balances, as a year of orders leaves them."""
    balances = rows_of(
        conn,
        "SELECT location_id, batch_id, material_id, warehouse_id, qty, reserved "
        "FROM stock_balances ORDER BY id",
    )
    rows = []

    def row(b, status: str, qty: int, consumed: int, released: int) -> tuple:
        n = len(rows) + 1
        created = datetime.combine(LAST_DAY, datetime.min.time(), tzinfo=UTC) - timedelta(
            minutes=rng.randrange(365 * 24 * 60)
        )
        closed = created + timedelta(days=rng.randint(1, 20)) if status != "open" else None
        return (
            n,
            b.location_id,
            b.batch_id,
            b.material_id,
            b.warehouse_id,
            "order",
            1 + n // 8,
            f"DB-BENCH-{1 + n // 8:06d}",
            n,
            qty,
            consumed,
            released,
            status,
            None,
            "dispatcher",
            created,
            closed,
            closed or created,  # changed_at: its last change
        )

    for b in balances:
        if b.reserved:
            rows.append(row(b, "open", b.reserved, 0, 0))
    for b in rng.sample(balances, min(len(balances), 2 * len(rows))):
        qty = rng.randint(1, 50)
        if rng.random() < 0.7:
            rows.append(row(b, "consumed", qty, qty, 0))
        else:
            part = rng.randint(0, qty - 1)
            rows.append(row(b, "released", qty, part, qty - part))
    columns = (
        "id",
        "location_id",
        "batch_id",
        "material_id",
        "warehouse_id",
        "document_type",
        "document_id",
        "document_no",
        "line_id",
        "qty",
        "consumed_qty",
        "released_qty",
        "status",
        "user_id",
        "username",
        "created_at",
        "closed_at",
        "changed_at",
    )
    return {"stock_reservations": bulk(conn, "stock_reservations", columns, rows)}


def generate_serial_items(conn, scale: Scale, rng: random.Random) -> dict[str, int]:
    """One in-stock item per unit of serial stock at its location, then items out of stock
    (issued, in use, under repair, scrapped) until the scale's count; unique per material."""
    stocked = rows_of(
        conn,
        "SELECT sb.location_id, sb.batch_id, sb.material_id, sb.qty FROM stock_balances sb "
        "JOIN materials m ON m.id = sb.material_id "
        "WHERE m.tracking = 'serial' AND sb.qty > 0 ORDER BY sb.id",
    )
    batches = rows_of(
        conn,
        "SELECT b.id, b.material_id FROM batches b JOIN materials m ON m.id = b.material_id "
        "WHERE m.tracking = 'serial' ORDER BY b.id",
    )
    codes = {r.id: r.code for r in rows_of(conn, "SELECT id, code FROM materials")}
    numbers: Counter = Counter()

    def item(material_id: int, batch_id: int, status: str, location_id: int | None) -> tuple:
        numbers[material_id] += 1
        digits = codes[material_id].replace("-", "")[-6:]
        last = LAST_DAY - timedelta(days=rng.randrange(400)) if rng.random() < 0.9 else None
        return (
            material_id,
            batch_id,
            f"SN{digits}{numbers[material_id]:06d}",
            status,
            location_id,
            last,
            last + timedelta(days=180) if last else None,
        )

    rows = [
        item(b.material_id, b.batch_id, "in_stock", b.location_id)
        for b in stocked
        for _ in range(b.qty)
    ]
    while batches and len(rows) < scale.serial_items:
        batch = rng.choice(batches)
        status = rng.choices(ITEM_STATUSES, cum_weights=ITEM_STATUS_WEIGHTS)[0]
        rows.append(item(batch.material_id, batch.id, status, None))
    columns = (
        "material_id",
        "batch_id",
        "serial_no",
        "status",
        "location_id",
        "last_maintained_on",
        "next_maintenance_on",
    )
    return {"serial_items": bulk(conn, "serial_items", columns, rows)}


def generate_stock_movements(conn, scale: Scale, rng: random.Random) -> dict[str, int]:
    """A year of movements, simulated per balance: it starts with a receipt (the batch's home
    location, at the batch's arrival), a move in or a transfer in, then goes up and down without
    going below zero, and ends at the balance's quantity. All balances' movements are then
    sorted by time and numbered, so ids follow posting times. Documents carry several lines
    (same type, warehouse and day) and numbers as reserve.stock.numbering gives them."""
    heavy_id, heavy_code = heavy_material(conn)
    sb, b, m = table_of("stock_balances"), table_of("batches"), table_of("materials")
    balances = conn.execute(
        sa.select(
            sb.c.id,
            sb.c.location_id,
            sb.c.batch_id,
            sb.c.material_id,
            sb.c.warehouse_id,
            sb.c.qty,
            m.c.tracking,
            m.c.reference_price,
            b.c.received_at,
        )
        .join_from(sb, b, b.c.id == sb.c.batch_id)
        .join(m, m.c.id == sb.c.material_id)
        .order_by(sb.c.id)
    ).all()
    keepers: dict[int, list] = {}
    for row in rows_of(
        conn,
        "SELECT uw.warehouse_id, u.id, u.username FROM user_warehouses uw "
        "JOIN users u ON u.id = uw.user_id ORDER BY uw.warehouse_id, u.id",
    ):
        keepers.setdefault(row.warehouse_id, []).append((row.id, row.username))

    # 1. Where and when each balance starts, and how many movements it gets.
    starts: list[tuple[int, int]] = []  # (offset, kind) of each balance's first movement
    weights: list[float] = []
    home_batch, home = None, None
    for bal in balances:
        received = int((bal.received_at - HISTORY_START).total_seconds())
        if bal.batch_id != home_batch:  # the batch's first balance: where it was received
            home_batch, home = bal.batch_id, bal.warehouse_id
            start = (received, K["receipt"])
        elif bal.warehouse_id == home and rng.random() < 0.5:  # another line of the receipt
            start = (received, K["receipt"])
        else:
            later = received + rng.randrange(60, max(61, (SPAN - received) // 2))
            kind = K["move_in"] if bal.warehouse_id == home else K["transfer_in"]
            start = (working_time(rng, min(later, SPAN - 2), received, SPAN - 1), kind)
        starts.append(start)
        weights.append((rng.expovariate(1.0) + 0.05) * (SPAN - start[0]) / SPAN)
    is_heavy = [bal.material_id == heavy_id for bal in balances]
    counts = []
    for heavy in (True, False):
        total = sum(w for w, h in zip(weights, is_heavy, strict=True) if h == heavy)
        budget = scale.heavy_movements if heavy else scale.movements - scale.heavy_movements
        share = budget / total if total else 0
        counts.append(share)
    heavy_share, other_share = counts

    # 2. Simulate each balance's movements; remember them in flat arrays, keyed by time.
    ev_balance, ev_qty, ev_kind = array("i"), array("q"), array("b")
    keys: list[int] = []
    randint, random_, randrange, choices = rng.randint, rng.random, rng.randrange, rng.choices

    def push(index: int, t: int, kind: int, qty: int) -> None:
        keys.append(t << OFFSET_BITS | len(ev_qty))
        ev_balance.append(index)
        ev_qty.append(qty)
        ev_kind.append(kind)

    for index, bal in enumerate(balances):
        final = bal.qty
        lot = lot_size(bal.tracking, bal.reference_price)
        small = max(1, lot // 10)
        t0, first_kind = starts[index]
        n = round(weights[index] * (heavy_share if is_heavy[index] else other_share))
        n = max(n, 2 if final == 0 else 1)
        times = sorted(working_time(rng, randrange(t0, SPAN), t0) for _ in range(n - 1))
        current = final if n == 1 else max(1, final + randint(-lot, 2 * lot))
        push(index, t0, first_kind, current)
        last = len(times) - 1
        for j, t in enumerate(times):
            if j == last:  # the closing movement lands on the balance's quantity
                diff = final - current
                if diff:
                    kinds = CLOSE_UP if diff > 0 else CLOSE_DOWN
                    push(index, t, kinds[randrange(3)], diff)
                    current = final
                break
            if current > 0 and random_() < (0.6 if current > final else 0.3):
                kind = choices(DOWN, cum_weights=DOWN_WEIGHTS)[0]
                qty = -randint(1, min(current, small if kind in SMALL else lot))
            else:
                kind = choices(UP, cum_weights=UP_WEIGHTS)[0]
                qty = randint(1, small if kind in SMALL else lot)
            push(index, t, kind, qty)
            current += qty
        if current != final:
            raise AssertionError(f"balance {bal.id}: simulated {current}, stored {final}")
    if len(ev_qty) >= 1 << OFFSET_BITS:
        raise AssertionError("too many movements for the sort key")
    keys.sort()

    # 3. Number them in time order, with running balances, documents and keepers.
    running = array("q", bytes(8 * len(balances)))
    counters: Counter = Counter()  # (prefix, document day) → last number
    document_ids: Counter = Counter()
    open_documents: dict[tuple, list] = {}  # (document type, warehouse) → the open document
    heavy_count = 0
    mask = (1 << OFFSET_BITS) - 1

    def rows() -> Iterator[tuple]:
        nonlocal heavy_count
        for number, key in enumerate(keys, start=1):
            event = key & mask
            t = key >> OFFSET_BITS
            index = ev_balance[event]
            qty = ev_qty[event]
            kind = KINDS[ev_kind[event]]
            bal = balances[index]
            running[index] += qty
            day = t // DAY
            document_type, prefix = DOCUMENTS[kind]
            slot = (document_type, bal.warehouse_id)
            doc = open_documents.get(slot)
            if doc is None or doc[0] != day or doc[1] <= 0:
                delay = 0 if random_() < 0.8 else randint(1, 3)  # the paper's date
                document_day = FIRST_DAY + timedelta(days=max(0, day - delay))
                counters[prefix, document_day] += 1
                document_ids[document_type] += 1
                user_id, username = rng.choice(keepers[bal.warehouse_id])
                doc = [
                    day,
                    randint(1, 12),
                    document_day,
                    document_ids[document_type],
                    f"{prefix}{document_day:%Y%m%d}-{counters[prefix, document_day]:04d}",
                    user_id,
                    username,
                ]
                open_documents[slot] = doc
            doc[1] -= 1
            heavy_count += is_heavy[index]
            yield (
                number,
                HISTORY_START + timedelta(seconds=t),
                doc[2],
                kind,
                bal.material_id,
                bal.batch_id,
                bal.location_id,
                bal.warehouse_id,
                qty,
                running[index],
                document_type,
                doc[3],
                doc[4],
                doc[5],
                doc[6],
                NOTES.get(kind),
            )

    with bulk_load(conn, "stock_movements"):
        count = bulk(conn, "stock_movements", MOVEMENT_COLUMNS, rows())
    for index, bal in enumerate(balances):
        if running[index] != bal.qty:
            raise AssertionError(f"balance {bal.id}: movements sum to {running[index]}")
    print(
        f"heavy material: id {heavy_id}, code {heavy_code}, {heavy_count:,} movements",
        file=sys.stderr,
    )
    counter_rows = ((prefix, day, last) for (prefix, day), last in sorted(counters.items()))
    return {
        "stock_movements": count,
        "document_counters": bulk(
            conn, "document_counters", ("prefix", "day", "last"), counter_rows
        ),
    }


def generate_labels(conn, scale: Scale, rng: random.Random) -> dict[str, int]:
    """QR labels until the scale's count: one per location, one per serial item in stock, then
    carton labels (1–8 per balance holding batch stock, some with the quantity printed), about
    1 % revoked; printed by a keeper over the year."""
    keepers = [r.username for r in rows_of(conn, "SELECT username FROM users ORDER BY id")]
    locations = rows_of(conn, "SELECT id, warehouse_id FROM locations ORDER BY id")
    items = rows_of(
        conn,
        "SELECT si.id, si.batch_id, l.warehouse_id FROM serial_items si "
        "JOIN locations l ON l.id = si.location_id WHERE si.status = 'in_stock' ORDER BY si.id",
    )
    balances = rows_of(
        conn,
        "SELECT sb.location_id, sb.batch_id, sb.warehouse_id, sb.qty FROM stock_balances sb "
        "JOIN materials m ON m.id = sb.material_id "
        "WHERE m.tracking = 'batch' AND sb.qty > 0 ORDER BY sb.id",
    )

    def label(kind, warehouse_id, location_id, batch_id, item_id, qty) -> tuple:
        printed = past(rng)
        revoked = rng.random() < 0.01
        return (
            kind,
            warehouse_id,
            location_id,
            batch_id,
            item_id,
            qty,
            1 if rng.random() < 0.9 else rng.randint(2, 4),
            rng.choice(keepers),
            printed,
            printed,
            printed + timedelta(days=30) if revoked else None,
            "keeper" if revoked else None,
            "标签损坏" if revoked else None,
        )

    def rows() -> Iterator[tuple]:
        made = 0
        for loc in locations:
            yield label("location", loc.warehouse_id, loc.id, None, None, None)
        made += len(locations)
        for item in items:
            yield label("item", item.warehouse_id, None, item.batch_id, item.id, None)
        made += len(items)
        while balances and made < scale.labels:
            for b in balances:
                if made >= scale.labels:
                    return
                cartons = min(rng.randint(1, 8), scale.labels - made)
                each = b.qty // cartons if b.qty % cartons == 0 else None
                for _ in range(cartons):
                    yield label("stock", b.warehouse_id, b.location_id, b.batch_id, None, each)
                made += cartons

    columns = (
        "kind",
        "warehouse_id",
        "location_id",
        "batch_id",
        "serial_item_id",
        "qty_at_label",
        "print_count",
        "first_printed_by_name",
        "first_printed_at",
        "last_printed_at",
        "revoked_at",
        "revoked_by_name",
        "revoke_reason",
    )
    with bulk_load(conn, "labels"):
        return {"labels": bulk(conn, "labels", columns, rows())}


Step = Callable[[sa.Connection, Scale, random.Random], dict[str, int]]

from bench.orders import generate_orders  # noqa: E402 - the orders' step lives with its scenarios

STEPS: list[Step] = [
    generate_regions,
    generate_categories,
    generate_materials,
    generate_warehouses,
    generate_locations,
    generate_enterprises,
    generate_enterprise_contacts,
    generate_users,
    generate_user_roles,
    generate_user_warehouses,
    generate_audit_entries,
    generate_batches,
    generate_stock_balances,
    generate_stock_reservations,
    generate_serial_items,
    generate_stock_movements,
    generate_labels,
    generate_agreements,
    generate_reports_and_verifications,
    generate_orders,
]


# -- driver ----------------------------------------------------------------------------------


def reset_sequences(conn: sa.Connection) -> None:
    """PostgreSQL: move each id sequence past the ids the steps chose themselves."""
    if conn.dialect.name != "postgresql":
        return
    for table in table_of("users").metadata.sorted_tables:
        if "id" in table.c and table.c.id.primary_key:
            if not sa.inspect(conn).has_table(table.name):
                continue
            conn.execute(
                sa.text(
                    f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                    f"coalesce(max(id), 0) + 1, false) FROM {table.name}"
                )
            )


def finish(engine: sa.Engine) -> float:
    """Statistics for the planner, as autovacuum would gather them on a live server."""
    started = time.perf_counter()
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE")
    return time.perf_counter() - started


def resolve_url(url: str) -> str:
    """psycopg 3 for PostgreSQL; an absolute path for SQLite (Flask-SQLAlchemy would put a
    relative one under instance/)."""
    from reserve import normalise_database_url

    url = normalise_database_url(url)
    parsed = sa.engine.make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        url = parsed.set(database=str(Path(parsed.database).resolve())).render_as_string(
            hide_password=False
        )
    return url


def make_app(url: str):
    """The app on ``url`` (testing config: no CSRF, the real password hash method)."""
    from reserve import create_app

    return create_app({"SQLALCHEMY_DATABASE_URI": resolve_url(url)})


def generate(app, scale_name: str, seed: int = 1, *, out=print) -> list[tuple]:
    """Migrate the app's empty database and run every step; returns (table, rows, seconds)."""
    from flask_migrate import upgrade

    from reserve.stock.guard import ledger_writes

    scale = SCALES[scale_name]
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    report: list[tuple] = []
    with app.app_context():
        from reserve.extensions import db

        engine = db.engine
        existing = sa.inspect(engine).get_table_names()
        if existing:
            raise SystemExit(f"The database is not empty ({len(existing)} tables): {url}")
        started = time.perf_counter()
        upgrade()
        report.append(("(migrations)", 0, time.perf_counter() - started))
        for step in STEPS:
            rng = random.Random(f"{seed}:{step.__name__}")
            started = time.perf_counter()
            # a loader, not the app: it writes the stock tables directly, past the ledger's
            # runtime guard, deliberately (the ledger's verify then proves them consistent)
            with engine.begin() as conn, ledger_writes():
                counts = step(conn, scale, rng)
            elapsed = time.perf_counter() - started
            for i, (table, count) in enumerate(counts.items()):
                report.append((table, count, elapsed if i == 0 else math.nan))
        with engine.begin() as conn:
            reset_sequences(conn)
        report.append(
            (
                "(vacuum analyze)" if engine.dialect.name == "postgresql" else "(finish)",
                0,
                finish(engine),
            )
        )
        engine.dispose()
    total = sum(r[2] for r in report if not math.isnan(r[2]))
    out(f"{'table':<20} {'rows':>10} {'seconds':>8}")
    for table, count, seconds in report:
        out(f"{table:<20} {count:>10,} {seconds:>8.2f}")
    out(f"{'total':<20} {sum(r[1] for r in report):>10,} {total:>8.2f}")
    return report


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", choices=sorted(SCALES), required=True)
    parser.add_argument(
        "--database-url",
        required=True,
        help="an EMPTY database: sqlite:///path.db or postgresql://…",
    )
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    generate(make_app(args.database_url), args.scale, args.seed)


if __name__ == "__main__":
    main()
