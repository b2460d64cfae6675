"""Stock move pages (移库单): the list and one move. Routes on the stock blueprint."""

from flask import render_template, request

from reserve.auth.permissions import current_actor
from reserve.extensions import db
from reserve.stock import move_queries
from reserve.stock.views import _date_arg, _int_arg, bp
from reserve.warehouses.queries import warehouse_choices


@bp.get("/moves")
def move_list():
    actor = current_actor()
    filters = move_queries.MoveFilter(
        warehouse_id=_int_arg("warehouse"),
        material_id=_int_arg("material"),
        q=(request.args.get("q") or "").strip()[:60] or None,
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
