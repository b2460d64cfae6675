"""Every browser test has its own world: its server serves its own copy of the demo database,
and what it changes there never reaches the demo template the next test is copied from."""

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from reserve import normalise_database_url
from tests.browser.conftest import sign_in

pytestmark = pytest.mark.browser

MUNICIPAL = "济南市应急物资综合储备库"


def _name_of(url: str, code: str) -> str:
    engine = sa.create_engine(normalise_database_url(url))
    try:
        with engine.connect() as conn:
            return conn.scalar(sa.text("SELECT name FROM warehouses WHERE code = :c"), {"c": code})
    finally:
        engine.dispose()


def test_the_server_serves_this_tests_own_copy(page, demo_copy, demo_template):
    assert demo_copy != demo_template
    engine = sa.create_engine(normalise_database_url(demo_copy))
    with engine.begin() as conn:
        conn.execute(
            sa.text("UPDATE warehouses SET name = :n WHERE code = 'JN-SJ-01'"),
            {"n": "只在这份副本里的名字"},
        )
    engine.dispose()
    sign_in(page, "keeper")
    page.goto("/warehouses")
    expect(page.locator("#warehouse-table")).to_contain_text("只在这份副本里的名字")
    assert _name_of(demo_template, "JN-SJ-01") == MUNICIPAL
