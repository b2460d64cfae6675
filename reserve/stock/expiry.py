"""过期 / 临期: where a batch stands against its expiry date, decided in one place.

A batch is *expired* (过期) from the day after its expiry date: stock marked "use by 30 June"
may still go out on 30 June. It is *near expiry* (临期) when its expiry date falls within the
material's warning days (``Material.near_expiry_days``) from today. Batches without an expiry
date are neither. Expired stock is on hand but not available to dispatch (see
``reserve.stock.queries``); near-expiry stock is available and flagged.

Pure Python here for pages, PDFs and checks; the SQL side of the same rule lives beside the
queries that use it, and takes its dates from ``expired_before`` / ``near_expiry_until``."""

from __future__ import annotations

import enum
from datetime import date, timedelta

from flask_babel import lazy_gettext as _l

from reserve.db import local_today


class ExpiryState(enum.StrEnum):
    EXPIRED = "expired"
    NEAR = "near"

    @property
    def label(self):
        return {"expired": _l("Expired"), "near": _l("Near expiry")}[self.value]


def expired_before(today: date | None = None) -> date:
    """A batch whose expiry date is before this date is expired."""
    return today or local_today()


def near_expiry_until(near_expiry_days: int, today: date | None = None) -> date:
    """A batch expiring on or before this date (and not expired) is near expiry."""
    return (today or local_today()) + timedelta(days=max(0, near_expiry_days))


def expiry_state(
    expiry_date: date | None, near_expiry_days: int, today: date | None = None
) -> ExpiryState | None:
    """过期, 临期 or None (fine, or no expiry date)."""
    if expiry_date is None:
        return None
    today = today or local_today()
    if expiry_date < expired_before(today):
        return ExpiryState.EXPIRED
    if expiry_date <= near_expiry_until(near_expiry_days, today):
        return ExpiryState.NEAR
    return None
