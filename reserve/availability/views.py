"""The dispatcher's availability view (可调用资源一览): materials with physical stock, agreement
stock and capacity side by side, and one material's warehouses and agreement lines."""

from flask import Blueprint, current_app, flash, render_template, request

from reserve.agreements.flags import FlagRule
from reserve.agreements.queries import area_choices
from reserve.auth.permissions import current_actor
from reserve.availability import queries
from reserve.availability.forms import parse_filter
from reserve.catalog.queries import category_code_choices
from reserve.catalog.service import get_material
from reserve.extensions import db

bp = Blueprint("availability", __name__, url_prefix="/availability")


def _filter(material_id: int | None = None) -> queries.AvailabilityFilter:
    f, problems = parse_filter(db.session, request.args, material_id=material_id)
    for problem in problems:
        flash(str(problem), "warning")
    return f


def _choices() -> dict:
    return {"regions": area_choices(db.session), "categories": category_code_choices(db.session)}


@bp.get("")
def availability_list():
    f = _filter()
    page = queries.availability_page(
        db.session,
        current_actor(),
        f,
        rule=FlagRule.from_config(current_app.config),
        after=request.args.get("after") or None,
    )
    return render_template(
        "availability/availability_list.html", page=page, f=f, args=request.args, **_choices()
    )


@bp.get("/materials/<int:material_id>")
def material_detail(material_id: int):
    actor = current_actor()
    material = get_material(db.session, material_id)
    f = _filter(material_id=material.id)
    rule = FlagRule.from_config(current_app.config)
    args = request.args
    lines = queries.material_line_page(
        db.session, actor, material.id, f, rule=rule, after=args.get("after") or None
    )
    return render_template(
        "availability/material_detail.html",
        material=material,
        row=queries.material_availability(db.session, actor, material.id, f, rule=rule),
        warehouses=queries.material_warehouse_page(
            db.session, actor, material.id, f, after=args.get("after_warehouse") or None
        ),
        stock_lines=[line for line in lines.items if not line.is_capacity],
        capacity_lines=[line for line in lines.items if line.is_capacity],
        lines=lines,
        f=f,
        args=args,
        **_choices(),
    )
