"""Jupyter notebooks → AdapterSpecs: the code cells are one Python program, in order.

The cells are joined into one program (so a ``LoraConfig`` in cell 5 sees the constants and the
``from_pretrained`` of cell 2) and read by the Python source reader. IPython syntax that is not
Python (``%magic``, ``!shell`` with its ``\\`` continuations, ``x = !cmd``, ``obj?``, non-Python
``%%cell`` magics) becomes Python on the same lines (``sources/ipython_syntax.py``), so line numbers
stay put. A cell that is still not Python is left out with one note (PFT906) naming it; the other
cells are linted.

Position convention: every finding is reported at its position **in the .ipynb file as stored**
(the line and column of the character inside the cell's JSON string), so JSON, SARIF, GitHub
annotations, ``# noqa`` comments and ``--fix`` edits all address the same file text. The message
ends with ``(cell N, line L)``: N counts every cell of the notebook from 1 (as they appear in
Jupyter), L is the line within that cell. Fix edits are re-encoded as JSON string text, and
``apply_notebook_edits`` applies them cell by cell, rewriting only the ``source`` of the cells that
change, in the file's own layout.
"""

from __future__ import annotations

import bisect
import json
import re
from collections.abc import Collection
from dataclasses import dataclass, field, replace

from peftlint.codes import Code
from peftlint.diagnostics import Diagnostic, Edit, Fix, Span
from peftlint.sources import Problem, SourceResult
from peftlint.sources.ipython_syntax import cell_to_python
from peftlint.sources.jsonpos import parse_json_with_positions
from peftlint.sources.python import extract_python
from peftlint.sources.python.parse import newer_note
from peftlint.spec import Value
from peftlint.textpos import LineIndex

_NAMED_LINE = re.compile(r"\bline (\d+)\b")
_LINES = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+$")  # Python's line ends, not str.splitlines


@dataclass
class _Piece:
    """One JSON string of a cell's ``source``: the decoded text and each character's raw offsets."""

    text: str
    starts: list[int]  # raw offset where decoded char i begins
    ends: list[int]  # raw offset just after decoded char i
    open_quote: int  # raw offset of the opening quote


@dataclass
class _Cell:
    index: int  # 1-based, all cells counted
    text: str
    starts: list[int]
    ends: list[int]
    first_raw: int  # raw offset just after the opening quote of the first piece (empty cells)
    line_offsets: list[int] = field(default_factory=list)  # cell-text offset where each line starts
    col_shifts: list[int] = field(default_factory=list)  # program column c of line k is cell column c + shift
    program_line: int = 1  # program line of the cell's first line


