"""One index between character offsets and 1-based (line, column) positions of a text.

Lines end at ``\\r\\n``, a lone ``\\r`` or ``\\n``: Python's compiler (``ast`` line numbers), libyaml and
the Language Server Protocol all break lines there, so a line number means the same line to the
reader that recorded it, to the fix code and to an editor. ``str.splitlines`` is not used: it also
breaks at form feeds, ``\\x1c``-``\\x1e``, ``\\x85`` and U+2028/U+2029, which Python does not. YAML
positions are taken from a mark's character index, never from its own line count (libyaml also
breaks at ``\\x85`` and U+2028). Columns count characters. Used by every reader that records spans
and by the fix code that turns spans back into offsets.
"""

from __future__ import annotations

import bisect
import re
from itertools import accumulate

from peftlint.diagnostics import Span

LINE_BREAK = re.compile(r"\r\n|\r|\n")
_LAST: list["LineIndex | None"] = [None]


def split_lines(text: str) -> list[str]:
    """The lines of ``text`` as :class:`LineIndex` numbers them (without their line ends); shared
    with the index of the same string (do not modify)."""
    return LineIndex.of(text).lines


class LineIndex:
    def __init__(self, text: str) -> None:
        self.text = text
        if "\r" in text:
            self.lines = LINE_BREAK.split(text)
            self.starts = [0] + [m.end() for m in LINE_BREAK.finditer(text)]
        else:  # only "\n": each line starts one past the end of the one before
            self.lines = text.split("\n")
            self.starts = [0, *accumulate(len(line) + 1 for line in self.lines[:-1])]

    @classmethod
    def of(cls, text: str) -> "LineIndex":
        """The index of ``text``, shared by consecutive callers on the same string (fix builders are
        called once per finding: building the index each time made many findings in one file quadratic)."""
        last = _LAST[0]
        if last is not None and last.text is text:
            return last
        index = cls(text)
        _LAST[0] = index
        return index

    def offset(self, line: int, column: int) -> int:
        """The offset of a 1-based position; raises IndexError for a line the text does not have."""
        if line < 1:
            raise IndexError(line)
        return self.starts[line - 1] + column - 1

    def pos(self, offset: int) -> tuple[int, int]:
        i = bisect.bisect_right(self.starts, offset) - 1
        return i + 1, offset - self.starts[i] + 1

    def span(self, start: int, end: int) -> Span:
        return Span(*self.pos(start), *self.pos(end))

    def slice(self, span: Span) -> str:
        """The text a span covers, or "" when the span lies outside the text."""
        try:
            return self.text[self.offset(span.line, span.column):self.offset(span.end_line, span.end_column)]
        except IndexError:
            return ""
