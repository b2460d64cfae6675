"""The demo city's clock never writes the future (a report "filed today at 10:00", loaded at
05:00, stayed the newest and outranked the one a user filed at 06:00)."""

from datetime import UTC, date, datetime, timedelta

from reserve.demo.clock import demo_moment, local_moment


def test_a_past_hour_is_that_hour_and_a_coming_one_folds_into_the_hour_before_now():
    now = datetime(2026, 12, 2, 21, 0, tzinfo=UTC)  # 05:00 on 3 December in Shanghai
    today, yesterday = date(2026, 12, 3), date(2026, 12, 2)
    assert demo_moment(yesterday, 15, now=now) == datetime(2026, 12, 2, 7, 0, tzinfo=UTC)
    assert demo_moment(today, 4, now=now) == local_moment(today, 4)
    folded = [demo_moment(today, hour, now=now) for hour in (9, 10, 15, 23)]
    assert folded == sorted(folded)  # in order
    assert all(now - timedelta(hours=1) < moment <= now for moment in folded)
    assert local_moment(today, 18) > now  # a deadline may lie ahead
