"""The demo city's clock: when each replayed event of the demo happened."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from reserve.db import SHANGHAI


def local_moment(day: date, hour: int) -> datetime:
    """``hour`` o'clock (Asia/Shanghai) on ``day``, in UTC: a deadline, which may lie ahead."""
    return datetime.combine(day, time(hour), tzinfo=SHANGHAI).astimezone(UTC)


def demo_moment(day: date, hour: int = 10, *, now: datetime | None = None) -> datetime:
    """``hour`` o'clock (Asia/Shanghai) on ``day``, in UTC; an hour of today that has not come
    yet is folded, in order, into the hour before now. The demo never holds a record from the
    future: loaded at 05:00, a report filed "today at 10:00" would otherwise stay the newest
    and outrank the one a user files at 06:00."""
    moment = local_moment(day, hour)
    now = now or datetime.now(UTC)  # the wall clock, not an enclosing clock_at
    if moment <= now:
        return moment
    day_end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=SHANGHAI)
    return now - (day_end.astimezone(UTC) - moment) / 24
