"""The OpenAPI document is valid and describes exactly the registered API routes."""

from openapi_spec_validator import validate

from reserve.api import openapi_path


def test_openapi_document_is_valid_and_public(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    validate(response.get_json())


def test_openapi_paths_match_the_registered_routes(app, client):
    document = client.get("/api/v1/openapi.json").get_json()
    documented = {
        (path, method.upper()) for path, ops in document["paths"].items() for method in ops
    }
    registered = set()
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("api."):
            path, _ = openapi_path(rule.rule.removeprefix("/api/v1"))
            for method in rule.methods - {"HEAD", "OPTIONS"}:
                registered.add((path, method))
    assert documented == registered
