"""The floor's API: an order's floor figures and pick lists, pick, ship, receive, return and
close — the same services and queries as the pages, every write idempotent under an
``Idempotency-Key`` (``reserve.api.route``), in the OpenAPI document."""

from __future__ import annotations

from flask import jsonify, request
from flask_babel import lazy_gettext as _l
from werkzeug.datastructures import MultiDict

from reserve.api import form_from_json, key_page_args, key_page_json, route, schema
from reserve.auth.permissions import current_actor
from reserve.db import transaction
from reserve.errors import ValidationError
from reserve.extensions import db
from reserve.orders import floor
from reserve.orders import floor_queries as queries
from reserve.orders.floor_forms import CloseForm, PickForm, ShipForm, lines_from_json
from reserve.orders.floor_returns import (
    ReceiveLineData,
    ReturnLineData,
    receive_order,
    return_goods,
)

_INT = {"type": "integer"}
_SERIALS = {"type": "array", "items": {"type": "string"}}
SOURCE = schema(
    "OrderFloorSource",
    {
        "id": _INT,
        "kind": {"type": "string", "enum": ["stock", "agreement"]},
        "line_no": _INT,
        "material": {"type": "string"},
        "unit": {"type": "string"},
        "place": {"type": "string"},
        "warehouse_id": {"type": "integer", "nullable": True},
        "qty": _INT,
        "picked_qty": _INT,
        "shipped_qty": _INT,
        "received_qty": _INT,
        "short_qty": {"type": "integer", "description": "signed for as missing, with a reason"},
        "returned_qty": _INT,
        "late": {"type": "boolean", "description": "past its expected arrival, not all signed"},
    },
)
FLOOR = schema(
    "OrderFloor",
    {
        "order_id": _INT,
        "no": {"type": "string"},
        "status": {"type": "string"},
        "sources": {"type": "array", "items": {"$ref": f"#/components/schemas/{SOURCE}"}},
        "shipments": {"type": "array", "items": {"type": "object"}},
        "shortfalls": {"type": "array", "items": {"type": "object"}},
    },
)
PICK_ROW = schema(
    "PickListRow",
    {
        "source_id": _INT,
        "location_id": _INT,
        "location_code": {"type": "string"},
        "batch_id": _INT,
        "batch_no": {"type": "string"},
        "expiry_date": {"type": "string", "format": "date", "nullable": True},
        "material_code": {"type": "string"},
        "material_name": {"type": "string"},
        "unit": {"type": "string"},
        "qty": _INT,
        "picked_qty": _INT,
        "shipped_qty": _INT,
    },
)
PICK_INPUT = schema(
    "OrderPickInput",
    {
        "source_id": _INT,
        "location_id": {"type": "integer", "description": "where the stock was taken"},
        "batch_id": _INT,
        "qty": {"type": "integer", "minimum": 1},
        "serial_nos": _SERIALS,
        "substitute_reason": {
            "type": "string",
            "nullable": True,
            "description": "another batch or location than planned: why (替代批次)",
        },
        "code": {"type": "string", "nullable": True, "description": "the label scanned"},
    },
    required=("source_id", "location_id", "batch_id", "qty"),
)
PICK = schema(
    "OrderPick",
    {"pick_id": _INT, "source_id": _INT, "qty": _INT, "order_status": {"type": "string"}},
)
SHIP_INPUT = schema(
    "OrderShipInput",
    {
        "warehouse_id": _INT,
        "vehicle_plate": {"type": "string", "example": "鲁A12345"},
        "driver_name": {"type": "string"},
        "driver_phone": {"type": "string"},
        "note": {"type": "string", "nullable": True},
    },
    required=("warehouse_id", "vehicle_plate", "driver_name", "driver_phone"),
)
DOCUMENT = schema(
    "OrderFloorDocument",
    {"id": _INT, "no": {"type": "string"}, "order_status": {"type": "string"}},
)
RECEIVE_INPUT = schema(
    "OrderReceiveInput",
    {
        "lines": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "source_id": _INT,
                    "qty": {"type": "integer", "minimum": 0},
                    "reason": {"type": "string", "nullable": True},
                    "serial_nos": _SERIALS,
                },
                "required": ["source_id", "qty"],
            },
        },
        "signed_by": {"type": "string", "nullable": True},
        "note": {"type": "string", "nullable": True},
    },
    required=("lines",),
)
RETURN_INPUT = schema(
    "OrderReturnInput",
    {
        "warehouse_id": _INT,
        "lines": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "source_id": _INT,
                    "condition": {"type": "string", "enum": ["good", "repair", "scrap"]},
                    "qty": {"type": "integer", "minimum": 1},
                    "serial_nos": _SERIALS,
                    "location_id": {"type": "integer", "nullable": True},
                    "note": {"type": "string", "nullable": True},
                },
                "required": ["source_id", "condition", "qty"],
            },
        },
        "note": {"type": "string", "nullable": True},
    },
    required=("warehouse_id", "lines"),
)
CLOSE_INPUT = schema(
    "OrderCloseInput", {"reason": {"type": "string", "nullable": True}}, required=()
)
MY_PICK_LIST = schema(
    "MyPickList",
    {
        "key": {"type": "string", "description": "picklist-<order id>-<warehouse id>"},
        "order_id": _INT,
        "no": {"type": "string"},
        "warehouse_id": _INT,
        "warehouse_name": {"type": "string"},
        "needed_by": {"type": "string", "format": "date-time"},
        "status": {"type": "string"},
        "to_pick": _INT,
        "to_ship": _INT,
    },
)


