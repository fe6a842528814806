"""`omnichannel.linking` compiled at load: store URLs, sources, secrets kept out of rules."""

from __future__ import annotations

from typing import Any

import pytest

from gateway.errors import ConfigError
from gateway.identity.link_store import redact
from gateway.identity.linking import DEFAULT_STORE, Linking


@pytest.mark.parametrize(
    ("section", "env", "store", "learn_from"),
    [
        ({}, {}, DEFAULT_STORE, {"responses", "webhooks"}),  # defaults
        (True, {}, DEFAULT_STORE, {"responses", "webhooks"}),  # `linking: true`
        ({}, {"OMNIGATE_LINK_STORE": "redis://r:6379/0"}, "redis://r:6379/0", None),  # the chart's
        ({"store": "memory://"}, {"OMNIGATE_LINK_STORE": "redis://r/0"}, "memory://", None),
        ({"store": "sqlite:///rel.db"}, {}, "sqlite:///rel.db", None),
        ({"store_env": "R"}, {"R": "redis://:pw@r:6379/0"}, "redis://:pw@r:6379/0", None),
        ({"learn_from": ["webhooks"]}, {}, DEFAULT_STORE, {"webhooks"}),
        ({"learn_from": []}, {}, DEFAULT_STORE, set()),  # linked ids still stamp; nothing learned
    ],
)
def test_compiles(
    section: bool | dict[str, Any], env: dict[str, Any], store: Any, learn_from: Any
) -> None:
    linking = Linking.compile(section, env)
    assert linking is not None and linking.store == store
    if learn_from is not None:
        assert linking.learn_from == learn_from


@pytest.mark.parametrize(
    ("section", "env", "message"),
    [
        ({"store": "postgres://x"}, {}, "unknown store"),
        ({"store": "sqlite://x.db"}, {}, "sqlite:///"),
        ({"store": "redis://:secret@r:6379/0"}, {}, "store_env"),  # SECURITY: no secret in rules
        ({"store": "redis://r:6379/0?socket_timeout=x"}, {}, "not a valid Redis URL"),
        ({"store_env": "MISSING"}, {}, "MISSING is not set"),
        ({"store": "memory://", "store_env": "R"}, {"R": "memory://"}, "not both"),
        ({"learn_from": ["logs"]}, {}, "responses, webhooks"),
        ({"stores": "memory://"}, {}, "unknown key"),
        ("yes", {}, "mapping"),
    ],
)
def test_refuses(section: dict[str, Any] | str, env: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        Linking.compile(section, env)
    assert message in caught.value.message
    assert "secret" not in caught.value.message or "store_env" in caught.value.message


def test_off() -> None:
    assert Linking.compile(None, {}) is None and Linking.compile(False, {}) is None


def test_redacted_urls_hide_passwords() -> None:
    assert redact("redis://:pw@r:6379/0") == "redis://:***@r:6379/0"
    assert redact("redis://user:pw@r/0") == "redis://user:***@r/0"
    assert redact("redis://r:6379/0") == "redis://r:6379/0"


def test_omnigate_check_stand_ins_are_not_store_urls() -> None:
    # `omnigate check` stands in for unset variables; linking must not choke on the stand-in
    from gateway.cli_rules import PlaceholderEnviron

    environ = PlaceholderEnviron({})
    assert Linking.compile({"store_env": "REDIS_URL"}, environ).store == DEFAULT_STORE  # type: ignore[union-attr]
    assert Linking.compile({}, environ).store == DEFAULT_STORE  # type: ignore[union-attr]  # OMNIGATE_LINK_STORE is optional


def test_a_bad_store_in_the_chart_variable_names_it() -> None:
    with pytest.raises(ConfigError) as caught:
        Linking.compile({}, {"OMNIGATE_LINK_STORE": "nonsense"})
    assert "OMNIGATE_LINK_STORE" in caught.value.message
