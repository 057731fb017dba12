"""A JSON reader that keeps the position of every key and value (json itself keeps none).

``json.loads`` validates first (its errors carry line and column); this walk then mirrors the
document into ``Value`` trees using the json module's own string scanner.
"""

from __future__ import annotations

import json
import re
import sys
from json.decoder import scanstring  # type: ignore[attr-defined]  # public since Python 2.6, not in typeshed

from peftlint.spec import Value
from peftlint.textpos import LineIndex

_NUMBER = re.compile(r"-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][-+]?\d+)?")
_WS = re.compile(r"[ \t\n\r]*")


# Below this depth every element keeps its position; deeper subtrees (no PEFT field is nested that
# deep) are read whole by the json module, so the walk's own recursion stays shallow.
POSITION_DEPTH = 32


class JSONLimitError(ValueError):
    """Valid JSON that Python's json module (and so PEFT, nbformat, ...) cannot read: an integer
    longer than Python converts, or nesting deeper than its recursion limit."""

    def __init__(self, msg: str, doc: str, pos: int) -> None:
        lines = LineIndex(doc)
        self.msg, self.pos = msg, pos
        self.lineno, self.colno = lines.pos(pos) if doc else (1, 1)
        super().__init__(f"{msg}: line {self.lineno} column {self.colno} (char {pos})")


def parse_json_with_positions(text: str) -> Value:
    """Parse ``text``; raises ``json.JSONDecodeError`` for invalid JSON and :class:`JSONLimitError`
    for JSON that Python's json module cannot read (huge integers, extreme nesting)."""
    try:
        json.loads(text)
    except RecursionError:
        raise JSONLimitError("nested more deeply than Python's json module can read", text, _deep_point(text)) from None
    except json.JSONDecodeError:
        raise
    except ValueError as exc:  # int too long for int(): no position from json; the walk below finds it
        first = _long_int(text)
        raise JSONLimitError(str(exc).split(";")[0].strip() or "a number Python cannot read", text, first) from None
    lines = LineIndex(text)
    try:
        value, _ = _parse(text, _skip(text, 0), lines)
    except RecursionError:  # json.loads just fit; a subtree read from deeper in the stack did not
        raise JSONLimitError("nested more deeply than Python's json module can read", text, _deep_point(text)) from None
    return value


def _outside_strings(text: str):
    """(offset, character) of each character of JSON ``text`` outside string literals, with the
    opening quote of each string (so a scan can tell a value ended there)."""
    in_str, esc = False, False
    for i, ch in enumerate(text):
        if in_str:
            if esc:
                esc = False
            elif ch == "\\":
                esc = True
            elif ch == '"':
                in_str = False
        else:
            if ch == '"':
                in_str = True
            yield i, ch


def _deep_point(text: str, depth: int = 500) -> int:
    """Offset of the first bracket more than ``depth`` levels deep (outside strings), else 0."""
    level = 0
    for i, ch in _outside_strings(text):
        if ch in "[{":
            level += 1
            if level > depth:
                return i
        elif ch in "]}":
            level -= 1
    return 0


def _long_int(text: str) -> int:
    """Offset of the first integer literal (outside strings) longer than Python's int conversion limit."""
    limit = sys.get_int_max_str_digits() if hasattr(sys, "get_int_max_str_digits") else 4300
    run_start, last = -1, -2
    for i, ch in _outside_strings(text):
        if ch.isdigit():
            if run_start < 0 or last != i - 1:
                run_start = i
            last = i
            if limit and i - run_start + 1 > limit:
                return run_start - (1 if run_start and text[run_start - 1] == "-" else 0)
        else:
            run_start = -1
    return 0


def _skip(text: str, i: int) -> int:
    m = _WS.match(text, i)
    assert m is not None  # the pattern matches the empty string
    return m.end()


_DECODER = json.JSONDecoder()


def _parse(text: str, i: int, lines: LineIndex, depth: int = 0) -> tuple[Value, int]:
    ch = text[i]
    if ch in "{[" and depth >= POSITION_DEPTH:
        whole, end = _DECODER.raw_decode(text, i)
        return Value(whole, lines.span(i, end), kind="dict" if ch == "{" else "list"), end
    if ch == "{":
        return _parse_object(text, i, lines, depth + 1)
    if ch == "[":
        return _parse_array(text, i, lines, depth + 1)
    if ch == '"':
        s, end = scanstring(text, i + 1)
        return Value(s, lines.span(i, end), kind="str"), end
    for lit, val, kind in (("true", True, "bool"), ("false", False, "bool"), ("null", None, "none")):
        if text.startswith(lit, i):
            return Value(val, lines.span(i, i + len(lit)), kind=kind), i + len(lit)
    for lit, special in (("NaN", float("nan")), ("Infinity", float("inf")), ("-Infinity", float("-inf"))):
        if text.startswith(lit, i):
            return Value(special, lines.span(i, i + len(lit)), kind="float"), i + len(lit)
    m = _NUMBER.match(text, i)
    assert m is not None  # json.loads read the text: what is left here is a number
    raw = m.group(0)
    num: int | float = float(raw) if any(c in raw for c in ".eE") else int(raw)
    return Value(num, lines.span(i, m.end()), kind="float" if isinstance(num, float) else "int"), m.end()


def _parse_object(text: str, i: int, lines: LineIndex, depth: int) -> tuple[Value, int]:
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
            val, i = _parse(text, i, lines, depth)
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


def _parse_array(text: str, i: int, lines: LineIndex, depth: int) -> tuple[Value, int]:
    start = i
    i = _skip(text, i + 1)
    items: list[Value] = []
    if text[i] == "]":
        i += 1
    else:
        while True:
            val, i = _parse(text, i, lines, depth)
            items.append(val)
            i = _skip(text, i)
            if text[i] == ",":
                i = _skip(text, i + 1)
                continue
            i += 1
            break
    return Value([it.value for it in items], lines.span(start, i), kind="list", items=items), i