class NotebookMap:
    """Program positions ↔ positions in the .ipynb text."""

    def __init__(self, raw: str, cells: list[_Cell]) -> None:
        self.raw = raw
        self.cells = cells
        self.lines = LineIndex(raw)
        self._firsts = [c.program_line for c in cells]

    def cell_at(self, line: int) -> _Cell | None:
        i = bisect.bisect_right(self._firsts, line) - 1
        if i < 0:
            return None
        c = self.cells[i]
        return c if line - c.program_line < len(c.line_offsets) else None

    def offset(self, line: int, column: int) -> tuple[_Cell, int] | None:
        """(cell, offset in the cell text) of a 1-based program position."""
        c = self.cell_at(line)
        if c is None:
            return None
        k = line - c.program_line
        start = c.line_offsets[k]
        stop = c.line_offsets[k + 1] if k + 1 < len(c.line_offsets) else len(c.text)
        shift = c.col_shifts[k] if k < len(c.col_shifts) else 0
        return c, min(start + column - 1 + shift, stop)

    def raw_offset(self, cell: _Cell, off: int, end: bool) -> int:
        if not cell.starts:
            return cell.first_raw
        if end and off > 0:
            return cell.ends[min(off, len(cell.ends)) - 1]
        return cell.starts[off] if off < len(cell.starts) else cell.ends[-1]

    def raw_pos(self, offset: int) -> tuple[int, int]:
        return self.lines.pos(offset)

    def span(self, span: Span) -> tuple[Span, _Cell, int, int] | None:
        a = self.offset(span.line, span.column)
        b = self.offset(span.end_line, span.end_column)
        if a is None:
            return None
        ca, oa = a
        ra = self.raw_offset(ca, oa, False)
        if b is None or b[0] is not ca:
            rb = ra
        else:
            rb = max(ra, self.raw_offset(ca, b[1], True))
        l1, c1 = self.raw_pos(ra)
        l2, c2 = self.raw_pos(rb)
        return Span(l1, c1, l2, c2), ca, span.line - ca.program_line + 1, oa - ca.line_offsets[span.line - ca.program_line] + 1

    def remap(self, diags: list[Diagnostic]) -> list[Diagnostic]:
        out = []
        for d in diags:
            m = self.span(d.span)
            if m is None:
                out.append(d)
                continue
            raw_span, cell, cell_line, cell_column = m
            noqa = {raw_span.line}
            for ln in d.noqa_lines:
                mm = self.span(Span(ln, 1, ln, 1))
                if mm is not None:
                    noqa.add(mm[0].line)
            out.append(replace(d, span=raw_span,
                               message=self.name_lines(d.message),
                               notes=tuple(self.name_lines(n) for n in d.notes),
                               detail=d.detail and self.name_lines(d.detail),
                               model_source=d.model_source and self.name_lines(d.model_source),
                               fix=self._fix(d.fix, d.path), noqa_lines=tuple(sorted(noqa)),
                               cell=(cell.index, cell_line, cell_column)))
        return out

    def name_lines(self, text: str) -> str:
        """"line 63" of the joined program → "cell 5, line 3" (messages and model sources name lines)."""
        def cell_line(m: re.Match) -> str:
            n = int(m.group(1))
            c = self.cell_at(n)
            return f"cell {c.index}, line {n - c.program_line + 1}" if c is not None else m.group(0)

        return _NAMED_LINE.sub(cell_line, text)

    def _fix(self, fix: Fix | None, path: str) -> Fix | None:
        if fix is None:
            return None
        if fix.change is not None:  # the call's new text is written into its cell, JSON-escaped
            m = self.span(fix.change.span)
            c = fix.change.span
            a, b = self.offset(c.line, c.column), self.offset(c.end_line, c.end_column)
            if m is None or a is None or b is None or a[0] is not b[0]:
                return None
            return replace(fix, change=replace(fix.change, span=m[0], notebook=True))
        edits = []
        for e in fix.edits:
            a = self.offset(e.span.line, e.span.column)
            b = self.offset(e.span.end_line, e.span.end_column)
            if e.path != path or a is None or b is None or a[0] is not b[0]:
                return None  # an edit across cells (or another file) cannot be expressed safely
            ra, rb = self.raw_offset(a[0], a[1], False), self.raw_offset(b[0], b[1], True)
            l1, c1 = self.raw_pos(ra)
            l2, c2 = self.raw_pos(max(ra, rb))
            edits.append(Edit(e.path, Span(l1, c1, l2, c2), json.dumps(e.content, ensure_ascii=False)[1:-1]))
        return Fix(fix.applicability, tuple(edits), fix.description, path=fix.path)


@dataclass
class NotebookResult(SourceResult):
    """A SourceResult whose findings the engine maps back into the .ipynb text (``remap``)."""

    mapping: NotebookMap | None = None

    def remap(self, diags: list[Diagnostic]) -> list[Diagnostic]:
        """Called by the engine once the specs are linted: findings and spec spans → .ipynb positions."""
        if self.mapping is None:
            return diags
        for spec in self.specs:
            m = self.mapping.span(spec.span)
            if m is not None:
                spec.span = m[0]
        return self.mapping.remap(diags)

    def name_lines(self, text: str) -> str:
        return self.mapping.name_lines(text) if self.mapping is not None else text


