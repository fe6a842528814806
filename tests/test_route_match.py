"""Route templates: segments, wildcards, methods, trailing slashes."""

from typing import Any

import pytest

from gateway.errors import ConfigError
from gateway.route_match import compile_template

CONTACT = "/api/v1/accounts/{account_id}/contacts/{id}"


@pytest.mark.parametrize(
    ("template", "methods", "method", "path", "hit"),
    [
        (CONTACT, ["GET"], "GET", "/api/v1/accounts/1/contacts/2", True),  # plain hit
        (CONTACT, ["GET"], "HEAD", "/api/v1/accounts/1/contacts/2", True),  # HEAD as GET
        (CONTACT, ["GET"], "POST", "/api/v1/accounts/1/contacts/2", False),  # method filtered
        (CONTACT, None, "DELETE", "/api/v1/accounts/1/contacts/2", True),  # any method
        (CONTACT, "get", "GET", "/api/v1/accounts/1/contacts/2/", True),  # trailing slash
        (CONTACT, None, "GET", "/api/v1/accounts/1/contacts/2/notes", False),  # longer path
        (CONTACT, None, "GET", "/api/v1/accounts/1/contacts", False),  # shorter path
        ("/api/*/contacts", None, "GET", "/api/v1/contacts", True),  # * is one segment
        ("/api/*/contacts", None, "GET", "/api/v1/x/contacts", False),  # * not two
        ("/api/**", None, "GET", "/api", True),  # ** may be zero segments
        ("/api/**", None, "GET", "/api/a/b/c", True),  # ** many segments
        ("/api/**", None, "GET", "/apiary", False),  # ** respects segment borders
        ("/a/**/z", None, "GET", "/a/b/c/z", True),  # ** in the middle
        ("/**", None, "GET", "/", True),  # everything, root included
        ("/a.b/{x}", None, "GET", "/aXb/1", False),  # literal dots are escaped
        ("/c/{id}/messages", None, "GET", "/c/1/messages;v=2", True),  # matrix parameters
        ("/c/{id}/messages", None, "GET", "/c/1/messages%3Bv=2", True),  # ... encoded `;`
        ("/c/{id}/messages", None, "GET", "/c/1/messages%3bv=2", True),  # ... lower-case hex
        ("/c/{id}/messages", None, "GET", "/c/1/messages.json%3Bv=2", True),  # format + params
        ("/c/messages/{id}", None, "GET", "/c/messages%3Bx=1/2", True),  # a middle segment
        ("/c/{id}/messages", None, "GET", "/c/1/messages%3Cv", False),  # another escape is not
    ],
)
def test_matches(
    template: str, methods: list[Any] | str | None, method: str, path: str, hit: bool
) -> None:
    assert compile_template(template, methods).matches(method, path) is hit


@pytest.mark.parametrize(
    "template",
    ["api/x", "/api/{id", "/api/x*", "/api/{a}{b}"],
)
def test_bad_templates(template: str) -> None:
    with pytest.raises(ConfigError):
        compile_template(template, None, ("routes", 0, "match"))
