"""``--fix`` and ``--diff``: apply the edits carried by diagnostics (text edits, see ``edits.py``, and
libcst rewrites of a config call, see ``cst.py``), check that the result still parses, re-lint the
fixed text in memory until nothing fixable is left, then write atomically only the files that
change (``--fix``) or print the whole change (``--diff``): both show the same passes."""

from __future__ import annotations

import contextlib
import difflib
import hashlib
import json
import os
import signal
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Iterator

from peftlint.diagnostics import Diagnostic, Edit, Fix, Span, fixable
from peftlint.fix.edits import apply_edits
from peftlint.reading import NotReadable, read_limited
from peftlint.textpos import LineIndex

if TYPE_CHECKING:
    from peftlint.engine.run import Linter, RunResult

MAX_PASSES = 5  # like ruff: fixes can enable further fixes; stop when nothing changes


# -- applying ------------------------------------------------------------------------------------

class ChangedOnDisk(Exception):
    """The file no longer holds the text the edits were computed from."""


def _stat_key(path: Path) -> tuple[int, int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_mtime_ns, st.st_size, st.st_ino)


def write_atomic(path: Path, text: str, expect_digest: str | None = None) -> None:
    """Write through a temporary file in the same directory and rename it over ``path``.

    With ``expect_digest`` the file's bytes are hashed right before the rename, and nothing is
    replaced (:class:`ChangedOnDisk`) when they are not the bytes the new text was computed from, or
    when its size, mtime or inode moved while they were hashed (an editor appending to it). The
    temporary file is removed on any exception, ``KeyboardInterrupt`` and the ``SystemExit`` that
    :func:`signals_as_exit` turns SIGTERM and SIGHUP into included.
    """
    tmp: str | None = None
    try:
        fd, tmp = tempfile.mkstemp(dir=str(path.parent), prefix=f".{path.name}.", suffix=".peftlint")
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
        try:
            os.chmod(tmp, path.stat().st_mode & 0o7777)
        except OSError:
            pass
        if expect_digest is not None:
            before = _stat_key(path)
            try:
                now = hashlib.sha256(read_limited(path)).hexdigest()
            except (OSError, NotReadable):
                now = None
            if now != expect_digest or before is None or _stat_key(path) != before:
                raise ChangedOnDisk(str(path))
        os.replace(tmp, path)
        tmp = None
    finally:
        if tmp is not None and os.path.lexists(tmp):
            os.unlink(tmp)