def extract_notebook(text: str, path: str, abspath: str, config_classes: Collection[str]) -> SourceResult:
    try:
        root = parse_json_with_positions(text)
    except (json.JSONDecodeError, ValueError) as exc:
        line, col = getattr(exc, "lineno", 1), getattr(exc, "colno", 1)
        return SourceResult(problems=[Problem(Code.SYNTAX_ERROR, f"cannot parse this notebook as JSON: {getattr(exc, 'msg', exc)}",
                                              Span(line, col, line, col + 1))])
    cells_v = root.members.get("cells") if root.kind == "dict" and root.members else None
    if cells_v is None or cells_v.items is None:
        if root.kind == "dict" and root.members and "worksheets" in root.members:
            return SourceResult(problems=[Problem(
                Code.FILE_NOT_READ, "a notebook in the nbformat 3 layout (cells inside \"worksheets\") is not read; convert it "
                "with `jupyter nbconvert --to notebook --inplace` to have its configs checked",
                (root.keys or {}).get("worksheets", root).span)])
        return SourceResult(problems=[Problem(Code.SYNTAX_ERROR, "not a Jupyter notebook: no \"cells\" list", root.span)])
    lines = LineIndex(text)
    cells: list[_Cell] = []
    for n, cv in enumerate(cells_v.items, start=1):
        if cv.kind != "dict" or not cv.members:
            continue
        ctype = cv.members.get("cell_type")
        src = cv.members.get("source")
        if ctype is None or ctype.value != "code" or src is None:
            continue
        strings = src.items if src.items is not None else [src]
        pieces = [_decode(text, lines.offset(s.span.line, s.span.column)) for s in strings if s.kind == "str"]
        cells.append(_join(n, pieces, text, lines.offset(src.span.line, src.span.column)))
    program, skipped = _program(cells)
    result = extract_python(program, path, abspath, config_classes)
    out = NotebookResult(specs=result.specs, problems=skipped + result.problems, mapping=NotebookMap(text, cells),
                         program=program, dependencies=result.dependencies)
    for spec in out.specs:
        # the cells are Python: rules treat the spec as Python (their fixes are Python edits that
        # ``remap`` re-encodes); this marks where it came from
        spec.facts.notebook = True
    return out


def _decode(raw: str, i: int) -> _Piece:
    """Decode the JSON string literal whose opening quote is at ``raw[i]``, keeping offsets."""
    open_quote = i
    i += 1
    chars: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    while raw[i] != '"':
        a = i
        if raw[i] == "\\":
            esc = raw[i + 1]
            if esc == "u":
                code = int(raw[i + 2:i + 6], 16)
                i += 6
                if 0xD800 <= code < 0xDC00 and raw.startswith("\\u", i):
                    low = int(raw[i + 2:i + 6], 16)
                    code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                    i += 6
                ch = chr(code)
            else:
                ch = {"n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f"}.get(esc, esc)
                i += 2
        else:
            ch = raw[i]
            i += 1
        chars.append(ch)
        starts.append(a)
        ends.append(i)
    return _Piece("".join(chars), starts, ends, open_quote)


def _join(index: int, pieces: list[_Piece], raw: str, src_offset: int) -> _Cell:
    text = "".join(p.text for p in pieces)
    starts = [s for p in pieces for s in p.starts]
    ends = [e for p in pieces for e in p.ends]
    first = pieces[0].open_quote + 1 if pieces else src_offset
    return _Cell(index, text, starts, ends, first)


def _program(cells: list[_Cell]) -> tuple[str, list[Problem]]:
    """The cells' Python, one program line per cell line; a note for each cell that is not Python."""
    out: list[str] = []
    skipped: list[Problem] = []
    line = 1
    for c in cells:
        c.program_line = line
        c.line_offsets = []
        off = 0
        src_lines = _LINES.findall(c.text) or [""]
        for ln in src_lines:
            c.line_offsets.append(off)
            off += len(ln)
        py = cell_to_python([ln.rstrip("\r\n") for ln in src_lines])
        c.col_shifts = py.shifts
        if py.error is not None:
            k, col, msg = py.error
            skipped.append(Problem(Code.UNPARSED_CELL, f"cell not linted: it is not Python peftlint can parse ({msg})",
                                   Span(line + k - 1, col, line + k - 1, col + 1)))
        elif py.newer is not None:  # Python of a newer version: linted, with a note
            first = py.newer.uses[0][2]
            skipped.append(Problem(Code.NEWER_SYNTAX, newer_note(py.newer, offset=line - 1, what_text="cell"),
                                   Span.point(line + first - 1, 1)))
        out.extend(body + "\n" for body in py.lines)
        line += len(src_lines)
    return "".join(out), skipped


