"""Path normalisation: every variant of a path reaches the same canonical form (or a 400)."""

import pytest

from gateway.errors import BadRequest
from gateway.http_path import normalise_path


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("/api/v1/contacts/1", "/api/v1/contacts/1"),  # already canonical
        ("//api///v1//contacts/1", "/api/v1/contacts/1"),  # repeated slashes folded
        ("/api/./v1/contacts/1", "/api/v1/contacts/1"),  # single dot removed
        ("/api/v2/../v1/contacts/1", "/api/v1/contacts/1"),  # double dot resolved
        ("/api/v1/contacts/1/", "/api/v1/contacts/1/"),  # trailing slash kept as sent
        ("/api/v1/contacts/1/.", "/api/v1/contacts/1/"),  # trailing dot leaves a slash
        ("/api/v1/contacts/x/..", "/api/v1/contacts/"),  # trailing dot-dot leaves a slash
        ("/../../etc", "/etc"),  # never climbs above the root
        ("/%61pi/v1/%63ontacts", "/api/v1/contacts"),  # encoded unreserved letters decoded
        ("/api/%2e%2e/api/v1", "/api/v1"),  # encoded dots decoded, then resolved
        ("/a%7eb%2D%5f", "/a~b-_"),  # other unreserved characters decoded
        ("/a%20b", "/a%20b"),  # reserved / unsafe stay encoded
        ("/a%3fb", "/a%3Fb"),  # hex upper-cased
        ("/", "/"),  # root
        ("/a/x/..;/b", "/a/b"),  # servlet dot-segment with parameters
        ("/a/x/..%3b/b", "/a/b"),  # ... with the `;` encoded (read as `;` by some routers)
        ("/a/messages%3bv=2", "/a/messages%3Bv=2"),  # an encoded `;` elsewhere stays as sent
    ],
)
def test_normalise(raw: str, expected: str) -> None:
    assert normalise_path(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "/api%2Fv1/contacts",  # encoded slash
        "/api%2fv1",  # lower-case encoded slash
        "/api%5Cv1",  # encoded backslash
        "/api%00",  # encoded NUL
        "/api\\v1",  # literal backslash
        "/a%zz",  # broken percent-encoding
        "/a%4",  # truncated percent-encoding
        "api/v1",  # not absolute
    ],
)
def test_refused(raw: str) -> None:
    with pytest.raises(BadRequest):
        normalise_path(raw)
