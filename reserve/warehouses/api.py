"""Warehouses API: regions, warehouses and locations, read with the same queries as the pages and
scoped to the token user's warehouses."""

from flask import jsonify, request

from reserve.api import key_page_args, key_page_json, route, schema
from reserve.auth.permissions import current_actor
from reserve.extensions import db
from reserve.warehouses import queries, service
from reserve.warehouses.models import Location, RegionLevel, WarehouseLevel

REGION = schema(
    "Region",
    {
        "id": {"type": "integer"},
        "code": {
            "type": "string",
            "pattern": "^([0-9]{6}|[0-9]{9})$",
            "description": "GB/T 2260 (6 digits); a township: 统计用区划代码 (9 digits)",
        },
        "name": {"type": "string"},
        "level": {"type": "string", "enum": [level.value for level in RegionLevel]},
        "parent_code": {"type": "string", "nullable": True},
    },
)
WAREHOUSE = schema(
    "Warehouse",
    {
        "id": {"type": "integer"},
        "code": {"type": "string"},
        "name": {"type": "string"},
        "level": {"type": "string", "enum": [level.value for level in WarehouseLevel]},
        "region_code": {"type": "string"},
        "region_name": {"type": "string"},
        "address": {"type": "string", "nullable": True},
        "lat": {"type": "string", "nullable": True, "description": "decimal degrees"},
        "lng": {"type": "string", "nullable": True, "description": "decimal degrees"},
        "area_m2": {"type": "string", "nullable": True, "description": "decimal m²"},
        "phone": {"type": "string", "nullable": True},
        "is_active": {"type": "boolean"},
        "location_count": {"type": "integer", "description": "locations in use"},
        "keeper_count": {"type": "integer"},
    },
)
LOCATION = schema(
    "Location",
    {
        "id": {"type": "integer"},
        "warehouse_id": {"type": "integer"},
        "code": {"type": "string"},
        "name": {"type": "string", "nullable": True},
        "is_receiving": {"type": "boolean", "description": "the receiving area (收货区)"},
        "is_active": {"type": "boolean"},
    },
)


def _decimal(value):
    return None if value is None else str(value)


def region_json(row) -> dict:
    return {
        "id": row.id,
        "code": row.code,
        "name": row.name,
        "level": row.level,
        "parent_code": row.parent_code,
    }


def warehouse_json(row) -> dict:
    return {
        "id": row.id,
        "code": row.code,
        "name": row.name,
        "level": row.level,
        "region_code": row.region_code,
        "region_name": row.region_name,
        "address": row.address,
        "lat": _decimal(row.lat),
        "lng": _decimal(row.lng),
        "area_m2": _decimal(row.area_m2),
        "phone": row.phone,
        "is_active": row.is_active,
        "location_count": row.location_count,
        "keeper_count": row.keeper_count,
    }


def location_json(location: Location) -> dict:
    return {
        "id": location.id,
        "warehouse_id": location.warehouse_id,
        "code": location.code,
        "name": location.name,
        "is_receiving": location.is_receiving,
        "is_active": location.is_active,
    }


@route(
    "/regions",
    summary="Administrative regions (GB/T 2260; townships 统计用区划代码), in code order",
    tag="warehouses",
    response=REGION,
    key_paged=True,
    query=(
        ("parent", "string", "6-digit code: only the regions directly under it"),
        ("level", "string", "province, city, district, county or township"),
    ),
)
def region_list():
    after, per_page = key_page_args()
    result = queries.region_page(
        db.session,
        parent_code=request.args.get("parent") or None,
        level=request.args.get("level") or None,
        after=after,
        per_page=per_page,
    )
    return key_page_json(result, region_json)


@route(
    "/warehouses",
    summary="Warehouses the token's user may see, with location and keeper counts",
    tag="warehouses",
    response=WAREHOUSE,
    key_paged=True,
    query=(
        ("q", "string", "part of the code, name or address"),
        ("level", "string", "city, district or township"),
        ("region", "integer", "region id; includes the regions below it"),
        (
            "sort",
            "string",
            "code, name, level, region, area, locations, keepers; '-' for descending",
        ),
    ),
)
def warehouse_list():
    after, per_page = key_page_args()
    args = request.args
    result = queries.warehouse_page(
        db.session,
        actor=current_actor(),
        q=args.get("q"),
        level=args.get("level") or None,
        region_id=args.get("region", type=int),
        sort=args.get("sort", "code"),
        after=after,
        per_page=per_page,
    )
    return key_page_json(result, warehouse_json)


@route(
    "/warehouses/<int:warehouse_id>",
    summary="One warehouse (403 outside a keeper's scope)",
    tag="warehouses",
    response=WAREHOUSE,
)
def warehouse_detail(warehouse_id: int):
    warehouse = service.get_warehouse(db.session, warehouse_id, actor=current_actor())
    return jsonify(warehouse_json(queries.warehouse_summary(db.session, warehouse.id)))


@route(
    "/warehouses/<int:warehouse_id>/locations",
    summary="A warehouse's locations, the receiving area first",
    tag="warehouses",
    response=LOCATION,
    key_paged=True,
)
def location_list(warehouse_id: int):
    warehouse = service.get_warehouse(db.session, warehouse_id, actor=current_actor())
    after, per_page = key_page_args()
    return key_page_json(
        queries.location_page(db.session, warehouse.id, after=after, per_page=per_page),
        location_json,
    )
