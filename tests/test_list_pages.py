"""Pages that scale with their page: with more rows than a page holds, every list route renders
at most its page size of rows (counted as ``<tr>`` in the table bodies), whatever it pages by."""

from __future__ import annotations

import re

import pytest
from flask import url_for

from reserve.audit.service import record
from reserve.auth.actor import Actor
from reserve.auth.models import Role

PAGE = 50  # the lists' page size
MANY = PAGE + 11


def _body_rows(html: str) -> int:
    return sum(
        len(re.findall(r"<tr[\s>]", body)) for body in re.findall(r"<tbody.*?</tbody>", html, re.S)
    )


@pytest.fixture
def many(db, make_user, make_warehouse, make_material):
    """More than a page of users, warehouses, materials and audit entries."""
    actor = Actor.system("test")
    for n in range(MANY):
        make_user(Role.VIEWER, username=f"many{n:03d}")
        make_warehouse(code=f"WH-M{n:03d}", name=f"多行测试库{n}")
        make_material(f"多行物资{n}", code=f"M{n:05d}")
        record(db, actor=actor, action="create", object_type="test", object_id=n, label=f"T{n}")
    db.flush()


@pytest.mark.parametrize(
    "endpoint",
    [
        "auth.user_list",
        "warehouses.warehouse_list",
        "catalog.material_list",
        "audit.entry_list",
    ],
)
def test_a_list_renders_at_most_its_page(app, login_as, many, endpoint):
    client = login_as(Role.ADMIN)
    with app.test_request_context():
        path = url_for(endpoint)
    html = client.get(path).get_data(as_text=True)
    rows = _body_rows(html)
    assert 0 < rows <= PAGE, (endpoint, rows)
