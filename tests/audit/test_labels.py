"""Every action and object type the code records has a name on the audit page."""

import re
from pathlib import Path

from reserve.audit import labels
from reserve.db import Base

ROOT = Path(__file__).resolve().parents[2] / "reserve"


def _record_calls() -> list[str]:
    """The source of every ``record(...)`` call outside the audit feature."""
    calls = []
    for path in ROOT.rglob("*.py"):
        if path.parts[-2] == "audit":
            continue
        text = path.read_text(encoding="utf-8")
        for match in re.finditer(r"\brecord\(", text):
            depth, end = 0, match.end() - 1
            for end in range(match.end() - 1, len(text)):
                depth += {"(": 1, ")": -1}.get(text[end], 0)
                if depth == 0:
                    break
            calls.append(text[match.start() : end + 1])
    return calls


def test_every_recorded_action_has_a_name():
    actions = set()
    for call in _record_calls():
        actions |= set(re.findall(r'action=(?:[^,]*?)"(\w+)"', call))
        actions |= set(re.findall(r'else "(\w+)"', call))
    assert {"create", "post", "approve", "login_failed"} <= actions  # the scan finds them
    missing = sorted(actions - set(labels.ACTIONS))
    assert not missing, f"add these to reserve/audit/labels.py ACTIONS: {missing}"


def test_every_object_type_has_a_name():
    explicit = set()
    for call in _record_calls():
        explicit |= set(re.findall(r'object_type="(\w+)"', call))
    tables = {mapper.class_.__tablename__ for mapper in Base.registry.mappers}
    missing = sorted((explicit | tables) - set(labels.OBJECT_TYPES) - NOT_AUDITED)
    assert not missing, f"add these to reserve/audit/labels.py OBJECT_TYPES: {missing}"


# Tables no service passes to ``record``: plumbing, not the bureau's objects.
NOT_AUDITED = {
    "audit_entries",
    "api_idempotency_keys",
    "scan_operations",  # the ids of applied scan operations; the move or count is audited
    "document_counters",
    "login_addresses",
    "login_throttles",
    "stock_balances",
    "stock_reservations",
    "stocktake_items",
    "user_roles",
    "rotation_lines",
    "scrap_lines",
}


def test_values_are_shown_in_words(app_ctx):
    class Entry:
        object_type = "users"
        before = {"is_enabled": True, "roles": ["keeper"]}
        after = {"is_enabled": False, "roles": ["keeper", "viewer"]}

    rows = {row.key: row for row in labels.summary(Entry())}
    assert (rows["is_enabled"].label, rows["is_enabled"].before, rows["is_enabled"].after) == (
        "已启用",
        "是",
        "否",
    )
    assert rows["roles"].after == "仓库保管员、领导"
    assert labels.action_name("some_new_verb") == "some_new_verb"  # shown as itself, not lost


def _keys(value):
    """Every field name inside a recorded value: a line's or a contact's fields too."""
    if isinstance(value, dict):
        for key, inner in value.items():
            yield key
            yield from _keys(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from _keys(inner)


def test_every_field_and_state_the_demo_records_is_named(db, app_ctx):
    """What the demo city records (every feature's writes, through the services) reads in
    words: no field code, no state code on the audit page."""
    from sqlalchemy import select

    from reserve.audit.models import AuditEntry
    from reserve.audit.service import NOT_SNAPSHOT
    from reserve.demo import load_demo

    load_demo(db, password="demo-pass-1")
    db.flush()
    unnamed, raw_states, actions = set(), set(), set()
    for entry in db.scalars(select(AuditEntry)):
        if entry.action not in labels.ACTIONS:
            actions.add(entry.action)
        for key in _keys([entry.before or {}, entry.after or {}]):
            if key not in labels.FIELDS and key not in NOT_SNAPSHOT:
                unnamed.add((entry.object_type, key))
        for row in labels.summary(entry):
            if row.key in ("status", "kind"):
                stored = (entry.after or {}).get(row.key)
                if (
                    isinstance(stored, str)
                    and re.fullmatch(r"[a-z_]+", stored)
                    and row.after == stored
                ):
                    raw_states.add((entry.object_type, row.key, stored))  # a code, not words
    assert not actions
    assert not unnamed
    assert not raw_states
