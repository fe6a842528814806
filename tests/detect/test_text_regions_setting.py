"""`omnichannel.text_regions` in a rule file: compiled once into the text and url masks."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.auth import Identity
from gateway.rules_plan import load_plan
from gateway.rules_source import RuleLoadError
from gateway.transform import Outcome, transform_document
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


def _masked(tmp_path: Path, omnichannel: str, doc: dict[str, str]) -> dict[str, str]:
    (tmp_path / "r.yaml").write_text(MINIMAL_RULES + omnichannel + ROUTES)
    plan = load_plan(tmp_path, ENV)
    view = plan.view("GET", "/c", Identity("agent", plan.roles["agent"], None, True))
    masked: dict[str, str] = transform_document(dict(doc), view, Outcome())
    return masked


def test_text_regions_extend_what_text_and_url_find(tmp_path: Path) -> None:
    doc = {"content": "ruf an: 030 123456", "link": "https://x.io/c?tel=030%20123456"}
    plain = _masked(tmp_path, "omnichannel: { default_region: US }\n", doc)
    assert plain == doc  # a German national number means nothing in the US
    german = _masked(tmp_path, "omnichannel: { default_region: US, text_regions: [DE] }\n", doc)
    assert german == {"content": "ruf an: XXX-XXX-3456", "link": "https://x.io/c?tel=XXX-XXX-3456"}


@pytest.mark.parametrize("regions", ["[de]", "[DE, DE]", "DE", "[QQ]"])
def test_bad_text_regions_are_refused_at_load(tmp_path: Path, regions: str) -> None:
    (tmp_path / "r.yaml").write_text(
        MINIMAL_RULES + f"omnichannel: {{ text_regions: {regions} }}\n" + ROUTES
    )
    with pytest.raises(RuleLoadError) as caught:
        load_plan(tmp_path, ENV)
    assert "text_regions" in str(caught.value)
