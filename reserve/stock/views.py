"""Stock pages: all warehouses by material, a material's batches and items, the stock card,
and moving stock between locations."""

import io
from datetime import date

from flask import Blueprint, flash, redirect, render_template, request, send_file, url_for
from markupsafe import Markup, escape

from reserve.auth.permissions import current_actor
from reserve.catalog.queries import category_code_choices
from reserve.catalog.service import get_material
from reserve.errors import run_form
from reserve.extensions import db
from reserve.forms import (
    BLANK_LABEL,
    CONTROL_CHARACTERS,
    MAX_DAYS,
    MAX_INT,
    checked_query_date,
    checked_query_int,
    select_choices,
)
from reserve.i18n import gettext as _  # Flask-Babel's, without its lookups per call
from reserve.standards.shortfall import shortfall_for
from reserve.stock import move_queries, queries, service
from reserve.stock.export import CardSheet, StockSheet, stock_card_workbook, stock_list_workbook
from reserve.stock.forms import MoveForm
from reserve.stock.models import MOVEMENT_LABELS, ItemStatus
from reserve.templating import qty
from reserve.warehouses.queries import warehouse_choices

bp = Blueprint("stock", __name__, url_prefix="/stock")

MAX_TEXT = 100  # a search text longer than this is cut (nothing is named that long)


def _date_arg(name: str) -> date | None:
    value = request.args.get(name)
    if not value:
        return None
    try:
        day = date.fromisoformat(value)
    except ValueError:
        flash(_("Dates are written like 2026-01-31."), "danger")
        return None
    return checked_query_date(name, day)


def _int_arg(name: str, *, low: int = -MAX_INT, high: int = MAX_INT) -> int | None:
    value = request.args.get(name, type=int)
    return None if value is None else checked_query_int(name, value, low=low, high=high)


def _text_arg(name: str) -> str | None:
    """A search text: control characters (NUL breaks PostgreSQL) dropped, cut to MAX_TEXT."""
    return CONTROL_CHARACTERS.sub("", request.args.get(name) or "").strip()[:MAX_TEXT] or None


def _stock_filter() -> queries.StockFilter:
    """The stock pages' filters, from the query string (the list, the pivot, the export)."""
    horizon = _int_arg("expiring", high=MAX_DAYS)
    return queries.StockFilter(
        q=_text_arg("q"),
        category_code=request.args.get("category") or None,
        warehouse_id=_int_arg("warehouse"),
        expiring_within_days=horizon if horizon and horizon > 0 else None,
        batch_no=_text_arg("batch"),
    )


def _filter_choices(actor) -> dict:
    return {
        "warehouses": warehouse_choices(db.session, actor),
        "categories": category_code_choices(db.session),
    }


@bp.get("")
def stock_list():
    actor = current_actor()
    filters = _stock_filter()
    matches = []
    if filters.batch_no:
        # a batch number typed or scanned: one batch found goes straight to it
        matches = queries.find_batches(db.session, actor, filters.batch_no)
        if len(matches) == 1:
            return redirect(
                url_for(
                    "stock.material_stock",
                    material_id=matches[0].material_id,
                    batch=matches[0].batch_id,
                )
            )
    page = queries.stock_by_material(
        db.session, actor, filters, after=request.args.get("after") or None
    )
    totals = queries.totals_by_unit(db.session, actor, filters) if filters.is_search else []
    return render_template(
        "stock/stock_list.html",
        page=page,
        totals=totals,
        matches=matches,
        args=request.args,
        **_filter_choices(actor),
    )


@bp.get("/pivot")
def stock_pivot():
    actor = current_actor()
    filters = _stock_filter()
    pivot = queries.stock_pivot(db.session, actor, filters, after=request.args.get("after") or None)
    return render_template(
        "stock/stock_pivot.html", pivot=pivot, args=request.args, **_filter_choices(actor)
    )


@bp.app_template_global("holder_links")
def holder_links(row: queries.StockRow, material_url: str) -> Markup:
    """The warehouses holding a material, by name, each a link to the material there: the
    first few, then "等 N 处". Built once a row in Python (the page shows it twice, in the table
    and in the phone's cards; a Jinja include per row cost a fifth of the page)."""
    href = escape(material_url)
    available = escape(_("Available"))
    links = "、".join(
        f'<a href="{href}?warehouse={h.warehouse_id}" title="{available} '
        f'{escape(qty(h.available, row.unit))}">{escape(h.name)}</a>'
        for h in row.holders
    )
    if row.more_holders:
        links += " " + str(escape(_("and others, %(n)s in all", n=row.warehouses)))
    return Markup(links)


