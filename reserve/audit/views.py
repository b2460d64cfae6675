"""The audit log page (审计日志): read only; nothing here writes or removes an entry."""

from flask import Blueprint, render_template, request
from flask_babel import gettext as _

from reserve.audit import labels, queries
from reserve.audit.forms import AuditFilterForm
from reserve.extensions import db
from reserve.forms import select_choices

bp = Blueprint("audit", __name__)


@bp.get("/admin/audit")
def entry_list():
    form = AuditFilterForm(formdata=request.args)
    form.object_type.choices = select_choices(
        labels.object_type_choices(queries.audit_object_types(db.session)), blank=_("All types")
    )
    form.action.choices = select_choices(
        labels.action_choices(queries.audit_actions(db.session)), blank=_("All actions")
    )
    form.validate()
    filters = form.filters()
    page = queries.audit_page(db.session, **filters, after=request.args.get("after"))
    return render_template(
        "audit/entry_list.html",
        form=form,
        page=page,
        total=queries.audit_count(db.session, **filters),
        cap=queries.COUNT_CAP,
        labels=labels,
    )
