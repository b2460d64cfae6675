"""Region, warehouse and location pages."""

from flask import Blueprint, render_template, request, url_for
from flask_babel import gettext as _

from reserve.auth.permissions import current_actor
from reserve.errors import run_and_redirect, run_form
from reserve.extensions import db
from reserve.forms import BLANK_LABEL, select_choices
from reserve.standards.shortfall import standing_of_warehouse
from reserve.warehouses import queries, service
from reserve.warehouses.forms import (
    LocationEditForm,
    LocationForm,
    LocationGridForm,
    RegionEditForm,
    RegionForm,
    WarehouseForm,
)
from reserve.warehouses.models import WarehouseLevel

bp = Blueprint("warehouses", __name__)


@bp.get("/regions")
def region_list():
    return render_template("warehouses/region_list.html", regions=queries.region_tree(db.session))


@bp.route("/regions/new", methods=["GET", "POST"])
def region_create():
    parent_id = request.args.get("parent_id", type=int)
    parent = service.get_region(db.session, parent_id) if parent_id else None
    form = RegionForm(
        parent_id=parent_id, level=service.CHILD_LEVEL.get(parent.level) if parent else None
    )
    form.parent_id.choices = select_choices(queries.region_choices(db.session), blank=BLANK_LABEL)
    if form.validate_on_submit() and (
        done := run_form(
            form,
            lambda session: service.create_region(
                session,
                code=form.code.data,
                name=form.name.data,
                level=form.level.data,
                parent_id=form.parent_id.data,
                actor=current_actor(),
            ),
            success=lambda region: _("Region %(code)s created.", code=region.code),
            to=url_for("warehouses.region_list"),
        )
    ):
        return done
    return render_template("warehouses/region_form.html", form=form, region=None)


@bp.route("/regions/<int:region_id>", methods=["GET", "POST"])
def region_edit(region_id: int):
    region = service.get_region(db.session, region_id)
    form = RegionEditForm(obj=region)
    form.parent_id.choices = select_choices(
        queries.region_choices(db.session, exclude_id=region.id), blank=BLANK_LABEL
    )
    if form.validate_on_submit() and (
        done := run_form(
            form,
            lambda session: service.update_region(
                session,
                region_id=region_id,
                name=form.name.data,
                level=form.level.data,
                parent_id=form.parent_id.data,
                actor=current_actor(),
            ),
            success=_("Region %(code)s saved.", code=region.code),
            to=url_for("warehouses.region_list"),
        )
    ):
        return done
    return render_template("warehouses/region_form.html", form=form, region=region)


@bp.get("/warehouses")
def warehouse_list():
    args = request.args
    sort = args.get("sort", "code")
    page = queries.warehouse_page(
        db.session,
        actor=current_actor(),
        q=args.get("q"),
        level=args.get("level") or None,
        region_id=args.get("region", type=int),
        sort=sort,
        after=args.get("after"),
    )
    return render_template(
        "warehouses/warehouse_list.html",
        page=page,
        args=args,
        sort=sort,
        levels=WarehouseLevel,
        labels=queries.level_labels(),
        regions=queries.region_choices(db.session),
    )


def _detail(warehouse_id: int, location_form=None, grid_form=None):
    warehouse = service.get_warehouse(db.session, warehouse_id, actor=current_actor())
    return render_template(
        "warehouses/warehouse_detail.html",
        warehouse=warehouse,
        summary=queries.warehouse_summary(db.session, warehouse.id),
        keepers=queries.warehouse_keepers(db.session, warehouse.id),
        locations=queries.location_page(db.session, warehouse.id, after=request.args.get("after")),
        labels=queries.level_labels(),
        location_form=location_form or LocationForm(formdata=None),
        grid_form=grid_form or LocationGridForm(formdata=None, rows=1, cols=10),
        standing=standing_of_warehouse(
            db.session, warehouse_id=warehouse.id, actor=current_actor()
        ),
    )


@bp.get("/warehouses/<int:warehouse_id>")
def warehouse_detail(warehouse_id: int):
    return _detail(warehouse_id)


@bp.post("/warehouses/<int:warehouse_id>/locations")
def location_create(warehouse_id: int):
    grid = "rows" in request.form
    form = LocationGridForm() if grid else LocationForm()
    if not form.validate_on_submit():
        return _detail(
            warehouse_id, grid_form=form if grid else None, location_form=None if grid else form
        )
    detail = url_for("warehouses.warehouse_detail", warehouse_id=warehouse_id)
    if grid:
        return run_and_redirect(
            lambda session: service.generate_locations(
                session,
                warehouse_id=warehouse_id,
                rows=form.rows.data,
                cols=form.cols.data,
                actor=current_actor(),
            ),
            success=lambda created: _("%(n)s locations created.", n=len(created)),
            to=detail,
        )
    return run_and_redirect(
        lambda session: service.create_location(
            session,
            warehouse_id=warehouse_id,
            code=form.code.data,
            name=form.name.data,
            actor=current_actor(),
        ),
        success=lambda location: _("Location %(code)s created.", code=location.code),
        to=detail,
    )


def _warehouse_form(warehouse=None) -> WarehouseForm:
    form = WarehouseForm(obj=warehouse)
    form.region_id.choices = select_choices(queries.region_choices(db.session), blank=BLANK_LABEL)
    return form


@bp.route("/warehouses/new", methods=["GET", "POST"])
def warehouse_create():
    form = _warehouse_form()
    if form.validate_on_submit() and (
        done := run_form(
            form,
            lambda session: service.create_warehouse(
                session, data=form.to_data(), actor=current_actor()
            ),
            success=lambda warehouse: _("Warehouse %(code)s created.", code=warehouse.code),
            to=lambda warehouse: url_for("warehouses.warehouse_detail", warehouse_id=warehouse.id),
        )
    ):
        return done
    return render_template("warehouses/warehouse_form.html", form=form, warehouse=None)


@bp.route("/warehouses/<int:warehouse_id>/edit", methods=["GET", "POST"])
def warehouse_edit(warehouse_id: int):
    warehouse = service.get_warehouse(db.session, warehouse_id, actor=current_actor())
    form = _warehouse_form(warehouse)
    if form.validate_on_submit() and (
        done := run_form(
            form,
            lambda session: service.update_warehouse(
                session, warehouse_id=warehouse_id, data=form.to_data(), actor=current_actor()
            ),
            success=lambda _none: _("Warehouse %(code)s saved.", code=warehouse.code),
            to=url_for("warehouses.warehouse_detail", warehouse_id=warehouse_id),
        )
    ):
        return done
    return render_template("warehouses/warehouse_form.html", form=form, warehouse=warehouse)


@bp.route("/locations/<int:location_id>", methods=["GET", "POST"])
def location_edit(location_id: int):
    location = service.get_location(db.session, location_id)
    form = LocationEditForm(obj=location)
    if form.validate_on_submit() and (
        done := run_form(
            form,
            lambda session: service.update_location(
                session,
                location_id=location_id,
                code=form.code.data,
                name=form.name.data,
                is_active=form.is_active.data,
                actor=current_actor(),
            ),
            success=lambda _none: _("Location %(code)s saved.", code=location.code),
            to=url_for("warehouses.warehouse_detail", warehouse_id=location.warehouse_id),
        )
    ):
        return done
    return render_template(
        "warehouses/location_form.html", form=form, location=location, warehouse=location.warehouse
    )
