"""fix: apply the edits carried by diagnostics, atomically, only to files that change."""

from __future__ import annotations

import difflib
import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from peftlint.linter.diagnostics import Diagnostic, Edit

if TYPE_CHECKING:
    from peftlint.linter.engine import Linter, RunResult


def _offsets(text: str) -> list[int]:
    starts = [0]
    for i, ch in enumerate(text):
        if ch == "\n":
            starts.append(i + 1)
    return starts


def apply_edits(text: str, edits: list[Edit]) -> str:
    """Apply non-overlapping edits (later ones first); an edit overlapping an applied one is skipped."""
    starts = _offsets(text)

    def off(line: int, col: int) -> int:
        return starts[line - 1] + col - 1

    ranges = sorted(((off(e.span.line, e.span.column), off(e.span.end_line, e.span.end_column), e.content)
                     for e in edits), reverse=True)
    out = text
    last_start = len(text) + 1
    for a, b, content in ranges:
        if b > last_start:
            continue
        out = out[:a] + content + out[b:]
        last_start = a
    return out


def write_atomic(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(dir=str(path.parent), prefix=f".{path.name}.", suffix=".peftlint")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def fixable(d: Diagnostic, unsafe: bool) -> bool:
    return d.fix is not None and (d.fix.applicability == "safe" or unsafe)


def apply_fixes(linter: "Linter", result: "RunResult", paths: list[Path], *, write: bool,
                unsafe: bool) -> tuple[str, "RunResult"]:
    """Apply fixes; return (unified diff of all changes, the result of re-linting after the fixes)."""
    by_path: dict[str, list[Edit]] = {}
    for d in result.diagnostics:
        if fixable(d, unsafe):
            for e in d.fix.edits:
                by_path.setdefault(e.path, []).append(e)
    diff_parts: list[str] = []
    for rel, edits in sorted(by_path.items()):
        p = (linter.cwd / rel)
        old = p.read_text(encoding="utf-8")
        new = apply_edits(old, edits)
        if new == old or not _reparses(p, new):
            continue
        diff_parts.extend(difflib.unified_diff(old.splitlines(keepends=True), new.splitlines(keepends=True),
                                               fromfile=f"a/{rel}", tofile=f"b/{rel}"))
        if write:
            write_atomic(p, new)
    if write and by_path:
        result = linter.__class__(linter.settings, linter.cwd).lint_paths(paths)
    return "".join(diff_parts), result


def _reparses(path: Path, text: str) -> bool:
    if path.suffix == ".py":
        try:
            compile(text, str(path), "exec", dont_inherit=True, flags=0x400)  # PyCF_ONLY_AST
        except SyntaxError:
            return False
    elif path.suffix in (".json", ".ipynb"):
        import json

        try:
            json.loads(text)
        except ValueError:
            return False
    return True
