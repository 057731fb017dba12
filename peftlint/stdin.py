"""``peftlint check --stdin-filename PATH -``: lint the text on stdin as if it were the file at PATH
(its settings, model resolution and per-file ignores), write nothing; with ``--fix`` the fixed text
goes to stdout (ruff's behaviour), with ``--diff`` the diff of the fixes."""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

if TYPE_CHECKING:
    from peftlint.engine.results import RunResult
    from peftlint.engine.run import Linter


@dataclass
class StdinOutcome:
    result: "RunResult"
    output: bytes = b""  # what goes to stdout instead of the report: the fixed text, or the diff
    fixed: int = 0  # findings whose fix was applied
    rejected: bool = False  # the fixes were not applied: the result would not parse


def read_stdin(stream: BinaryIO, limit: int) -> tuple[bytes, bool]:
    """At most ``limit + 1`` bytes of ``stream``, and whether there was more (the engine reports a
    text over ``limit`` as not read; the rest is not kept in memory)."""
    data = stream.read(limit + 1)
    return data, len(data) > limit


def lint_stdin(linter: "Linter", data: bytes, name: Path, *, fix: bool, diff: bool, unsafe: bool) -> StdinOutcome:
    """Lint ``data`` as the file ``name``; with ``fix`` or ``diff`` also fix it in memory."""
    if not (fix or diff):
        return StdinOutcome(linter.lint_text(data, name))
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:  # reported as a finding; the input goes back out unchanged
        return StdinOutcome(linter.lint_text(data, name), b"" if diff else data)
    from peftlint.fix.apply import MAX_PASSES, fix_text

    got = fix_text(linter, text, name, unsafe=unsafe, passes=1 if diff else MAX_PASSES)
    if not diff:
        return StdinOutcome(got.result, got.text.encode("utf-8", "surrogatepass"), got.fixed, got.rejected)
    label = name.as_posix()
    lines = list(difflib.unified_diff(text.splitlines(keepends=True), got.text.splitlines(keepends=True),
                                      fromfile=f"a/{label}", tofile=f"b/{label}"))
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n\\ No newline at end of file\n"
    return StdinOutcome(got.result, "".join(lines).encode("utf-8", "surrogatepass"), got.fixed, got.rejected)