@contextlib.contextmanager
def signals_as_exit() -> Iterator[None]:
    """While files are written, SIGTERM and SIGHUP raise ``SystemExit`` (as Ctrl-C raises
    ``KeyboardInterrupt``), so a temporary file is cleaned up before the process ends."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def _exit(signum: int, _frame: object) -> None:
        raise SystemExit(128 + signum)

    saved = {}
    for name in ("SIGTERM", "SIGHUP"):
        sig = getattr(signal, name, None)
        if sig is not None:
            saved[sig] = signal.signal(sig, _exit)
    try:
        yield
    finally:
        for sig, handler in saved.items():
            signal.signal(sig, handler)


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


def _plan(linter: "Linter", result: "RunResult", unsafe: bool, out: FixOutcome,
          current: dict[str, str]) -> dict[str, _Planned]:
    """One pass of fixes over the texts (``current`` holds the ones earlier passes fixed)."""
    by_path: dict[str, list[Diagnostic]] = {}
    for d in result.diagnostics:
        if fixable(d, unsafe):
            by_path.setdefault(d.path, []).append(d)
    planned: dict[str, _Planned] = {}
    for rel, diags in sorted(by_path.items()):
        p = linter.cwd / rel
        if rel in current:
            old = current[rel]
            digest = hashlib.sha256(old.encode("utf-8")).hexdigest()
        else:
            try:
                old, digest = _read(p)
            except UnicodeDecodeError:
                out.not_applied.append((rel, "it is not UTF-8; peftlint writes fixes to UTF-8 files only"))
                continue
            except (OSError, NotReadable) as exc:
                out.not_applied.append((rel, f"it cannot be read again: {exc}"))
                continue
        if rel in result.digests and result.digests[rel] != digest:
            out.not_applied.append((rel, "it changed after it was linted; run peftlint again"))
            continue
        new, count = edited_text(p, rel, old, diags)
        if new == old:
            continue
        if not _reparses(p, new):
            out.rejected.append(rel)
            continue
        planned[rel] = _Planned(old, digest, new, count)
    return planned


def _edits(rel: str, body: str, diags: list[Diagnostic]) -> tuple[list[Edit], int]:
    """The edits of one pass over a file and how many findings they fix: text edits as they are,
    and per config call one libcst rewrite holding the operations of every fix of that call that
    does not collide with an earlier one (the others wait for the next pass)."""
    edits: list[Edit] = []
    count = 0
    calls: dict[Span, list[Fix]] = {}
    for d in diags:
        assert d.fix is not None  # the caller passes findings with a fix
        if d.fix.change is None:
            mine = [e for e in d.fix.edits if e.path == rel]
            edits += mine
            count += bool(mine)
        elif d.fix.path == rel:
            calls.setdefault(d.fix.change.span, []).append(d.fix)
    if not calls:
        return edits, count
    from peftlint.fix.cst import rewrite_call
    from peftlint.fix.ops import OpKind

    lines = LineIndex.of(body)
    for span, fixes in calls.items():
        first = fixes[0].change
        assert first is not None  # calls holds fixes of a call only
        if not first.notebook:
            try:
                if lines.slice(span) != first.call_text:
                    continue  # the call is not the one linted
            except (IndexError, ValueError):
                continue
        ops: list = []
        whole: set[str] = set()
        touched: set[str] = set()
        items: set[tuple[str, int]] = set()
        taken = 0
        for fix in fixes:
            assert fix.change is not None
            fix_ops = fix.change.ops
            if any(o.field in whole or (o.kind in (OpKind.SET_ARG, OpKind.REMOVE_ARG) and o.field in touched)
                   or (o.kind == OpKind.REPLACE_ITEM and (o.field, o.index) in items) for o in fix_ops):
                continue
            for o in fix_ops:
                touched.add(o.field)
                if o.kind in (OpKind.SET_ARG, OpKind.REMOVE_ARG):
                    whole.add(o.field)
                if o.kind == OpKind.REPLACE_ITEM:
                    items.add((o.field, o.index))
            ops += fix_ops
            taken += 1
        new = rewrite_call(first.call_text, ops)
        if new is None:
            continue
        if first.notebook:
            new = json.dumps(new, ensure_ascii=False)[1:-1]
        edits.append(Edit(rel, span, new))
        count += taken
    return edits, count


def edited_text(path: Path, rel: str, old: str, diags: list[Diagnostic]) -> tuple[str, int]:
    """``old`` (the text of ``path``, shown as ``rel``; BOM and line ends kept) with one pass of the
    fixes of ``diags``, and how many findings they fix (see ``_edits``)."""
    text_had_bom = old.startswith("\ufeff")
    body = old[1:] if text_had_bom else old
    file_edits, count = _edits(rel, body, diags)
    if path.suffix == ".ipynb":  # edits address the JSON text; apply them to the cell sources
        from peftlint.sources.notebook import apply_notebook_edits

        new = apply_notebook_edits(body, file_edits)
    else:
        new = apply_edits(body, file_edits)
    return (("\ufeff" + new) if text_had_bom else new), count


@dataclass
class TextFix:
    text: str  # the fixed text (the input when nothing applied)
    fixed: int  # findings whose fix was applied
    result: "RunResult"  # the findings of the fixed text
    rejected: bool = False  # a round of fixes was dropped: its result would not parse


def fix_text(linter: "Linter", text: str, path: Path, *, unsafe: bool, passes: int = MAX_PASSES) -> TextFix:
    """Fix ``text`` as if it were the file at ``path`` (stdin, an editor's buffer): lint it with
    ``Linter.lint_text``, apply the fixes, re-lint, until nothing fixable is left (as ``--fix``;
    ``--diff`` shows one pass)."""
    result = linter.lint_text(text, path)
    fixed, rejected = 0, False
    for _ in range(passes):
        diags = [d for d in result.diagnostics if fixable(d, unsafe)]
        if not diags:
            break
        new, count = edited_text(path, diags[0].path, text, diags)
        if new == text:
            break
        if not _reparses(path, new):
            rejected = True
            break
        text, fixed = new, fixed + count
        result = linter.lint_text(text, path)
    return TextFix(text, fixed, result, rejected)


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
                unsafe: bool, passes: int = MAX_PASSES) -> tuple[FixOutcome, "RunResult"]:
    """Apply the fixes; return what changed (with a unified diff) and the result of linting the fixed files.

    Passes run in memory (the fixed text is linted again until no fix applies any more), so the
    diff shows exactly what ``--fix`` writes. With ``write`` the files are then rewritten
    (atomically, only those that change, only when they still hold the text that was linted, never
    through a symlink). ``passes`` bounds the rounds (the last one is not linted again).
    """
    out = FixOutcome()
    originals: dict[str, _Planned] = {}
    current: dict[str, str] = {}
    counts: dict[str, int] = {}
    for round_ in range(passes):
        planned = _plan(linter, result, unsafe, out, current)
        if not planned:
            break
        for rel, plan in planned.items():
            originals.setdefault(rel, plan)
            current[rel] = plan.new
            counts[rel] = counts.get(rel, 0) + plan.count
        if round_ == passes - 1 and not write:
            break
        result = _relint(linter, paths, current)
    failed = False
    parts: list[str] = []
    for rel in sorted(originals):
        old = originals[rel].old
        if current[rel] == old:
            continue
        if write:
            with signals_as_exit():
                why = _write_planned(linter.cwd / rel, _Planned(old, originals[rel].old_digest, current[rel],
                                                                counts[rel]))
            if why:
                out.not_applied.append((rel, why))
                failed = True
                continue
        out.fixed += counts[rel]
        out.files.append(rel)
        parts.extend(difflib.unified_diff(old.splitlines(keepends=True), current[rel].splitlines(keepends=True),
                                          fromfile=f"a/{rel}", tofile=f"b/{rel}"))
        if parts and not parts[-1].endswith("\n"):
            parts[-1] += "\n\\ No newline at end of file\n"
    out.not_applied = list(dict.fromkeys(out.not_applied))
    out.diff = "".join(parts)
    if write and failed:
        result = _relint(linter, paths, {})
    return out, result


def _relint(linter: "Linter", paths: list[Path], texts: dict[str, str]) -> "RunResult":
    """Lint ``paths`` again, with each file's configuration as in the first pass, reading the
    fixed ``texts`` (display path -> text) instead of those files."""
    again = linter.__class__(linter.settings, linter.cwd)
    again.hierarchy = linter.hierarchy
    again.overrides = {os.path.normpath(os.path.join(linter.cwd, rel)): text.encode("utf-8")
                       for rel, text in texts.items()}
    return again.lint_paths(paths)


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
