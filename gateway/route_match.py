"""Route templates (SPEC 3.2) compiled once into regular expressions.

`{name}` and `*` match one segment, `**` any number of segments (zero included); a trailing slash
is ignored on both sides. Templates match the *normalised* path (see `http_path`), so a path
variant can never miss a route that its canonical form would hit.

SECURITY: upstream frameworks answer aliases of a path. Rails serves `/messages.json` like
`/messages`, Java servlets ignore `;param` segment suffixes (written `;` or `%3B`), and many
servers ignore case. A template therefore matches literal segments case-insensitively, with any
`;params` or `%3Bparams` suffix, and its last literal segment with any `.format` suffix: matching
too much masks more, never less.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from gateway.errors import ConfigError, KeyPath

_PARAM = re.compile(r"^\{[A-Za-z_][A-Za-z0-9_]*\}$")
_SEGMENT = "[^/]+"
# `;jsessionid=...` and other matrix parameters; SECURITY: an encoded `%3B` too, which Java and
# Rails routers also read as the delimiter (`messages%3Bv=2` is `messages`). The path goes
# upstream as sent, so matching the alias (rather than refusing it) keeps the request working.
_PARAMS = "(?:(?:;|%3[Bb])[^/]*)?"
_ALIAS = _PARAMS
_LAST_ALIAS = r"(?:\.[^/;]*)?" + _PARAMS  # plus a `.json`-style format suffix


@dataclass(frozen=True)
class PathTemplate:
    template: str
    methods: frozenset[str] | None  # None = any method
    pattern: re.Pattern[str]

    def matches(self, method: str | None, path: str) -> bool:
        """Whether `path` matches; `method=None` stands for any method."""
        if method is not None and self.methods is not None and method not in self.methods:
            return False
        return self.pattern.fullmatch(_strip_trailing_slash(path)) is not None


def compile_template(
    path: str, methods: str | Iterable[str] | None, key_path: KeyPath = ()
) -> PathTemplate:
    if not path.startswith("/"):
        raise ConfigError((*key_path, "path"), f"path template {path!r} must start with '/'")
    parts: list[str] = []
    segments = _strip_trailing_slash(path).split("/")[1:]
    for index, segment in enumerate(segments):
        if segment == "**":
            parts.append("(?:/[^/]+)*")
        elif segment == "*" or _PARAM.match(segment):
            parts.append("/" + _SEGMENT)
        elif "{" in segment or "}" in segment or "*" in segment:
            raise ConfigError(
                (*key_path, "path"),
                f"path template segment {segment!r}: use a whole-segment {{name}}, * or **",
            )
        elif segment:
            last = index == len(segments) - 1
            parts.append("/" + re.escape(segment) + (_LAST_ALIAS if last else _ALIAS))
    regex = "".join(parts) or "/"
    if regex.startswith("(?:/[^/]+)*"):  # a template of only `/**` also matches the root
        regex = "/?" + regex
    return PathTemplate(path, _compile_methods(methods, key_path), re.compile(regex, re.IGNORECASE))


def _compile_methods(
    methods: str | Iterable[str] | None, key_path: KeyPath
) -> frozenset[str] | None:
    if methods is None:
        return None
    names = [methods] if isinstance(methods, str) else list(methods)
    result = set()
    for name in names:
        upper = name.upper()
        if not re.fullmatch(r"[A-Z]+", upper):
            raise ConfigError((*key_path, "method"), f"{name!r} is not an HTTP method")
        result.add(upper)
        if upper == "GET":
            result.add("HEAD")  # SPEC 3.2: HEAD matches as GET
    return frozenset(result)


def _strip_trailing_slash(path: str) -> str:
    return path.rstrip("/") or "/"
