"""Call-up pages (调用单): the call-up form of an agreement line, the list (status, enterprise,
overdue replenishment), the detail page with its timeline and receipts, and the enterprise's
confirm-shipment and replenishment forms. An enterprise user reaches its own call-ups only
(the service and the queries scope every read)."""

from io import BytesIO

from flask import Blueprint, current_app, render_template, request, send_file, url_for
from flask_babel import gettext as _

from reserve.agreements import callup_queries as queries
from reserve.agreements import callups, signing
from reserve.agreements.callup_forms import CallUpForm, CancelForm, ReplenishForm, ShipForm
from reserve.agreements.callup_models import CallUpStatus
from reserve.agreements.callup_pdf import call_up_notice_pdf
from reserve.agreements.models import AgreementLine
from reserve.agreements.queries import enterprise_choices
from reserve.auth.permissions import current_actor
from reserve.catalog.models import Material
from reserve.errors import NotFound, run_and_redirect, run_form
from reserve.extensions import db
from reserve.forms import BLANK_LABEL, select_choices
from reserve.receipts.models import ReceiptStatus
from reserve.warehouses.models import Warehouse
from reserve.warehouses.queries import warehouse_choices

bp = Blueprint("callups", __name__)


def _warehouse_choices() -> list:
    return select_choices(warehouse_choices(db.session), blank=BLANK_LABEL)


def _replenish_days() -> int:
    return int(current_app.config["CALL_UP_REPLENISH_DAYS"])


@bp.route("/agreements/<int:agreement_id>/lines/<int:line_id>/call-up", methods=["GET", "POST"])
def call_up_create(agreement_id: int, line_id: int):
    agreement = signing.get_agreement(db.session, agreement_id, actor=current_actor())
    line = db.session.get(AgreementLine, line_id)
    if line is None or line.agreement_id != agreement.id:
        raise NotFound(_("No such agreement line."))
    lines = {row.id: row for row in queries.callable_lines(db.session, agreement.id)}
    form = CallUpForm(line_id=line.id)
    form.warehouse_id.choices = _warehouse_choices()
    if request.method == "POST":
        form.line_id.data = line.id  # the line is the page's, whatever was posted
    if form.validate_on_submit() and (
        done := run_form(
            form,
            lambda session: callups.call_up(session, data=form.to_data(), actor=current_actor()),
            success=lambda call: _(
                "Call-up %(no)s sent to %(name)s.", no=call.no, name=agreement.enterprise.name
            ),
            to=lambda call: url_for("callups.call_up_detail", call_up_id=call.id),
        )
    ):
        return done
    return render_template(
        "agreements/call_up_form.html", form=form, agreement=agreement, line=lines[line.id]
    )


@bp.get("/call-ups")
def call_up_list():
    args = request.args
    actor = current_actor()
    page = queries.call_up_page(
        db.session,
        actor=actor,
        status=args.get("status") or None,
        enterprise_id=args.get("enterprise", type=int),
        agreement_id=args.get("agreement", type=int),
        overdue=args.get("overdue") == "1",
        q=args.get("q"),
        after=args.get("after"),
    )
    return render_template(
        "agreements/call_up_list.html",
        page=page,
        args=args,
        statuses=list(CallUpStatus),
        enterprises=enterprise_choices(db.session, actor),
        is_office=actor.visible_enterprise_ids() is None,
    )


def _render_detail(call_up_id: int, **forms):
    actor = current_actor()
    call = callups.get_call_up(db.session, call_up_id, actor=actor)
    line = db.session.get(AgreementLine, call.line_id)
    return render_template(
        "agreements/call_up_detail.html",
        call=call,
        line=line,
        material=db.session.get(Material, line.material_id),
        warehouse=db.session.get(Warehouse, call.warehouse_id) if call.warehouse_id else None,
        receipts=queries.call_up_receipts(db.session, call.id),
        receipt_status={s.value: s.label for s in ReceiptStatus},
        ship_form=forms.get("ship_form") or ShipForm(shipped_qty=call.qty),
        replenish_form=forms.get("replenish_form")
        or ReplenishForm(replenished_qty=call.shipped_qty),
        cancel_form=forms.get("cancel_form") or CancelForm(),
        may_confirm=actor.has_role(*callups.CONFIRMERS),
        may_cancel=actor.has_role(*callups.CALLERS),
        replenish_days=_replenish_days(),
    )


@bp.get("/call-ups/<int:call_up_id>")
def call_up_detail(call_up_id: int):
    return _render_detail(call_up_id)


@bp.get("/call-ups/<int:call_up_id>/notice.pdf")
def call_up_pdf(call_up_id: int):
    call = callups.get_call_up(db.session, call_up_id, actor=current_actor())
    content = call_up_notice_pdf(queries.notice(db.session, call))
    return send_file(BytesIO(content), mimetype="application/pdf", download_name=f"{call.no}.pdf")


def _back(call_up_id: int) -> str:
    return url_for("callups.call_up_detail", call_up_id=call_up_id)


@bp.post("/call-ups/<int:call_up_id>/ship")
def call_up_ship(call_up_id: int):
    form = ShipForm()
    if form.validate_on_submit() and (
        done := run_form(
            form,
            lambda session: callups.confirm_shipped(
                session,
                call_up_id=call_up_id,
                actor=current_actor(),
                replenish_days=_replenish_days(),
                **form.to_kwargs(),
            ),
            success=lambda call: _(
                "Shipment of call-up %(no)s confirmed; replenish by %(day)s.",
                no=call.no,
                day=call.replenish_due_on.isoformat(),
            ),
            to=_back(call_up_id),
        )
    ):
        return done
    return _render_detail(call_up_id, ship_form=form), 422


@bp.post("/call-ups/<int:call_up_id>/replenish")
def call_up_replenish(call_up_id: int):
    form = ReplenishForm()
    if form.validate_on_submit() and (
        done := run_form(
            form,
            lambda session: callups.report_replenished(
                session, call_up_id=call_up_id, actor=current_actor(), **form.to_kwargs()
            ),
            success=lambda call: _("Replenishment of call-up %(no)s recorded.", no=call.no),
            to=_back(call_up_id),
        )
    ):
        return done
    return _render_detail(call_up_id, replenish_form=form), 422


@bp.post("/call-ups/<int:call_up_id>/cancel")
def call_up_cancel(call_up_id: int):
    return run_and_redirect(
        lambda session: callups.cancel_call_up(
            session,
            call_up_id=call_up_id,
            reason=request.form.get("reason"),
            actor=current_actor(),
        ),
        success=lambda call: _("Call-up %(no)s cancelled; its quantity is released.", no=call.no),
        to=_back(call_up_id),
    )
