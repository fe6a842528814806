"""`end_to_end` decides once per header-name combination: the same result as deciding each time."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from multidict import CIMultiDict, CIMultiDictProxy

from gateway.http_headers import ALWAYS_DROPPED, HOP_BY_HOP, SET_BY_GATEWAY, end_to_end, fold

NAMES = st.sampled_from(
    [
        "Host", "host", "Connection", "connection", "Keep-Alive", "keep_alive", "X-Forwarded-For",
        "x_forwarded_for", "X_Request_Id", "Authorization", "Proxy", "TE", "Upgrade", "X-Foo",
        "x_foo", "Expect", "Content-Length", "Transfer-Encoding",
    ]
)  # fmt: skip
VALUES = st.sampled_from(
    ["a", "x-foo, host", "X_Foo", "close, X-Foo", "keep-alive", "x-request-id"]
)


def decided_each_time(
    headers: CIMultiDictProxy[str], also_drop: tuple[str, ...]
) -> CIMultiDict[str]:
    """The rule written out directly (the implementation before the per-combination plans)."""
    kept = CIMultiDict(headers)
    named = [
        token.strip()
        for value in headers.getall("Connection", ())
        for token in value.split(",")
        if token.strip() and token.strip().lower() != "host"
    ]
    dropped = (*HOP_BY_HOP, *ALWAYS_DROPPED, *named, *also_drop)
    for name in dropped:
        if name in kept:
            kept.popall(name)
    folded = {fold(name) for name in (*dropped, *SET_BY_GATEWAY)}
    for name in [name for name in kept if "_" in name]:
        if fold(name) in folded and name in kept:
            kept.popall(name)
    return kept


@given(
    st.lists(st.tuples(NAMES, VALUES), max_size=8),
    st.lists(st.sampled_from(["Expect", "Range", "x_foo", "Content-Length"]), max_size=2),
)
def test_plans_give_what_the_rule_gives(items: list[tuple[str, str]], also: list[str]) -> None:
    headers = CIMultiDictProxy(CIMultiDict(items))
    expected = list(decided_each_time(headers, tuple(also)).items())
    assert list(end_to_end(headers, also).items()) == expected
    assert list(end_to_end(headers, tuple(also)).items()) == expected  # again: from the plan
