"""Ships the rule packs of `rules/` (examples, chatwoot, ...) inside the wheel as package data.

The packs live at the top of the repository, where users browse and copy them, and outside the
`gateway` package. pyproject.toml cannot map a folder outside the package into it, so this hook
copies every `rules/<pack>/` folder to `gateway/packs/<pack>/` in the build tree; at run time
`gateway.rule_packs` finds them there (or in the checkout, for an editable install).
"""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

RULES = Path(__file__).resolve().parent / "rules"
SUFFIXES = {".yaml", ".yml", ".json"}


class BuildPyWithPacks(build_py):
    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return  # an editable install reads rules/ in the checkout itself (gateway.rule_packs)
        for pack in sorted(p for p in RULES.iterdir() if p.is_dir()):
            target = Path(self.build_lib) / "gateway" / "packs" / pack.name
            target.mkdir(parents=True, exist_ok=True)
            for file in sorted(pack.iterdir()):
                if file.is_file() and file.suffix.lower() in SUFFIXES:
                    shutil.copyfile(file, target / file.name)


setup(cmdclass={"build_py": BuildPyWithPacks})
