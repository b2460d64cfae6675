"""The floor's forms: a pick (the pick list's button and the scan page), a shipment's vehicle,
the close. Receive and return forms have one row per source: ``source_rows`` reads them from
the posted form (``qty-<source id>``, ``reason-<source id>`` …) into the services' data, and the
API hands the same data from JSON (``lines_from_json``)."""

from __future__ import annotations

from dataclasses import MISSING

from flask_babel import lazy_gettext as _l
from wtforms import HiddenField, IntegerField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional

from reserve.errors import ValidationError
from reserve.forms import BoundedForm, optional_int
from reserve.orders.floor_returns import ReceiveLineData, ReturnLineData


class PickForm(BoundedForm):
    source_id = IntegerField(_l("Source"), validators=[InputRequired()])
    location_id = IntegerField(_l("Location"), validators=[InputRequired()])
    batch_id = IntegerField(_l("Batch"), validators=[InputRequired()])
    qty = IntegerField(_l("Quantity"), validators=[InputRequired()])
    serial_nos = StringField(_l("Serial numbers"), validators=[Optional(), Length(max=2000)])
    substitute_reason = StringField(
        _l("Reason for the substitute batch"), validators=[Optional(), Length(max=200)]
    )
    code = HiddenField(_l("Label"), validators=[Optional(), Length(max=300)])

    def pick_kwargs(self) -> dict:
        return {
            "source_id": self.source_id.data,
            "location_id": self.location_id.data,
            "batch_id": self.batch_id.data,
            "qty": self.qty.data,
            "serial_nos": split_serials(self.serial_nos.data),
            "substitute_reason": self.substitute_reason.data,
            "label_code": self.code.data or None,
        }


class ShipForm(BoundedForm):
    vehicle_plate = StringField(_l("Vehicle plate"), validators=[InputRequired(), Length(max=20)])
    driver_name = StringField(_l("Driver"), validators=[InputRequired(), Length(max=40)])
    driver_phone = StringField(_l("Driver's phone"), validators=[InputRequired(), Length(max=30)])
    note = StringField(_l("Note"), validators=[Optional(), Length(max=200)])

    def ship_kwargs(self) -> dict:
        return {
            "vehicle_plate": self.vehicle_plate.data,
            "driver_name": self.driver_name.data,
            "driver_phone": self.driver_phone.data,
            "note": self.note.data,
        }


class CloseForm(BoundedForm):
    reason = TextAreaField(_l("Reason (shortfall accepted)"), validators=[Length(max=200)])


class FloorForm(BoundedForm):
    """The receive and return pages: CSRF and the header; rows come from ``source_rows``."""

    signed_by = StringField(_l("Signed by"), validators=[Optional(), Length(max=40)])
    warehouse_id = IntegerField(_l("Warehouse"), validators=[Optional()])
    note = StringField(_l("Note"), validators=[Optional(), Length(max=200)])


def split_serials(text: str | None) -> tuple[str, ...]:
    """Serial numbers typed or scanned one a line, or separated by commas or spaces."""
    return tuple(p for p in (text or "").replace(",", " ").replace("，", " ").split() if p)


def _int(value, field: str, *, blank_is_none: bool = True) -> int | None:
    if value in (None, "") and blank_is_none:
        return None
    try:
        return int(str(value).strip())
    except ValueError:
        raise ValidationError(_l("A quantity is a whole number."), field=field) from None


def receive_rows(form, source_ids: list[int]) -> list[ReceiveLineData]:
    """The receive page's rows that were filled in (a blank quantity is a source not signed)."""
    rows = []
    for sid in source_ids:
        qty = _int(form.get(f"qty-{sid}"), f"qty-{sid}")
        if qty is None:
            continue
        rows.append(
            ReceiveLineData(
                sid,
                qty,
                form.get(f"reason-{sid}") or None,
                split_serials(form.get(f"serials-{sid}")),
            )
        )
    return rows


def return_rows(form, source_ids: list[int]) -> list[ReturnLineData]:
    """The return page's rows: per source, a quantity in each condition."""
    rows = []
    for sid in source_ids:
        for condition in ("good", "repair", "scrap"):
            qty = _int(form.get(f"{condition}-{sid}"), f"{condition}-{sid}")
            if not qty:
                continue
            rows.append(
                ReturnLineData(
                    sid,
                    condition,
                    qty,
                    split_serials(form.get(f"{condition}-serials-{sid}")),
                    optional_int(form.get("location_id")),
                    form.get(f"note-{sid}") or None,
                )
            )
    return rows


def _default(field):
    return None if field.default is MISSING else field.default


def lines_from_json(payload: object, kind: type) -> list:
    """API rows: a list of objects with the fields of ``ReceiveLineData`` or ``ReturnLineData``."""
    if not isinstance(payload, list):
        raise ValidationError(_l("Give the lines as a list."), field="lines")
    fields = kind.__dataclass_fields__
    rows = []
    for item in payload:
        if not isinstance(item, dict) or set(item) - set(fields):
            raise ValidationError(_l("A line has fields it should not have."), field="lines")
        values = dict(item)
        if "serial_nos" in values:
            if not isinstance(values["serial_nos"], list):
                raise ValidationError(_l("Give the serial numbers as a list."), field="serial_nos")
            values["serial_nos"] = tuple(str(n) for n in values["serial_nos"])
        rows.append(kind(**{k: values.get(k, _default(f)) for k, f in fields.items()}))
    return rows
