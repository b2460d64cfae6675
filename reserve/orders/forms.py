"""The event form and the order's draft form, shared by the pages and the API: they parse types
and lengths into the services' data (``EventData``, ``OrderData``); the service checks the rules.

The draft form holds the header and the lines (material, quantity); sources are chosen on the
order page (accept the suggestions, or edit them), so an edit keeps each line's sources while its
material stays on the order (``OrderForm.to_data(keep=...)``). ``needed_by`` is a moment typed in
full or one of the quick choices (tonight, in 4 hours …) that a disaster day asks for."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from flask_babel import lazy_gettext as _l
from wtforms import (
    DateTimeLocalField,
    DecimalField,
    FieldList,
    FormField,
    IntegerField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import Length, Optional

from reserve.db import SHANGHAI, utcnow
from reserve.documents import MAX_LINES
from reserve.errors import ValidationError
from reserve.forms import BLANK_LABEL, BoundedForm, BoundedSubForm, optional_int, select_choices
from reserve.orders.models import (
    AllocationOrder,
    Event,
    EventKind,
    EventLevel,
    OrderKind,
    OrderPriority,
    OrderSource,
)
from reserve.orders.service import EventData, LineData, OrderData, SourceData
from reserve.orders.suggest import LineSuggestion

BLANK_ROWS = 3
TONIGHT_HOUR = 22  # "tonight" is 22:00 local, or in 2 hours once it is past 20:00


def _local(moment: datetime | None) -> datetime | None:
    """A datetime-local field's naive value, read as Beijing time."""
    return moment.replace(tzinfo=SHANGHAI) if moment is not None else None


def quick_needed_by(choice: str, now: datetime | None = None) -> datetime | None:
    """The moment a quick choice of the form means (None: not a quick choice)."""
    now = now or utcnow()
    if choice == "tonight":
        local = now.astimezone(SHANGHAI)
        tonight = local.replace(hour=TONIGHT_HOUR, minute=0, second=0, microsecond=0)
        return max(tonight, local + timedelta(hours=2))
    hours = {"h2": 2, "h4": 4, "h8": 8, "h24": 24}.get(choice)
    return now + timedelta(hours=hours) if hours else None


QUICK_CHOICES = (
    SelectChoice("tonight", _l("Tonight")),
    SelectChoice("h2", _l("In 2 hours")),
    SelectChoice("h4", _l("In 4 hours")),
    SelectChoice("h8", _l("In 8 hours")),
    SelectChoice("h24", _l("In 24 hours")),
    SelectChoice("at", _l("At the time below")),
)


class EventForm(BoundedForm):
    name = StringField(_l("Event name"), validators=[Length(max=Event.name.type.length)])
    kind = SelectField(
        _l("Kind of event"), choices=[SelectChoice(k.value, k.label) for k in EventKind]
    )
    level = SelectField(
        _l("Response level"), choices=[SelectChoice(v.value, v.label) for v in EventLevel]
    )
    region_id = SelectField(_l("Region"), coerce=optional_int, choices=[], validate_choice=False)
    started_at = DateTimeLocalField(
        _l("Started at"), format="%Y-%m-%dT%H:%M", validators=[Optional()]
    )
    note = TextAreaField(_l("Note"), validators=[Optional(), Length(max=Event.note.type.length)])

    def set_choices(self, regions: Iterable[tuple[int, str]]) -> None:
        self.region_id.choices = select_choices(regions, blank=BLANK_LABEL)

    def to_data(self) -> EventData:
        return EventData(
            name=self.name.data,
            kind=self.kind.data,
            level=self.level.data,
            region_id=self.region_id.data,
            started_at=_local(self.started_at.data),
            note=self.note.data,
        )


class OrderLineForm(BoundedSubForm):
    material_id = SelectField(
        _l("Material"), coerce=optional_int, choices=[], validate_choice=False
    )
    qty = IntegerField(_l("Quantity requested"), validators=[Optional()])

    def is_blank(self) -> bool:
        raw = [*(self.material_id.raw_data or ()), *(self.qty.raw_data or ())]
        return not any(str(v).strip() for v in raw) and self.material_id.data is None


