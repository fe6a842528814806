"""JSON held as text: a selector that reaches such a string walks on inside it (SPEC 3.2).

Some APIs nest JSON as a string (`"payload": "{\\"email\\": \\"jane@example.com\\"}"`). A compiled
step that needs an object or an array (a field, an index, a slice, `*`, a filter, or `..` where it
starts) and meets a string holding a JSON object or array parses it and applies itself, and the
rest of the path, to the parsed value. `..` does not open the strings it passes on its way down:
checking every string of every document would cost every request ~10% more masking time, so a
rule names the field that holds the text (`$..payload.email`, `$.payload..email`). A `find` just
reads the parsed copy. A transform parses each string once per walk (`OpenedTexts`), writes into
the parsed value, and when the walk is over writes every parsed value that changed back as compact
JSON text, in the same location; a string it left unchanged keeps its exact bytes.

What counts as JSON text: a string whose first character other than JSON whitespace is `{` or `[`
and that parses as a JSON object or array. Anything else (`"[photo]"`, `"{name}"`, a truncated
document) is an ordinary string: the path selects nothing inside it, and it stays whatever the other
rules and the residual sentinel make of it. It is deliberately not a fail-closed case: chat text
starting with a bracket is common, and an unparsable string has no members a path could name.
"""

from __future__ import annotations

from typing import Any, Final

from gateway import json_codec

_HEADS: Final = frozenset("{[ \t\r\n")  # first characters of a string that may hold JSON
_OPENERS: Final = frozenset("{[")


class _NotJson:
    __slots__ = ()

    def __repr__(self) -> str:
        return "NOT_JSON"


NOT_JSON: Final[Any] = _NotJson()
"""What `json_text` returns for a string that holds no JSON object or array."""


def json_text(value: str) -> Any:
    """The object or array `value` holds as JSON text, or `NOT_JSON`."""
    head = value[:1]
    if head not in _OPENERS and (head not in _HEADS or value.lstrip(" \t\r\n")[:1] not in _OPENERS):
        return NOT_JSON
    try:
        parsed = json_codec.loads(value)
    except ValueError:
        return NOT_JSON
    return parsed if isinstance(parsed, dict | list) else NOT_JSON


def open_text(container: Any, key: Any, text: str, sink: Any) -> list[Any] | None:
    """A one-element list holding what the string `container[key]` holds as JSON, or None.

    A transform's sink is the bound method of an object whose `texts` are `OpenedTexts`: the
    parse is shared and written back. Any other sink (a `find`) only reads a fresh parse.
    """
    texts = getattr(getattr(sink, "__self__", None), "texts", None)
    if isinstance(texts, OpenedTexts):
        return texts.open(container, key, text)
    parsed = json_text(text)
    return None if parsed is NOT_JSON else [parsed]


class _Opened:
    __slots__ = ("container", "holder", "key", "text")

    def __init__(self, container: Any, key: Any, text: str, holder: list[Any]) -> None:
        self.container, self.key, self.text, self.holder = container, key, text, holder


class OpenedTexts:
    """The JSON texts one transform walk opened, to be written back when the walk ends.

    Each location is parsed once, so a location inside it reached twice is the same object both
    times (the walk's once-per-location rule holds inside text too).
    """

    __slots__ = ("_opened",)

    def __init__(self) -> None:
        self._opened: dict[tuple[int, Any], _Opened] = {}

    def open(self, container: Any, key: Any, text: str) -> list[Any] | None:
        """A one-element list holding the parsed value of `container[key]`, or None."""
        mark = (id(container), key)
        entry = self._opened.get(mark)
        if entry is not None and entry.text is text:
            return entry.holder
        parsed = json_text(text)
        if parsed is NOT_JSON:
            return None
        holder = [parsed]
        # The entry keeps the container alive, so its id is not reused during the walk.
        self._opened[mark] = _Opened(container, key, text, holder)
        return holder

    def __bool__(self) -> bool:
        return bool(self._opened)

    def write_back(self, gone: Any) -> None:
        """Write every changed value back as text, innermost first; `gone` marks removed list
        elements (compacted here inside the text; the caller compacts the rest later)."""
        for entry in reversed(list(self._opened.values())):
            container, key = entry.container, entry.key
            # PII: a location the walk replaced as a whole (a mask on the string itself) keeps
            # that replacement; the parsed copy is only written where the text still stands.
            # List positions are still the original ones here: compaction comes later.
            current = container.get(key, gone) if isinstance(container, dict) else container[key]
            if current is not entry.text:
                continue
            value = entry.holder[0]
            if value is gone:
                continue
            _compact(value, gone)
            new = json_codec.dumps(value).decode()
            if new != json_codec.dumps(json_text(entry.text)).decode():
                container[key] = new


def _compact(value: Any, gone: Any) -> None:
    stack = [value]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            stack.extend(node.values())
        elif isinstance(node, list):
            if any(item is gone for item in node):
                node[:] = [item for item in node if item is not gone]
            stack.extend(node)


__all__ = ["NOT_JSON", "OpenedTexts", "json_text", "open_text"]
