"""schemathesis against the app's own OpenAPI document, in-process (WSGI): every operation, in
positive and negative mode, as an admin and as a keeper — no answer may be a server error.

Bounded: a fixed, derandomised set of examples per operation and mode (``SCHEMATHESIS_EXAMPLES``
overrides it), so the run takes about a minute on two busy cores."""

from __future__ import annotations

import os

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.generation.modes import GenerationMode

from reserve.auth.models import Role
from tests.receipts.conftest import TODAY

EXAMPLES = int(os.environ.get("SCHEMATHESIS_EXAMPLES", "12"))

pytestmark = pytest.mark.schemathesis


@pytest.fixture
def world(client, db, api_token, make_warehouse, make_material):
    """A little of everything, so that some generated ids and codes hit real rows."""
    warehouse = make_warehouse(code="WH-ST")
    make_material("棉被", code="QUILT-1", unit="床", shelf_life_days=365)
    admin, _ = api_token(Role.ADMIN)
    keeper, _ = api_token(Role.KEEPER, warehouses=[warehouse])
    posted = client.post(
        "/api/v1/receipts",
        headers=keeper,
        json={
            "warehouse_id": warehouse.id,
            "source": "donation",
            "document_date": TODAY.isoformat(),
            "lines": [{"material_code": "QUILT-1", "batch_no": "=HYPERLINK(1)", "qty": 5}],
            "post": True,
        },
    )
    assert posted.status_code == 201, posted.get_json()
    return {"admin": admin, "keeper": keeper}


def test_no_operation_answers_a_server_error(app, world):
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 15
    failures: list[str] = []

    def explore(operation, mode: GenerationMode, who: str, headers: dict) -> None:
        @settings(
            max_examples=EXAMPLES,
            derandomize=True,
            database=None,
            deadline=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy(generation_mode=mode))
        def run(case):
            response = case.call(headers={**headers, "Accept-Language": "en"})
            if response.status_code >= 500:
                failures.append(
                    f"{who} {mode.value} {case.method} {case.formatted_path} "
                    f"query={case.query!r} headers={case.headers!r} "
                    f"body={str(case.body)[:200]!r} -> {response.status_code}"
                )

        run()

    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            for who, headers in world.items():
                explore(operation, mode, who, headers)

    assert not failures, f"{len(failures)} server errors:\n" + "\n".join(failures[:40])
