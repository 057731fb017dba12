"""Python syntax newer than the running interpreter, made readable by its ``ast``.

A file written for Python 3.12+ (PEP 701 f-strings such as ``f"{d["q"]}"``, PEP 695 type
parameters and ``type`` aliases) or 3.14 (template strings ``t"..."``, ``except A, B:`` without
parentheses) is valid code; the stdlib parser of an older Python rejects it. libcst parses every
Python 3 grammar, so when ``ast.parse`` fails this module asks libcst (imported only then) where
the newer constructs are and writes a text of the same lines that the old parser accepts:

- an f-string or template string the old parser cannot read becomes ``(...)`` padded to the same
  width (its value is unknown, which is what peftlint reports for a computed value);
- type parameters ``[T]`` become spaces; a ``type X = ...`` statement becomes ``(...)``;
- ``except A, B:`` gets its parentheses.

Line numbers never change, so every finding points at the user's file; columns change only on a
line with ``except A, B:``. Nothing is executed.

libcst's native parser is not safe on hostile text (deep nesting crashes the process; long operator
chains take minutes). It is asked only about files whose syntax error looks like one of these
constructs (``looks_newer``); ``downlevel_bounded`` parses text of a plain shape (short logical
lines, shallow brackets) in this process and other text in a child interpreter (``python -I`` this
file, the text on stdin) bounded in time.
"""

from __future__ import annotations

import ast
import json
import os
import re
import subprocess
import sys
import warnings
from dataclasses import dataclass

# what each construct needs, for the note
PEP701 = ("3.12", "f-strings that reuse their quotes or hold backslashes, comments or line breaks (PEP 701)")
PEP695 = ("3.12", "type parameters and `type` statements (PEP 695)")
TSTRINGS = ("3.14", "template strings t\"...\" (PEP 750)")
PEP758 = ("3.14", "`except A, B:` without parentheses (PEP 758)")


@dataclass
class Downlevel:
    """The rewritten text, the constructs that needed it (version, description, line), and the
    expressions replaced by ``(...)``: (line, column, end line, end column) in UTF-8 bytes, as
    ``ast`` counts them, each with what it was."""

    text: str
    uses: list[tuple[str, str, int]]
    placeholders: dict[tuple[int, int], tuple[int, int, str]]

    @property
    def version(self) -> str:
        return max((v for v, _, _ in self.uses), key=lambda v: tuple(int(x) for x in v.split(".")))


# a child parse takes about a second; this only stops hostile input
CHILD_TIMEOUT = 10.0
MAX_CHILD_BYTES = 1_000_000
# libcst's native parser takes time that grows faster than linearly with one expression's length,
# and stack with nesting: text within these bounds is parsed in this process, other text in a child
MAX_LOGICAL_LINE = 4000  # characters of one logical line (continuations and brackets joined)
MAX_OPERATORS = 300  # operator characters or words in one logical line
MAX_DEPTH = 40  # brackets
MAX_INDENT = 160  # leading whitespace of a line
_NEWER_LINE = re.compile(
    r"""(?<![\w.'"])(?:[fFtT][rR]?|[rR][fFtT])["']"""  # f-strings and template strings
    r"|^\s*(?:async\s+)?def\s+\w+\s*\["  # def f[T]()
    r"|^\s*class\s+\w+\s*\["  # class A[T]
    r"|^\s*type\s+\w+\s*[\[=]"  # type X = ...
    r"|^\s*except\b"
)
_OPERATOR = re.compile(r"[-+*/%@&|^~<>=!]+|\b(?:and|or|not|lambda|if|is|in)\b")


def looks_newer(text: str, exc: SyntaxError) -> bool:
    """The syntax error may come from a construct of a newer Python (not worth a libcst parse
    otherwise): an f-string error, ``except`` without parentheses, or such a construct on the lines
    around the error."""
    msg = exc.msg or ""
    if msg.startswith("f-string") or "parenthesized" in msg:
        return True
    lines = text.splitlines()
    at = (exc.lineno or 1) - 1
    return any(_NEWER_LINE.search(line) for line in lines[max(at - 2, 0):at + 3])