def _body() -> dict:
    payload = request.get_json(silent=True)
    if not isinstance(payload, dict):
        raise ValidationError(_l("The request body must be a JSON object."))
    return payload


def _status(order_id: int) -> str:
    return floor.get_order(db.session, order_id, actor=current_actor()).status


@route(
    "/orders/<int:order_id>/floor",
    summary="An order's sources with picked / shipped / received / short / returned, its shipments",
    tag="orders",
    response=FLOOR,
)
def order_floor(order_id: int):
    order = floor.get_order(db.session, order_id, actor=current_actor())
    docs = queries.floor_documents(db.session, order.id)
    return jsonify(
        order_id=order.id,
        no=order.no,
        status=order.status,
        sources=[
            {
                "id": s.id,
                "kind": s.kind,
                "line_no": s.line_no,
                "material": s.material_name,
                "unit": s.unit,
                "place": s.place,
                "warehouse_id": s.warehouse_id,
                "qty": s.qty,
                "picked_qty": s.picked,
                "shipped_qty": s.shipped,
                "received_qty": s.received,
                "short_qty": s.short,
                "returned_qty": s.returned,
                "late": s.is_late,
            }  # fmt: skip
            for s in queries.source_figures(db.session, order.id)
        ],
        shipments=[
            {"id": sh.id, "no": sh.no, "warehouse": name, "vehicle_plate": sh.vehicle_plate}
            for sh, name in docs["shipments"]
        ],
        shortfalls=[
            {"material": m, "short_qty": n, "reason": r}
            for m, n, r in queries.shortfalls(db.session, order.id)
        ],
    )


@route(
    "/orders/<int:order_id>/pick-list/<int:warehouse_id>",
    summary="拣货单: one warehouse's stock sources of the order, in location route order",
    tag="orders",
    response=PICK_ROW,
)
def order_pick_list(order_id: int, warehouse_id: int):
    order = floor.get_order(db.session, order_id, actor=current_actor())
    current_actor().require_see(warehouse_id)
    rows = queries.pick_list(db.session, order_id=order.id, warehouse_id=warehouse_id)
    return jsonify(
        items=[
            {
                "source_id": r.source_id,
                "location_id": r.location_id,
                "location_code": r.location_code,
                "batch_id": r.batch_id,
                "batch_no": r.batch_no,
                "expiry_date": r.expiry_date.isoformat() if r.expiry_date else None,
                "material_code": r.material_code,
                "material_name": r.material_name,
                "unit": r.unit,
                "qty": r.qty,
                "picked_qty": r.picked,
                "shipped_qty": r.shipped,
            }  # fmt: skip
            for r in rows
        ]
    )


@route(
    "/orders/<int:order_id>/picks",
    method="POST",
    summary="拣货: record a pick against a source's reservation (a substitute needs a reason)",
    tag="orders",
    body=PICK_INPUT,
    response=PICK,
    status=201,
)
def order_pick(order_id: int):
    body = _body()
    serials = body.pop("serial_nos", None)
    if serials is not None and not isinstance(serials, list):
        raise ValidationError(_l("Give the serial numbers as a list."), field="serial_nos")
    body["serial_nos"] = " ".join(str(n) for n in serials or ())
    form = _form(PickForm, body)
    with transaction() as session:
        pick = floor.record_pick(
            session, order_id=order_id, actor=current_actor(), **form.pick_kwargs()
        )
        answer = {"pick_id": pick.id, "source_id": pick.source_id, "qty": pick.qty}
    return jsonify(answer | {"order_status": _status(order_id)}), 201


