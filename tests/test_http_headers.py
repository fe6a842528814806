"""Hop-by-hop stripping runs before the gateway adds its own headers."""

import pytest
from multidict import CIMultiDict

from gateway.http_headers import add_forwarding, end_to_end, fold


def test_hop_by_hop_and_connection_named_headers_are_dropped() -> None:
    headers = CIMultiDict(
        [
            ("Connection", "keep-alive, X-Secret"),
            ("Keep-Alive", "timeout=5"),
            ("TE", "trailers"),
            ("Transfer-Encoding", "chunked"),
            ("Upgrade", "h2c"),
            ("Proxy-Authorization", "Basic x"),
            ("X-Secret", "1"),
            ("Accept", "application/json"),
            ("Set-Cookie", "a=1"),
            ("Set-Cookie", "b=2"),
        ]
    )
    kept = end_to_end(headers)
    assert list(kept.items()) == [
        ("Accept", "application/json"),
        ("Set-Cookie", "a=1"),
        ("Set-Cookie", "b=2"),
    ]


def test_client_cannot_drop_forwarding_headers_via_connection() -> None:
    headers = end_to_end(
        CIMultiDict([("Connection", "X-Forwarded-For"), ("X-Forwarded-For", "10.0.0.1")])
    )
    add_forwarding(headers, peer="127.0.0.1", proto="http", host="api.example.com")
    # The client's own XFF was hop-by-hop (named in Connection); ours is still added.
    assert headers["X-Forwarded-For"] == "127.0.0.1"
    assert headers["X-Forwarded-Proto"] == "http"
    assert headers["X-Forwarded-Host"] == "api.example.com"


def test_forwarded_for_is_appended() -> None:
    headers = CIMultiDict([("X-Forwarded-For", "203.0.113.7"), ("X-Forwarded-For", "10.0.0.2")])
    add_forwarding(headers, peer="127.0.0.1", proto="https", host=None)
    assert headers.getall("X-Forwarded-For") == ["203.0.113.7, 10.0.0.2, 127.0.0.1"]
    assert "X-Forwarded-Host" not in headers


def test_host_is_never_dropped_through_connection() -> None:
    kept = end_to_end(CIMultiDict([("Connection", "Host"), ("Host", "chat.example.com")]))
    assert kept["Host"] == "chat.example.com"


# Each row: a header a client sends, and whether it survives end_to_end (stamp header named in
# also_drop, as the forward stage does). CGI/WSGI/Rack servers fold `_` to `-` (SPEC 2).
SPELLINGS = [
    ("X_Forwarded_For", False),  # the classic forged client address
    ("x-forwarded_for", False),  # half folded
    ("X-FORWARDED_PROTO", False),  # set by the gateway: a folded twin is a forgery
    ("x_forwarded_host", False),
    ("X_Request_Id", False),
    ("X-Omni-Customer-Id", False),  # the stamp header, correctly spelled: only the gateway stamps
    ("X_Omni_Customer_Id", False),  # ... and in any spelling
    ("X-Omni_Customer-Id", False),
    ("Transfer_Encoding", False),  # hop-by-hop names fold too
    ("Proxy", False),  # httpoxy: HTTP_PROXY in a CGI environment
    ("PROXY", False),
    ("X-Forwarded-For", True),  # the correct spelling is kept (then appended to)
    ("x-forwarded-for", True),  # case alone is the same header
    ("X_Custom_Header", True),  # an underscore name the gateway does not own passes
    ("Accept", True),
]


@pytest.mark.parametrize(("name", "kept"), SPELLINGS)
def test_gateway_owned_headers_go_in_every_spelling(name: str, kept: bool) -> None:
    headers = CIMultiDict([(name, "forged"), ("Accept-Language", "en")])
    result = end_to_end(headers, also_drop=["X-Omni-Customer-Id"])
    assert (name in result) is kept
    assert result["Accept-Language"] == "en"  # nothing else is touched


def test_folded_twin_is_dropped_and_correct_spelling_appended_to() -> None:
    headers = end_to_end(
        CIMultiDict([("X-Forwarded-For", "203.0.113.7"), ("X_Forwarded_For", "6.6.6.6")])
    )
    add_forwarding(headers, peer="127.0.0.1", proto="https", host="h")
    assert headers.getall("X-Forwarded-For") == ["203.0.113.7, 127.0.0.1"]
    assert "X_Forwarded_For" not in headers


@pytest.mark.parametrize(
    ("name", "folded"),
    [("X_Forwarded_For", "x-forwarded-for"), ("a-B_c", "a-b-c"), ("Host", "host")],
)
def test_fold(name: str, folded: str) -> None:
    assert fold(name) == folded