def downlevel_bounded(text: str) -> Downlevel | None:
    """``downlevel`` in this process for text of a plain shape, else in a child interpreter, where
    a crash or a parse that never ends is None."""
    if plain_shape(text):
        return downlevel(text)
    data = text.encode("utf-8")
    if len(data) > MAX_CHILD_BYTES:
        return None
    try:
        done = subprocess.run([sys.executable, "-I", os.path.abspath(__file__)], input=data, capture_output=True,
                              timeout=CHILD_TIMEOUT, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    if done.returncode != 0:
        return None
    try:
        got = json.loads(done.stdout.decode("utf-8"))
        if got is None:
            return None
        return Downlevel(
            str(got["text"]),
            [(str(v), str(d), int(line)) for v, d, line in got["uses"]],
            {(int(l), int(c)): (int(el), int(ec), str(w)) for l, c, el, ec, w in got["placeholders"]},
        )
    except (ValueError, KeyError, TypeError):
        return None


def plain_shape(text: str) -> bool:
    """Logical lines short and with few operators, brackets shallow, blocks not deep (counted over
    the raw text, strings included: an overestimate, which only errs toward the child)."""
    if len(text) > MAX_CHILD_BYTES:
        return False
    depth = 0
    logical: list[str] = []
    for line in text.splitlines():
        if len(line) - len(line.lstrip()) > MAX_INDENT:
            return False
        logical.append(line)
        for ch in line:
            if ch in "([{":
                depth += 1
                if depth > MAX_DEPTH:
                    return False
            elif ch in ")]}" and depth:
                depth -= 1
        if depth and sum(map(len, logical)) <= MAX_LOGICAL_LINE:
            continue
        if line.endswith("\\") and sum(map(len, logical)) <= MAX_LOGICAL_LINE:
            continue
        joined = "\n".join(logical)
        if len(joined) > MAX_LOGICAL_LINE or len(_OPERATOR.findall(joined)) > MAX_OPERATORS:
            return False
        logical = []
    return True


def downlevel(text: str) -> Downlevel | None:
    """The text rewritten for this interpreter, or None when libcst cannot parse it either (a real
    syntax error) or nothing newer was found to rewrite."""
    try:
        import libcst as cst
        from libcst.metadata import MetadataWrapper, PositionProvider
    except ImportError:  # pragma: no cover - libcst is a dependency
        return None
    try:
        wrapper = MetadataWrapper(cst.parse_module(text))
        positions = wrapper.resolve(PositionProvider)
    except Exception:  # noqa: BLE001 - libcst's ParserSyntaxError, or its own limits on hostile input
        return None
    module = wrapper.module
    edits: list[tuple[int, int, int, int, str]] = []  # start line, col, end line, col, kind
    uses: list[tuple[str, str, int]] = []

    lines = text.splitlines(keepends=True)
    placeholders: dict[tuple[int, int], tuple[int, int, str]] = {}

    def byte_col(line: int, col: int) -> int:
        return len(lines[line - 1][:col].encode("utf-8")) if line <= len(lines) else col

    def region(node: cst.CSTNode, kind: str, use: tuple[str, str]) -> None:
        r = positions[node]
        edits.append((r.start.line, r.start.column, r.end.line, r.end.column, kind))
        uses.append((use[0], use[1], r.start.line))
        if kind == "expr":
            what = "a template string" if use is TSTRINGS else "an f-string" if use is PEP701 else "a `type` statement"
            placeholders[(r.start.line, byte_col(r.start.line, r.start.column))] = (
                r.end.line, byte_col(r.end.line, r.end.column), f"{what} of Python {use[0]}+ syntax")

    class Finder(cst.CSTVisitor):
        def visit_ConcatenatedString(self, node: cst.ConcatenatedString) -> bool:
            if _unreadable(module.code_for_node(node)):
                use = TSTRINGS if "TemplatedString" in _kinds(node) else PEP701
                region(node, "expr", use)
                return False
            return True

        def visit_FormattedString(self, node: cst.FormattedString) -> bool:
            if _unreadable(module.code_for_node(node)):
                region(node, "expr", PEP701)
            return False

        def visit_TemplatedString(self, node: cst.CSTNode) -> bool:
            region(node, "expr", TSTRINGS)
            return False

        def visit_TypeParameters(self, node: cst.CSTNode) -> bool:
            region(node, "blank", PEP695)
            return False

        def visit_TypeAlias(self, node: cst.CSTNode) -> bool:
            region(node, "expr", PEP695)
            return False

        def visit_ExceptHandler(self, node: cst.ExceptHandler) -> None:
            t = node.type
            if isinstance(t, cst.Tuple) and not t.lpar:
                region(t, "paren", PEP758)

    try:
        wrapper.visit(Finder())
    except RecursionError:
        return None
    if not edits:
        return None
    return Downlevel(_apply(text, edits), sorted(uses, key=lambda u: u[2]), placeholders)


def _kinds(node: object) -> set[str]:
    out = {type(node).__name__}
    for name in ("left", "right"):
        child = getattr(node, name, None)
        if child is not None:
            out |= _kinds(child)
    return out


def _unreadable(code: str) -> bool:
    """This interpreter's parser rejects the string expression on its own."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ast.parse(f"(\n{code}\n)", mode="eval")
        return False
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return True


def _apply(text: str, edits: list[tuple[int, int, int, int, str]]) -> str:
    lines = text.splitlines(keepends=True)
    # later edits first, so earlier positions stay valid; nested regions were not visited
    for sl, sc, el, ec, kind in sorted(edits, reverse=True):
        first, last = lines[sl - 1], lines[el - 1]
        if kind == "paren":
            inner = "".join(lines[sl - 1:el])[sc:len("".join(lines[sl - 1:el - 1])) + ec]
            replaced = first[:sc] + "(" + inner + ")" + last[ec:]
            lines[sl - 1:el] = replaced.splitlines(keepends=True)
            continue
        if sl == el:
            width = ec - sc
            filler = " " * width if kind == "blank" else _placeholder(width)
            lines[sl - 1] = first[:sc] + filler + first[ec:]
            continue
        end = _eol(first)
        head = " " * (len(first) - len(end) - sc) if kind == "blank" else _placeholder(len(first) - len(end) - sc, open_=True)
        lines[sl - 1] = first[:sc] + head + end
        for i in range(sl, el - 1):
            lines[i] = _eol(lines[i]) if kind == "blank" else " " * (len(lines[i]) - len(_eol(lines[i]))) + _eol(lines[i])
        tail = " " * ec if kind == "blank" else " " * max(ec - 1, 0) + ")"
        lines[el - 1] = tail + last[ec:]
    return "".join(lines)


def _placeholder(width: int, open_: bool = False) -> str:
    """``(...)`` padded to ``width`` (``(...`` when the region goes on over more lines)."""
    if open_:
        return "(..." + " " * max(width - 4, 0)
    if width >= 5:
        return "(..." + " " * (width - 5) + ")"
    return "..." + " " * max(width - 3, 0)


def _eol(line: str) -> str:
    stripped = line.rstrip("\r\n")
    return line[len(stripped):]


def _main() -> None:
    """The child of ``downlevel_isolated``: the text on stdin, the result as JSON on stdout."""
    sys.setrecursionlimit(10_000)
    text = sys.stdin.buffer.read().decode("utf-8")
    found = downlevel(text)
    out = None if found is None else {
        "text": found.text,
        "uses": [list(u) for u in found.uses],
        "placeholders": [[l, c, el, ec, w] for (l, c), (el, ec, w) in found.placeholders.items()],
    }
    sys.stdout.write(json.dumps(out))


if __name__ == "__main__":
    _main()
