"""The source text of a parsed module: positions of nodes, their code as written, comments.

Positions follow the convention of every reader (1-based columns counted in characters, end
exclusive). ``ast`` counts columns in UTF-8 bytes; they are converted per line. A span never
includes the parentheses around an expression (a parenthesised tuple's span runs from its first to
its last element), while ``code()`` shows them, as written.
"""

from __future__ import annotations

import ast
import bisect
import io
import re
import tokenize

from peftlint.diagnostics import Span
from peftlint.textpos import LineIndex

_SPACE = " \t\f\r\n\\"


def short_code(code: str, limit: int = 60) -> str:
    """Source text on one line, shortened for messages."""
    code = " ".join(code.split())
    return code if len(code) <= limit else code[: limit - 1] + "…"


class SourceText:
    """Positions and text of the nodes of ``tree``; ``parents`` is filled by the subclass."""

    def __init__(self, tree: ast.Module, text: str) -> None:
        self.tree = tree
        self.text = text
        # Python's own line breaks only (str.splitlines also splits at \f, \x1c, \u2028, ...); the
        # index is shared with the run's other readers of the same text (suppressions, fixes)
        self._line_index = LineIndex.of(text)
        self.lines = self._line_index.lines
        self.parents: dict[ast.AST, ast.AST] = {}
        self._encoded: dict[int, bytes] = {}
        self._comments: dict[int, list[str]] = {}

    def _column(self, line: int, byte_col: int) -> int:
        """0-based character column of a UTF-8 byte column."""
        if not 0 < line <= len(self.lines):
            return byte_col
        text = self.lines[line - 1]
        if text.isascii():
            return byte_col
        data = self._encoded.get(line)
        if data is None:
            data = self._encoded[line] = text.encode("utf-8", errors="surrogatepass")
        return len(data[:byte_col].decode("utf-8", errors="replace"))

    @property
    def _starts(self) -> list[int]:
        """Offset in ``text`` where each line starts."""
        return self._line_index.starts

    def offset(self, line: int, col: int) -> int:
        """Offset in ``text`` of a 1-based line and 0-based character column."""
        if not 0 < line <= len(self._starts):
            return len(self.text)
        return min(self._starts[line - 1] + col, len(self.text))

    def bounds(self, node: ast.AST) -> tuple[int, int]:
        """Start and end offsets of ``node`` as ``ast`` reports them."""
        start = self.offset(node.lineno, self._column(node.lineno, node.col_offset))  # type: ignore[attr-defined]
        end_line = node.end_lineno or node.lineno  # type: ignore[attr-defined]
        end_col = node.end_col_offset if node.end_col_offset is not None else node.col_offset  # type: ignore[attr-defined]
        return start, self.offset(end_line, self._column(end_line, end_col))

    def _pos(self, offset: int) -> tuple[int, int]:
        """1-based line and column of an offset in ``text``."""
        i = bisect.bisect_right(self._starts, offset) - 1
        return i + 1, offset - self._starts[i] + 1

    def span(self, node: ast.AST) -> Span:
        if not hasattr(node, "lineno"):
            return Span(1, 1, 1, 1)
        if isinstance(node, ast.Tuple) and not node.elts and self._own_parens(node):
            inside = self._skip_space(self.bounds(node)[0] + 1)
            return Span(*self._pos(inside), *self._pos(inside))
        if isinstance(node, ast.Tuple) and node.elts and self._own_parens(node):
            start, _ = self.grouped_bounds(node.elts[0])
            _, end = self.grouped_bounds(node.elts[-1])
            after = self._skip_space(end)
            if after < len(self.text) and self.text[after] == ",":
                end = after + 1
            return Span(*self._pos(start), *self._pos(end))
        line, end_line = node.lineno, node.end_lineno or node.lineno  # type: ignore[attr-defined]
        col = self._column(line, node.col_offset)  # type: ignore[attr-defined]
        end_col = node.end_col_offset if node.end_col_offset is not None else node.col_offset  # type: ignore[attr-defined]
        return Span(line, col + 1, end_line, self._column(end_line, end_col) + 1)

    def keyword_span(self, kw: ast.keyword) -> Span:
        """The name of ``name=value`` (the whole ``**value`` for a keyword without name)."""
        if kw.arg is None:
            return self.span(kw)
        start, _ = self.bounds(kw)
        m = re.match(r"\w+", self.text[start:])
        end = start + (m.end() if m else len(kw.arg))
        return Span(*self._pos(start), *self._pos(end))

    def line(self, node: ast.AST) -> int:
        return getattr(node, "lineno", 1)

    def start(self, node: ast.AST) -> tuple[int, int]:
        return (getattr(node, "lineno", 0), getattr(node, "col_offset", 0))

    def code(self, node: ast.AST, limit: int = 60) -> str:
        """The node's source text with the parentheses around it, on one line."""
        if not hasattr(node, "lineno"):
            return short_code(ast.unparse(node), limit)
        start, end = self.grouped_bounds(node)
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and node.decorator_list:
            start = min(start, self.bounds(node.decorator_list[0])[0] - 1)
        return short_code(self.text[start:end], limit)

    def _skip_space(self, i: int) -> int:
        """Skip whitespace, line continuations and comments forward from offset ``i``."""
        text, n = self.text, len(self.text)
        while i < n:
            c = text[i]
            if c in _SPACE:
                i += 1
            elif c == "#":
                j = text.find("\n", i)
                i = n if j < 0 else j
            else:
                break
        return i

    def _skip_space_back(self, i: int) -> int:
        """Skip whitespace and comments backwards from offset ``i`` (exclusive)."""
        text = self.text
        while i > 0:
            c = text[i - 1]
            if c in _SPACE:
                i -= 1
                continue
            if text[i:i + 1] not in ("\n", "\r"):
                break
            # at a line end: a comment there ends the line (only parentheses or commas precede it)
            line_start = max(text.rfind("\n", 0, i), text.rfind("\r", 0, i)) + 1
            segment = text[line_start:i]
            h = segment.find("#")
            while h >= 0:
                prefix = segment[:h].rstrip(" \t\f")
                if prefix == "" or prefix.endswith(("(", ",")):
                    break
                h = segment.find("#", h + 1)
            if h < 0:
                break
            new_i = line_start + len(segment[:h].rstrip(" \t\f"))
            if new_i >= i:
                break
            i = new_i
        return i

    def grouped_bounds(self, node: ast.AST) -> tuple[int, int]:
        """Offsets of ``node`` with the grouping parentheses that enclose it."""
        start, end = self.bounds(node)
        parent = self.parents.get(node)
        limit = self._outer_paren(parent, node)
        while True:
            before = self._skip_space_back(start)
            after = self._skip_space(end)
            if before <= 0 or after >= len(self.text):
                break
            if self.text[before - 1] != "(" or self.text[after] != ")" or before - 1 == limit:
                break
            start, end = before - 1, after + 1
        return start, end

    def _outer_paren(self, parent: ast.AST | None, node: ast.AST) -> int:
        """Offset of the parenthesis that belongs to ``parent`` right around ``node``, else -1."""
        if isinstance(parent, ast.Call) and node is not parent.func:
            _, func_end = self.bounds(parent.func)
            return self._skip_grouped_close(func_end)
        if isinstance(parent, ast.ClassDef) and (node in parent.bases or node in parent.keywords):
            return self.text.find("(", self.bounds(parent)[0])
        if isinstance(parent, ast.keyword):
            return self._outer_paren(self.parents.get(parent), parent)
        if isinstance(parent, ast.Tuple) and self._own_parens(parent):
            return self.bounds(parent)[0]
        return -1

    def _skip_grouped_close(self, i: int) -> int:
        """From the end of a call's function, the offset of the call's own opening parenthesis."""
        text, n = self.text, len(self.text)
        while True:
            i = self._skip_space(i)
            if i < n and text[i] == ")":
                i += 1  # the function itself was parenthesised: (f)(x)
                continue
            return i

    def _own_parens(self, node: ast.Tuple) -> bool:
        """Whether ``ast`` included the tuple's own parentheses in its position."""
        start, end = self.bounds(node)
        text = self.text
        if not (text.startswith("(", start) and end > start and text[end - 1] == ")"):
            return False
        if not node.elts:
            return True
        # the opening parenthesis is the tuple's when it is still open at the last character
        depth = 0
        pos = start
        gaps: list[tuple[int, int]] = []
        for el in node.elts:
            el_start, el_end = self.bounds(el)
            gaps.append((pos, el_start))
            pos = el_end
        gaps.append((pos, end))
        for i, (a, b) in enumerate(gaps):
            j = a
            while j < b:
                c = text[j]
                if c == "#":
                    k = text.find("\n", j, b)
                    j = b if k < 0 else k
                    continue
                if c == "(":
                    depth += 1
                elif c == ")":
                    depth -= 1
                    if depth == 0 and not (i == len(gaps) - 1 and j == end - 1):
                        return False
                j += 1
        return True

    def comments_on(self, line: int) -> list[str]:
        """Comments (``# ...``) that start on ``line``."""
        if line in self._comments:
            return self._comments[line]
        found: list[str] = []
        if 0 < line <= len(self.lines) and "#" in self.lines[line - 1]:
            found = self._tokenize_comments(line)
        self._comments[line] = found
        return found

    def _tokenize_comments(self, line: int) -> list[str]:
        stmt = self._statement_at(line)
        first = stmt.lineno if stmt is not None else line
        source = "\n".join(self.lines[first - 1:line]) + "\n"
        found = []
        try:
            for tok in tokenize.generate_tokens(io.StringIO(source).readline):
                if tok.type == tokenize.COMMENT and tok.start[0] + first - 1 == line:
                    found.append(tok.string)
        except (tokenize.TokenError, IndentationError, SyntaxError):
            pass
        return found

    def _statement_at(self, line: int) -> ast.stmt | None:
        """The innermost statement whose lines include ``line``."""
        body: list[ast.stmt] = self.tree.body
        found = None
        while True:
            nxt = None
            for stmt in body:
                if stmt.lineno <= line <= (stmt.end_lineno or stmt.lineno):
                    nxt = stmt
                    break
            if nxt is None:
                return found
            found = nxt
            inner: list[ast.stmt] = []
            for name in ("body", "orelse", "finalbody", "handlers", "cases"):
                for child in getattr(nxt, name, ()) or ():
                    if isinstance(child, (ast.ExceptHandler, ast.match_case)):
                        inner.extend(child.body)
                    elif isinstance(child, ast.stmt):
                        inner.append(child)
            body = inner

