"""储备标准 and 储备缺口 pages: the admin edits, imports and exports standards; staff read
them and the shortfall."""

from __future__ import annotations

import io

from flask import Blueprint, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from reserve.auth.permissions import current_actor
from reserve.catalog.queries import category_code_choices
from reserve.db import local_today
from reserve.errors import run_and_redirect, run_form
from reserve.extensions import db
from reserve.forms import BLANK_LABEL, select_choices
from reserve.standards import excel, queries, service, shortfall
from reserve.standards.forms import (
    ShortfallFilterForm,
    StandardDeleteForm,
    StandardImportForm,
    standard_form,
)
from reserve.standards.service import REGION_LEVELS
from reserve.warehouses.models import Region

bp = Blueprint("standards", __name__)

CHANGE_ACTIONS = {
    "create": _l("Created"),
    "update": _l("Changed"),
    "import": _l("Imported"),
    "delete": _l("Removed"),
}
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@bp.get("/standards")
def standard_list():
    args = request.args
    page = queries.standard_page(db.session, q=args.get("q"), after=args.get("after"))
    return render_template(
        "standards/standard_list.html",
        page=page,
        args=args,
        is_admin=current_actor().is_admin,
    )


@bp.route("/standards/new", methods=["GET", "POST"])
def standard_create():
    form = standard_form(db.session)
    if form.validate_on_submit() and (
        done := run_form(
            form,
            lambda session: service.save_standard(
                session, data=form.to_data(), actor=current_actor()
            ),
            success=_("Reserve standard saved."),
            to=url_for("standards.standard_list"),
        )
    ):
        return done
    return render_template("standards/standard_form.html", form=form, standard=None, history=[])


@bp.route("/standards/<int:standard_id>/edit", methods=["GET", "POST"])
def standard_edit(standard_id: int):
    standard = service.get_standard(db.session, standard_id)
    form = standard_form(db.session, obj=standard)
    if form.validate_on_submit() and (
        done := run_form(
            form,
            lambda session: service.save_standard(
                session, data=form.to_data(), actor=current_actor(), standard_id=standard_id
            ),
            success=_("Reserve standard saved."),
            to=url_for("standards.standard_list"),
        )
    ):
        return done
    return render_template(
        "standards/standard_form.html",
        form=form,
        standard=queries.standard_row(db.session, standard_id),
        history=queries.standard_history(db.session, standard_id),
        delete_form=StandardDeleteForm(),
        change_actions=CHANGE_ACTIONS,
    )


@bp.post("/standards/<int:standard_id>/delete")
def standard_delete(standard_id: int):
    form = StandardDeleteForm()
    reason = form.reason.data if form.validate_on_submit() else ""
    return run_and_redirect(
        lambda session: service.delete_standard(
            session, standard_id=standard_id, reason=reason, actor=current_actor()
        ),
        success=_("Reserve standard removed."),
        to=url_for("standards.standard_list"),
        back=url_for("standards.standard_edit", standard_id=standard_id),
    )


@bp.get("/standards/export.xlsx")
def standard_export():
    return send_file(
        io.BytesIO(excel.standards_xlsx(db.session)),
        mimetype=XLSX,
        as_attachment=True,
        download_name=f"reserve-standards-{local_today():%Y%m%d}.xlsx",
    )


@bp.route("/standards/import", methods=["GET", "POST"])
def standard_import():
    form = StandardImportForm()
    errors = []
    if form.validate_on_submit():
        content = request.files["file"].read()
        done = run_form(
            form,
            lambda session: excel.import_standards(session, content=content, actor=current_actor()),
            success=lambda n: _("%(n)s standards imported.", n=n),
            to=url_for("standards.standard_list"),
            on_error=lambda error: _listed(error, errors),
        )
        if done:
            return done
    return render_template("standards/standard_import.html", form=form, errors=errors)


def _listed(error, errors: list):
    """Keep every bad row of an import for the page to list (the flash says how many)."""
    errors.extend(getattr(error, "errors", None) or [error])
    return error


def shortfall_filter(args) -> shortfall.ShortfallFilter:
    severity = args.get("severity") or None
    return shortfall.ShortfallFilter(
        category_code=args.get("category") or None,
        region_id=args.get("region_id", type=int),
        severity=severity if severity in {s.value for s in shortfall.Severity} else None,
    )


@bp.get("/shortfall")
def shortfall_report():
    actor = current_actor()
    f = shortfall_filter(request.args)
    rows = shortfall.shortfall_rows(db.session, actor=actor, f=f)
    form = ShortfallFilterForm(request.args)
    form.category.choices = select_choices(category_code_choices(db.session), blank=BLANK_LABEL)
    form.region_id.choices = select_choices(_regions(), blank=BLANK_LABEL)
    form.severity.choices = select_choices(
        ((s.value, s.label) for s in shortfall.Severity), blank=BLANK_LABEL
    )
    return render_template(
        "standards/shortfall.html",
        form=form,
        rows=rows,
        counts=shortfall.counts(rows),
        by_category=shortfall.by_category(rows),
        by_region=shortfall.by_region(rows),
        args=request.args,
    )


def _regions():
    return [
        (r.id, f"{r.code} {r.name}")
        for r in db.session.execute(
            select(Region.id, Region.code, Region.name)
            .where(Region.level.in_(REGION_LEVELS))
            .order_by(Region.code)
        )
    ]


@bp.get("/shortfall/export.xlsx")
def shortfall_export():
    rows = shortfall.shortfall_rows(
        db.session, actor=current_actor(), f=shortfall_filter(request.args)
    )
    content = excel.shortfall_xlsx(rows, shortfall.by_category(rows), shortfall.by_region(rows))
    return send_file(
        io.BytesIO(content),
        mimetype=XLSX,
        as_attachment=True,
        download_name=f"reserve-shortfall-{local_today():%Y%m%d}.xlsx",
    )
