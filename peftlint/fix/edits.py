"""Text edits for fixes: rules build them from the spans the readers recorded (format-preserving,
so comments, quotes, trailing commas and the layout of a list survive, in Python and JSON alike),
and ``apply_edits`` applies them. Pure functions of text; nothing here touches files."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Sequence

from peftlint.diagnostics import Edit
from peftlint.textpos import LineIndex

if TYPE_CHECKING:
    from peftlint.spec import Value


_BLANK = re.compile(r"[ \t\r\f\v]*")  # whitespace within a line


# -- edit builders for rules ---------------------------------------------------------------------

def _is_plain_string(src: str, value: str) -> str | None:
    """The quote character when ``src`` is exactly a simple literal of ``value`` ('x' or "x")."""
    if len(src) >= 2 and src[0] == src[-1] and src[0] in "'\"" and src[1:-1] == value and "\\" not in src:
        return src[0]
    return None


def replace_string_edit(path: str, text: str, item: "Value", new: str) -> Edit | None:
    """Replace a plain string literal by another name, keeping its quote style; None if not plain."""
    quote = _is_plain_string(LineIndex.of(text).slice(item.span), str(item.value))
    if quote is None or quote in new or "\\" in new:
        return None
    return Edit(path, item.span, f"{quote}{new}{quote}")


def _blank_end(text: str, i: int) -> int:
    """Where the blanks of a line that start at ``i`` end."""
    m = _BLANK.match(text, i)
    assert m is not None  # the pattern matches the empty string
    return m.end()


def _skip_blank(text: str, i: int, comments: bool) -> int:
    """Skip whitespace (and ``#`` comments in Python) from ``i``; returns the next significant offset."""
    while i < len(text):
        if text[i] in " \t\r\n\\":
            i += 1
        elif comments and text[i] == "#":
            while i < len(text) and text[i] not in "\r\n":  # a comment ends at any line end
                i += 1
        else:
            break
    return i


def remove_item_edit(path: str, text: str, items: Sequence["Value"], index: int, *,
                     python: bool = True, container: str = "list") -> tuple[Edit, ...] | None:
    """Edits deleting ``items[index]`` from its list with one comma, keeping the list's layout.

    An item alone on its line goes with its whole line (and the comment after it); an inline item
    goes with the comma before it (or, first in the list, the comma after it). The last item never
    leaves a dangling comma behind it in JSON. Returns None when the text around the item is not
    what a list looks like (then no fix is offered).
    """
    if not 0 <= index < len(items) or len(items) < 2:
        return None
    if container == "tuple" and len(items) == 2:
        return None  # ("a", "a") -> ("a") would be a string, not a tuple
    o = LineIndex.of(text)
    try:
        start = o.offset(items[index].span.line, items[index].span.column)
        end = o.offset(items[index].span.end_line, items[index].span.end_column)
        prev_end = o.offset(items[index - 1].span.end_line, items[index - 1].span.end_column) if index else None
    except IndexError:
        return None
    after = _skip_blank(text, end, python)
    has_comma = after < len(text) and text[after] == ","
    is_last = index == len(items) - 1
    if not is_last and not has_comma:
        return None
    # Positions come from the line index and scans stop at the first non-blank character, so this
    # stays cheap for every item of a list written on one very long line.
    line_start = o.starts[o.pos(start)[0] - 1]
    tail_from = after + 1 if has_comma else end
    tail_line = o.pos(tail_from)[0]
    eol = o.starts[tail_line] - 1 if tail_line < len(o.starts) else len(text)
    first = _blank_end(text, tail_from)  # first non-blank character after the item (and comma)
    tail_ok = first >= eol or (python and text[first] == "#")
    alone = _blank_end(text, line_start) >= start and "\n" not in text[end:tail_from] and tail_ok
    if alone and eol < len(text):
        whole_line = Edit(path, o.span(line_start, eol + 1), "")
        if has_comma or prev_end is None:
            return (whole_line,)
        comma = _skip_blank(text, prev_end, python)  # the last item goes: drop the comma before it
        if text[comma:comma + 1] != "," or comma >= line_start:
            return None
        return (Edit(path, o.span(comma, comma + 1), ""), whole_line)
    if prev_end is not None and "\n" not in text[prev_end:start]:
        return (Edit(path, o.span(prev_end, end), ""),)
    if has_comma and not is_last:
        nxt = after + 1
        while nxt < len(text) and text[nxt] in " \t":
            nxt += 1
        return (Edit(path, o.span(start, nxt), ""),)
    return None


def apply_edits(text: str, edits: list[Edit]) -> str:
    """Apply non-overlapping edits (later ones first); an edit overlapping an applied one is skipped."""
    o = LineIndex.of(text)
    ranges = sorted({(o.offset(e.span.line, e.span.column), o.offset(e.span.end_line, e.span.end_column), e.content)
                     for e in edits}, reverse=True)
    kept: list[tuple[int, int, str]] = []
    last_start = len(text) + 1
    for a, b, content in ranges:
        if b > last_start:
            continue
        kept.append((a, b, content))
        last_start = a
    parts: list[str] = []
    pos = 0
    for a, b, content in reversed(kept):  # one pass over the text, however many edits
        parts += [text[pos:a], content]
        pos = b
    parts.append(text[pos:])
    return "".join(parts)
