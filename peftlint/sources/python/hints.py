"""``# peftlint: model=ID`` comments that name a config's base model."""

from __future__ import annotations

import ast
import re

from peftlint.diagnostics import Span
from peftlint.sources.python.program import Program
from peftlint.spec import ModelRef

HINT_HOW = "# peftlint: model= comment"

_HINT = re.compile(r"peftlint:\s*model\s*=\s*(\"[^\"]*\"|'[^']*'|[^\s#,;]+)")


def find_hint(p: Program, call: ast.Call, base_dir: str | None) -> ModelRef | None:
    """The hint in a comment on the call's first line, its statement's first line, or in the
    contiguous comment block right above either."""
    lines = list(dict.fromkeys([p.line(call), p.line(p.enclosing_statement(call))]))
    for line in lines:
        for text in p.comments_on(line):
            found = _hint_in(p, text, line, base_dir)
            if found is not None:
                return found
    for line in lines:
        ln = line - 1
        while 1 <= ln <= len(p.lines) and p.lines[ln - 1].lstrip().startswith("#"):
            found = _hint_in(p, p.lines[ln - 1], ln, base_dir)
            if found is not None:
                return found
            ln -= 1
    return None


def _hint_in(p: Program, text: str, line: int, base_dir: str | None) -> ModelRef | None:
    m = _HINT.search(text)
    if m is None:
        return None
    ref = m.group(1).strip("'\"")
    if not ref:
        return None
    raw = p.lines[line - 1] if 0 < line <= len(p.lines) else text
    col = raw.find(m.group(0))
    col = col + 1 if col >= 0 else 1
    span = Span(line, col, line, col + len(m.group(0)))
    return ModelRef(ref=ref, how=HINT_HOW, span=span, base_dir=base_dir)
