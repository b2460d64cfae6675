"""过期 / 临期 decided in one place (reserve.stock.expiry)."""

from datetime import date

from reserve.stock.expiry import ExpiryState, expiry_state

TODAY = date(2026, 7, 15)


def test_expired_from_the_day_after_the_expiry_date():
    assert expiry_state(date(2026, 7, 14), 30, TODAY) is ExpiryState.EXPIRED
    assert expiry_state(date(2026, 7, 15), 30, TODAY) is ExpiryState.NEAR  # still usable today


def test_near_expiry_inside_the_materials_warning_days():
    assert expiry_state(date(2026, 8, 14), 30, TODAY) is ExpiryState.NEAR
    assert expiry_state(date(2026, 8, 15), 30, TODAY) is None
    assert expiry_state(date(2026, 7, 16), 0, TODAY) is None


def test_no_expiry_date_is_neither():
    assert expiry_state(None, 90, TODAY) is None
