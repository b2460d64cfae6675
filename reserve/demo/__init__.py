"""The demo city (济南): regions down to its townships, 16 warehouses with locations, ~300
materials, custodian enterprises and one user per role, loaded through the same services as the
pages."""

from __future__ import annotations

import csv
from decimal import Decimal
from pathlib import Path

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from reserve.auth.actor import Actor
from reserve.auth.models import Role, User
from reserve.demo.agreements import load_virtual_reserve
from reserve.demo.callups import load_call_ups
from reserve.demo.orders import load_orders
from reserve.demo.standards import load_standards
from reserve.demo.stock import DemoActors, load_stock
from reserve.errors import Conflict

DATA = Path(__file__).parent / "data"

DEMO_USERS = (
    ("admin", "admin", "系统管理员 — users, catalogue, warehouses"),
    ("dispatcher", "dispatcher", "调度员 — availability and allocation orders"),
    ("approver", "approver", "审批人 — approves orders, stocktakes, scrap"),
    ("keeper", "keeper", "仓库保管员 — keeps the municipal warehouse only"),
    ("enterprise", "enterprise", "代储企业 — one custodian enterprise"),
    ("viewer", "viewer", "领导/查询 — read only"),
)
_FULL_NAMES = {
    "admin": "王管理",
    "dispatcher": "李调度",
    "approver": "张局长",
    "keeper": "赵保管",
    "enterprise": "刘企业",
    "viewer": "陈领导",
}


class DatabaseNotEmpty(Conflict):
    code = "database_not_empty"


