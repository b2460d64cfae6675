import re
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
            "enterprise_type": "production",
            "status": "active",
            "contacts-0-name": "王强",
            "contacts-0-phone": "13800000000",
        },
    )
    assert response.status_code == 302
    entry = db.scalar(select(AuditEntry).where(AuditEntry.object_type == "enterprises"))
    html = admin.get("/admin/audit?object_type=enterprises").get_data(as_text=True)
    assert 'id="audit-table"' in html and f'id="audit-entry-{entry.id}"' in html
    assert admin.user.username in html and "济南银座食品有限公司" in html
    row = html[html.index(f'id="audit-entry-{entry.id}"') :].split("</tr>")[0]
    # in words, not codes or JSON: the action, the object type, each field by its label
    assert ">创建<" in row and ">代储企业<" in row
    assert '<dt data-key="uscc">统一社会信用代码</dt>' in row and "91370100MA3C4PYX8L" in row
    assert '<dt data-key="contacts">联系人</dt>' in row and "王强" in row
    assert "&#34;" not in row and "{" not in row
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


def test_a_change_lists_the_changed_fields_before_and_after(login_as, db):
    admin = login_as(Role.ADMIN)
    entry = _entry(
        db,
        datetime(2024, 3, 1, 8, 0, tzinfo=UTC),
        action="post",
        object_type="receipts",
        before={"status": "draft"},
        after={"status": "posted", "lines": 2},
    )
    html = admin.get("/admin/audit").get_data(as_text=True)
    row = html[html.index(f'id="audit-entry-{entry.id}"') :].split("</tr>")[0]
    assert ">已过账<" in row and ">入库单<" in row
    assert '<span class="audit-before">草稿</span> → <span class="audit-after">已过账</span>' in row
    assert '<dt data-key="lines">明细</dt>\n        <dd>2</dd>' in row
    html = _english(admin).get("/admin/audit").get_data(as_text=True)
    row = html[html.index(f'id="audit-entry-{entry.id}"') :].split("</tr>")[0]
    assert ">Posted<" in row and ">Receipt<" in row and ">Status</dt>" in row
    assert '<span class="audit-before">Draft</span>' in row


def test_filter_by_action_from_a_choice_list(login_as, db):
    admin = login_as(Role.ADMIN)
    posted = _entry(db, datetime(2024, 3, 1, 8, 0, tzinfo=UTC), action="post")
    created = _entry(db, datetime(2024, 3, 1, 9, 0, tzinfo=UTC), action="create")
    html = admin.get("/admin/audit").get_data(as_text=True)
    assert re.search(r'<select[^>]*name="action"', html)  # a choice list, not a free verb
    assert '<option value="post">已过账</option>' in html
    assert '<option value="materials">物资</option>' in html
    html = admin.get("/admin/audit?action=post").get_data(as_text=True)
    assert f"audit-entry-{posted.id}" in html and f"audit-entry-{created.id}" not in html
    # a verb typed into the address is not a choice: said in Chinese, nothing filtered wrongly
    html = admin.get("/admin/audit?action=posted").get_data(as_text=True)
    assert "不是有效的选择" in html and f"audit-entry-{created.id}" in html
