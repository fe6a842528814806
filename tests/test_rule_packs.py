"""The shipped rule packs and schema, found from a checkout (an editable install)."""

from __future__ import annotations

import json

import pytest

from gateway.rule_packs import pack_names, pack_path, schema_text
from gateway.settings import SettingsError


def test_the_shipped_packs_are_listed_sorted() -> None:
    names = pack_names()
    assert {"chatwoot", "examples"} <= set(names)
    assert names == sorted(names)


def test_a_pack_is_a_folder_of_rule_files() -> None:
    folder = pack_path("chatwoot")
    assert folder.is_dir()
    assert any(entry.suffix in (".yaml", ".yml", ".json") for entry in folder.iterdir())


def test_an_unknown_pack_names_the_shipped_ones() -> None:
    with pytest.raises(SettingsError) as refused:
        pack_path("no-such-pack")
    message = str(refused.value)
    assert message.startswith("--rules: no shipped rule pack named 'no-such-pack'")
    assert "chatwoot" in message and "examples" in message


def test_the_schema_is_the_rule_files_json_schema() -> None:
    schema = json.loads(schema_text())
    assert "2020-12" in schema["$schema"]
    assert "routes" in schema["properties"]