def _form(form_class, body: dict):
    """A flat JSON body through the page's form (the serial numbers joined into its text)."""
    data = MultiDict({k: "" if v is None else str(v) for k, v in body.items()})
    form = form_class(formdata=data, meta={"csrf": False})
    if not form.validate():
        name, messages = next(iter(form.errors.items()))
        raise ValidationError(f"{getattr(form, name).label.text}: {messages[0]}", field=name)
    return form


@route(
    "/orders/<int:order_id>/ship",
    method="POST",
    summary="出库: one warehouse ships what it picked (ISSUE or TRANSFER_OUT from the reservation)",
    tag="orders",
    body=SHIP_INPUT,
    response=DOCUMENT,
    status=201,
)
def order_ship(order_id: int):
    body = _body()
    warehouse_id = body.pop("warehouse_id", None)
    if not isinstance(warehouse_id, int) or isinstance(warehouse_id, bool):
        raise ValidationError(_l("Choose the warehouse that ships."), field="warehouse_id")
    form = form_from_json(ShipForm)
    with transaction() as session:
        shipment = floor.ship_warehouse(
            session,
            order_id=order_id,
            warehouse_id=warehouse_id,
            actor=current_actor(),
            **form.ship_kwargs(),
        )
        answer = {"id": shipment.id, "no": shipment.no}
    return jsonify(answer | {"order_status": _status(order_id)}), 201


@route(
    "/orders/<int:order_id>/receive",
    method="POST",
    summary="签收: received quantities per source (a shortfall needs its reason)",
    tag="orders",
    body=RECEIVE_INPUT,
    response=DOCUMENT,
    status=201,
)
def order_receive(order_id: int):
    body = _body()
    lines = lines_from_json(body.get("lines"), ReceiveLineData)
    with transaction() as session:
        receipt = receive_order(
            session,
            order_id=order_id,
            lines=lines,
            signed_by=body.get("signed_by"),
            note=body.get("note"),
            actor=current_actor(),
        )
        answer = {"id": receipt.id, "no": receipt.no}
    return jsonify(answer | {"order_status": _status(order_id)}), 201


@route(
    "/orders/<int:order_id>/return",
    method="POST",
    summary="归还: returnable materials back, each with its condition (good, repair, scrap)",
    tag="orders",
    body=RETURN_INPUT,
    response=DOCUMENT,
    status=201,
)
def order_return(order_id: int):
    body = _body()
    warehouse_id = body.get("warehouse_id")
    if not isinstance(warehouse_id, int) or isinstance(warehouse_id, bool):
        raise ValidationError(_l("Choose the warehouse it comes back to."), field="warehouse_id")
    lines = lines_from_json(body.get("lines"), ReturnLineData)
    with transaction() as session:
        back = return_goods(
            session,
            order_id=order_id,
            warehouse_id=warehouse_id,
            lines=lines,
            note=body.get("note"),
            actor=current_actor(),
        )
        answer = {"id": back.id, "no": back.no}
    return jsonify(answer | {"order_status": _status(order_id)}), 201


@route(
    "/orders/<int:order_id>/close",
    method="POST",
    summary="关闭: close a received order, or a shipped one with the shortfall's reason",
    tag="orders",
    body=CLOSE_INPUT,
    response=DOCUMENT,
)
def order_close(order_id: int):
    form = form_from_json(CloseForm)
    with transaction() as session:
        order = floor.close_order(
            session, order_id=order_id, reason=form.reason.data, actor=current_actor()
        )
        answer = {"id": order.id, "no": order.no, "order_status": order.status}
    return jsonify(answer)


@route(
    "/pick-lists",
    summary="我的拣货单: open (order, warehouse) pick lists in the caller's warehouses, by key",
    tag="orders",
    response=MY_PICK_LIST,
    key_paged=True,
)
def my_pick_lists():
    after, per_page = key_page_args()
    page = queries.my_pick_lists(db.session, actor=current_actor(), after=after, per_page=per_page)
    return key_page_json(
        page,
        lambda r: {
            "key": f"picklist-{r.order_id}-{r.warehouse_id}",
            "order_id": r.order_id,
            "no": r.no,
            "warehouse_id": r.warehouse_id,
            "warehouse_name": r.warehouse_name,
            "needed_by": r.needed_by.isoformat(),
            "status": r.status,
            "to_pick": int(r.to_pick),
            "to_ship": int(r.to_ship),
        },  # fmt: skip
    )
