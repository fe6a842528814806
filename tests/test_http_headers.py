"""Hop-by-hop stripping runs before the gateway adds its own headers."""

from multidict import CIMultiDict

from gateway.http_headers import add_forwarding, end_to_end


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
