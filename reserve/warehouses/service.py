"""Regions (GB/T 2260 and, for townships, 统计用区划代码), warehouses and their locations: the rules
for creating and changing them."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from reserve.audit.service import changes, record, snapshot
from reserve.auth.actor import Actor
from reserve.auth.models import Role
from reserve.db import normalise_code
from reserve.errors import Conflict, NotFound, ValidationError
from reserve.forms import normalise_phone
from reserve.stock.holdings import holdings
from reserve.texts import check_length
from reserve.warehouses.models import (
    RECEIVING_CODE,
    Location,
    Region,
    RegionLevel,
    Warehouse,
    WarehouseLevel,
)

REGION_CODE = re.compile(r"[0-9]{6}")  # GB/T 2260: province, city, district, county
TOWNSHIP_CODE = re.compile(r"[0-9]{9}")  # 统计用区划代码: the county's 6 digits and 3 more
WAREHOUSE_CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]{1,19}")
LOCATION_CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]{0,19}")
RECEIVING_NAME = "收货区"
MAX_AREA_M2 = Decimal("10000000")
MAX_GRID_ROWS = 26
MAX_GRID_COLS = 99

# The levels a region's parent may have (GB/T 2260: province → city → district/county; townships,
# whose 9-digit 统计用区划代码 extends their county's code, go under a district or county).
# Empty: a root.
PARENT_LEVELS: dict[str, tuple[str, ...]] = {
    RegionLevel.PROVINCE: (),
    RegionLevel.CITY: (RegionLevel.PROVINCE,),
    RegionLevel.DISTRICT: (RegionLevel.CITY,),
    RegionLevel.COUNTY: (RegionLevel.CITY,),
    RegionLevel.TOWNSHIP: (RegionLevel.DISTRICT, RegionLevel.COUNTY),
}
# The level a new child of a region usually has (a default for the form, not a rule).
CHILD_LEVEL: dict[str, str] = {
    RegionLevel.PROVINCE: RegionLevel.CITY,
    RegionLevel.CITY: RegionLevel.DISTRICT,
    RegionLevel.DISTRICT: RegionLevel.TOWNSHIP,
    RegionLevel.COUNTY: RegionLevel.TOWNSHIP,
}


def _required_name(name: str | None, column, message) -> str:
    name = (name or "").strip()
    if not name:
        raise ValidationError(message, field="name")
    check_length(name, column, "name")
    return name


def _record_create(session: Session, actor: Actor, obj, **extra) -> None:
    session.flush()
    after = snapshot(obj) | extra
    record(session, actor=actor, action="create", obj=obj, label=str(obj), after=after)


def _record_update(session: Session, actor: Actor, obj, before: dict) -> None:
    session.flush()
    old, new = changes(before, snapshot(obj))
    record(session, actor=actor, action="update", obj=obj, label=str(obj), before=old, after=new)


# 行政区划 ----------------------------------------------------------------------------------------


def _check_region_code(code: str, level: str) -> None:
    """The shape a code has at its level: 6 digits of GB/T 2260 for a province, city, district
    or county; 9 digits of 统计用区划代码 for a township (a 6-digit township is refused: those
    codes are the counties' namespace)."""
    if level == RegionLevel.TOWNSHIP:
        if not TOWNSHIP_CODE.fullmatch(code) or code.endswith("000"):
            raise ValidationError(
                _l(
                    "A township code has exactly 9 digits (统计用区划代码): its county's 6 digits "
                    "and 3 more, e.g. 370112019 under 370112."
                ),
                field="code",
            )
        return
    if TOWNSHIP_CODE.fullmatch(code):
        raise ValidationError(
            _l("Only townships have 9-digit codes; this level has 6 (GB/T 2260)."), field="code"
        )
    if not REGION_CODE.fullmatch(code):
        raise ValidationError(
            _l("A region code has exactly 6 digits (GB/T 2260), e.g. 370102."), field="code"
        )
    if level == RegionLevel.PROVINCE and code[2:] != "0000":
        raise ValidationError(_l("A province code ends in 0000 (e.g. 370000)."), field="code")
    if level == RegionLevel.CITY and (code[4:] != "00" or code[2:4] == "00"):
        raise ValidationError(
            _l("A city code ends in 00 but not 0000 (e.g. 370100)."), field="code"
        )
    if level in (RegionLevel.DISTRICT, RegionLevel.COUNTY) and code[4:] == "00":
        raise ValidationError(
            _l("A district or county code does not end in 00 (e.g. 370102)."), field="code"
        )


def _check_placement(
    code: str, level: str, parent: Region | None, county: str | None = None
) -> None:
    """A region fits under its parent: the parent's level, and the shared code prefix (a
    township's first six digits are its county's code; ``county`` names that county)."""
    allowed = PARENT_LEVELS[level]
    if parent is None:
        if level == RegionLevel.TOWNSHIP:
            raise ValidationError(
                _l("A township belongs under a district or county."), field="parent_id"
            )
        return
    if parent.level not in allowed:
        if not allowed:
            raise ValidationError(_l("A province has no parent region."), field="parent_id")
        raise ValidationError(
            _l(
                "A %(level)s cannot be placed under a %(parent)s.",
                level=RegionLevel(level).label,
                parent=RegionLevel(parent.level).label,
            ),
            field="parent_id",
        )
    if level == RegionLevel.TOWNSHIP and code[:6] != parent.code:
        raise ValidationError(
            _l(
                "The township code %(code)s belongs under the county %(county)s (its first six "
                "digits), not under %(parent)s.",
                code=code,
                county=county or code[:6],
                parent=str(parent),
            ),
            field="code",
        )
    prefix = {RegionLevel.CITY: 2, RegionLevel.DISTRICT: 4, RegionLevel.COUNTY: 4}.get(level)
    if prefix and code[:prefix] != parent.code[:prefix]:
        raise ValidationError(
            _l(
                "The code %(code)s does not fit under %(parent)s: it must start with %(prefix)s.",
                code=code,
                parent=str(parent),
                prefix=parent.code[:prefix],
            ),
            field="code",
        )


def _check_region(
    session: Session,
    *,
    code: str,
    name: str,
    level: str,
    parent_id: int | None,
    region_id: int | None = None,
) -> tuple[str, Region | None]:
    if level not in PARENT_LEVELS:
        raise ValidationError(_l("Unknown region level."), field="level")
    _check_region_code(code, level)
    name = _required_name(name, Region.name, _l("Give the region a name."))
    parent = session.get(Region, parent_id) if parent_id else None
    if parent_id and parent is None:
        raise ValidationError(_l("Unknown parent region."), field="parent_id")
    if region_id is not None:
        ancestor = parent
        while ancestor is not None:
            if ancestor.id == region_id:
                raise ValidationError(
                    _l("A region cannot be placed under itself or its own sub-region."),
                    field="parent_id",
                )
            ancestor = ancestor.parent
    county = None
    if level == RegionLevel.TOWNSHIP and parent is not None and code[:6] != parent.code:
        named = session.scalar(select(Region).where(Region.code == code[:6]))
        county = str(named) if named else None
    _check_placement(code, level, parent, county)
    clash = session.scalar(select(Region.id).where(Region.code == code))
    if clash and clash != region_id:
        raise Conflict(_l("The region code %(code)s already exists.", code=code), field="code")
    return name, parent


def create_region(
    session: Session,
    *,
    code: str,
    name: str,
    level: str,
    parent_id: int | None,
    actor: Actor,
) -> Region:
    """新增行政区划：a GB/T 2260 division (a township: 统计用区划代码) under its parent, its code
    extending the parent's."""
    actor.require_role(Role.ADMIN)
    code = (code or "").strip()
    name, parent = _check_region(session, code=code, name=name, level=level, parent_id=parent_id)
    region = Region(code=code, name=name, level=str(level), parent=parent)
    session.add(region)
    _record_create(session, actor, region)
    return region


def update_region(
    session: Session,
    *,
    region_id: int,
    name: str,
    level: str,
    parent_id: int | None,
    actor: Actor,
) -> Region:
    """修改行政区划：name, level and parent (the code is the division's identity)."""
    actor.require_role(Role.ADMIN)
    region = get_region(session, region_id)
    before = snapshot(region)
    name, parent = _check_region(
        session,
        code=region.code,
        name=name,
        level=level,
        parent_id=parent_id,
        region_id=region.id,
    )
    children = session.scalars(select(Region).where(Region.parent_id == region.id)).all()
    for child in children:  # the sub-regions must still fit under the changed region
        if level not in PARENT_LEVELS[child.level]:
            raise ValidationError(
                _l(
                    "The sub-region %(child)s cannot stay under a %(level)s.",
                    child=str(child),
                    level=RegionLevel(level).label,
                ),
                field="level",
            )
    region.name = name
    region.level = str(level)
    region.parent = parent
    _record_update(session, actor, region, before)
    return region


def get_region(session: Session, region_id: int) -> Region:
    """行政区划."""
    region = session.get(Region, region_id)
    if region is None:
        raise NotFound(_l("No such region."))
    return region


# 储备库 -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class WarehouseData:
    """The editable fields of a warehouse, as the form and the API deliver them."""

    code: str
    name: str
    level: str
    region_id: int
    address: str | None = None
    lat: Decimal | None = None
    lng: Decimal | None = None
    area_m2: Decimal | None = None
    phone: str | None = None
    is_active: bool = True


def _check_range(value: Decimal | None, low: Decimal, high: Decimal, field: str, message) -> None:
    if value is None:
        return
    if not value.is_finite() or not low <= value <= high:
        raise ValidationError(message, field=field)


def _check_warehouse(
    session: Session, data: WarehouseData, warehouse_id: int | None = None
) -> None:
    code = (data.code or "").strip()
    if not WAREHOUSE_CODE.fullmatch(code):
        raise ValidationError(
            _l("A warehouse code has 2 to 20 letters, digits or dashes, e.g. JN-SJ-01."),
            field="code",
        )
    _required_name(data.name, Warehouse.name, _l("Give the warehouse a name."))
    if data.level not in {level.value for level in WarehouseLevel}:
        raise ValidationError(_l("Unknown warehouse level."), field="level")
    if data.region_id is None or session.get(Region, data.region_id) is None:
        raise ValidationError(_l("Unknown region."), field="region_id")
    check_length((data.address or "").strip(), Warehouse.address, "address")
    check_length((data.phone or "").strip(), Warehouse.phone, "phone")
    normalise_phone(data.phone, field="phone")
    _check_range(
        data.lat,
        Decimal(-90),
        Decimal(90),
        "lat",
        _l("The latitude must be between -90 and 90 degrees."),
    )
    _check_range(
        data.lng,
        Decimal(-180),
        Decimal(180),
        "lng",
        _l("The longitude must be between -180 and 180 degrees."),
    )
    if (data.lat is None) != (data.lng is None):
        raise ValidationError(
            _l("Give both latitude and longitude, or neither."),
            field="lng" if data.lng is None else "lat",
        )
    if data.area_m2 is not None and (
        not data.area_m2.is_finite() or not 0 <= data.area_m2 < MAX_AREA_M2
    ):
        raise ValidationError(
            _l("The area must be at least 0 and less than 10,000,000 m²."), field="area_m2"
        )
    clash = session.scalar(select(Warehouse.id).where(Warehouse.code == code))  # any case
    if clash and clash != warehouse_id:
        raise Conflict(_l("The warehouse code %(code)s already exists.", code=code), field="code")


def _quantize(value: Decimal | None, places: str) -> Decimal | None:
    return None if value is None else value.quantize(Decimal(places))


def _apply(warehouse: Warehouse, data: WarehouseData) -> None:
    warehouse.code = data.code.strip()
    warehouse.name = data.name.strip()
    warehouse.level = str(data.level)
    warehouse.region_id = data.region_id
    warehouse.address = (data.address or "").strip() or None
    warehouse.lat = _quantize(data.lat, "0.000001")
    warehouse.lng = _quantize(data.lng, "0.000001")
    warehouse.area_m2 = _quantize(data.area_m2, "0.1")
    warehouse.phone = normalise_phone(data.phone, field="phone")
    warehouse.is_active = data.is_active


def create_warehouse(session: Session, *, data: WarehouseData, actor: Actor) -> Warehouse:
    """新增储备库：a warehouse with its receiving area (收货区)."""
    actor.require_role(Role.ADMIN)
    _check_warehouse(session, data)
    warehouse = Warehouse()
    _apply(warehouse, data)
    session.add(warehouse)
    session.add(
        Location(warehouse=warehouse, code=RECEIVING_CODE, name=RECEIVING_NAME, is_receiving=True)
    )
    _record_create(session, actor, warehouse, receiving_location=RECEIVING_CODE)
    return warehouse


def update_warehouse(
    session: Session, *, warehouse_id: int, data: WarehouseData, actor: Actor
) -> Warehouse:
    """修改储备库."""
    actor.require_role(Role.ADMIN)
    warehouse = get_warehouse(session, warehouse_id)
    before = snapshot(warehouse)
    _check_warehouse(session, data, warehouse.id)
    if warehouse.is_active and not data.is_active:
        _check_warehouse_empty(session, warehouse)
    _apply(warehouse, data)
    _record_update(session, actor, warehouse, before)
    return warehouse


def _check_warehouse_empty(session: Session, warehouse: Warehouse) -> None:
    """停用储备库：refused while it holds stock or unfinished documents (its stock still counts)."""

    held = holdings(session, warehouse_id=warehouse.id)
    if not held.is_empty:
        raise Conflict(
            _l(
                "Warehouse %(warehouse)s still has %(holdings)s: move or issue the stock and "
                "finish or cancel the documents before taking it out of use.",
                warehouse=str(warehouse),
                holdings=held.describe(),
            ),
            field="is_active",
        )


def get_warehouse(session: Session, warehouse_id: int, *, actor: Actor | None = None) -> Warehouse:
    """储备库: refused to a keeper who does not keep it."""
    warehouse = session.get(Warehouse, warehouse_id)
    if warehouse is None:
        raise NotFound(_l("No such warehouse."))
    if actor is not None:
        actor.require_see(warehouse.id)
    return warehouse


# 库位 -------------------------------------------------------------------------------------------


def _check_location_code(
    session: Session, warehouse_id: int, code: str, location_id: int | None = None
) -> None:
    if not LOCATION_CODE.fullmatch(code):
        raise ValidationError(
            _l("A location code has 1 to 20 letters, digits or dashes, e.g. A-01-02."),
            field="code",
        )
    clash = session.scalar(
        select(Location.id).where(
            Location.warehouse_id == warehouse_id,
            Location.code == code,  # any case
        )
    )
    if clash and clash != location_id:
        raise Conflict(
            _l("The location %(code)s already exists in this warehouse.", code=code), field="code"
        )


def create_location(
    session: Session,
    *,
    warehouse_id: int,
    code: str,
    name: str | None = None,
    is_receiving: bool = False,
    actor: Actor,
) -> Location:
    """新增库位：a place in a warehouse, its code unique within the warehouse."""
    actor.require_role(Role.ADMIN)
    warehouse = get_warehouse(session, warehouse_id)
    code = (code or "").strip()
    name = (name or "").strip() or None
    _check_location_code(session, warehouse.id, code)
    check_length(name, Location.name, "name")
    if is_receiving and session.scalar(
        select(Location.id).where(Location.warehouse_id == warehouse.id, Location.is_receiving)
    ):
        raise Conflict(_l("This warehouse already has a receiving area."), field="is_receiving")
    location = Location(warehouse=warehouse, code=code, name=name, is_receiving=is_receiving)
    session.add(location)
    _record_create(session, actor, location)
    return location


def update_location(
    session: Session,
    *,
    location_id: int,
    code: str,
    name: str | None,
    is_active: bool,
    actor: Actor,
) -> Location:
    """修改库位：code, name and whether it is in use (the receiving area always is)."""
    actor.require_role(Role.ADMIN)
    location = get_location(session, location_id)
    before = snapshot(location)
    code = (code or "").strip()
    name = (name or "").strip() or None
    _check_location_code(session, location.warehouse_id, code, location.id)
    check_length(name, Location.name, "name")
    if location.is_receiving and not is_active:
        raise ValidationError(
            _l("The receiving area cannot be taken out of use."), field="is_active"
        )
    if location.is_receiving and code != location.code:
        raise ValidationError(_l("The receiving area keeps its code."), field="code")
    if location.is_active and not is_active:
        _check_location_empty(session, location)
    location.code = code
    location.name = name
    location.is_active = is_active
    _record_update(session, actor, location, before)
    return location


def _check_location_empty(session: Session, location: Location) -> None:
    """停用库位：refused while stock lies there or an unfinished document names it."""

    held = holdings(session, location_id=location.id)
    if not held.is_empty:
        raise Conflict(
            _l(
                "Location %(location)s still has %(holdings)s: move the stock elsewhere and "
                "finish or cancel the documents before taking it out of use.",
                location=str(location),
                holdings=held.describe(),
            ),
            field="is_active",
        )


def get_location(session: Session, location_id: int) -> Location:
    """库位."""
    location = session.get(Location, location_id)
    if location is None:
        raise NotFound(_l("No such location."))
    return location


def grid_code(row: int, col: int) -> str:
    """The code of a grid location: row letter, column, tier 01 (排-列-层), e.g. B-07-01."""
    return f"{chr(ord('A') + row)}-{col + 1:02d}-01"


def generate_locations(
    session: Session, *, warehouse_id: int, rows: int, cols: int, actor: Actor
) -> list[Location]:
    """批量生成库位：a rows × cols grid (A-01-01 …), skipping the codes that already exist."""
    actor.require_role(Role.ADMIN)
    warehouse = get_warehouse(session, warehouse_id)
    if not isinstance(rows, int) or not 1 <= rows <= MAX_GRID_ROWS:
        raise ValidationError(
            _l("Rows must be between 1 and %(max)s (A to Z).", max=MAX_GRID_ROWS), field="rows"
        )
    if not isinstance(cols, int) or not 1 <= cols <= MAX_GRID_COLS:
        raise ValidationError(
            _l("Columns must be between 1 and %(max)s.", max=MAX_GRID_COLS), field="cols"
        )
    existing = set(
        session.scalars(select(Location.code).where(Location.warehouse_id == warehouse.id))
    )
    codes = [grid_code(r, c) for r in range(rows) for c in range(cols)]
    new = [code for code in codes if normalise_code(code) not in existing]
    locations = [Location(warehouse=warehouse, code=code) for code in new]
    if not locations:
        return []
    session.add_all(locations)
    session.flush()
    record(
        session,
        actor=actor,
        action="generate_locations",
        obj=warehouse,
        label=str(warehouse),
        after={
            "rows": rows,
            "cols": cols,
            "created": len(new),
            "skipped": len(codes) - len(new),
            "first": new[0],
            "last": new[-1],
        },
    )
    return locations
