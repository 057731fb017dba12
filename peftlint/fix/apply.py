"""fix: build and apply the text edits carried by diagnostics (format-preserving), atomically,
only to files that change.

Rules build their edits with the helpers here (``replace_string_edit``, ``remove_item_edit``):
they work on the source text and the spans the readers recorded, so comments, quotes, trailing
commas and the layout of a list survive, in Python and in JSON alike. ``apply_fixes`` applies them,
checks that the result still parses, writes atomically and re-lints until nothing fixable is left.
"""

from __future__ import annotations

import difflib
import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

from peftlint.diagnostics import Diagnostic, Edit, Span

if TYPE_CHECKING:
    from peftlint.engine.run import Linter, RunResult
    from peftlint.spec import Value

MAX_PASSES = 5  # like ruff: fixes can enable further fixes; stop when nothing changes


# -- positions -----------------------------------------------------------------------------------

def _line_starts(text: str) -> list[int]:
    starts = [0]
    for i, ch in enumerate(text):
        if ch == "\n":
            starts.append(i + 1)
    return starts


class _Offsets:
    def __init__(self, text: str) -> None:
        self.text = text
        self.starts = _line_starts(text)

    def off(self, line: int, col: int) -> int:
        return self.starts[line - 1] + col - 1

    def pos(self, off: int) -> tuple[int, int]:
        lo, hi = 0, len(self.starts) - 1
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if self.starts[mid] <= off:
                lo = mid
            else:
                hi = mid - 1
        return lo + 1, off - self.starts[lo] + 1

    def span(self, a: int, b: int) -> Span:
        return Span(*self.pos(a), *self.pos(b))


def span_text(text: str, span: Span) -> str:
    o = _Offsets(text)
    try:
        return text[o.off(span.line, span.column):o.off(span.end_line, span.end_column)]
    except IndexError:
        return ""


# -- edit builders for rules ---------------------------------------------------------------------

def _is_plain_string(src: str, value: str) -> str | None:
    """The quote character when ``src`` is exactly a simple literal of ``value`` ('x' or "x")."""
    if len(src) >= 2 and src[0] == src[-1] and src[0] in "'\"" and src[1:-1] == value and "\\" not in src:
        return src[0]
    return None


def replace_string_edit(path: str, text: str, item: "Value", new: str) -> Edit | None:
    """Replace a plain string literal by another name, keeping its quote style; None if not plain."""
    quote = _is_plain_string(span_text(text, item.span), str(item.value))
    if quote is None or quote in new or "\\" in new:
        return None
    return Edit(path, item.span, f"{quote}{new}{quote}")


def _skip_blank(text: str, i: int, comments: bool) -> int:
    """Skip whitespace (and ``#`` comments in Python) from ``i``; returns the next significant offset."""
    while i < len(text):
        if text[i] in " \t\r\n\\":
            i += 1
        elif comments and text[i] == "#":
            while i < len(text) and text[i] != "\n":
                i += 1
        else:
            break
    return i


def remove_item_edit(path: str, text: str, items: Sequence["Value"], index: int, *,
                     python: bool = True, container: str = "list") -> tuple[Edit, ...] | None:
    """Edits deleting ``items[index]`` from its list with one comma, keeping the list's layout.

    An item alone on its line goes with its whole line (and the comment after it); an inline item
    goes with the comma before it (or, first in the list, the comma after it). The last item never
    leaves a dangling comma behind it in JSON. Returns None when the text around the item is not
    what a list looks like (then no fix is offered).
    """
    if not 0 <= index < len(items) or len(items) < 2:
        return None
    if container == "tuple" and len(items) == 2:
        return None  # ("a", "a") -> ("a") would be a string, not a tuple
    o = _Offsets(text)
    try:
        start = o.off(items[index].span.line, items[index].span.column)
        end = o.off(items[index].span.end_line, items[index].span.end_column)
        prev_end = o.off(items[index - 1].span.end_line, items[index - 1].span.end_column) if index else None
    except IndexError:
        return None
    after = _skip_blank(text, end, python)
    has_comma = after < len(text) and text[after] == ","
    is_last = index == len(items) - 1
    if not is_last and not has_comma:
        return None
    line_start = text.rfind("\n", 0, start) + 1
    tail_from = after + 1 if has_comma else end
    eol = text.find("\n", tail_from)
    eol = len(text) if eol < 0 else eol
    tail = text[tail_from:eol].strip()
    alone = (text[line_start:start].strip() == "" and "\n" not in text[end:tail_from]
             and (tail == "" or (python and tail.startswith("#"))))
    if alone and eol < len(text):
        whole_line = Edit(path, o.span(line_start, eol + 1), "")
        if has_comma or prev_end is None:
            return (whole_line,)
        comma = _skip_blank(text, prev_end, python)  # the last item goes: drop the comma before it
        if text[comma:comma + 1] != "," or comma >= line_start:
            return None
        return (Edit(path, o.span(comma, comma + 1), ""), whole_line)
    if prev_end is not None and "\n" not in text[prev_end:start]:
        return (Edit(path, o.span(prev_end, end), ""),)
    if has_comma and not is_last:
        nxt = after + 1
        while nxt < len(text) and text[nxt] in " \t":
            nxt += 1
        return (Edit(path, o.span(start, nxt), ""),)
    return None


# -- applying ------------------------------------------------------------------------------------

def apply_edits(text: str, edits: list[Edit]) -> str:
    """Apply non-overlapping edits (later ones first); an edit overlapping an applied one is skipped."""
    o = _Offsets(text)
    ranges = sorted({(o.off(e.span.line, e.span.column), o.off(e.span.end_line, e.span.end_column), e.content)
                     for e in edits}, reverse=True)
    out = text
    last_start = len(text) + 1
    for a, b, content in ranges:
        if b > last_start:
            continue
        out = out[:a] + content + out[b:]
        last_start = a
    return out


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
    elif path.suffix in (".yaml", ".yml"):
        import yaml

        try:
            list(yaml.safe_load_all(text))
        except yaml.YAMLError:
            return False
    return True
