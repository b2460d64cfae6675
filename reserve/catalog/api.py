"""Catalogue API: categories and materials, read with the same queries as the pages."""

from flask import jsonify, request

from reserve.api import form_from_json, key_page_args, key_page_json, route, schema
from reserve.auth.permissions import current_actor
from reserve.catalog import queries, service
from reserve.catalog.forms import material_form
from reserve.catalog.models import Category, Material
from reserve.db import transaction
from reserve.extensions import db

CATEGORY = schema(
    "Category",
    {
        "id": {"type": "integer"},
        "code": {"type": "string", "pattern": "^[1-3][0-9]{6}$"},
        "name": {"type": "string"},
        "level": {"type": "integer"},
        "parent_code": {"type": "string", "nullable": True},
        "is_local": {"type": "boolean"},
    },
)
MATERIAL = schema(
    "Material",
    {
        "id": {"type": "integer"},
        "code": {"type": "string"},
        "name": {"type": "string"},
        "spec": {"type": "string", "nullable": True},
        "unit": {"type": "string"},
        "category_code": {"type": "string"},
        "category_name": {"type": "string"},
        "tracking": {"type": "string", "enum": ["batch", "serial"]},
        "shelf_life_days": {"type": "integer", "nullable": True},
        "near_expiry_days": {"type": "integer"},
        "reference_price": {"type": "string", "nullable": True, "description": "decimal yuan"},
        "unit_weight_kg": {"type": "string", "nullable": True},
        "unit_volume_m3": {"type": "string", "nullable": True},
        "pinyin_initials": {"type": "string"},
        "is_active": {"type": "boolean"},
        "is_returnable": {"type": "boolean", "description": "可归还: comes back after an event"},
    },
)

MATERIAL_INPUT = schema(
    "MaterialInput",
    {
        "code": {
            "type": "string",
            "description": "the category's 7-digit code and 3 digits 001-999 (1010101001)",
        },
        "name": {"type": "string"},
        "spec": {"type": "string", "nullable": True},
        "unit": {"type": "string"},
        "category_id": {"type": "integer"},
        "tracking": {"type": "string", "enum": ["batch", "serial"]},
        "shelf_life_days": {"type": "integer", "nullable": True},
        "near_expiry_days": {
            "type": "integer",
            "description": "below the shelf life (default 90)",
        },
        "reference_price": {"type": "string", "nullable": True, "description": "decimal yuan"},
        "unit_weight_kg": {"type": "string", "nullable": True},
        "unit_volume_m3": {"type": "string", "nullable": True},
        "is_active": {"type": "boolean"},
        "is_returnable": {"type": "boolean", "description": "可归还: comes back after an event"},
    },
    required=("code", "name", "unit", "category_id"),
)


def category_json(c: Category) -> dict:
    return {
        "id": c.id,
        "code": c.code,
        "name": c.name,
        "level": c.level,
        "parent_code": service.parent_code_of(c.code),
        "is_local": c.is_local,
    }


def _decimal(value):
    return None if value is None else str(value)


def material_json(m: Material) -> dict:
    return {
        "id": m.id,
        "code": m.code,
        "name": m.name,
        "spec": m.spec,
        "unit": m.unit,
        "category_code": m.category.code,
        "category_name": m.category.name,
        "tracking": m.tracking,
        "shelf_life_days": m.shelf_life_days,
        "near_expiry_days": m.near_expiry_days,
        "reference_price": _decimal(m.reference_price),
        "unit_weight_kg": _decimal(m.unit_weight_kg),
        "unit_volume_m3": _decimal(m.unit_volume_m3),
        "pinyin_initials": m.pinyin_initials,
        "is_active": m.is_active,
        "is_returnable": m.is_returnable,
    }


@route(
    "/categories",
    summary="The category tree (GB/T 38565), in code order",
    tag="catalog",
    response=CATEGORY,
    key_paged=True,
    query=(("level", {"type": "integer", "minimum": 1, "maximum": 4}, "only this level (1-4)"),),
)
def category_list():
    after, per_page = key_page_args()
    result = queries.category_page(
        db.session, level=request.args.get("level", type=int), after=after, per_page=per_page
    )
    return key_page_json(result, category_json)


@route(
    "/materials",
    summary="Search materials by name, code, spec or pinyin initials",
    tag="catalog",
    response=MATERIAL,
    key_paged=True,
    query=(
        ("q", "string", "text, code prefix or pinyin initials (zp finds 帐篷)"),
        ("category", "string", "7-digit category code; includes sub-categories"),
        ("tracking", "string", "batch or serial"),
        ("sort", "string", "code, name, unit, category, shelf_life, price; '-' for descending"),
    ),
)
def material_list():
    after, per_page = key_page_args()
    args = request.args
    result = queries.material_page(
        db.session,
        q=args.get("q"),
        category_code=args.get("category") or None,
        tracking=args.get("tracking") or None,
        sort=args.get("sort", "code"),
        after=after,
        per_page=per_page,
    )
    return key_page_json(result, material_json)


@route("/materials/<int:material_id>", summary="One material", tag="catalog", response=MATERIAL)
def material_detail(material_id: int):
    return jsonify(material_json(service.get_material(db.session, material_id)))


@route(
    "/materials",
    method="POST",
    summary="Add a material to the catalogue (新增物资)",
    tag="catalog",
    body=MATERIAL_INPUT,
    response=MATERIAL,
    status=201,
)
def material_create():
    form = form_from_json(lambda **kw: material_form(db.session, **kw))
    with transaction() as session:
        material = service.create_material(session, data=form.to_data(), actor=current_actor())
    return jsonify(material_json(material)), 201


@route(
    "/materials/<int:material_id>",
    method="POST",
    summary="Change a material (修改物资); fields left out keep their value",
    tag="catalog",
    body=MATERIAL_INPUT,
    response=MATERIAL,
)
def material_update(material_id: int):
    material = service.get_material(db.session, material_id)
    form = form_from_json(lambda **kw: material_form(db.session, **kw), obj=material)
    with transaction() as session:
        material = service.update_material(
            session, material_id=material_id, data=form.to_data(), actor=current_actor()
        )
    return jsonify(material_json(material))