class OrderForm(BoundedForm):
    kind = SelectField(
        _l("Kind of order"),
        choices=[SelectChoice(k.value, k.label) for k in OrderKind],
        default=OrderKind.DISPATCH.value,
    )
    event_id = SelectField(_l("Event"), coerce=optional_int, choices=[], validate_choice=False)
    requesting_unit = StringField(
        _l("Requesting unit"), validators=[Length(max=AllocationOrder.requesting_unit.type.length)]
    )
    destination_warehouse_id = SelectField(
        _l("Destination warehouse"), coerce=optional_int, choices=[], validate_choice=False
    )
    site_address = StringField(
        _l("Site address"), validators=[Length(max=AllocationOrder.site_address.type.length)]
    )
    site_region_id = SelectField(
        _l("Site region"), coerce=optional_int, choices=[], validate_choice=False
    )
    site_lat = DecimalField(_l("Latitude"), places=6, validators=[Optional()])
    site_lng = DecimalField(_l("Longitude"), places=6, validators=[Optional()])
    contact_name = StringField(
        _l("Contact"), validators=[Length(max=AllocationOrder.contact_name.type.length)]
    )
    contact_phone = StringField(
        _l("Contact phone"), validators=[Length(max=AllocationOrder.contact_phone.type.length)]
    )
    needed_quick = SelectField(_l("Needed by"), choices=QUICK_CHOICES, default="tonight")
    needed_at = DateTimeLocalField(
        _l("Needed by (date and time)"), format="%Y-%m-%dT%H:%M", validators=[Optional()]
    )
    priority = SelectField(
        _l("Priority"),
        choices=[SelectChoice(p.value, p.label) for p in OrderPriority],
        default=OrderPriority.URGENT.value,
    )
    reason = TextAreaField(
        _l("Reason for the order"), validators=[Length(max=AllocationOrder.reason.type.length)]
    )
    note = TextAreaField(_l("Note"), validators=[Length(max=AllocationOrder.note.type.length)])
    lines = FieldList(FormField(OrderLineForm), max_entries=MAX_LINES)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        while len(self.lines.entries) < BLANK_ROWS:
            self.lines.append_entry()

    def set_choices(
        self,
        *,
        events: Iterable[tuple[int, str]],
        warehouses: Iterable[tuple[int, str]],
        regions: Iterable[tuple[int, str]],
        materials: Iterable[tuple[int, str]],
    ) -> None:
        self.event_id.choices = select_choices(events, blank=_l("No event"))
        self.destination_warehouse_id.choices = select_choices(warehouses, blank=BLANK_LABEL)
        self.site_region_id.choices = select_choices(regions, blank=BLANK_LABEL)
        material_choices = select_choices(materials, blank=BLANK_LABEL)
        for entry in self.lines:
            entry.material_id.choices = material_choices

    def fill_from(self, order: AllocationOrder) -> None:
        """An existing order's values, for its edit form (on GET)."""
        for name in (
            "kind",
            "event_id",
            "requesting_unit",
            "destination_warehouse_id",
            "site_address",
            "site_region_id",
            "site_lat",
            "site_lng",
            "contact_name",
            "contact_phone",
            "priority",
            "reason",
            "note",
        ):
            getattr(self, name).data = getattr(order, name)
        self.needed_quick.data = "at"
        self.needed_at.data = order.needed_by.astimezone(SHANGHAI).replace(tzinfo=None)
        self.lines.entries = []
        for line in order.lines:
            self.lines.append_entry({"material_id": line.material_id, "qty": line.requested_qty})
        while len(self.lines.entries) < BLANK_ROWS:
            self.lines.append_entry()

    def drop_blank_lines(self) -> OrderForm:
        """Keep the filled lines first, so 'line 2' in a service's message is the second row."""
        self.lines.entries = [e for e in self.lines.entries if not e.form.is_blank()]
        while len(self.lines.entries) < BLANK_ROWS:
            self.lines.append_entry()
        return self

    def needed_by(self) -> datetime | None:
        if self.needed_quick.data == "at":
            return _local(self.needed_at.data)
        return quick_needed_by(self.needed_quick.data)

    def to_data(self, keep: dict[int, tuple[SourceData, ...]] | None = None) -> OrderData:
        """The order as the service takes it; ``keep`` gives the sources already chosen, by
        material, kept on the line of that material."""
        keep = keep or {}
        transfer = self.kind.data == OrderKind.TRANSFER.value
        return OrderData(
            kind=self.kind.data,
            event_id=self.event_id.data,
            requesting_unit=self.requesting_unit.data,
            needed_by=self.needed_by(),
            destination_warehouse_id=self.destination_warehouse_id.data if transfer else None,
            site_address=None if transfer else self.site_address.data,
            site_region_id=None if transfer else self.site_region_id.data,
            site_lat=None if transfer else self.site_lat.data,
            site_lng=None if transfer else self.site_lng.data,
            contact_name=self.contact_name.data,
            contact_phone=self.contact_phone.data,
            priority=self.priority.data,
            reason=self.reason.data,
            note=self.note.data,
            lines=tuple(
                LineData(
                    material_id=e.form.material_id.data,
                    qty=e.form.qty.data,
                    sources=keep.get(e.form.material_id.data, ()),
                )
                for e in self.lines
                if not e.form.is_blank()
            ),
        )


