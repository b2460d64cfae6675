"""The audit log in words: what an action code, an object type and a recorded field are called
in the reader's language, and a before/after summary as a list of changed fields.

An entry stores codes (``post``, ``receipts``, ``warehouse_id``) so the record does not change
with the wording; the page names them here. A code without a name shows as itself (and
tests/audit/test_labels.py fails for an action or type recorded in the source but not named)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from reserve.agreements.callup_models import CallUpStatus
from reserve.agreements.models import AgreementStatus, EnterpriseStatus, EnterpriseType, LineKind
from reserve.agreements.report_models import ReportKind, ReportStatus, VerificationStatus
from reserve.audit.service import NOT_SNAPSHOT
from reserve.auth.models import Role
from reserve.catalog.models import Tracking
from reserve.disposals.models import Disposition, RotationStatus, ScrapReason, ScrapStatus
from reserve.orders.models import (
    EventKind,
    EventLevel,
    OrderKind,
    OrderPriority,
    OrderStatus,
    SourceKind,
)
from reserve.receipts.models import ReceiptStatus
from reserve.stock.expiry import ExpiryState
from reserve.stock.models import BatchSource
from reserve.stocktakes.models import StocktakeStatus
from reserve.warehouses.models import RegionLevel, WarehouseLevel

ACTIONS = {
    "create": _l("Created"),
    "delete": _l("Deleted"),
    "update": _l("Changed"),
    "enable": _l("Enabled"),
    "disable": _l("Disabled"),
    "submit": _l("Submitted"),
    "request": _l("Requested"),
    "approve": _l("Approved"),
    "reject": _l("Rejected"),
    "cancel": _l("Cancelled"),
    "post": _l("Posted"),
    "count": _l("Counted"),
    "close": _l("Closed the month"),
    "revoke": _l("Revoked"),
    "unlock": _l("Unlocked"),
    "activate": _l("Put in force"),
    "terminate": _l("Terminated"),
    "renew": _l("Renewed"),
    "call_up": _l("Called up"),
    "confirm_shipped": _l("Confirmed the shipment"),
    "replenish": _l("Reported the replenishment"),
    "attach": _l("Attached a file"),
    "plan": _l("Planned"),
    "record": _l("Recorded"),
    "detach": _l("Removed a file"),
    "generate_locations": _l("Generated locations"),
    "refuse_code": _l("Refused a label code (forged or mistyped)"),
    "print": _l("Printed labels"),
    "reprint": _l("Reprinted a label"),
    "follow": _l("Labels followed their stock to a new location"),
    "link_replacement": _l("Linked the replacement receipt"),
    "login": _l("Signed in"),
    "logout": _l("Signed out"),
    "sign_out_everywhere": _l("Signed out everywhere"),
    "login_failed": _l("Sign-in failed"),
    "login_failures": _l("Sign-in failures (summary)"),
    "login_address_failures": _l("Sign-in failures from one address (summary)"),
    "login_address_locked": _l("Address locked for sign-in"),
    "password_change": _l("Changed own password"),
    "password_reset": _l("Password reset"),
    "approve_emergency": _l("Approved in an emergency (to be signed off)"),
    "sign_off": _l("Signed off"),
    "end": _l("Ended"),
    # an allocation order's floor steps (floor_status.step records "order_<step>")
    "order_pick": _l("Picked for the order"),
    "order_ship": _l("Shipped the order"),
    "order_receive": _l("Signed for the delivery"),
    "order_return": _l("Recorded a return"),
    "order_close": _l("Closed the order"),
}

OBJECT_TYPES = {
    "reserve_standards": _l("Reserve standard"),
    "standard_changes": _l("Reserve standard change"),
    "users": _l("User"),
    "api_tokens": _l("API token"),
    "login": _l("Sign-in"),
    "receipt_attachments": _l("Receipt attachment"),
    "labels": _l("Label"),
    "label_prints": _l("Label print"),
    "verification_runs": _l("Stock verification"),
    "regions": _l("Region"),
    "warehouses": _l("Warehouse"),
    "locations": _l("Location"),
    "categories": _l("Category"),
    "materials": _l("Material"),
    "enterprises": _l("Custodian enterprise"),
    "enterprise_contacts": _l("Enterprise contact"),
    "agreements": _l("Custodian agreement"),
    "agreement_lines": _l("Agreement line"),
    "agreement_attachments": _l("Agreement attachment"),
    "agreement_regions": _l("Agreement delivery area"),
    "stock_reports": _l("Stock report"),
    "stock_report_lines": _l("Stock report line"),
    "verifications": _l("Verification"),
    "verification_lines": _l("Verification line"),
    "verification_attachments": _l("Verification photo"),
    "call_ups": _l("Call-up"),
    "receipts": _l("Receipt"),
    "receipt_lines": _l("Receipt line"),
    "stock_moves": _l("Stock move"),
    "stocktakes": _l("Stocktake"),
    "stocktake_lines": _l("Stocktake line"),
    "rotations": _l("Rotation"),
    "scraps": _l("Scrap"),
    "batches": _l("Batch"),
    "serial_items": _l("Serial item"),
    "stock_movements": _l("Stock movement"),
    "closed_months": _l("Month close"),
    "closed_month": _l("Month close"),
    # allocation orders (the contract's tables, and the floor's documents)
    "events": _l("Event"),
    "allocation_orders": _l("Allocation order"),
    "order_lines": _l("Allocation order line"),
    "order_sources": _l("Order source"),
    "order_log": _l("Order timeline"),
    "order_picks": _l("Pick"),
    "order_shipments": _l("Shipment"),
    "order_shipment_lines": _l("Shipment line"),
    "order_receipts": _l("Signed delivery"),
    "order_receipt_lines": _l("Signed delivery line"),
    "order_returns": _l("Return"),
    "order_return_lines": _l("Return line"),
}

FIELDS = {
    "id": _l("ID"),
    "no": _l("Document no."),
    "code": _l("Code"),
    "name": _l("Name"),
    "full_name": _l("Full name"),
    "username": _l("User name"),
    "phone": _l("Phone"),
    "address": _l("Address"),
    "level": _l("Level"),
    "parent_id": _l("Parent (ID)"),
    "region_id": _l("Region (ID)"),
    "warehouse_id": _l("Warehouse (ID)"),
    "category_id": _l("Category (ID)"),
    "enterprise_id": _l("Enterprise (ID)"),
    "batch_id": _l("Batch (ID)"),
    "from_location_id": _l("From location (ID)"),
    "to_location_id": _l("To location (ID)"),
    "replacement_receipt_id": _l("Replacement receipt (ID)"),
    "category_ids": _l("Categories (IDs)"),
    "location_ids": _l("Locations (IDs)"),
    "movements": _l("Stock movements (IDs)"),
    "lat": _l("Latitude"),
    "lng": _l("Longitude"),
    "area_m2": _l("Area (m²)"),
    "is_active": _l("In use"),
    "is_enabled": _l("Enabled"),
    "is_local": _l("Local category"),
    "is_blind": _l("Blind count"),
    "must_change_password": _l("Must change password"),
    "session_version": _l("Session version"),
    "last_login_at": _l("Last sign-in"),
    "roles": _l("Roles"),
    "warehouses": _l("Warehouses kept"),
    "spec": _l("Spec / model"),
    "unit": _l("Unit"),
    "tracking": _l("Tracking"),
    "shelf_life_days": _l("Shelf life (days)"),
    "near_expiry_days": _l("Near-expiry warning (days)"),
    "reference_price": _l("Reference unit price (yuan)"),
    "unit_weight_kg": _l("Unit weight (kg)"),
    "unit_volume_m3": _l("Unit volume (m³)"),
    "pinyin_initials": _l("Pinyin initials"),
    "uscc": _l("Unified social credit code"),
    "legal_rep": _l("Legal representative"),
    "contact_name": _l("Contact"),
    "contact_phone": _l("Contact phone"),
    "duty_phone": _l("Duty phone"),
    "contacts": _l("Contacts"),
    "enterprise_type": _l("Type of enterprise"),
    "signed_on": _l("Signed on"),
    "valid_from": _l("Valid from"),
    "valid_to": _l("Valid to"),
    "response_hours": _l("Response time (hours)"),
    "rotation_duty": _l("Rotation duty"),
    "storage_fee": _l("Storage fee (yuan per unit per year)"),
    "compensation_note": _l("Compensation terms"),
    "termination_reason": _l("Reason for termination"),
    "renewed_from_id": _l("Renewal of (ID)"),
    "region_ids": _l("Delivery area (IDs)"),
    "renewal_id": _l("Renewal (ID)"),
    "renewal_no": _l("Renewal no."),
    "kind": _l("Kind"),
    "source": _l("Source"),
    "supplier": _l("Supplier"),
    "funding_source": _l("Funding source"),
    "paper_no": _l("Paper no."),
    "document_date": _l("Document date"),
    "note": _l("Note"),
    "status": _l("Status"),
    "lines": _l("Lines"),
    "qty": _l("Quantity"),
    "counted_qty": _l("Counted quantity"),
    "system_qty": _l("Book quantity"),
    "serial_no": _l("Serial number"),
    "reason": _l("Reason"),
    "labels": _l("Labels"),
    "layout": _l("Layout"),
    "start": _l("Start at label no."),
    "ids": _l("Label numbers (ID)"),
    "reason_text": _l("Reason (details)"),
    "reject_reason": _l("Reason for rejection"),
    "decision_note": _l("Decision note"),
    "disposition": _l("Disposition"),
    "counterparty": _l("Counterparty"),
    "receiving_location": _l("Receiving area"),
    "rows": _l("Rows"),
    "cols": _l("Columns"),
    "created": _l("Created"),
    "skipped": _l("Skipped"),
    "first": _l("First"),
    "last": _l("Last"),
    "created_at": _l("Created at"),
    "created_by_id": _l("Created by (ID)"),
    "created_by_name": _l("Created by"),
    "submitted_at": _l("Submitted at"),
    "submitted_by_id": _l("Submitted by (ID)"),
    "submitted_by_name": _l("Submitted by"),
    "requested_at": _l("Requested at"),
    "requested_by_id": _l("Requested by (ID)"),
    "requested_by_name": _l("Requested by"),
    "approved_at": _l("Approved at"),
    "approved_by_id": _l("Approved by (ID)"),
    "approved_by_name": _l("Approved by"),
    "rejected_at": _l("Rejected at"),
    "rejected_by_id": _l("Rejected by (ID)"),
    "rejected_by_name": _l("Rejected by"),
    "posted_at": _l("Posted at"),
    "posted_by_id": _l("Posted by (ID)"),
    "posted_by_name": _l("Posted by"),
    "cancelled_at": _l("Cancelled at"),
    "cancelled_by_id": _l("Cancelled by (ID)"),
    "cancelled_by_name": _l("Cancelled by"),
    "moved_at": _l("Moved at"),
    "moved_by_id": _l("Moved by (ID)"),
    "moved_by_name": _l("Moved by"),
    "material_id": _l("Material (ID)"),
    "location_id": _l("Location (ID)"),
    "line_no": _l("Line"),
    "batch_no": _l("Batch no."),
    "production_date": _l("Production date"),
    "expiry_date": _l("Expiry date"),
    "unit_cost": _l("Unit cost (yuan)"),
    "serial_nos": _l("Serial numbers"),
    "month": _l("Month"),
    "count": _l("Count"),
    "ip": _l("IP address"),
    "activated_by_id": _l("Put in force by (ID)"),
    "activated_by_name": _l("Put in force by"),
    "activated_at": _l("In force since"),
    "terminated_by_id": _l("Terminated by (ID)"),
    "terminated_by_name": _l("Terminated by"),
    "terminated_at": _l("Terminated at"),
    "title": _l("Position"),
    "is_duty": _l("24-hour duty"),
    "committed_qty": _l("Committed quantity / maximum total"),
    "unit_price": _l("Agreed unit price (yuan)"),
    "daily_qty": _l("Daily quantity"),
    "lead_hours": _l("Lead time (hours)"),
    "called_qty": _l("Called up"),
    "shipped_qty": _l("Quantity shipped"),
    "released_qty": _l("Released"),
    "call_up": _l("Call-up"),
    "call_up_id": _l("Call-up (ID)"),
    "line_id": _l("Agreement line (ID)"),
    "needed_by": _l("Needed by"),
    "respond_by": _l("Respond by"),
    "destination": _l("Deliver to"),
    "purpose": _l("Purpose"),
    "vehicle_plate": _l("Vehicle plate"),
    "driver_name": _l("Driver"),
    "driver_phone": _l("Driver's phone"),
    "shipped_at": _l("Shipped at"),
    "replenish_due_on": _l("Replenish by"),
    "replenished_qty": _l("Quantity replenished"),
    "replenished_on": _l("Replenished on"),
    "replenish_note": _l("Note"),
    "cancel_reason": _l("Reason"),
    "agreement_id": _l("Agreement (ID)"),
    "confirmed_by_id": _l("Shipment confirmed by (ID)"),
    "confirmed_by_name": _l("Shipment confirmed by"),
    "confirmed_at": _l("Shipment confirmed at"),
    "replenished_by_id": _l("Replenishment reported by (ID)"),
    "replenished_by_name": _l("Replenishment reported by"),
    "replenished_at": _l("Replenishment reported at"),
    "due_on": _l("Due on"),
    "message": _l("Message to the enterprise"),
    "period_month": _l("Month reported"),
    "planned_on": _l("Planned date"),
    "inspectors": _l("Inspectors"),
    "corrects_id": _l("Corrects (ID)"),
    "checked_on": _l("Checked on"),
    "passed": _l("Passed"),
    "findings": _l("Findings"),
    "agreement_line_id": _l("Agreement line (ID)"),
    "held_qty": _l("Quantity held"),
    "expiry_on": _l("Expiry date"),
    "is_returnable": _l("Returnable"),
    "expiry_confirmed": _l("Received expired or near expiry (confirmed)"),
    "expiry_reason": _l("Reason for receiving it anyway"),
    "line": _l("Line"),
    "state": _l("Expiry state"),
    # allocation orders (调拨单) and events (事件)
    "event_id": _l("Event (ID)"),
    "started_at": _l("Started at"),
    "ended_at": _l("Ended at"),
    "priority": _l("Priority"),
    "is_emergency": _l("Emergency (先调后补)"),
    "requesting_unit": _l("Requesting unit"),
    "destination_warehouse_id": _l("Destination warehouse (ID)"),
    "site_address": _l("Site address"),
    "site_region_id": _l("Site region (ID)"),
    "site_lat": _l("Site latitude"),
    "site_lng": _l("Site longitude"),
    "requested_qty": _l("Requested quantity"),
    "sources": _l("Order sources"),
    "source_id": _l("Order source (ID)"),
    "batch": _l("Batch no."),
    "shipment": _l("Shipment no."),
    "receipt": _l("Signed delivery no."),
    "return": _l("Return no."),
    "received": _l("Quantity received"),
    "short": _l("Quantity short"),
    "released": _l("Released"),
    "good": _l("Good"),
    "repair": _l("Needs repair"),
    "scrap": _l("Scrap"),
    "received_at": _l("Received at"),
    "closed_at": _l("Closed at"),
    "closed_by_id": _l("Closed by (ID)"),
    "closed_by_name": _l("Closed by"),
    "signed_off_at": _l("Signed off at"),
    "signed_off_by": _l("Signed off by"),
    "signed_off_by_id": _l("Signed off by (ID)"),
    "signed_off_by_name": _l("Signed off by"),
    # reserve standards (储备标准)
    "required_qty": _l("Required quantity"),
    "min_physical_pct": _l("Minimum physical share (%)"),
    "counts_agreements": _l("Agreement stock counts"),
    "basis": _l("Basis of the figure"),
}


def _value_names() -> dict[tuple[str | None, str], dict[str, Any]]:
    """(object type or None for any, field) → {stored code: its name}, from the enums' labels."""
    enums = {
        ("receipts", "status"): ReceiptStatus,
        ("agreements", "status"): AgreementStatus,
        ("agreements", "kind"): LineKind,
        ("enterprises", "status"): EnterpriseStatus,
        ("enterprises", "enterprise_type"): EnterpriseType,
        ("stocktakes", "status"): StocktakeStatus,
        ("rotations", "status"): RotationStatus,
        ("scraps", "status"): ScrapStatus,
        ("scraps", "reason"): ScrapReason,
        ("rotations", "disposition"): Disposition,
        ("receipts", "source"): BatchSource,
        ("call_ups", "status"): CallUpStatus,
        ("stock_reports", "kind"): ReportKind,
        ("stock_reports", "status"): ReportStatus,
        ("verifications", "status"): VerificationStatus,
        ("regions", "level"): RegionLevel,
        ("warehouses", "level"): WarehouseLevel,
        (None, "tracking"): Tracking,
        (None, "state"): ExpiryState,
        ("events", "kind"): EventKind,
        ("events", "level"): EventLevel,
        ("allocation_orders", "kind"): (OrderKind, SourceKind),  # the order's, its sources'
        ("allocation_orders", "status"): OrderStatus,
        ("allocation_orders", "priority"): OrderPriority,
        (None, "roles"): Role,
    }
    return {
        key: {
            m.value: m.label
            for enum in (kinds if isinstance(kinds, tuple) else (kinds,))
            for m in enum
        }
        for key, kinds in enums.items()
    }


