"""Stocktake pages: the list, opening a count, the count sheet and its actions."""

from io import BytesIO

from flask import (
    Blueprint,
    flash,
    get_template_attribute,
    jsonify,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from reserve.auth.permissions import current_actor
from reserve.db import transaction
from reserve.errors import ValidationError, run_and_redirect, run_form
from reserve.extensions import db
from reserve.forms import select_choices
from reserve.stocktakes import pdf, queries, service
from reserve.stocktakes.api import line_json
from reserve.stocktakes.counting import record_count_by_codes
from reserve.stocktakes.forms import CancelForm, CountForm, RejectForm, StocktakeForm
from reserve.stocktakes.models import StocktakeStatus
from reserve.warehouses.queries import warehouse_choices

bp = Blueprint("stocktakes", __name__)


@bp.get("/stocktakes")
def stocktake_list():
    args = request.args
    status = args.get("status") if args.get("status") in set(StocktakeStatus) else None
    page = queries.stocktake_page(
        db.session,
        actor=current_actor(),
        status=status,
        warehouse_id=args.get("warehouse_id", type=int),
        after=args.get("after"),
    )
    return render_template(
        "stocktakes/stocktake_list.html", page=page, args=args, statuses=StocktakeStatus
    )


@bp.route("/stocktakes/new", methods=["GET", "POST"])
def stocktake_create():
    actor = current_actor()
    choices = warehouse_choices(db.session, actor, kept_only=True)
    ids = [warehouse_id for warehouse_id, _label in choices]
    wanted = request.values.get("warehouse_id", type=int)
    warehouse_id = wanted if wanted in ids else (ids[0] if ids else None)
    form = StocktakeForm(warehouse_id=warehouse_id)
    form.warehouse_id.choices = select_choices(choices)
    if form.validate_on_submit() and (
        done := run_form(
            form,
            lambda session: service.open_stocktake(
                session,
                warehouse_id=form.warehouse_id.data,
                actor=actor,
                **form.scope(),
                is_blind=form.is_blind.data,
                note=form.note.data,
            ),
            success=lambda stocktake: _(
                "Stocktake %(no)s opened: %(n)s lines to count.",
                no=stocktake.no,
                n=queries.stocktake_totals(db.session, stocktake.id).lines,
            ),
            to=lambda stocktake: url_for("stocktakes.stocktake_detail", stocktake_id=stocktake.id),
        )
    ):
        return done
    receiving, rows = queries.location_tree(db.session, warehouse_id) if warehouse_id else ([], [])
    return render_template(
        "stocktakes/stocktake_form.html",
        form=form,
        choices=choices,
        warehouse_id=warehouse_id,
        receiving=receiving,
        rows=rows,
        categories=queries.category_nodes(db.session),
        chosen_rows=set(form.location_rows.data or ()),
        chosen_locations={str(i) for i in form.location_ids.data or ()},
        chosen_categories={str(i) for i in form.category_ids.data or ()},
    )


@bp.get("/stocktakes/<int:stocktake_id>")
def stocktake_detail(stocktake_id: int):
    actor = current_actor()
    stocktake = service.get_stocktake(db.session, stocktake_id, actor=actor)
    shows_system = service.shows_system_qty(stocktake, actor)
    args = request.args
    show = args.get("show", "all")
    if show not in queries.LINE_FILTERS or (show == "variance" and not shows_system):
        show = "all"
    lines = queries.line_page(
        db.session, stocktake_id, show=show, q=args.get("q"), after=args.get("after")
    )
    scope_locations, scope_categories = queries.scope_labels(db.session, stocktake_id)
    may_count = service.may_count(actor, stocktake)
    return render_template(
        "stocktakes/stocktake_detail.html",
        header=queries.stocktake_header(db.session, stocktake_id),
        stocktake=stocktake,
        lines=lines,
        totals=queries.stocktake_totals(db.session, stocktake_id),
        show=show,
        args=args,
        shows_system=shows_system,
        scope_locations=scope_locations,
        scope_categories=scope_categories,
        may_count=may_count,
        may_approve=service.may_approve(actor, stocktake),
        is_counting=stocktake.status == StocktakeStatus.COUNTING,
        is_submitted=stocktake.status == StocktakeStatus.SUBMITTED,
        found_locations=queries.count_location_choices(
            db.session, stocktake_id, stocktake.warehouse_id
        )
        if may_count
        else [],
        reject_form=RejectForm(),
        cancel_form=CancelForm(),
    )


@bp.get("/stocktakes/<int:stocktake_id>/sheet.pdf")
def stocktake_sheet(stocktake_id: int):
    stocktake = service.get_stocktake(db.session, stocktake_id, actor=current_actor())
    content = pdf.count_sheet_pdf(queries.printable(db.session, stocktake))
    return send_file(
        BytesIO(content), mimetype="application/pdf", download_name=f"{stocktake.no}.pdf"
    )


def _back(stocktake_id: int) -> str:
    """Back to the count sheet the keeper came from (same filter and page), never elsewhere."""
    home = url_for("stocktakes.stocktake_detail", stocktake_id=stocktake_id)
    target = request.form.get("next", "")
    return target if target == home or target.startswith(home + "?") else home


@bp.post("/stocktakes/<int:stocktake_id>/count")
def stocktake_count(stocktake_id: int):
    actor = current_actor()
    service.get_stocktake(db.session, stocktake_id, actor=actor)
    form = CountForm()
    if not form.validate_on_submit():
        name, messages = next(iter(form.errors.items()))
        flash(f"{getattr(form, name).label.text}: {messages[0]}", "danger")
        return redirect(_back(stocktake_id))
    return run_and_redirect(
        lambda session: record_count_by_codes(
            session, stocktake_id=stocktake_id, actor=actor, **form.count_data()
        ),
        success=lambda line: _counted(queries.line_row(db.session, line.id)),
        to=lambda line: f"{_back(stocktake_id)}#line-{line.id}",
        back=_back(stocktake_id),
    )


@bp.post("/stocktakes/<int:stocktake_id>/count.json")
def stocktake_count_json(stocktake_id: int):
    """The count sheet's Save without a reload (static/js/stocktakes.js): the same form (its
    CSRF token included) and service as the plain post; the answer is the line and the totals
    as the page draws them. A refusal is answered in JSON by the error handler."""
    actor = current_actor()
    service.get_stocktake(db.session, stocktake_id, actor=actor)
    form = CountForm()
    if not form.validate_on_submit():
        name, messages = next(iter(form.errors.items()))
        raise ValidationError(f"{getattr(form, name).label.text}: {messages[0]}", field=name)
    with transaction() as session:
        line = record_count_by_codes(
            session, stocktake_id=stocktake_id, actor=actor, **form.count_data()
        )
    stocktake = service.get_stocktake(db.session, stocktake_id)
    shows_system = service.shows_system_qty(stocktake, actor)
    row = queries.line_row(db.session, line.id)
    count_row = get_template_attribute("stocktakes/_line.html", "count_row")
    totals_cards = get_template_attribute("stocktakes/_totals.html", "totals_cards")
    return jsonify(
        line=line_json(row, shows_system=shows_system),
        row_html=str(
            count_row(row, stocktake, True, shows_system, _back(stocktake_id), True)
        ).strip(),
        totals_html=str(
            totals_cards(queries.stocktake_totals(db.session, stocktake_id), shows_system)
        ),
        message=_counted(row),
    )


def _counted(row) -> str:
    return _(
        "Counted %(location)s %(material)s batch %(batch)s: %(qty)s %(unit)s.",
        location=row.location_code,
        material=row.material_name,
        batch=row.batch_no,
        qty=row.counted_qty,
        unit=row.unit,
    )


def _stocktake_action(stocktake_id: int, call, success) -> Response:
    """Submit, approve, reject or cancel: the service, then back to the sheet."""
    stocktake = service.get_stocktake(db.session, stocktake_id, actor=current_actor())
    return run_and_redirect(
        call,
        success=lambda result: success(stocktake, result),
        to=url_for("stocktakes.stocktake_detail", stocktake_id=stocktake_id),
    )


@bp.post("/stocktakes/<int:stocktake_id>/submit")
def stocktake_submit(stocktake_id: int):
    return _stocktake_action(
        stocktake_id,
        lambda session: service.submit_stocktake(
            session, stocktake_id=stocktake_id, actor=current_actor()
        ),
        lambda stocktake, _result: _("Stocktake %(no)s submitted for approval.", no=stocktake.no),
    )


@bp.post("/stocktakes/<int:stocktake_id>/approve")
def stocktake_approve(stocktake_id: int):
    return _stocktake_action(
        stocktake_id,
        lambda session: service.approve_stocktake(
            session, stocktake_id=stocktake_id, actor=current_actor()
        ),
        lambda stocktake, movements: _(
            "Stocktake %(no)s approved; adjustments posted: %(n)s.",
            no=stocktake.no,
            n=len(movements),
        ),
    )


@bp.post("/stocktakes/<int:stocktake_id>/reject")
def stocktake_reject(stocktake_id: int):
    form = RejectForm()
    return _stocktake_action(
        stocktake_id,
        lambda session: service.reject_stocktake(
            session, stocktake_id=stocktake_id, reason=form.reason.data or "", actor=current_actor()
        ),
        lambda stocktake, _result: _("Stocktake %(no)s sent back for counting.", no=stocktake.no),
    )


@bp.post("/stocktakes/<int:stocktake_id>/cancel")
def stocktake_cancel(stocktake_id: int):
    form = CancelForm()
    return _stocktake_action(
        stocktake_id,
        lambda session: service.cancel_stocktake(
            session, stocktake_id=stocktake_id, actor=current_actor(), reason=form.reason.data
        ),
        lambda stocktake, _result: _("Stocktake %(no)s cancelled.", no=stocktake.no),
    )
