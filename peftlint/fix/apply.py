"""``--fix`` and ``--diff``: apply the edits carried by diagnostics (see ``edits.py``), check that the
result still parses, write atomically only the files that change, and re-lint until nothing
fixable is left."""

from __future__ import annotations

import difflib
import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from peftlint.diagnostics import Diagnostic
from peftlint.fix.edits import apply_edits

if TYPE_CHECKING:
    from peftlint.engine.run import Linter, RunResult

MAX_PASSES = 5  # like ruff: fixes can enable further fixes; stop when nothing changes


# -- applying ------------------------------------------------------------------------------------

def write_atomic(path: Path, text: str) -> None:
    """Write through a temporary file in the same directory and rename it over ``path``."""
    fd, tmp = tempfile.mkstemp(dir=str(path.parent), prefix=f".{path.name}.", suffix=".peftlint")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
        try:
            os.chmod(tmp, path.stat().st_mode & 0o7777)
        except OSError:
            pass
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def fixable(d: Diagnostic, unsafe: bool) -> bool:
    return d.fix is not None and bool(d.fix.edits) and (d.fix.applicability == "safe" or unsafe)


@dataclass
class FixOutcome:
    diff: str = ""
    fixed: int = 0  # findings whose fix was applied
    files: list[str] = field(default_factory=list)  # files changed
    rejected: list[str] = field(default_factory=list)  # files whose fixed text would not parse


def _read(p: Path) -> str:
    with open(p, encoding="utf-8", newline="") as fh:
        return fh.read()


def _one_pass(linter: "Linter", result: "RunResult", unsafe: bool, originals: dict[str, str],
              current: dict[str, str], out: FixOutcome) -> bool:
    by_path: dict[str, list[Diagnostic]] = {}
    for d in result.diagnostics:
        if fixable(d, unsafe):
            by_path.setdefault(d.path, []).append(d)
    changed = False
    for rel, diags in sorted(by_path.items()):
        p = linter.cwd / rel
        try:
            old = current[rel] if rel in current else _read(p)
        except (OSError, UnicodeDecodeError):
            continue
        text_had_bom = old.startswith("\ufeff")
        body = old[1:] if text_had_bom else old
        file_edits = [e for d in diags for e in d.fix.edits if e.path == rel]
        if p.suffix == ".ipynb":  # edits address the JSON text; apply them to the cell sources
            from peftlint.sources.notebook import apply_notebook_edits

            new = apply_notebook_edits(body, file_edits)
        else:
            new = apply_edits(body, file_edits)
        new = ("\ufeff" + new) if text_had_bom else new
        if new == old:
            continue
        if not _reparses(p, new):
            out.rejected.append(rel)
            continue
        originals.setdefault(rel, old)
        current[rel] = new
        out.fixed += len(diags)
        changed = True
    return changed


def apply_fixes(linter: "Linter", result: "RunResult", paths: list[Path], *, write: bool,
                unsafe: bool) -> tuple[FixOutcome, "RunResult"]:
    """Apply the fixes; return what changed (with a unified diff) and the result of linting the fixed files.

    With ``write`` the files are rewritten (atomically, only those that change) and re-linted until
    no fix applies any more; without it nothing is written and the diff shows one round of fixes.
    """
    out = FixOutcome()
    originals: dict[str, str] = {}
    current: dict[str, str] = {}
    passes = MAX_PASSES if write else 1
    for _ in range(passes):
        if not _one_pass(linter, result, unsafe, originals, current, out):
            break
        if not write:
            break
        for rel, text in current.items():
            p = linter.cwd / rel
            if _read(p) != text:
                write_atomic(p, text)
        result = linter.__class__(linter.settings, linter.cwd).lint_paths(paths)
    parts: list[str] = []
    for rel in sorted(originals):
        if current[rel] == originals[rel]:
            continue
        out.files.append(rel)
        parts.extend(difflib.unified_diff(originals[rel].splitlines(keepends=True),
                                          current[rel].splitlines(keepends=True),
                                          fromfile=f"a/{rel}", tofile=f"b/{rel}"))
        if parts and not parts[-1].endswith("\n"):
            parts[-1] += "\n\\ No newline at end of file\n"
    out.diff = "".join(parts)
    return out, result


def summary(diagnostics: list[Diagnostic], unsafe: bool) -> str:
    """ruff-style: how many findings ``--fix`` would fix, and how many unsafe fixes are hidden."""
    safe = sum(1 for d in diagnostics if fixable(d, unsafe))
    hidden = sum(1 for d in diagnostics if d.fix is not None and d.fix.edits and not fixable(d, unsafe))
    parts = []
    if safe:
        parts.append(f"{safe} fixable with --fix")
    if hidden:
        parts.append(f"{hidden} hidden fix{'es' if hidden != 1 else ''} can be enabled with --unsafe-fixes")
    return "; ".join(parts)


def _reparses(path: Path, text: str) -> bool:
    if path.suffix == ".py":
        try:
            compile(text.lstrip("\ufeff"), str(path), "exec", dont_inherit=True, flags=0x400)  # PyCF_ONLY_AST
        except (SyntaxError, ValueError):
            return False
    elif path.suffix in (".yaml", ".yml"):
        import yaml

        try:
            list(yaml.compose_all(text, Loader=yaml.SafeLoader))
        except yaml.YAMLError:
            return False
    elif path.suffix in (".json", ".ipynb"):
        try:
            json.loads(text.lstrip("\ufeff"))
        except ValueError:
            return False
    return True