def action_name(code: str) -> str:
    return str(ACTIONS[code]) if code in ACTIONS else code


def object_type_name(code: str) -> str:
    return str(OBJECT_TYPES[code]) if code in OBJECT_TYPES else code


def field_name(key: str) -> str:
    return str(FIELDS[key]) if key in FIELDS else key


@dataclass(frozen=True)
class Change:
    """One line of an entry's summary: the field's name, and its value before and after."""

    key: str
    label: str
    before: str
    after: str


def show_value(value: Any, *, object_type: str, key: str, names=None) -> str:
    """A recorded value as the reader sees it: yes/no, a code's name, a list joined."""
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    names = _value_names() if names is None else names
    known = names.get((object_type, key)) or names.get((None, key)) or {}
    if isinstance(value, list):
        if not value:
            return "—"
        return "、".join(
            show_value(v, object_type=object_type, key=key, names=names) for v in value
        )
    if isinstance(value, dict):  # a line or a contact: each value shown as its field's
        return "; ".join(
            f"{field_name(k)}: {show_value(v, object_type=object_type, key=k, names=names)}"
            for k, v in value.items()
        )
    if str(value) in known:
        return str(known[str(value)])
    return str(value)


def summary(entry) -> list[Change]:
    """The fields an entry recorded, in their recorded order: for a change, what changed; for
    a creation, the values set (empty ones left out)."""
    before = entry.before if isinstance(entry.before, dict) else {}
    after = entry.after if isinstance(entry.after, dict) else {}
    names = _value_names()
    keys = list(after) + [k for k in before if k not in after]
    rows = []
    for key in keys:
        if key in NOT_SNAPSHOT:
            continue  # recorded before they were left out of snapshots
        old, new = before.get(key), after.get(key)
        if not before and new in (None, "", []):
            continue  # a creation: only what was filled in
        rows.append(
            Change(
                key=key,
                label=field_name(key),
                before=show_value(old, object_type=entry.object_type, key=key, names=names)
                if key in before
                else "",
                after=show_value(new, object_type=entry.object_type, key=key, names=names)
                if key in after
                else "",
            )
        )
    return rows


def action_choices(recorded: list[str]) -> list[tuple[str, str]]:
    """Every named action plus any other recorded one, by name."""
    codes = set(ACTIONS) | set(recorded)
    return sorted(((c, action_name(c)) for c in codes), key=lambda pair: pair[1])


def object_type_choices(recorded: list[str]) -> list[tuple[str, str]]:
    """The object types the log holds, by name."""
    return sorted(((c, object_type_name(c)) for c in recorded), key=lambda pair: pair[1])
