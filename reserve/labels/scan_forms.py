"""The scan page's two operations as forms: the page posts them (its CSRF token included) and
the API validates its JSON with them (``reserve.api.form_from_json``), so the two cannot drift.
The rules (what a code, a quantity, an operation id may be) are the service's
(``reserve.labels.operations``); the forms only parse."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import IntegerField, StringField
from wtforms.validators import InputRequired, Optional

from reserve.forms import BoundedForm


class ScanOperationForm(BoundedForm):
    operation_id = StringField(
        _l("Operation id"),
        validators=[InputRequired(message=_l("Every operation needs its operation id."))],
    )
    code = StringField(_l("Scanned code"))


class ScanMoveForm(ScanOperationForm):
    """移库（扫码）: the stock scanned, the location to move it to, how much."""

    to = StringField(_l("Move to"))
    qty = IntegerField(
        _l("Quantity"), validators=[InputRequired(message=_l("Enter the quantity to move."))]
    )
    seen_at = StringField(_l("Seen at"))

    def move_data(self) -> dict:
        return {
            "operation_id": self.operation_id.data,
            "code": self.code.data or "",
            "to": self.to.data or "",
            "qty": self.qty.data,
            "seen_at": self.seen_at.data or None,
        }


class ScanCountForm(ScanOperationForm):
    """盘点录入（扫码）: the stock scanned, the counted quantity, and what the keeper saw."""

    counted_qty = IntegerField(
        _l("Counted quantity"),
        validators=[
            InputRequired(message=_l("Enter the counted quantity (0 when nothing is there)."))
        ],
    )
    stocktake_id = IntegerField(_l("Stocktake"), validators=[Optional()])
    replaces = StringField(_l("Replaces"))

    def count_data(self) -> dict:
        return {
            "operation_id": self.operation_id.data,
            "code": self.code.data or "",
            "counted_qty": self.counted_qty.data,
            "stocktake_id": self.stocktake_id.data,
            "replaces": self.replaces.data or None,
        }
