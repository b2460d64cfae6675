"""The availability view's filters, read from a query string the same way by the page and the
API: an unknown region, category or material, a horizon that is not a whole number of hours in
range, or text with control characters is never an error page (the page says what it ignored;
the API answers 422 with the same message)."""

from __future__ import annotations

from collections.abc import Mapping

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from reserve.availability.queries import (
    DEFAULT_HORIZON_HOURS,
    MAX_HORIZON_HOURS,
    AvailabilityFilter,
)
from reserve.catalog.models import Category, Material
from reserve.forms import CONTROL_CHARACTERS, MAX_ID
from reserve.warehouses.models import Region

MAX_TEXT = 100


def _id(value: str | None) -> int | None | bool:
    """An id from a query value: None when blank, False when it cannot be one."""
    if value is None or not value.strip():
        return None
    try:
        number = int(value.strip())
    except ValueError:
        return False
    return number if 1 <= number <= MAX_ID else False


def parse_filter(
    session: Session, args: Mapping[str, str], *, material_id: int | None = None
) -> tuple[AvailabilityFilter, list]:
    """The filter and what was ignored (each a message in the reader's language)."""
    problems = []
    region_id = _id(args.get("region"))
    if region_id is False or (region_id and session.get(Region, region_id) is None):
        problems.append(_l("There is no such region; every region is shown."))
        region_id = None
    category = (args.get("category") or "").strip() or None
    if category and (
        len(category) > 20
        or session.scalar(select(Category.id).where(Category.code == category)) is None
    ):
        problems.append(_l("There is no such category; every category is shown."))
        category = None
    if material_id is None:
        material_id = _id(args.get("material"))
        if material_id is False or (material_id and session.get(Material, material_id) is None):
            problems.append(_l("There is no such material; every material is shown."))
            material_id = None
    hours = DEFAULT_HORIZON_HOURS
    raw = (args.get("hours") or "").strip()
    if raw:
        try:
            hours = int(raw)
        except ValueError:
            hours = 0
        if not 1 <= hours <= MAX_HORIZON_HOURS:
            problems.append(
                _l(
                    "The horizon must be a whole number of hours from 1 to %(high)s;"
                    " %(default)s hours are shown.",
                    high=MAX_HORIZON_HOURS,
                    default=DEFAULT_HORIZON_HOURS,
                )
            )
            hours = DEFAULT_HORIZON_HOURS
    q = CONTROL_CHARACTERS.sub("", args.get("q") or "").strip()[:MAX_TEXT] or None
    return (
        AvailabilityFilter(
            category_code=category,
            region_id=region_id,
            material_id=material_id or None,
            q=q,
            hours=hours,
        ),
        problems,
    )
