"""Parse Python text with libcst without letting pathological input take the process down.

libcst's native parser recurses on the C stack: some inputs that CPython accepts (thousands of
chained ``or``/``+``, a dotted import with 20 000 parts, ...) crash the interpreter with SIGSEGV
instead of raising. CPython's own parser has hard limits and fails cleanly, so every text is first
parsed by ``ast.parse``; libcst only sees text whose nesting is known (or, for text CPython
rejects, lexically estimated) to be far below the depth that crashes it.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field

import libcst as cst

from peftlint.diagnostics import Span

# libcst crashed at ~8 000 chained boolean operands and ~10 000 chained binary operations in
# experiments; deeper files are reported instead of parsed.
MAX_NESTING = 1000
# CPython refuses more than 200 nested brackets anyway.
MAX_BRACKETS = 200


@dataclass
class ParseOutcome:
    """Either a module, or the code/message/span of the problem that prevented parsing."""

    module: cst.Module | None
    code: str = ""
    message: str = ""
    span: Span = field(default_factory=lambda: Span(1, 1, 1, 1))


def parse_python(text: str, need_tree: bool = True) -> ParseOutcome:
    """Parse ``text`` with libcst; never raises for syntax errors or over-deep input.

    With ``need_tree=False`` a text that CPython parses is only checked, not parsed by libcst
    (``module`` is None and ``code`` empty): files without any config call are cheap.
    """
    try:
        tree = ast.parse(text)
    except SyntaxError as exc:  # includes IndentationError / TabError
        return _parse_invalid(text, _message_of(exc), _span_of(exc))
    except ValueError as exc:  # "source code string cannot contain null bytes" on some versions
        return _parse_invalid(text, str(exc), Span(1, 1, 1, 1))
    except (RecursionError, MemoryError):
        return ParseOutcome(None, "PFT999", "the file is nested too deeply to be analysed statically")

    if not need_tree:
        return ParseOutcome(None)
    depth = nesting_depth(tree)
    del tree
    if depth > MAX_NESTING:
        return ParseOutcome(
            None,
            "PFT999",
            f"the file is nested too deeply to be analysed statically (depth {depth}, limit {MAX_NESTING})",
        )
    try:
        return ParseOutcome(cst.parse_module(text))
    except cst.ParserSyntaxError as exc:
        # valid for CPython but not for libcst (e.g. a libcst limitation): report libcst's view
        return ParseOutcome(
            None,
            "PFT902",
            f"cannot parse: {exc.message}",
            Span.point(max(exc.raw_line, 1), max(exc.raw_column, 0) + 1),
        )


def _parse_invalid(text: str, cpython_message: str, span: Span) -> ParseOutcome:
    """Text that CPython rejects: libcst's message when it is safe to ask libcst, CPython's span."""
    if lexically_deep(text):
        return ParseOutcome(None, "PFT902", f"cannot parse: {cpython_message}", span)
    try:
        # libcst may accept syntax the running CPython does not (the linted code targets
        # another Python version); then it is analysed like any other file.
        return ParseOutcome(cst.parse_module(text))
    except cst.ParserSyntaxError as exc:
        return ParseOutcome(None, "PFT902", f"cannot parse: {exc.message}", span)


def _message_of(exc: SyntaxError) -> str:
    return exc.msg or str(exc)


def _span_of(exc: SyntaxError) -> Span:
    line = exc.lineno or 1
    col = exc.offset if exc.offset and exc.offset > 0 else 1
    end_line = getattr(exc, "end_lineno", None) or line
    end_col = getattr(exc, "end_offset", None) or 0
    if end_line < line or (end_line == line and end_col <= col):
        return Span.point(line, col)
    return Span(line, col, end_line, end_col)


def nesting_depth(tree: ast.AST) -> int:
    """An upper estimate of the depth libcst will build for ``tree`` (iterative, no recursion).

    CPython keeps boolean chains and dotted names flat where libcst nests one node per operand.
    """
    best = 0
    stack: list[tuple[ast.AST, int]] = [(tree, 1)]
    while stack:
        node, depth = stack.pop()
        step = 1
        if isinstance(node, ast.BoolOp):
            step = len(node.values)
        elif isinstance(node, ast.alias):
            step = node.name.count(".") + 1
        elif isinstance(node, ast.ImportFrom):
            step = (node.module or "").count(".") + 1
        depth += step - 1
        if depth > best:
            best = depth
            if best > MAX_NESTING:
                return best
        for child in ast.iter_child_nodes(node):
            stack.append((child, depth + 1))
    return best


_LEX = re.compile(
    r"""
      (?P<str>(?:'''|\"\"\")|['"])
    | (?P<comment>\#[^\n]*)
    | (?P<open>[(\[{])
    | (?P<close>[)\]}])
    | (?P<nl>\n)
    | (?P<op>\b(?:and|or|not|if|else|lambda|await|in|is)\b|[-+*/%@|&^~.<>])
    """,
    re.VERBOSE,
)


def lexically_deep(text: str) -> bool:
    """Conservative check, for text CPython rejected, that libcst will not recurse too deep.

    Counts operators per logical line (outside strings and comments) and bracket depth. A false
    positive only means that CPython's message is reported instead of libcst's.
    """
    depth = 0
    ops = 0
    pos = 0
    n = len(text)
    while pos < n:
        m = _LEX.search(text, pos)
        if m is None:
            break
        kind = m.lastgroup
        pos = m.end()
        if kind == "str":
            quote = m.group()
            pos = _string_end(text, pos, quote)
        elif kind == "open":
            depth += 1
            if depth > MAX_BRACKETS:
                return True
        elif kind == "close":
            depth = max(depth - 1, 0)
        elif kind == "nl":
            if depth == 0:
                ops = 0
        elif kind == "op":
            ops += 1
            if ops > MAX_NESTING:
                return True
    return False


_STRING_REST = {
    "'": re.compile(r"(?:\\.|[^\\'\n])*(?:'|(?=\n)|\Z)", re.DOTALL),
    '"': re.compile(r'(?:\\.|[^\\"\n])*(?:"|(?=\n)|\Z)', re.DOTALL),
    "'''": re.compile(r"(?:\\.|[^\\])*?(?:'''|\Z)", re.DOTALL),
    '"""': re.compile(r'(?:\\.|[^\\])*?(?:"""|\Z)', re.DOTALL),
}


def _string_end(text: str, pos: int, quote: str) -> int:
    """Index just after the string that opened with ``quote`` just before ``pos``.

    An unterminated one-line string ends at the line end, an unterminated triple-quoted one at
    the end of the text.
    """
    m = _STRING_REST[quote].match(text, pos)
    return m.end() if m else len(text)
