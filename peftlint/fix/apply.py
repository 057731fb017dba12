"""``--fix`` and ``--diff``: apply the edits carried by diagnostics (see ``edits.py``), check that the
result still parses, write atomically only the files that change, and re-lint until nothing
fixable is left."""

from __future__ import annotations

import difflib
import hashlib
import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from peftlint.diagnostics import Diagnostic
from peftlint.fix.edits import apply_edits
from peftlint.reading import NotReadable, read_limited

if TYPE_CHECKING:
    from peftlint.engine.run import Linter, RunResult

MAX_PASSES = 5  # like ruff: fixes can enable further fixes; stop when nothing changes


# -- applying ------------------------------------------------------------------------------------

class ChangedOnDisk(Exception):
    """The file no longer holds the text the edits were computed from."""


def write_atomic(path: Path, text: str, expect_digest: str | None = None) -> None:
    """Write through a temporary file in the same directory and rename it over ``path``.

    With ``expect_digest`` the file's bytes are hashed right before the rename, and nothing is
    replaced (:class:`ChangedOnDisk`) when they are not the bytes the new text was computed from.
    """
    fd, tmp = tempfile.mkstemp(dir=str(path.parent), prefix=f".{path.name}.", suffix=".peftlint")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
        try:
            os.chmod(tmp, path.stat().st_mode & 0o7777)
        except OSError:
            pass
        if expect_digest is not None:
            try:
                now = hashlib.sha256(read_limited(path)).hexdigest()
            except (OSError, NotReadable):
                now = None
            if now != expect_digest:
                raise ChangedOnDisk(str(path))
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
    # files whose fixes were computed but not applied, with the reason (a symlink, changed on disk,
    # a write that failed); the run goes on and the report is complete
    not_applied: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class _Planned:
    old: str  # the text the edits were applied to
    old_digest: str  # sha256 of its bytes on disk
    new: str
    count: int  # findings fixed


def _read(p: Path) -> tuple[str, str]:
    """(text, sha256 of the bytes) of a file to fix; the text keeps its BOM and line ends."""
    data = read_limited(p)
    return data.decode("utf-8"), hashlib.sha256(data).hexdigest()


def symlink_reason(p: Path) -> str | None:
    """Why ``p`` must not be written: it is a symlink, or lies under one (below the resolved cwd)."""
    try:
        if p.is_symlink():
            return f"it is a symbolic link (to {os.readlink(p)}); peftlint never writes through a link, fix its target"
        real, plain = os.path.realpath(p), os.path.normpath(os.path.abspath(p))
    except OSError as exc:
        return f"it cannot be checked: {exc.strerror or exc}"
    if real != plain:
        return f"its path goes through a symbolic link (it is {real}); peftlint never writes through a link"
    return None


def _plan(linter: "Linter", result: "RunResult", unsafe: bool, out: FixOutcome) -> dict[str, _Planned]:
    by_path: dict[str, list[Diagnostic]] = {}
    for d in result.diagnostics:
        if fixable(d, unsafe):
            by_path.setdefault(d.path, []).append(d)
    planned: dict[str, _Planned] = {}
    for rel, diags in sorted(by_path.items()):
        p = linter.cwd / rel
        try:
            old, digest = _read(p)
        except (OSError, NotReadable, UnicodeDecodeError) as exc:
            out.not_applied.append((rel, f"it cannot be read again: {exc}"))
            continue
        if rel in result.digests and result.digests[rel] != digest:
            out.not_applied.append((rel, "it changed after it was linted; run peftlint again"))
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
        planned[rel] = _Planned(old, digest, new, len(diags))
    return planned


def _write_planned(p: Path, plan: _Planned) -> str | None:
    """Write ``plan.new`` over ``p`` if ``p`` still holds ``plan.old``; the reason when it did not."""
    why = symlink_reason(p)
    if why:
        return why
    try:
        write_atomic(p, plan.new, expect_digest=plan.old_digest)
    except ChangedOnDisk:
        return "it changed while peftlint was fixing it; run peftlint again"
    except OSError as exc:
        return f"writing it failed: {exc.strerror or exc}"
    return None


def apply_fixes(linter: "Linter", result: "RunResult", paths: list[Path], *, write: bool,
                unsafe: bool) -> tuple[FixOutcome, "RunResult"]:
    """Apply the fixes; return what changed (with a unified diff) and the result of linting the fixed files.

    With ``write`` the files are rewritten (atomically, only those that change, only when they still
    hold the text that was linted, never through a symlink) and re-linted until no fix applies any
    more; without it nothing is written and the diff shows one round of fixes.
    """
    out = FixOutcome()
    originals: dict[str, str] = {}
    current: dict[str, str] = {}
    skipped: set[str] = set()
    passes = MAX_PASSES if write else 1
    for _ in range(passes):
        planned = {rel: pl for rel, pl in _plan(linter, result, unsafe, out).items() if rel not in skipped}
        changed = False
        for rel, plan in planned.items():
            if write:
                why = _write_planned(linter.cwd / rel, plan)
                if why:
                    out.not_applied.append((rel, why))
                    skipped.add(rel)
                    continue
            originals.setdefault(rel, plan.old)
            current[rel] = plan.new
            out.fixed += plan.count
            changed = True
        if not changed or not write:
            break
        relint = linter.__class__(linter.settings, linter.cwd)
        relint.hierarchy = linter.hierarchy  # the same configuration for each file as the first pass
        result = relint.lint_paths(paths)
    out.not_applied = list(dict.fromkeys(out.not_applied))
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