# -- fixes ------------------------------------------------------------------------------------------

def apply_notebook_edits(raw: str, edits: list[Edit]) -> str:
    """Apply raw-text edits (as ``NotebookMap`` produces them) to a notebook.

    Edits are applied to the decoded source of each cell; only the ``source`` arrays of cells that
    change are rewritten (one JSON string per line, in the array's own indentation and with the
    file's ``ensure_ascii`` style), so the rest of the notebook stays byte-identical.
    """
    from peftlint.fix.edits import apply_edits

    root = parse_json_with_positions(raw)
    lines = LineIndex(raw)
    cells_v = root.members.get("cells") if root.members else None
    if cells_v is None or cells_v.items is None:
        return apply_edits(raw, edits)
    replacements: list[tuple[int, int, str]] = []
    for cv in cells_v.items:
        src = cv.members.get("source") if cv.kind == "dict" and cv.members else None
        if src is None:
            continue
        strings = src.items if src.items is not None else [src]
        if not strings or any(s.kind != "str" for s in strings):
            continue
        a, b = lines.offset(src.span.line, src.span.column), lines.offset(src.span.end_line, src.span.end_column)
        mine = [e for e in edits if a <= lines.offset(e.span.line, e.span.column) and lines.offset(e.span.end_line, e.span.end_column) <= b]
        if not mine:
            continue
        pieces = [_decode(raw, lines.offset(s.span.line, s.span.column)) for s in strings]
        cell = _join(0, pieces, raw, a)
        new_text = _apply_cell_edits(cell, mine, lines)
        if new_text is None or new_text == cell.text:
            continue
        replacements.append((a, b, _source_json(raw, src, strings, new_text, lines)))
    out = raw
    for a, b, s in sorted(replacements, reverse=True):
        out = out[:a] + s + out[b:]
    return out


def _apply_cell_edits(cell: _Cell, edits: list[Edit], lines: LineIndex) -> str | None:
    inverse = {s: k for k, s in enumerate(cell.starts)}
    inverse_end = {e: k + 1 for k, e in enumerate(cell.ends)}
    ranges = []
    for e in edits:
        ra = lines.offset(e.span.line, e.span.column)
        rb = lines.offset(e.span.end_line, e.span.end_column)
        a = inverse.get(ra, inverse_end.get(ra))
        b = inverse_end.get(rb, inverse.get(rb))
        if a is None or b is None or b < a:
            return None
        ranges.append((a, b, json.loads(f'"{e.content}"')))
    text = cell.text
    last = len(text) + 1
    for a, b, content in sorted(ranges, reverse=True):
        if b > last:
            continue
        text = text[:a] + content + text[b:]
        last = a
    return text


def _source_json(raw: str, src: Value, strings: list[Value], new_text: str, lines: LineIndex) -> str:
    ascii_only = all(ord(ch) < 128 for ch in raw)
    parts = _LINES.findall(new_text)
    if src.items is None:  # a single string
        return json.dumps(new_text, ensure_ascii=ascii_only)
    if not parts:
        return "[]"
    first, last = strings[0].span, src.span
    if first.line == last.line:  # all on one line
        return "[" + ", ".join(json.dumps(p, ensure_ascii=ascii_only) for p in parts) + "]"
    indent = " " * (first.column - 1)
    start = lines.offset(last.end_line, 1)
    close_line = raw[start:start + last.end_column - 2]
    close_indent = close_line[: len(close_line) - len(close_line.lstrip())]
    body = ",\n".join(indent + json.dumps(p, ensure_ascii=ascii_only) for p in parts)
    return "[\n" + body + "\n" + close_indent + "]"
