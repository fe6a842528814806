"""How the `omnigate` console script's parsers behave (SPEC 1): usage errors on stderr with exit
2, each flag's help with its default, and a mistyped command or flag answered with the right
command's usage and a suggestion (`did you mean --upstream?`).
"""

from __future__ import annotations

import argparse
import difflib
import sys
from collections.abc import Sequence
from typing import Any, NoReturn


class HelpFormatter(argparse.HelpFormatter):
    """Shows each flag's default, when it has one worth showing."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        text = action.help or ""
        if action.default in (None, False, argparse.SUPPRESS) or "default" in text:
            return text
        return f"{text} (default: {action.default})"


class CommandParser(argparse.ArgumentParser):
    """argparse, with its usage errors (exit 2) on stderr: one usage line, one message line."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", HelpFormatter)
        # Abbreviated flags would make a later flag's addition a breaking change, and the
        # mistyped-flag check below would have to guess at them.
        kwargs.setdefault("allow_abbrev", False)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(2, f"{self.prog}: error: {message}\n")


def suggest_mistakes(parser: argparse.ArgumentParser, argv: Sequence[str]) -> None:
    """Exit 2 with the right usage and a `did you mean` when argv names an unknown command or
    flag; argparse alone would print the top-level usage and no suggestion."""
    commands = _subcommands(parser)
    index = next((i for i, arg in enumerate(argv) if not arg.startswith("-")), None)
    if index is None or any(arg in ("-h", "--help", "--version") for arg in argv[:index]):
        return
    name = argv[index]
    if name not in commands:
        parser.error(f"unknown command {name!r}{_did_you_mean(name, list(commands))}")
    sub = commands[name]
    # A command with actions of its own (`identities show`) knows its actions' flags too.
    nested = [sub, *_subcommands(sub).values()]
    known = [flag for each in nested for action in each._actions for flag in action.option_strings]
    for arg in argv[index + 1 :]:
        if arg == "--":
            break
        flag = arg.split("=", 1)[0]
        if _looks_like_flag(flag) and flag not in known:
            sub.error(f"unknown flag {flag}{_did_you_mean(flag, known)}")


def _looks_like_flag(arg: str) -> bool:
    # "-" alone is stdin, and "-5" a (bad) number that the flag's own check should report.
    return arg.startswith("-") and arg != "-" and not arg.lstrip("-").replace(".", "").isdigit()


def _subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def _did_you_mean(word: str, candidates: list[str]) -> str:
    close = difflib.get_close_matches(word, candidates, n=1, cutoff=0.6)
    return f" (did you mean {close[0]}?)" if close else ""
