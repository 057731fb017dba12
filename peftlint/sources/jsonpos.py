"""A JSON reader that keeps the position of every key and value (json itself keeps none).

``json.loads`` validates first (its errors carry line and column); this walk then mirrors the
document into ``Value`` trees using the json module's own string scanner.
"""

from __future__ import annotations

import json
import re
from json.decoder import scanstring

from peftlint.spec import Value
from peftlint.textpos import LineIndex

_NUMBER = re.compile(r"-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][-+]?\d+)?")
_WS = re.compile(r"[ \t\n\r]*")


def parse_json_with_positions(text: str) -> Value:
    """Parse ``text``; raises ``json.JSONDecodeError`` for invalid JSON."""
    json.loads(text)
    lines = LineIndex(text)
    value, _ = _parse(text, _skip(text, 0), lines)
    return value


def _skip(text: str, i: int) -> int:
    return _WS.match(text, i).end()


def _parse(text: str, i: int, lines: LineIndex) -> tuple[Value, int]:
    ch = text[i]
    if ch == "{":
        return _parse_object(text, i, lines)
    if ch == "[":
        return _parse_array(text, i, lines)
    if ch == '"':
        s, end = scanstring(text, i + 1)
        return Value(s, lines.span(i, end), kind="str"), end
    for lit, val, kind in (("true", True, "bool"), ("false", False, "bool"), ("null", None, "none")):
        if text.startswith(lit, i):
            return Value(val, lines.span(i, i + len(lit)), kind=kind), i + len(lit)
    for lit, val in (("NaN", float("nan")), ("Infinity", float("inf")), ("-Infinity", float("-inf"))):
        if text.startswith(lit, i):
            return Value(val, lines.span(i, i + len(lit)), kind="float"), i + len(lit)
    m = _NUMBER.match(text, i)
    raw = m.group(0)
    num: int | float = float(raw) if any(c in raw for c in ".eE") else int(raw)
    return Value(num, lines.span(i, m.end()), kind="float" if isinstance(num, float) else "int"), m.end()


def _parse_object(text: str, i: int, lines: LineIndex) -> tuple[Value, int]:
    start = i
    i = _skip(text, i + 1)
    keys: dict[str, Value] = {}
    plain: dict = {}
    members: dict[str, Value] = {}
    if text[i] == "}":
        i += 1
    else:
        while True:
            kstart = i
            key, i = scanstring(text, i + 1)
            kspan = lines.span(kstart, i)
            i = _skip(text, i)
            i = _skip(text, i + 1)  # ':'
            val, i = _parse(text, i, lines)
            keys[key] = Value(key, kspan, kind="str")
            members[key] = val
            plain[key] = val.value
            i = _skip(text, i)
            if text[i] == ",":
                i = _skip(text, i + 1)
                continue
            i += 1  # '}'
            break
    return Value(plain, lines.span(start, i), kind="dict", keys=keys, members=members), i


def _parse_array(text: str, i: int, lines: LineIndex) -> tuple[Value, int]:
    start = i
    i = _skip(text, i + 1)
    items: list[Value] = []
    if text[i] == "]":
        i += 1
    else:
        while True:
            val, i = _parse(text, i, lines)
            items.append(val)
            i = _skip(text, i)
            if text[i] == ",":
                i = _skip(text, i + 1)
                continue
            i += 1
            break
    return Value([it.value for it in items], lines.span(start, i), kind="list", items=items), i
