"""`omnichannel.text_regions` in a rule file: compiled once into the text and url masks."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from gateway.rules_plan import load_plan
from gateway.rules_source import RuleLoadError
from tests.conftest import JWT_SECRET, MINIMAL_RULES

ENV = {"OMNIGATE_JWT_SECRET": JWT_SECRET, "OMNIGATE_ID_SECRET": "s" * 32}
ROUTES = """
routes:
  - name: c
    match: { path: /c }
    response:
      - { path: "$.content", mask: text }
      - { path: "$.link", mask: url }
"""


def _plan_text_mask(tmp_path: Path, omnichannel: str) -> Any:
    # The route's `url` rule must load too: the rules schema knows the mask.
    (tmp_path / "r.yaml").write_text(MINIMAL_RULES + omnichannel + ROUTES)
    return load_plan(tmp_path, ENV).text_mask


def test_text_regions_extend_what_the_text_mask_finds(tmp_path: Path) -> None:
    text = "ruf an: 030 123456"
    plain = _plan_text_mask(tmp_path, "omnichannel: { default_region: US }\n")
    assert plain(text) == text  # a German national number means nothing in the US
    german = _plan_text_mask(tmp_path, "omnichannel: { default_region: US, text_regions: [DE] }\n")
    assert german(text) == "ruf an: XXX-XXX-3456"


@pytest.mark.parametrize("regions", ["[de]", "[DE, DE]", "DE", "[QQ]"])
def test_bad_text_regions_are_refused_at_load(tmp_path: Path, regions: str) -> None:
    (tmp_path / "r.yaml").write_text(
        MINIMAL_RULES + f"omnichannel: {{ text_regions: {regions} }}\n" + ROUTES
    )
    with pytest.raises(RuleLoadError) as caught:
        load_plan(tmp_path, ENV)
    assert "text_regions" in str(caught.value)
