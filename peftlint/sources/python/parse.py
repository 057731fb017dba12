"""Parse Python text with the stdlib ``ast``; never raises and never prints.

CPython's parser has hard limits (nesting, int literal digits) and fails cleanly with a
``SyntaxError``; its warnings (invalid escape sequences, ...) are the linted file's business and
are not shown.
"""

from __future__ import annotations

import ast
import warnings
from dataclasses import dataclass, field

from peftlint.codes import Code
from peftlint.diagnostics import Span


@dataclass
class ParseOutcome:
    """Either a module, or the code/message/span of the problem that prevented parsing."""

    tree: ast.Module | None
    code: str = ""
    message: str = ""
    span: Span = field(default_factory=lambda: Span(1, 1, 1, 1))


def parse_python(text: str) -> ParseOutcome:
    """Parse ``text``; syntax errors become ``PFT902``, input too deep for CPython ``PFT999``."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return ParseOutcome(ast.parse(text))
    except SyntaxError as exc:  # includes IndentationError / TabError
        return ParseOutcome(None, Code.SYNTAX_ERROR, f"cannot parse: {exc.msg or exc}", _span_of(exc))
    except ValueError as exc:  # "source code string cannot contain null bytes" on some versions
        return ParseOutcome(None, Code.SYNTAX_ERROR, f"cannot parse: {exc}", Span(1, 1, 1, 1))
    except (RecursionError, MemoryError):
        return ParseOutcome(None, Code.INTERNAL_ERROR, "the file is nested too deeply to be analysed statically")


def _span_of(exc: SyntaxError) -> Span:
    line = exc.lineno or 1
    col = exc.offset if exc.offset and exc.offset > 0 else 1
    end_line = getattr(exc, "end_lineno", None) or line
    end_col = getattr(exc, "end_offset", None) or 0
    if end_line < line or (end_line == line and end_col <= col):
        return Span.point(line, col)
    return Span(line, col, end_line, end_col)