def _rows(name: str) -> list[dict[str, str]]:
    with open(DATA / name, encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _dec(value: str) -> Decimal | None:
    return Decimal(value) if value not in (None, "") else None


def _int(value: str) -> int | None:
    return int(value) if value not in (None, "") else None


def load_demo(session: Session, *, password: str) -> str:
    """加载演示城市: refuses a database that already holds users, warehouses or materials."""
    from reserve.agreements.models import Enterprise
    from reserve.catalog.models import Material
    from reserve.warehouses.models import Warehouse

    for model in (User, Warehouse, Material, Enterprise):
        if session.scalar(select(func.count()).select_from(model)):
            raise DatabaseNotEmpty(
                _l("The database is not empty; the demo city loads only into an empty database.")
            )
    actor = Actor.system("demo")
    regions = load_regions(session, actor)
    warehouses = load_warehouses(session, actor, regions)
    materials = load_catalogue(session, actor)
    enterprises = load_enterprises(session, actor, regions)
    users = load_users(session, actor, password, warehouses, enterprises)
    stock = load_stock(
        session,
        DemoActors(keeper=users["keeper"], approver=users["approver"], admin=users["admin"]),
    )
    labels = load_labels(session, users["keeper"], _municipal(session))
    call_ups = load_call_ups(
        session,
        dispatcher=users["dispatcher"],
        enterprise=users["enterprise"],
        keeper=users["keeper"],
        warehouse_id=_municipal(session),
    )
    orders = load_orders(session, dispatcher=users["dispatcher"], approver=users["approver"])
    standards = load_standards(session, admin=users["admin"])
    session.flush()
    return (
        f"{len(regions)} regions, {len(warehouses)} warehouses, {materials} materials, "
        f"{len(enterprises)} enterprises, {len(DEMO_USERS)} users; {stock['receipts']} "
        f"receipts ({stock['lines']} lines), {stock['moves']} moves, a stocktake, "
        f"{stock['rotations']} rotations, {stock['scraps']} scrap requests; {labels} labels; "
        f"{call_ups} call-ups; 3 events, {sum(orders.values())} allocation orders; "
        f"{standards} reserve standards"
    )


def _municipal(session: Session) -> int:
    from reserve.warehouses.models import Warehouse

    return session.scalar(select(Warehouse.id).order_by(Warehouse.id).limit(1))  # as load_stock


def load_labels(session: Session, keeper: Actor, warehouse_id: int) -> int:
    """The municipal warehouse's labels, as its keeper prints them: one for every batch at every
    location and every serial item in stock, and one for every location."""
    from reserve.labels.printing import label_locations, label_warehouse_stock
    from reserve.warehouses.models import Location

    stock = label_warehouse_stock(session, warehouse_id=warehouse_id, actor=keeper)
    places = session.scalars(
        select(Location.id).where(Location.warehouse_id == warehouse_id).order_by(Location.code)
    ).all()
    return len(stock) + len(label_locations(session, location_ids=places, actor=keeper))


def _region_rows() -> list[dict[str, str]]:
    return _rows("regions.csv")  # the demo city, from shared/domain/regions.csv


def _township_rows() -> list[dict[str, str]]:
    """Jinan's 街道 and 镇 with their 9-digit 统计用区划代码 (NBS 2023, from
    shared/realdata/jinan_streets_nbs2023.csv), under the demo's districts and counties."""
    return [
        {"code": row["code"], "name": row["name"], "level": "township", "parent": row["areaCode"]}
        for row in _rows("jinan_streets_nbs2023.csv")
    ]


def load_regions(session: Session, actor: Actor) -> dict[str, int]:
    from reserve.warehouses.service import create_region

    ids: dict[str, int] = {}
    for row in _region_rows() + _township_rows():
        if row["parent"] and row["parent"] not in ids:
            continue  # a development zone's streets (370176): a statistics-only code
        region = create_region(
            session,
            code=row["code"],
            name=row["name"],
            level=row["level"],
            parent_id=ids.get(row["parent"]) if row["parent"] else None,
            actor=actor,
        )
        ids[row["code"]] = region.id
    return ids


def load_warehouses(session: Session, actor: Actor, regions: dict[str, int]) -> dict[str, int]:
    from reserve.warehouses.service import WarehouseData, create_warehouse, generate_locations

    ids: dict[str, int] = {}
    for row in _rows("warehouses.csv"):
        warehouse = create_warehouse(
            session,
            actor=actor,
            data=WarehouseData(
                code=row["code"],
                name=row["name"],
                level=row["level"],
                region_id=regions[row["region_code"]],
                address=row["address"],
                lat=_dec(row["lat"]),
                lng=_dec(row["lng"]),
                area_m2=_dec(row["area_m2"]),
            ),
        )
        generate_locations(
            session,
            warehouse_id=warehouse.id,
            rows=int(row["location_rows"]),
            cols=int(row["location_cols"]),
            actor=actor,
        )
        ids[row["code"]] = warehouse.id
    return ids


def load_catalogue(session: Session, actor: Actor) -> int:
    from reserve.catalog.service import MaterialData, create_category, create_material

    categories: dict[str, int] = {}
    for row in _rows("categories.csv"):
        category = create_category(
            session,
            code=row["code"],
            name=row["name"],
            parent_id=categories.get(row["parent_code"]),
            is_local=row["is_local"] == "1",
            actor=actor,
        )
        categories[row["code"]] = category.id
    count = 0
    for row in _rows("materials.csv"):
        create_material(
            session,
            actor=actor,
            data=MaterialData(
                code=row["code"],
                name=row["name"],
                spec=row["spec"] or None,
                unit=row["unit"],
                category_id=categories[row["category_code"]],
                tracking=row["tracking"],
                shelf_life_days=_int(row["shelf_life_days"]),
                near_expiry_days=_int(row["near_expiry_days"]) or 90,
                reference_price=_dec(row["reference_price"]),
                unit_weight_kg=_dec(row["unit_weight_kg"]),
                unit_volume_m3=_dec(row["unit_volume_m3"]),
                is_returnable=row.get("is_returnable") == "1",
            ),
        )
        count += 1
    return count


def load_enterprises(session: Session, actor: Actor, regions: dict[str, int]) -> list[int]:
    """The virtual reserve (reserve.demo.agreements): enterprises and their agreements."""
    enterprises, _agreements = load_virtual_reserve(
        session, actor, regions, _rows("enterprises.csv")
    )
    return enterprises


def load_users(
    session: Session,
    actor: Actor,
    password: str,
    warehouses: dict[str, int],
    enterprises: list[int],
) -> dict[str, Actor]:
    from reserve.auth.service import create_user

    municipal = next(iter(warehouses.values()))  # the first row is the municipal warehouse
    actors = {}
    for username, role, _description in DEMO_USERS:
        user = create_user(
            session,
            username=username,
            full_name=_FULL_NAMES[username],
            password=password,
            roles=[Role(role)],
            must_change_password=False,
            warehouse_ids=[municipal] if role == Role.KEEPER else [],
            enterprise_id=enterprises[0] if role == Role.ENTERPRISE else None,
            actor=actor,
        )
        actors[username] = Actor.for_user(user, ip="127.0.0.1")
    return actors
