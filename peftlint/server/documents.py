"""Open documents and their latest lint: which file each buffer stands for, the settings of its
nearest ``[tool.peftlint]``, and one warm ``Linter`` per project (its models stay built), each
given the server's progress (``building``) and its worker process (``offload``)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlparse

from lsprotocol import types as lsp

from peftlint.config import Settings, find_pyproject, load_settings
from peftlint.diagnostics import Diagnostic
from peftlint.engine import discover as disc
from peftlint.engine.results import RunResult
from peftlint.engine.run import Linter
from peftlint.model.load import Building
from peftlint.model.offload import Offload, in_process
from peftlint.server.convert import Lines, to_lsp
from peftlint.server.notebooks import CellPositions, NotebookText

# A buffer that is not a file yet (``untitled:``) is linted as a file of its language in the workspace.
_UNTITLED_NAMES = {"python": "untitled.py", "json": "adapter_config.json", "yaml": "untitled.yaml",
                   "jupyter": "untitled.ipynb", "shellscript": "untitled.sh"}


def uri_path(uri: str, language: str | None, root: Path | None) -> Path:
    """The file a document URI stands for."""
    parsed = urlparse(uri)
    if parsed.scheme != "file":
        return (root or Path.cwd()) / _UNTITLED_NAMES.get(language or "", "untitled.py")
    path = Path(unquote(parsed.path))
    if language == "python" and path.suffix not in (".py", ".pyi"):
        # Python text under another name: jupyterlab-lsp's virtual document of a notebook's cells
        # (.virtual_documents/nb.ipynb), a script without a suffix
        return path.with_name(path.name + ".py")
    return path


@dataclass
class Linted:
    """One lint of one version of a document (or of a notebook's cells, written out as ``text``)."""

    version: int | None
    text: str
    path: Path
    result: RunResult
    linter: Linter
    uri: str = ""
    notebook: NotebookText | None = None


class Projects:
    """One ``Linter`` per ``[tool.peftlint]`` (re-made when its pyproject.toml changes), so the
    models a project's buffers need are resolved and built once per session."""

    def __init__(self, root: Path | None = None, building: Building | None = None,
                 offload: Offload = in_process) -> None:
        self.root = root
        self.building = building  # told of each model build (the server's work-done progress)
        self.offload = offload  # runs model builds and peft's verdicts (the server's worker process)
        self._linters: dict[str, tuple[tuple[int, int] | None, Linter]] = {}

    def linter_for(self, path: Path) -> Linter:
        """The linter of ``path``'s project; raises ``SettingsError`` for a bad [tool.peftlint]."""
        pyproject = find_pyproject(path.parent)
        key = str(pyproject.parent) if pyproject else ""
        stamp = _stamp(pyproject)
        known = self._linters.get(key)
        if known is not None and known[0] == stamp:
            return known[1]
        settings: Settings = load_settings(path.parent)
        cwd = Path(settings.project_root) if settings.project_root else (self.root or path.parent)
        linter = Linter(settings, cwd)
        linter.building = self.building
        linter.offload = self.offload
        self._linters[key] = (stamp, linter)
        return linter

    def lint(self, uri: str, text: str, path: Path, version: int | None,
             notebook: NotebookText | None = None) -> Linted:
        linter = self.linter_for(path)
        if disc.file_kind(path) is None:  # a buffer of no linted kind: package.json, a weights file
            return Linted(version, text, path, RunResult(), linter, uri, notebook)
        return Linted(version, text, path, linter.lint_text(text, path), linter, uri, notebook)


def _stamp(pyproject: Path | None) -> tuple[int, int] | None:
    if pyproject is None:
        return None
    try:
        st = os.stat(pyproject)
    except OSError:
        return None
    return st.st_mtime_ns, st.st_size


def diagnostics_by_uri(linted: Linted) -> dict[str, list[tuple[Diagnostic, lsp.Diagnostic]]]:
    """Each finding with its LSP diagnostic, by the document it is shown in: the document itself, or
    for a notebook the cell it is in (a finding outside every cell goes to the first cell's start)."""
    if linted.notebook is None:
        lines = Lines(linted.text)
        return {linted.uri: [(d, to_lsp(d, lines, linted.uri)) for d in linted.result.diagnostics]}
    nb = linted.notebook
    out: dict[str, list[tuple[Diagnostic, lsp.Diagnostic]]] = {c.uri: [] for c in nb.cells}
    if not nb.cells:
        return out
    where = CellPositions(nb)
    start = lsp.Range(start=lsp.Position(line=0, character=0), end=lsp.Position(line=0, character=0))
    for d in linted.result.diagnostics:
        cell, rng = where.range(d.span) or (0, start)
        uri = nb.cells[cell].uri
        shown = to_lsp(d, where.lines[cell], uri)
        shown.range = rng
        if shown.related_information:
            shown.related_information[0].location.range = rng
        out[uri].append((d, shown))
    return out
