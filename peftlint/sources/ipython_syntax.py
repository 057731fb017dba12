"""One notebook cell with IPython syntax → Python lines that keep the cell's line numbers.

What IPython accepts besides Python, and what it becomes here (IPython's own transforms in
``IPython.core.inputtransformer2`` are the reference; ``tests/sources/test_ipython_syntax.py``
compares both):

- a cell magic on the first line (``%%bash``, ``%%writefile``, ...): the cell is not Python and is
  left out, except the magics whose body is Python (``%%time``, ``%%capture``, ...);
- at the start of a logical line (after indentation, outside brackets, strings and ``\\``
  continuations): ``!cmd``, ``%magic``, ``?obj``, ``obj?``, autocall escapes (``/f a``) become
  ``pass`` at the same indentation (so an enclosing block stays valid), and the lines a trailing
  ``\\`` continues become empty;
- ``x = !cmd`` and ``x = %magic`` keep the assignment: ``x = get_ipython()`` (a value computed at
  runtime, as it is);
- ``%time stmt`` and ``%timeit [options] stmt`` keep ``stmt`` (it runs; it may load the model);
- a first line indented by some whitespace removes it from every line (IPython's ``leading_indent``).

Lines keep their numbers; a line whose text moved left records the shift, so positions found in
the Python text map back to the cell. A cell that is still not Python is blanked and the parse
error is returned, so the rest of the notebook is read without it.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from peftlint.sources.python.newer_syntax import Downlevel

# Cell magics whose body is Python that runs in the notebook's namespace.
PYTHON_CELL_MAGICS = frozenset({"time", "timeit", "capture", "prun", "debug", "python", "python3"})
# Line magics followed by a Python statement that runs in the notebook's namespace.
_STATEMENT_MAGICS = frozenset({"time", "timeit"})
_ESCAPES = ("!", "%", "?", "/", ",", ";")
_ASSIGN = re.compile(r"[A-Za-z_][\w.]*(?:\s*,\s*[A-Za-z_][\w.]*)*\s*=\s*(?=[!%])")
_MAGIC_NAME = re.compile(r"%+([A-Za-z_][\w.]*)")
_TIMEIT_OPTIONS = re.compile(r"(?:-(?:[nrp]\s*\S+|[tcqo]+)\s+)*")  # %timeit [-n<N> -r<R> -t -c -p<P> -q -o]


@dataclass
class CellPython:
    lines: list[str]  # one Python line per cell line, without line ends
    shifts: list[int]  # Python column c of line k is cell column c + shifts[k]
    error: tuple[int, int, str] | None = None  # (line, column, message) when the cell is not Python
    # when the cell is Python of a newer version: what newer_syntax rewrote (PFT908)
    newer: Downlevel | None = None
    magic: str = ""  # the cell magic, if any
    rewritten: list[int] = field(default_factory=list)  # 0-based lines that were IPython syntax


def cell_to_python(lines: list[str]) -> CellPython:
    """``lines``: the cell's lines without line ends."""
    out = CellPython(list(lines), [0] * len(lines))
    first = next((k for k, ln in enumerate(lines) if ln.strip()), None)
    if first is None:
        return out
    body_start = first
    if lines[first].lstrip().startswith("%%"):
        m = _MAGIC_NAME.match(lines[first].lstrip())
        out.magic = m.group(1) if m else ""
        out.lines[first] = ""
        out.rewritten.append(first)
        if out.magic not in PYTHON_CELL_MAGICS:
            out.lines = [""] * len(lines)
            out.rewritten = list(range(len(lines)))
            return out
        body_start = first + 1
    else:
        indent = lines[first][: len(lines[first]) - len(lines[first].lstrip())]
        if indent:
            for k in range(first, len(lines)):
                if out.lines[k].startswith(indent):
                    out.lines[k] = out.lines[k][len(indent):]
                    out.shifts[k] = len(indent)
    _rewrite(out, body_start)
    try:
        ast.parse("\n".join(out.lines) + "\n")
    except SyntaxError as exc:
        if _newer(out, exc):
            return out
        k = max(1, min(exc.lineno or 1, len(lines)))
        out.error = (k, max(1, exc.offset or 1), exc.msg or "invalid syntax")
        out.lines = [""] * len(lines)
    except (ValueError, RecursionError, MemoryError) as exc:  # lone surrogates, nesting too deep for CPython
        why = "it nests too deeply for Python's parser" if isinstance(exc, RecursionError) else (
            "it is too large to parse" if isinstance(exc, MemoryError) else str(exc).split(":")[-1].strip() or "invalid text")
        out.error = (1, 1, why)
        out.lines = [""] * len(lines)
    return out


