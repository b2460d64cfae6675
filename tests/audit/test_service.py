from datetime import UTC, date, datetime

import pytest
import sqlalchemy as sa
from sqlalchemy import func, select

from reserve.audit import queries
from reserve.audit.models import AuditEntry
from reserve.audit.service import record
from reserve.auth.actor import Actor
from reserve.auth.models import Role


def _entry(
    db,
    at: datetime,
    *,
    username="system",
    user_id=None,
    object_type="materials",
    object_id="1",
    action="create",
) -> AuditEntry:
    entry = AuditEntry(
        at=at,
        username=username,
        user_id=user_id,
        action=action,
        object_type=object_type,
        object_id=object_id,
        after={"名称": "帐篷"},
    )
    db.add(entry)
    db.flush()
    return entry


def _ids(page) -> list[int]:
    return [e.id for e in page.items]


def test_local_day_boundaries_are_converted_to_utc():
    assert queries.local_day_start(date(2024, 3, 2)) == datetime(2024, 3, 1, 16, tzinfo=UTC)


def test_dates_are_shanghai_calendar_days(db):
    # 2024-03-01 16:30 UTC is 2024-03-02 00:30 in Shanghai; 15:59 UTC is still March 1st.
    late = _entry(db, datetime(2024, 3, 1, 15, 59, tzinfo=UTC))
    early = _entry(db, datetime(2024, 3, 1, 16, 30, tzinfo=UTC))
    march_2 = date(2024, 3, 2)
    assert _ids(queries.audit_page(db, date_from=march_2, date_to=march_2)) == [early.id]
    assert _ids(queries.audit_page(db, date_to=date(2024, 3, 1))) == [late.id]
    assert _ids(queries.audit_page(db, date_from=date(2024, 3, 1))) == [early.id, late.id]


def test_filters_and_newest_first(db, make_user):
    user = make_user(Role.ADMIN, username="zhang")
    a = _entry(
        db,
        datetime(2024, 1, 1, tzinfo=UTC),
        username="zhang",
        user_id=user.id,
        object_type="enterprises",
        object_id="7",
        action="update",
    )
    b = _entry(db, datetime(2024, 1, 2, tzinfo=UTC), object_type="enterprises", object_id="8")
    c = _entry(db, datetime(2023, 1, 3, tzinfo=UTC))
    assert _ids(queries.audit_page(db)) == [b.id, a.id, c.id]  # newest first by time
    assert _ids(queries.audit_page(db, username="zhang")) == [a.id]
    assert _ids(queries.audit_page(db, username="system")) == [b.id, c.id]
    assert _ids(queries.audit_page(db, username="nobody")) == []
    assert _ids(queries.audit_page(db, object_type="enterprises")) == [b.id, a.id]
    assert _ids(queries.audit_page(db, object_type="enterprises", object_id=7)) == [a.id]
    assert _ids(queries.audit_page(db, action="update")) == [a.id]


def test_a_renamed_user_keeps_their_entries(db, make_user):
    user = make_user(Role.ADMIN, username="old-name")
    entry = record(
        db, actor=Actor.for_user(user), action="login", object_type="users", object_id=user.id
    )
    db.flush()
    user.username = "new-name"
    db.flush()
    assert _ids(queries.audit_page(db, username="new-name")) == [entry.id]


def test_object_types_are_distinct_and_sorted(db):
    for kind in ("users", "materials", "enterprises", "materials", "users"):
        _entry(db, datetime(2024, 1, 1, tzinfo=UTC), object_type=kind)
    assert queries.audit_object_types(db) == ["enterprises", "materials", "users"]


def test_the_count_stops_at_the_cap_and_paging_goes_past_it(db, monkeypatch):
    monkeypatch.setattr(queries, "COUNT_CAP", 5)
    entries = [_entry(db, datetime(2024, 1, 1, tzinfo=UTC)) for _ in range(8)]
    assert queries.audit_count(db) == 6  # "more than 5"
    seen, after = [], None
    while True:
        page = queries.audit_page(db, per_page=3, after=after)
        seen += _ids(page)
        if page.next_key is None:
            break
        after = page.next_key
    assert seen == [e.id for e in reversed(entries)]  # same time: newest id first, all eight


def test_entries_cannot_be_changed_or_deleted_through_the_orm(db):
    entry = _entry(db, datetime(2024, 1, 1, tzinfo=UTC))
    with pytest.raises(RuntimeError, match="append-only"), db.begin_nested():
        entry.action = "forged"
        db.flush()
    with pytest.raises(RuntimeError, match="append-only"), db.begin_nested():
        db.delete(entry)
        db.flush()
    db.expire_all()
    assert db.get(AuditEntry, entry.id).action == "create"


@pytest.mark.parametrize(
    "statement",
    [
        sa.update(AuditEntry).values(action="forged"),
        sa.delete(AuditEntry),
    ],
)
def test_the_database_refuses_bulk_changes_too(db, statement):
    _entry(db, datetime(2024, 1, 1, tzinfo=UTC))
    with pytest.raises(sa.exc.DatabaseError, match="append-only"), db.begin_nested():
        db.execute(statement)
    assert (
        db.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "create"))
        == 1
    )
