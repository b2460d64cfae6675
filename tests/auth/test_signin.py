"""Sign-in throttles: by name and client address with growing delays, by address across
names, known-good addresses, an admin's unlock, bursts summarised in the audit log, rate limits,
and no user enumeration by timing."""

import statistics
import time
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from reserve.audit.models import AuditEntry
from reserve.auth import service, signin
from reserve.auth.models import LoginThrottle, Role
from reserve.db import utcnow
from tests.conftest import TEST_PASSWORD


def _client(app, address: str):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


def _login(client, username: str, password: str = TEST_PASSWORD):
    return client.post("/login", data={"username": username, "password": password})


def _login_rows(db) -> list[AuditEntry]:
    return list(
        db.scalars(
            select(AuditEntry).where(AuditEntry.object_type == "login").order_by(AuditEntry.id)
        )
    )


@pytest.fixture
def clock(monkeypatch):
    """The sign-in module's clock, moved by hand."""

    class Clock:
        now = utcnow()

        def advance(self, **delta):
            self.now += timedelta(**delta)

    c = Clock()
    monkeypatch.setattr(signin, "utcnow", lambda: c.now)
    return c


def test_a_strangers_failures_do_not_lock_the_admin_out(app, make_user):
    make_user(Role.ADMIN, username="boss")
    office = _client(app, "10.0.0.2")
    assert _login(office, "boss").status_code == 302  # 10.0.0.2 becomes a known-good address
    office.post("/logout")
    stranger = _client(app, "203.0.113.66")
    for _ in range(6):
        response = _login(stranger, "boss", "guess")
    assert "分钟后再试" in response.get_data(as_text=True)
    assert _login(stranger, "boss").status_code == 200  # the right password: still locked there
    assert _login(office, "boss").status_code == 302  # the admin, from the office
    new_desk = _client(app, "10.0.0.3")
    assert _login(new_desk, "boss").status_code == 302  # and from any address never abused


def test_the_right_password_from_a_known_good_address_works_even_while_it_is_locked(app, make_user):
    make_user(Role.ADMIN, username="boss")
    make_user(Role.VIEWER, username="newcomer")
    shared = _client(app, "198.51.100.7")  # one office address (NAT) for many people
    assert _login(shared, "boss").status_code == 302
    shared.post("/logout")
    for _ in range(6):
        _login(shared, "boss", "guess")
    for _ in range(25):  # enough to lock the address for every name
        _login(shared, f"name{_}", "guess")
    assert _login(shared, "boss").status_code == 302  # known-good: the owner gets in
    shared.post("/logout")
    response = _login(shared, "newcomer")  # never signed in from here: waits like a stranger
    assert response.status_code == 200 and "分钟后再试" in response.get_data(as_text=True)


def test_a_hundred_failures_write_a_bounded_number_of_audit_rows(app, db, login_as, make_user):
    target = make_user(Role.ADMIN, username="boss")
    stranger = _client(app, "203.0.113.10")
    for _ in range(100):
        _login(stranger, "boss", "guess")
    rows = _login_rows(db)
    assert [r.action for r in rows] == ["login_failed"]  # the burst's first failure
    throttle = db.get(LoginThrottle, ("name", "boss", "203.0.113.10"))
    assert throttle.failed_count == 100
    admin = login_as(Role.ADMIN)
    page = admin.get(f"/admin/users/{target.id}").get_data(as_text=True)
    assert 'id="user-unlock"' in page and "203.0.113.10" in page
    assert admin.post(f"/admin/users/{target.id}/unlock").status_code == 302
    rows = _login_rows(db)
    assert [r.action for r in rows] == ["login_failed", "login_failures"]
    assert rows[-1].after["count"] == 100 and rows[-1].after["ended_by"] == "unlock"
    unlock = db.scalar(select(AuditEntry).where(AuditEntry.action == "unlock"))
    assert unlock.username == admin.user.username and unlock.after["addresses"] == ["203.0.113.10"]
    db.expire_all()
    assert db.get(LoginThrottle, ("name", "boss", "203.0.113.10")) is None
    assert _login(stranger, "boss").status_code == 302  # unlocked


def test_delays_grow_and_are_capped(db, make_user, clock):
    make_user(Role.VIEWER, username="li")

    def fail() -> int | None:
        try:
            service.authenticate(db, username="li", password="guess", ip="203.0.113.5")
        except service.LoginRefused as refused:
            checked = not refused.locked_minutes
        return service.record_failed_login(
            db, username="li", ip="203.0.113.5", checked=checked
        ).locked_minutes

    assert [fail() for _ in range(5)] == [None, None, None, None, 1]
    delays = [1]
    for _ in range(7):
        clock.advance(minutes=delays[-1], seconds=1)
        delays.append(fail())
    assert delays == [1, 2, 4, 8, 16, 32, 60, 60]
    clock.advance(minutes=10)
    assert fail() == 50  # an attempt during the lock is refused and does not extend it
    row = db.get(LoginThrottle, ("name", "li", "203.0.113.5"))
    assert row.strikes == 8 and row.failed_count == 13


