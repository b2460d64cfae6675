"""What one scan costs the database: ``GET /s/<code>`` and ``GET /api/v1/labels/{code}`` are
two statements each — the signed-in user (or the API token's user) with roles and warehouses,
and the label with everything it points at — whatever the user keeps. DESIGN.md asks ≥ 300
scans a second; bench/README.md has the measured figures."""

from __future__ import annotations

from datetime import timedelta

import pytest

from reserve.auth.models import ApiToken, Role
from reserve.db import utcnow


def _statements(statements: list[str]) -> list[str]:
    return [s.split()[0].upper() for s in statements]


@pytest.mark.parametrize("label", ["stock_label", "item_label", "location_label"])
def test_a_scanned_link_is_two_statements(login_as, world, count_queries, label):
    keeper = login_as(Role.KEEPER, warehouses=[world.home, world.other])
    code = world.code(getattr(world, label))
    keeper.get(f"/s/{code}")  # the first request of a session pays for nothing extra here
    with count_queries() as statements:
        response = keeper.get(f"/s/{code}")
    assert response.status_code == 302
    assert _statements(statements) == ["SELECT", "SELECT"]  # the user, the label


def test_a_pda_resolving_a_code_is_two_statements(client, db, api_token, world, count_queries):
    headers, user = api_token(Role.KEEPER, warehouses=[world.home, world.other])
    code = world.code(world.stock_label)
    client.get(f"/api/v1/labels/{code}", headers=headers)  # marks the token used
    with count_queries() as statements:
        response = client.get(f"/api/v1/labels/{code}", headers=headers)
    assert response.status_code == 200 and response.get_json()["label_id"] == world.stock_label.id
    assert _statements(statements) == ["SELECT", "SELECT"]  # token with its user, the label


def test_a_token_is_still_marked_used_every_five_minutes(client, db, api_token, world):
    headers, user = api_token(Role.KEEPER, warehouses=[world.home])
    token = db.query(ApiToken).filter_by(user_id=user.id).one()
    token.last_used_at = utcnow() - timedelta(minutes=6)
    db.flush()
    stale = token.last_used_at
    response = client.get(f"/api/v1/labels/{world.code(world.stock_label)}", headers=headers)
    assert response.status_code == 200
    db.refresh(token)
    assert token.last_used_at > stale
    # and the actor's scope survived the write: a label of a warehouse not kept is refused
    assert (
        client.get(f"/api/v1/labels/{world.code(world.other_label)}", headers=headers).status_code
        == 403
    )