def _rewrite(out: CellPython, start: int) -> None:
    quote: str | None = None  # the open string's quotes at the end of the previous line
    depth = 0  # open brackets
    continued = False  # the previous line ended with a backslash
    k = start
    lines = out.lines
    while k < len(lines):
        line = lines[k]
        if quote is None and depth == 0 and not continued:
            stripped = line.lstrip()
            indent = line[: len(line) - len(stripped)]
            new = _ipython_line(indent, stripped)
            if new is not None:
                out.rewritten.append(k)
                lines[k], shift = new
                out.shifts[k] += shift
                end = k
                while line.endswith("\\") and end + 1 < len(lines):
                    end += 1
                    line = lines[end]
                    lines[end] = ""
                    out.rewritten.append(end)
                k = end + 1
                continue
            after = _scan(line, None, 0)
            if after[3].endswith("?") and after[:3] == (None, 0, False):
                lines[k] = indent + "pass"  # ``obj?``: help
                out.rewritten.append(k)
                k += 1
                continue
        quote, depth, continued, _ = _scan(line, quote, depth)
        k += 1


def _ipython_line(indent: str, stripped: str) -> tuple[str, int] | None:
    """The Python for a logical line that starts with IPython syntax, and how far its text moved left."""
    if stripped.startswith(_ESCAPES):
        m = _MAGIC_NAME.match(stripped)
        if m and not stripped.startswith("%%") and m.group(1) in _STATEMENT_MAGICS:
            stmt = _statement_after(stripped, m)
            if stmt is not None:
                return indent + stmt, len(stripped) - len(stmt)
        return indent + "pass", 0
    m = _ASSIGN.match(stripped)
    if m:
        return indent + stripped[: m.end()] + "get_ipython()", 0
    return None


def _newer(out: CellPython, exc: SyntaxError) -> bool:
    """The cell is Python of a newer version (a 3.12 f-string, ...): its lines become the
    rewritten ones of ``newer_syntax`` (same lines; newer expressions read as ``(...)``)."""
    from peftlint.sources.python.newer_syntax import downlevel_bounded, looks_newer

    text = "\n".join(out.lines) + "\n"
    if not looks_newer(text, exc):
        return False
    found = downlevel_bounded(text)
    if found is None:
        return False
    try:
        ast.parse(found.text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False
    out.lines = found.text.split("\n")[: len(out.lines)]
    out.newer = found
    return True


def _statement_after(stripped: str, m: re.Match) -> str | None:
    """``x = f()`` of ``%time x = f()`` / ``%timeit -n 10 x = f()``, if it is one Python statement."""
    rest = stripped[m.end():].lstrip()
    if m.group(1) == "timeit":
        options = _TIMEIT_OPTIONS.match(rest)
        assert options is not None  # the pattern matches the empty string
        rest = rest[options.end():]
    if not rest or rest.endswith("\\"):
        return None
    try:
        ast.parse(rest)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    return rest


def _scan(line: str, quote: str | None, depth: int) -> tuple[str | None, int, bool, str]:
    """Python's lexical state after ``line``: open string quotes, open brackets, backslash
    continuation, and the line's code without its comment."""
    i, n = 0, len(line)
    code_end = n
    while i < n:
        ch = line[i]
        if quote is not None:
            if ch == "\\":
                i += 2
            elif line.startswith(quote, i):
                i += len(quote)
                quote = None
            else:
                i += 1
            continue
        if ch == "#":
            code_end = i
            break
        if ch in "\"'":
            quote = line[i:i + 3] if line[i:i + 3] in ('"""', "'''") else ch
            i += len(quote)
            continue
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth = max(0, depth - 1)
        i += 1
    code = line[:code_end].rstrip()
    if quote in ('"', "'") and not line.endswith("\\"):
        quote = None  # an unterminated one-line string: a syntax error the parser reports
    continued = quote is None and code.endswith("\\")
    return quote, depth, continued, code