@bp.app_template_global("pivot_cells")
def pivot_cells(
    values: dict[int, int], warehouses: list[tuple[int, str, str]], link: str | None = None
) -> Markup:
    """A pivot row's cells, one per warehouse column (empty where it holds none), joined in
    Python: a page is up to 50 × 250 cells, and a Jinja loop over them cost more than the
    page's queries (province scale: 70 ms of 154)."""
    href = escape(link) if link is not None else None
    cells = []
    for warehouse_id, _code, _name in warehouses:
        value = values.get(warehouse_id)
        if value is None:
            cells.append("<td></td>")
        elif href is None:
            cells.append(f'<td class="text-end" data-warehouse="{warehouse_id}">{qty(value)}</td>')
        else:
            cells.append(
                f'<td class="text-end" data-warehouse="{warehouse_id}"><a class="text-reset" '
                f'href="{href}?warehouse={warehouse_id}">{qty(value)}</a></td>'
            )
    return Markup("".join(cells))


@bp.get("/export.xlsx")
def stock_list_export():
    actor = current_actor()
    sheet = StockSheet(
        title=_("Stock"),
        scope=request.query_string.decode() or _("all warehouses"),
        headers=(
            _("Code"),
            _("Name"),
            _("Spec / model"),
            _("Category"),
            _("Unit"),
            _("Quantity"),
            _("Reserved"),
            _("Available"),
            _("Expired"),
            _("Near expiry"),
            _("Nearest expiry"),
            _("Warehouses"),
            _("Held in"),
        ),
    )
    data = stock_list_workbook(sheet, queries.all_stock_rows(db.session, actor, _stock_filter()))
    return send_file(
        io.BytesIO(data),
        download_name=f"stock-{queries.local_today().isoformat()}.xlsx",
        as_attachment=True,
        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )


@bp.get("/materials/<int:material_id>")
def material_stock(material_id: int):
    actor = current_actor()
    material = get_material(db.session, material_id)
    warehouse_id, batch_id = _int_arg("warehouse"), _int_arg("batch")
    balances = queries.material_balance_page(
        db.session,
        actor,
        material_id,
        near_expiry_days=material.near_expiry_days,
        warehouse_id=warehouse_id,
        batch_id=batch_id,
        after=_int_arg("after", low=1),
    )
    items = (
        queries.serial_items(
            db.session,
            actor,
            material_id,
            batch_id=batch_id,
            after=request.args.get("items_after") or None,
        )
        if material.tracking == "serial"
        else queries.KeyPage([], None)
    )
    return render_template(
        "stock/material_stock.html",
        material=material,
        summary=queries.material_summary(
            db.session, actor, material_id, warehouse_id=warehouse_id, batch_id=batch_id
        ),
        balances=balances,
        items=items,
        batch=queries.batch_label(db.session, material_id, batch_id) if batch_id else None,
        statuses={s.value: s.label for s in ItemStatus},
        today=queries.local_today(),
        standing=shortfall_for(db.session, material_id=material_id, actor=actor),
    )


def _card_filter(material_id: int) -> queries.CardFilter:
    return queries.CardFilter(
        material_id=material_id,
        warehouse_id=_int_arg("warehouse"),
        batch_id=_int_arg("batch"),
        date_from=_date_arg("from"),
        date_to=_date_arg("to"),
    )


@bp.get("/materials/<int:material_id>/card")
def stock_card(material_id: int):
    actor = current_actor()
    material = get_material(db.session, material_id)
    page = queries.stock_card(
        db.session, actor, _card_filter(material_id), before=_int_arg("before")
    )
    return render_template(
        "stock/stock_card.html",
        material=material,
        page=page,
        args=request.args,
        labels=MOVEMENT_LABELS,
        warehouses=warehouse_choices(db.session, actor),
        batches=queries.batches_of(db.session, material_id),
    )


