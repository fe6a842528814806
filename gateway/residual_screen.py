"""The document's JSON texts for the residual pass's whole-document screens (SPEC 3.9).

Known values and the sentinel read every string of a masked document; calling them string by
string costs ~30 ms per fresh 500-message history, although most documents hold nothing for
either. Both questions are answered for the whole document first, on its JSON text:

- `screen_texts`: the document serialised by orjson as it is (`full`) and with the strings the
  sentinel never reads blanked (`unread`: rule outputs marked `Exempt`, see `gateway.exempt`);
- `gateway.known_screen.KnownScreen.may_recur(full)`: can a known value recur?
- `gateway.sentinel_screen.SentinelScreen.may_find(unread)`: can the detector find anything?

Each screen is a superset of the per-string test it stands for: JSON escapes are read as the
spaces they may stand for (`spaced`, offsets kept), and what a screen cannot read makes it say
yes. When both say no the document is returned as it is; otherwise `gateway.sentinel` walks it.
"""

from __future__ import annotations

import re
from typing import Any, Final, NamedTuple

import orjson

from gateway.exempt import Exempt

# A JSON escape: `\\` stays (so the text stays valid JSON), the others become spaces.
_ESCAPE: Final = re.compile(r"\\(?:\\|[bfnrt]|u00[0-9a-fA-F]{2})")


class ScreenTexts(NamedTuple):
    full: str  # the document's JSON text
    unread: str  # the same with every `Exempt` string blanked
    body: bytes  # `full` as orjson wrote it: the response body, when nothing changes after


def screen_texts(document: Any) -> ScreenTexts | None:
    """The document's two JSON texts; None when orjson cannot write it (the walk decides)."""
    try:
        body = orjson.dumps(document)
        unread = orjson.dumps(
            document, default=_blank, option=orjson.OPT_PASSTHROUGH_SUBCLASS
        ).decode()
    except TypeError:  # an integer beyond 64 bits, a value of another type
        return None
    return ScreenTexts(body.decode(), unread, body)


def _blank(value: Any) -> Any:
    if isinstance(value, Exempt):
        return ""
    if isinstance(value, str):
        return str.__str__(value)
    if isinstance(value, dict):
        return dict(value)
    if isinstance(value, list):
        return list(value)
    if isinstance(value, int):
        return int(value)
    raise TypeError(type(value).__name__)


def spaced(text: str) -> str:
    """`text` with every JSON escape that may stand for whitespace (or a control character)
    read as a space, so digit groups and words stay as the strings hold them."""
    return _ESCAPE.sub(_space, text) if "\\" in text else text


def _space(match: re.Match[str]) -> str:
    escape = match.group()
    return escape if escape == "\\\\" else " " * len(escape)  # offsets stay