# Sources (货源) --------------------------------------------------------------------------------


def source_data(source: OrderSource, qty: int | None = None) -> SourceData:
    """An order's source as the service takes it back (with another quantity if given)."""
    return SourceData(
        kind=source.kind,
        qty=source.qty if qty is None else qty,
        location_id=source.location_id,
        batch_id=source.batch_id,
        agreement_line_id=source.agreement_line_id,
        distance_km=source.distance_km,
        expected_at=source.expected_at,
    )


def kept_sources(order: AllocationOrder) -> dict[int, tuple[SourceData, ...]]:
    """The order's sources by material (an edit of the draft keeps them)."""
    return {line.material_id: tuple(source_data(s) for s in line.sources) for line in order.lines}


def order_data(
    order: AllocationOrder, sources: dict[int, tuple[SourceData, ...]] | None = None
) -> OrderData:
    """The order as it stands, with the sources of some lines (by line id) replaced."""
    sources = sources or {}
    return OrderData(
        kind=order.kind,
        event_id=order.event_id,
        requesting_unit=order.requesting_unit,
        needed_by=order.needed_by,
        destination_warehouse_id=order.destination_warehouse_id,
        site_address=order.site_address,
        site_region_id=order.site_region_id,
        site_lat=order.site_lat,
        site_lng=order.site_lng,
        contact_name=order.contact_name,
        contact_phone=order.contact_phone,
        priority=order.priority,
        reason=order.reason,
        note=order.note,
        lines=tuple(
            LineData(
                material_id=line.material_id,
                qty=line.requested_qty,
                note=line.note,
                sources=sources.get(line.id, tuple(source_data(s) for s in line.sources)),
            )
            for line in order.lines
        ),
    )


def suggested_sources(
    order: AllocationOrder, suggestions: list[LineSuggestion]
) -> dict[int, tuple[SourceData, ...]]:
    """采纳全部建议: every line's sources become its suggestions (``suggest.for_order`` gives
    them in the order's line order)."""
    return {
        line.id: tuple(
            SourceData(
                kind=p.kind,
                qty=p.qty,
                location_id=p.location_id,
                batch_id=p.batch_id,
                agreement_line_id=p.agreement_line_id,
                distance_km=p.distance_km,
                expected_at=p.expected_at,
            )
            for p in suggestion.proposals
        )
        for line, suggestion in zip(order.lines, suggestions, strict=True)
    }


def edited_sources(order: AllocationOrder, form) -> dict[int, tuple[SourceData, ...]]:
    """The sources editor: ``qty-<source id>`` per source (0 or blank removes it)."""
    result = {}
    for line in order.lines:
        kept = []
        for s in line.sources:
            raw = (form.get(f"qty-{s.id}") or "").strip()
            if raw in ("", "0"):
                continue
            try:
                qty = int(raw)
            except ValueError:
                raise ValidationError(
                    _l("The quantity must be a whole number above 0."), field=f"qty-{s.id}"
                ) from None
            kept.append(source_data(s, qty))
        result[line.id] = tuple(kept)
    return result
