"""LSP notebook documents: the cells are written out as the .ipynb text the notebook reader reads
(each source line one JSON string on its own line), linted as one notebook, and the findings,
which address that text, are moved back to their cells."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from lsprotocol import types as lsp

from peftlint.diagnostics import Span
from peftlint.server.convert import Lines

_LINES = re.compile(r"[^\n]*\n|[^\n]+$")  # LSP's lines: a cell line holds its "\n"


@dataclass
class Cell:
    uri: str
    code: bool
    text: str


@dataclass
class NotebookText:
    """The .ipynb text of some cells, and where each of its lines came from."""

    cells: list[Cell]
    text: str
    origin: dict[int, tuple[int, int]]  # 1-based line of ``text`` -> (cell index, 0-based line in the cell)


def write_notebook(cells: list[Cell]) -> NotebookText:
    out = ['{"cells": [']
    origin: dict[int, tuple[int, int]] = {}
    for i, cell in enumerate(cells):
        head = '{"cell_type": "code", "execution_count": null, "metadata": {}, "outputs": [], "source": [' if cell.code \
            else '{"cell_type": "markdown", "metadata": {}, "source": ['
        out.append(head)
        lines = _LINES.findall(cell.text)
        for k, line in enumerate(lines):
            origin[len(out) + 1] = (i, k)
            out.append(json.dumps(line, ensure_ascii=False) + ("," if k < len(lines) - 1 else ""))
        out.append("]}" + ("," if i < len(cells) - 1 else ""))
    out.append('], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}')
    return NotebookText(cells, "\n".join(out) + "\n", origin)


def cells_of(text: str) -> list[str]:
    """The cell sources of a .ipynb text (after fixes were applied to it)."""
    return ["".join(c["source"]) if isinstance(c["source"], list) else c["source"] for c in json.loads(text)["cells"]]


class CellPositions:
    """Positions in the written .ipynb text → (cell, LSP position in the cell)."""

    def __init__(self, nb: NotebookText) -> None:
        self.nb = nb
        self.raw = nb.text.split("\n")
        self.lines = [Lines(c.text) for c in nb.cells]

    def position(self, line: int, column: int) -> tuple[int, lsp.Position] | None:
        where = self.nb.origin.get(line)
        if where is None:
            return None
        cell, k = where
        raw = self.raw[line - 1]
        body = raw[1:raw.rfind('"')]  # the JSON string's content
        prefix = body[:max(column - 2, 0)]
        while True:
            try:
                decoded = json.loads(f'"{prefix}"')
                break
            except ValueError:  # the column fell inside an escape: back to its start
                prefix = prefix[:-1]
        return cell, self.lines[cell].position(k + 1, len(decoded.rstrip("\n")) + 1)

    def range(self, span: Span) -> tuple[int, lsp.Range] | None:
        """The cell and range of a span of the .ipynb text (None when it is not inside one cell)."""
        a = self.position(span.line, span.column)
        if a is None:
            return None
        b = self.position(span.end_line, span.end_column)
        end = b[1] if b is not None and b[0] == a[0] else a[1]
        return a[0], lsp.Range(start=a[1], end=end)
