"""``# noqa: PFT101`` on a line, ``# peftlint: noqa`` for a whole file, and per-file-ignores."""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass, field

from peftlint.config import prefix_hit
from peftlint.diagnostics import Span
from peftlint.textpos import split_lines

_NOQA = re.compile(r"#\s*noqa(?P<sep>\s*:\s*(?P<codes>[A-Za-z]+[0-9][A-Za-z0-9]*(?:\s*[,\s]\s*[A-Za-z]+[0-9][A-Za-z0-9]*)*))?", re.I)
_FILE_NOQA = re.compile(r"#\s*peftlint\s*:\s*noqa(?:\s*:\s*(?P<codes>[A-Za-z]+[0-9][A-Za-z0-9]*(?:\s*[,\s]\s*[A-Za-z]+[0-9][A-Za-z0-9]*)*))?", re.I)


@dataclass
class NoqaComment:
    """A ``# noqa`` comment: where it is and the codes it names."""

    line: int
    column: int
    end_column: int
    codes: list[str] | None  # None = blanket
    used: set[str] = field(default_factory=set)
    lead: int = 0  # 1-based column where the blanks before the comment start (0: unknown)
    alone: bool = False  # nothing follows the comment on its line (removing it leaves no dangling text)


@dataclass
class Suppressions:
    """The ``# noqa`` comments of one file, by line and for the whole file."""

    lines: dict[int, NoqaComment] = field(default_factory=dict)
    file_codes: list[str] | None = None  # [] = whole file suppressed
    file_noqa: bool = False
    file_comment: Span | None = None  # where the file-level comment is (a code there may be a typo)

    def suppresses(self, code: str, lines: tuple[int, ...]) -> bool:
        if self.file_noqa and (not self.file_codes or prefix_hit(code, self.file_codes)):
            return True
        for ln in lines:
            c = self.lines.get(ln)
            if c is not None and (c.codes is None or prefix_hit(code, c.codes)):
                c.used.add(code)
                return True
        return False


def _split(codes: str | None) -> list[str] | None:
    if not codes:
        return None
    return [c for c in re.split(r"[,\s]+", codes.strip()) if c]


def parse_suppressions(text: str) -> Suppressions:
    """Comments are recognised by their ``#``; a ``#`` inside a string rarely says ``noqa``."""
    sup = Suppressions()
    for i, line in enumerate(split_lines(text), start=1):
        if "#" not in line:
            continue
        fm = _FILE_NOQA.search(line)
        if fm:
            sup.file_noqa = True
            sup.file_codes = _split(fm.group("codes")) or []
            sup.file_comment = Span(i, fm.start() + 1, i, fm.end() + 1)
            continue
        m = _NOQA.search(line)
        if m:
            lead = len(line[: m.start()].rstrip()) + 1
            sup.lines[i] = NoqaComment(i, m.start() + 1, m.end() + 1, _split(m.group("codes")), lead=lead,
                                       alone=not line[m.end():].strip())
    return sup


def per_file_ignored(code: str, path: str, per_file_ignores: dict[str, list[str]]) -> bool:
    for pattern, codes in per_file_ignores.items():
        if fnmatch.fnmatch(path, pattern) or fnmatch.fnmatch(path.rsplit("/", 1)[-1], pattern):
            if prefix_hit(code, codes):
                return True
    return False
