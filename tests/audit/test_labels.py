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
