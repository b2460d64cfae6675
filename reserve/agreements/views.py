"""Enterprise pages (代储企业): the list, registration and editing."""

from flask import Blueprint, render_template, request, url_for
from flask_babel import gettext as _

from reserve.agreements import queries, service
from reserve.agreements.forms import EnterpriseForm
from reserve.auth.permissions import current_actor
from reserve.errors import run_form
from reserve.extensions import db
from reserve.forms import BLANK_LABEL, select_choices
from reserve.warehouses.queries import region_choices

bp = Blueprint("agreements", __name__)

ACTIVE_FILTERS = {"": True, "inactive": False, "all": None}


@bp.get("/enterprises")
def enterprise_list():
    args = request.args
    sort = args.get("sort", "name")
    page = queries.enterprise_page(
        db.session,
        q=args.get("q"),
        region_id=args.get("region", type=int),
        active=ACTIVE_FILTERS.get(args.get("status", ""), True),
        sort=sort,
        page=args.get("page", 1, type=int),
    )
    return render_template(
        "agreements/enterprise_list.html",
        page=page,
        args=args,
        sort=sort,
        regions=region_choices(db.session),
    )


def _enterprise_form(enterprise=None) -> EnterpriseForm:
    form = EnterpriseForm(obj=enterprise)
    form.region_id.choices = select_choices(region_choices(db.session), blank=BLANK_LABEL)
    return form


@bp.route("/enterprises/new", methods=["GET", "POST"])
def enterprise_create():
    form = _enterprise_form()
    if form.validate_on_submit() and (
        done := run_form(
            form,
            lambda session: service.create_enterprise(
                session, data=form.to_data(), actor=current_actor()
            ),
            success=lambda enterprise: _("Enterprise %(name)s registered.", name=enterprise.name),
            to=url_for("agreements.enterprise_list"),
        )
    ):
        return done
    return render_template("agreements/enterprise_form.html", form=form, enterprise=None)


@bp.route("/enterprises/<int:enterprise_id>", methods=["GET", "POST"])
def enterprise_edit(enterprise_id: int):
    enterprise = service.get_enterprise(db.session, enterprise_id, actor=current_actor())
    form = _enterprise_form(enterprise)
    if form.validate_on_submit() and (
        done := run_form(
            form,
            lambda session: service.update_enterprise(
                session, enterprise_id=enterprise_id, data=form.to_data(), actor=current_actor()
            ),
            success=lambda _none: _("Enterprise %(name)s saved.", name=enterprise.name),
            to=url_for("agreements.enterprise_list"),
        )
    ):
        return done
    return render_template("agreements/enterprise_form.html", form=form, enterprise=enterprise)
