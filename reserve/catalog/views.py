"""Catalogue pages: the category tree and materials."""

from flask import Blueprint, jsonify, render_template, request, url_for
from flask_babel import gettext as _

from reserve.auth.permissions import current_actor
from reserve.catalog import queries, service
from reserve.catalog.forms import CategoryEditForm, CategoryForm, MaterialForm, material_form
from reserve.catalog.models import Tracking
from reserve.errors import run_form
from reserve.extensions import db
from reserve.forms import BLANK_LABEL, select_choices

bp = Blueprint("catalog", __name__, url_prefix="/catalog")


@bp.app_template_global("material_picker")
def material_picker(warehouse: int | str | None = None) -> dict[str, str]:
    """The attributes that make a material select a search picker (static/js/picker.js);
    ``warehouse`` (an id, or ``#id`` of the select holding it) limits it to what it holds."""
    attrs = {
        "data-picker": "material",
        "data-picker-url": url_for("catalog.material_pick"),
        "data-picker-placeholder": _("Name, code, spec or pinyin initials (zp: 帐篷)"),
        "data-picker-none": _("No material matches."),
    }
    if warehouse:
        attrs["data-picker-warehouse"] = str(warehouse)
    return attrs


@bp.get("/categories")
def category_list():
    return render_template(
        "catalog/category_list.html", categories=queries.category_tree(db.session)
    )


@bp.route("/categories/new", methods=["GET", "POST"])
def category_create():
    form = CategoryForm(parent_id=request.args.get("parent_id", type=int))
    form.parent_id.choices = select_choices(queries.category_choices(db.session), blank=BLANK_LABEL)
    if form.validate_on_submit() and (
        done := run_form(
            form,
            lambda session: service.create_category(
                session,
                code=form.code.data,
                name=form.name.data,
                parent_id=form.parent_id.data,
                is_local=form.is_local.data,
                actor=current_actor(),
            ),
            success=lambda category: _("Category %(code)s created.", code=category.code),
            to=url_for("catalog.category_list"),
        )
    ):
        return done
    return render_template("catalog/category_form.html", form=form, category=None)


@bp.route("/categories/<int:category_id>", methods=["GET", "POST"])
def category_edit(category_id: int):
    category = service.get_category(db.session, category_id)
    form = CategoryEditForm(obj=category)
    if form.validate_on_submit() and (
        done := run_form(
            form,
            lambda session: service.update_category(
                session,
                category_id=category_id,
                name=form.name.data,
                is_local=form.is_local.data,
                actor=current_actor(),
            ),
            success=_("Category %(code)s saved.", code=category.code),
            to=url_for("catalog.category_list"),
        )
    ):
        return done
    return render_template("catalog/category_form.html", form=form, category=category)


@bp.get("/materials")
def material_list():
    args = request.args
    page = queries.material_page(
        db.session,
        q=args.get("q"),
        category_code=args.get("category") or None,
        tracking=args.get("tracking") or None,
        active=None if args.get("inactive") else True,
        sort=args.get("sort", "code"),
        after=args.get("after"),
    )
    return render_template(
        "catalog/material_list.html",
        page=page,
        args=args,
        categories=queries.category_code_choices(db.session),
        trackings=Tracking,
        sort=args.get("sort", "code"),
    )


@bp.get("/materials/pick")
def material_pick():
    """The material picker's search (static/js/picker.js): JSON, at most 20 materials."""
    q = (request.args.get("q") or "").strip()[:60]
    items = queries.material_picks(
        db.session,
        q=q,
        actor=current_actor(),
        warehouse_id=request.args.get("warehouse_id", type=int),
    )
    return jsonify(items=items)


@bp.get("/materials/<int:material_id>")
def material_detail(material_id: int):
    return render_template(
        "catalog/material_detail.html", material=service.get_material(db.session, material_id)
    )


def _material_form(material=None) -> MaterialForm:
    return material_form(db.session, obj=material)


@bp.route("/materials/new", methods=["GET", "POST"])
def material_create():
    form = _material_form()
    if form.validate_on_submit() and (
        done := run_form(
            form,
            lambda session: service.create_material(
                session, data=form.to_data(), actor=current_actor()
            ),
            success=lambda material: _("Material %(code)s created.", code=material.code),
            to=lambda material: url_for("catalog.material_detail", material_id=material.id),
        )
    ):
        return done
    return render_template("catalog/material_form.html", form=form, material=None)


@bp.route("/materials/<int:material_id>/edit", methods=["GET", "POST"])
def material_edit(material_id: int):
    material = service.get_material(db.session, material_id)
    form = _material_form(material)
    if form.validate_on_submit() and (
        done := run_form(
            form,
            lambda session: service.update_material(
                session, material_id=material_id, data=form.to_data(), actor=current_actor()
            ),
            success=lambda _none: _("Material %(code)s saved.", code=material.code),
            to=url_for("catalog.material_detail", material_id=material_id),
        )
    ):
        return done
    return render_template("catalog/material_form.html", form=form, material=material)
