"""The redirect-target rule: only a path on this site."""

import pytest

from reserve.auth.redirects import safe_next


@pytest.mark.parametrize("target", ["/", "/stock?q=帐篷", "/receipts/12", "/lang/en?next=/x"])
def test_a_local_path_is_kept(target):
    assert safe_next(target) == target


@pytest.mark.parametrize(
    "target",
    [
        None,
        "",
        "https://evil.example/x",
        "//evil.example/x",
        "/\\evil.example/x",
        "/\\/evil.example",
        "javascript:alert(1)",
        "stock",
        "/x\r\nSet-Cookie: a=b",
        "/x\tY",
    ],
)
def test_anything_else_goes_home(target):
    assert safe_next(target) == "/"


def test_the_language_switch_does_not_redirect_off_site(client):
    response = client.get("/lang/en?next=//evil.example/x")
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    response = client.get("/lang/en?next=/stock")
    assert response.headers["Location"] == "/stock"