@bp.get("/materials/<int:material_id>/card.xlsx")
def stock_card_export(material_id: int):
    actor = current_actor()
    material = get_material(db.session, material_id)
    sheet = CardSheet(
        title=_("Stock card"),
        material=f"{material.code} {material.name} {material.spec or ''}",
        unit=material.unit,
        scope=request.query_string.decode() or _("all warehouses"),
        headers=(
            _("Posted at"),
            _("Document date"),
            _("Movement"),
            _("Document"),
            _("Warehouse"),
            _("Location"),
            _("Batch"),
            _("In"),
            _("Out"),
            _("Balance"),
            _("User"),
            _("Note"),
        ),
        kind_labels={k.value: str(v) for k, v in MOVEMENT_LABELS.items()},
    )
    data = stock_card_workbook(
        sheet, queries.stock_card_all(db.session, actor, _card_filter(material_id))
    )
    return send_file(
        io.BytesIO(data),
        download_name=f"stock-card-{material.code}.xlsx",
        as_attachment=True,
        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )


@bp.route("/moves/new", methods=["GET", "POST"])
def move_create():
    actor = current_actor()
    form = MoveForm(formdata=request.form if request.method == "POST" else request.args)
    _fill_move_choices(form, actor)
    if (
        request.method == "POST"
        and form.validate()
        and (
            done := run_form(
                form,
                lambda session: service.move_stock(
                    session,
                    warehouse_id=form.warehouse_id.data,
                    from_location_id=form.from_location_id.data,
                    to_location_id=form.to_location_id.data,
                    batch_id=form.batch_id.data,
                    qty=form.qty.data,
                    serial_nos=(form.serial_nos.data or "").splitlines(),
                    document_date=form.document_date.data,
                    note=form.note.data,
                    actor=actor,
                ),
                success=lambda move: _("Moved: %(no)s.", no=move.no),
                to=lambda move: url_for("stock.move_detail", move_id=move.id),
            )
        )
    ):
        return done
    return render_template("stock/move_form.html", form=form)


def _fill_move_choices(form: MoveForm, actor) -> None:
    """Each choice narrows the next: warehouse → its materials in stock → batches → places."""
    warehouses = warehouse_choices(db.session, actor)
    form.warehouse_id.choices = select_choices(warehouses)
    if not warehouses:
        flash(_("There is no warehouse to move stock in."), "warning")
        return
    warehouse_id = form.warehouse_id.data or warehouses[0][0]
    form.warehouse_id.data = warehouse_id
    materials = queries.materials_in_stock(db.session, warehouse_id)
    form.material_id.choices = select_choices(materials, blank=BLANK_LABEL)
    batches, sources = [], []
    if form.material_id.data:
        balances = queries.material_balances(
            db.session, actor, form.material_id.data, warehouse_id=warehouse_id
        )
        batches = sorted(
            {(b.batch_id, f"{b.batch_no} ({b.expiry_date or '—'})") for b in balances},
            key=lambda x: x[1],
        )
        if form.batch_id.data:
            sources = [
                (b.location_id, f"{b.location_code} · {b.available}")
                for b in balances
                if b.batch_id == form.batch_id.data
            ]
    form.batch_id.choices = select_choices(batches, blank=BLANK_LABEL)
    form.from_location_id.choices = select_choices(sources, blank=BLANK_LABEL)
    form.to_location_id.choices = select_choices(
        queries.location_options(db.session, warehouse_id), blank=BLANK_LABEL
    )


@bp.get("/moves")
def move_list():
    """移库单 list: by warehouse, material and document date, paged by key."""
    actor = current_actor()
    filters = move_queries.MoveFilter(
        warehouse_id=_int_arg("warehouse"),
        material_id=_int_arg("material"),
        q=_text_arg("q"),
        date_from=_date_arg("from"),
        date_to=_date_arg("to"),
    )
    page = move_queries.move_page(db.session, actor, filters, before=_int_arg("before", low=1))
    return render_template(
        "stock/move_list.html",
        page=page,
        args=request.args,
        warehouses=warehouse_choices(db.session, actor),
        can_move=actor.may_write_somewhere(),
    )


@bp.get("/moves/<int:move_id>")
def move_detail(move_id: int):
    move = move_queries.move_detail(db.session, current_actor(), move_id)
    return render_template("stock/move_detail.html", move=move)
