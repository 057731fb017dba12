"""Parse Python text with the stdlib ``ast``; never raises and never prints.

CPython's parser has hard limits (nesting, int literal digits) and fails cleanly with a
``SyntaxError``; its warnings (invalid escape sequences, ...) are the linted file's business and
are not shown.
"""

from __future__ import annotations

import ast
import gc
import sys
import warnings
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from peftlint.codes import Code
from peftlint.diagnostics import Span

if TYPE_CHECKING:
    from peftlint.sources.python.newer_syntax import Downlevel


# A MemoryError from parsing text this short is CPython's parser giving up on nesting (100,000 unary
# minus signs), not a lack of memory: parsing needs some 450 times the text's size.
_SMALL = 1_000_000


@dataclass
class ParseOutcome:
    """Either a module, or the code/message/span of the problem that prevented parsing."""

    tree: ast.Module | None
    code: str = ""
    message: str = ""
    span: Span = field(default_factory=lambda: Span(1, 1, 1, 1))
    # with a tree: a note (PFT908) that the file uses syntax newer than this Python, and where
    note: str = ""
    note_span: Span | None = None


def parse_python(text: str) -> ParseOutcome:
    """Parse ``text``; syntax errors and input too deep for CPython's parser become ``PFT902``, a
    parse that runs out of memory ``PFT907``.

    Syntax of a newer Python than this one is read through ``newer_syntax`` (libcst): the tree
    comes with a ``PFT908`` note naming the version the file needs, never an error."""
    try:
        with warnings.catch_warnings(), no_gc():
            warnings.simplefilter("ignore")
            return ParseOutcome(ast.parse(text))
    except SyntaxError as exc:  # includes IndentationError / TabError
        newer = _newer(text, exc)
        if newer is not None:
            return newer
        return ParseOutcome(None, Code.SYNTAX_ERROR, f"cannot parse: {exc.msg or exc}", _span_of(exc))
    except ValueError as exc:  # "source code string cannot contain null bytes" on some versions
        return ParseOutcome(None, Code.SYNTAX_ERROR, f"cannot parse: {exc}", Span(1, 1, 1, 1))
    except RecursionError:  # CPython's own compiler stops the same way ("maximum recursion depth exceeded")
        return ParseOutcome(None, Code.SYNTAX_ERROR, "cannot parse: the code nests too deeply for Python's parser "
                                                     "(CPython cannot compile it either)")
    except MemoryError:
        if len(text) < _SMALL:  # CPython's parser stack overflowed: compile() raises MemoryError on it too
            return ParseOutcome(None, Code.SYNTAX_ERROR, "cannot parse: the code nests too deeply for Python's "
                                                         "parser (CPython cannot compile it either)")
        return ParseOutcome(None, Code.FILE_NOT_READ, "not read: parsing this file needs more memory than is available")


class no_gc:
    """The cyclic garbage collector paused for a block that only allocates objects it keeps.

    Building a tree of a large file allocates tens of thousands of nodes and lists, none of them
    garbage, but each 700 allocations start a collection that scans the young objects again (and
    now and then every object of the process: a warm linter holds hundreds of thousands). Nothing
    here forms a cycle that must be collected, so pausing changes nothing but the time: ``ast.parse``
    of a 200 KB file took ~20 % less CPU."""

    def __enter__(self) -> None:
        self.enabled = gc.isenabled()
        gc.disable()

    def __exit__(self, *exc: object) -> None:
        if self.enabled:
            gc.enable()


def _span_of(exc: SyntaxError) -> Span:
    line = exc.lineno or 1
    col = exc.offset if exc.offset and exc.offset > 0 else 1
    end_line = getattr(exc, "end_lineno", None) or line
    end_col = getattr(exc, "end_offset", None) or 0
    if end_line < line or (end_line == line and end_col <= col):
        return Span.point(line, col)
    return Span(line, col, end_line, end_col)


def _newer(text: str, exc: SyntaxError) -> ParseOutcome | None:
    """The file read through ``newer_syntax`` when it is valid for a newer Python, else None."""
    from peftlint.sources.python.newer_syntax import downlevel_bounded, looks_newer

    if not looks_newer(text, exc):
        return None
    found = downlevel_bounded(text)
    if found is None:
        return None
    first_line = found.uses[0][2]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tree = ast.parse(found.text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return ParseOutcome(None, Code.NEWER_SYNTAX, newer_note(found, linted=False), Span.point(first_line, 1))
    _mark_placeholders(tree, found.placeholders)
    return ParseOutcome(tree, note=newer_note(found), note_span=Span.point(first_line, 1))


def newer_note(found: Downlevel, linted: bool = True, offset: int = 0, what_text: str = "file") -> str:
    """The PFT908 message: the version the text needs, the constructs and their lines (plus
    ``offset``: a notebook cell's first line in the notebook's program)."""
    running = f"{sys.version_info[0]}.{sys.version_info[1]}"
    lines_of: dict[str, list[int]] = {}
    for _, d, line in found.uses:
        lines_of.setdefault(d, []).append(line + offset)
    what = "; ".join(f"{d}, line{'s' if len(ls) > 1 else ''} {', '.join(map(str, sorted(set(ls))[:5]))}"
                     for d, ls in lines_of.items())
    if not linted:
        return (f"this {what_text} needs Python {found.version}+ ({what}); peftlint runs on Python {running}, whose "
                "parser cannot read it: the file was not linted. Run peftlint on a newer Python to lint it")
    return (f"this {what_text} needs Python {found.version}+ ({what}); peftlint runs on Python {running} and read "
            "those expressions as unknown values, so what depends on them was not checked")


NEWER_SYNTAX_ATTR = "peftlint_newer_syntax"


def _mark_placeholders(tree: ast.Module, placeholders: dict[tuple[int, int], tuple[int, int, str]]) -> None:
    """The ``(...)`` that stand for newer expressions span the original text again and say what
    they were (``evaluate`` reads the mark)."""
    if not placeholders:
        return
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and node.value is Ellipsis:
            start = (node.lineno, node.col_offset - 1)
            found = placeholders.get(start) or placeholders.get((node.lineno, node.col_offset))
            if found is None:
                continue
            node.col_offset = start[1] if start in placeholders else node.col_offset
            node.end_lineno, node.end_col_offset, what = found
            setattr(node, NEWER_SYNTAX_ATTR, what)