def test_a_quiet_burst_is_summarised_and_the_next_failure_starts_a_new_one(db, clock):
    for _ in range(3):
        service.record_failed_login(db, username="ghost", ip="203.0.113.8")
    clock.advance(minutes=61)
    service.record_failed_login(db, username="ghost", ip="203.0.113.8")
    rows = _login_rows(db)
    assert [r.action for r in rows] == ["login_failed", "login_failures", "login_failed"]
    assert rows[1].after["count"] == 3 and rows[1].after["ended_by"] == "quiet"
    assert db.get(LoginThrottle, ("name", "ghost", "203.0.113.8")).failed_count == 1


def test_an_address_trying_many_names_is_throttled_across_names(db):
    for n in range(20):
        service.record_failed_login(db, username=f"name{n}", ip="203.0.113.9")
    refused = service.record_failed_login(db, username="yet-another", ip="203.0.113.9")
    assert refused.locked_minutes == 1
    with pytest.raises(service.LoginRefused) as locked:
        service.authenticate(db, username="fresh-name", password="x", ip="203.0.113.9")
    assert locked.value.locked_minutes == 1
    for n in range(50):  # a locked address opens no new rows, whatever names it tries
        service.record_failed_login(db, username=f"more{n}", ip="203.0.113.9", checked=False)
    assert db.scalar(select(func.count()).select_from(LoginThrottle)) == 21
    actions = [r.action for r in _login_rows(db)]
    assert actions.count("login_failed") == 20 and actions.count("login_address_locked") == 1


def test_ipv6_clients_are_counted_by_their_64_network():
    assert service.client_key("2001:db8:1:2:aaaa::1") == service.client_key("2001:db8:1:2::ff")
    assert service.client_key("2001:db8:1:2::1") == "2001:db8:1:2::/64"
    assert service.client_key("::ffff:10.0.0.1") == "10.0.0.1"
    assert service.client_key("10.0.0.1") == "10.0.0.1"


def test_the_login_endpoint_is_rate_limited_with_a_translated_page(app, db, monkeypatch):
    monkeypatch.setitem(app.config, "RATELIMIT_LOGIN", "3 per minute")
    client = _client(app, "192.0.2.31")
    codes = [_login(client, "ghost", "guess").status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    response = _login(client, "ghost", "guess")
    assert response.status_code == 429 and "请求过于频繁" in response.get_data(as_text=True)
    assert client.get("/login").status_code == 200  # only the POST is limited


def test_token_endpoints_are_rate_limited(app, monkeypatch, login_as):
    monkeypatch.setitem(app.config, "RATELIMIT_TOKENS", "2 per minute")
    viewer = login_as(Role.VIEWER)
    codes = [viewer.post("/account/tokens", data={"name": "t"}).status_code for _ in range(3)]
    assert codes == [200, 200, 429]


def test_wrong_api_tokens_are_rate_limited_with_json(app, monkeypatch, api_token):
    monkeypatch.setitem(app.config, "RATELIMIT_API_BAD_TOKEN", "2 per minute")
    headers, _user = api_token(Role.VIEWER)
    client = _client(app, "192.0.2.33")
    bad = {"Authorization": "Bearer rsv_not-a-token", "Accept-Language": "zh-CN"}
    codes = [client.get("/api/v1/me", headers=bad).status_code for _ in range(3)]
    assert codes == [401, 401, 429]
    body = client.get("/api/v1/me", headers=bad).get_json()
    assert body["error"] == "too_many_requests" and "请求过于频繁" in body["message"]
    assert client.get("/api/v1/me", headers=headers).status_code == 200  # good tokens pass


def test_a_missing_name_takes_as_long_as_a_wrong_password(app, db, make_user, monkeypatch):
    # A real cost, as in production: the dummy hash must follow the configured method.
    monkeypatch.setitem(app.config, "PASSWORD_HASH_METHOD", "pbkdf2:sha256:60000")
    with app.app_context():
        make_user(Role.VIEWER, username="real-person")
        timings: dict[str, list[float]] = {"real-person": [], "nobody-at-all": []}
        for _ in range(20):
            for name, times in timings.items():
                started = time.perf_counter()
                with pytest.raises(service.LoginRefused):
                    service.authenticate(db, username=name, password="guess", ip="192.0.2.40")
                times.append(time.perf_counter() - started)
    existing = statistics.median(timings["real-person"])
    missing = statistics.median(timings["nobody-at-all"])
    assert max(existing, missing) / min(existing, missing) < 2, (existing, missing)
