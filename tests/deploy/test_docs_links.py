"""The documentation stands alone: every relative link in README.md, docs/ and the chart's README
points at a file inside the repository that exists (no links to the shared SPEC or elsewhere on
the author's disk)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PAGES = sorted(
    [REPO / "README.md", REPO / "helm" / "omnigate" / "README.md", *(REPO / "docs").glob("*.md")]
)
LINK = re.compile(r"\]\(([^)\s]+)\)")


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(REPO)))
def test_relative_links_stay_inside_the_repository(page: Path) -> None:
    broken = []
    for target in LINK.findall(page.read_text()):
        if re.match(r"[a-z][a-z0-9+.-]*:", target) or target.startswith("#"):
            continue  # web links and anchors
        path = (page.parent / target.split("#", 1)[0]).resolve()
        if not path.is_relative_to(REPO) or not path.exists():
            broken.append(target)
    assert broken == []


def test_the_reference_page_is_linked_from_the_readme() -> None:
    assert "(docs/reference.md)" in (REPO / "README.md").read_text()
