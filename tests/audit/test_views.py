from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from reserve.audit.models import AuditEntry
from reserve.auth.models import Role


def _english(client):
    client.get("/lang/en")
    return client


def _rows(html: str) -> int:
    return html.count('id="audit-entry-')


def _entry(db, at, **fields) -> AuditEntry:
    values = dict(username="system", action="create", object_type="materials", object_id="1")
    values.update(fields)
    entry = AuditEntry(at=at, **values)
    db.add(entry)
    db.flush()
    return entry


def test_creating_an_enterprise_shows_in_the_log(login_as, db):
    admin = login_as(Role.ADMIN)
    response = admin.post(
        "/enterprises/new",
        data={
            "name": "济南银座食品有限公司",
            "uscc": "91370100MA3C4PYX8L",
            "region_id": "",
            "contact_name": "王强",
            "is_active": "y",
        },
    )
    assert response.status_code == 302
    entry = db.scalar(select(AuditEntry).where(AuditEntry.object_type == "enterprises"))
    html = admin.get("/admin/audit?object_type=enterprises").get_data(as_text=True)
    assert 'id="audit-table"' in html and f'id="audit-entry-{entry.id}"' in html
    assert admin.user.username in html and "济南银座食品有限公司" in html
    assert 'class="audit-json"' in html
    assert "&#34;uscc&#34;:&#34;91370100MA3C4PYX8L&#34;" in html  # compact, escaped JSON
    assert 'type="date"' in html


def test_filter_by_user_object_type_and_dates(login_as, make_user, db):
    admin = login_as(Role.ADMIN)
    other = make_user(Role.ADMIN, username="li")
    mine = _entry(
        db,
        datetime(2024, 3, 1, 16, 30, tzinfo=UTC),
        username=admin.user.username,
        user_id=admin.user.id,
        object_type="enterprises",
    )
    theirs = _entry(db, datetime(2024, 3, 1, 15, 0, tzinfo=UTC), username="li", user_id=other.id)
    html = admin.get(f"/admin/audit?username={admin.user.username}").get_data(as_text=True)
    assert f"audit-entry-{mine.id}" in html and f"audit-entry-{theirs.id}" not in html
    html = admin.get("/admin/audit?object_type=materials").get_data(as_text=True)
    assert f"audit-entry-{theirs.id}" in html and f"audit-entry-{mine.id}" not in html
    # Shanghai dates: `mine` is at 00:30 on March 2nd, `theirs` at 23:00 on March 1st.
    html = admin.get("/admin/audit?date_from=2024-03-02&date_to=2024-03-02").get_data(as_text=True)
    assert f"audit-entry-{mine.id}" in html and f"audit-entry-{theirs.id}" not in html
    html = admin.get("/admin/audit?date_to=2024-03-01").get_data(as_text=True)
    assert f"audit-entry-{theirs.id}" in html and f"audit-entry-{mine.id}" not in html


@pytest.mark.parametrize(
    "query, message",
    [
        ("date_from=2024-13-01", "Not a valid date"),
        ("date_to=yesterday", "Not a valid date"),
        ("date_from=0001-01-01", "Pick a date between 1900 and 2999"),
        ("date_from=2024-03-02&date_to=2024-03-01", "The end date is before the start date"),
    ],
)
def test_bad_dates_show_a_message_not_a_traceback(login_as, query, message):
    admin = _english(login_as(Role.ADMIN))
    response = admin.get(f"/admin/audit?{query}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert message in html and "Traceback" not in html


@pytest.mark.parametrize("role", [r for r in Role if r is not Role.ADMIN])
def test_only_admins_read_the_log(login_as, role):
    assert login_as(role).get("/admin/audit").status_code == 403


def test_no_route_writes_or_removes_audit_entries(app, login_as):
    audit_rules = [
        r for r in app.url_map.iter_rules() if r.endpoint.startswith("audit.") or "audit" in r.rule
    ]
    assert [r.endpoint for r in audit_rules] == ["audit.entry_list"]
    for rule in audit_rules:
        assert rule.methods <= {"GET", "HEAD", "OPTIONS"}, rule
    admin = login_as(Role.ADMIN)
    for method in ("POST", "PUT", "PATCH", "DELETE"):
        assert admin.open("/admin/audit", method=method).status_code == 405
