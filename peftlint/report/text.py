"""Text output for people.

``concise`` (the default): errors and warnings, one line each (``path:line:col: CODE message``),
then a short summary; notes are counted, and printed with ``--show-notes``.
``full``: every finding, notes included, each followed by its longer explanation and where the
config's model came from; the summary adds which configs were checked against a default model and
whether saved adapters fit their base model.
"""

from __future__ import annotations

import textwrap
from collections import Counter
from typing import Callable, TypedDict

from peftlint.diagnostics import Diagnostic, Severity, fix_summary, fixable
from peftlint.engine.results import RunResult
from peftlint.report.printable import escape_controls, escape_line


def render(result: RunResult, options: dict) -> str:
    return _render(result, options, full=False)


def render_full(result: RunResult, options: dict) -> str:
    return _render(result, options, full=True)


def one_line(message: str) -> str:
    return " ".join(part.strip() for part in message.splitlines() if part.strip())


def _render(result: RunResult, options: dict, full: bool) -> str:
    unsafe = bool(getattr(options.get("settings"), "unsafe_fixes", False))
    show_notes = full or bool(options.get("show_notes"))
    paint = _painter(bool(options.get("color")))
    out: list[str] = []
    if options.get("statistics"):  # counts only, as ruff's --statistics
        counts = Counter((d.code, d.name, d.severity.value) for d in result.diagnostics)
        fix = {d.code for d in result.diagnostics if fixable(d, unsafe)}
        for (code, name, sev), n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])):
            mark = paint("[*]", "fix") if code in fix else "   "
            out.append(f"{n:5d}  {paint(code, sev)}  {mark} {name:<28} {sev}")
    else:
        for d in result.diagnostics:
            if d.severity == Severity.INFO and not show_notes:
                continue
            mark = " " + paint("[*]", "fix") if fixable(d, unsafe) else ""
            out.append(f"{paint(escape_line(d.path), 'path')}:{_position(d)}: {paint(d.code, d.severity.value)}{mark} "
                       f"{escape_controls(one_line(_message(d)))}")
            if full:
                out.extend(escape_controls(line) for line in _explanation(d))
    if out:
        out.append("")
    out.extend(escape_controls(line) for line in summary_lines(
        result, unsafe, full=full, notes_shown=show_notes, paths=tuple(options.get("paths", ()))))
    # every piece from the linted tree is escaped above, before the colours are painted around it
    return "\n".join(out) + "\n"


def _position(d: Diagnostic) -> str:
    """``line:col``, or in a notebook ``cell 3:2:8`` (the cell, the line and column in it), as ruff."""
    if d.cell is not None:
        return f"cell {d.cell[0]}:{d.cell[1]}:{d.cell[2]}"
    return f"{d.span.line}:{d.span.column}"


def _message(d: Diagnostic) -> str:
    """The message without the ``(cell N, line L)`` the position already says."""
    return d.text(cell=False)


class _Style(TypedDict, total=False):  # click.style's keywords used here
    fg: str
    bold: bool


# path bold, codes by severity (ruff's colours), the fixable mark cyan
_STYLES: dict[str, _Style] = {"path": {"bold": True}, "error": {"fg": "red", "bold": True},
                              "warning": {"fg": "yellow", "bold": True}, "info": {"fg": "blue", "bold": True},
                              "fix": {"fg": "cyan"}}


def _painter(color: bool) -> Callable[[str, str], str]:
    if not color:
        return lambda text, _kind: text
    import click  # already imported by the command line; only a coloured report uses it

    return lambda text, kind: click.style(text, **_STYLES[kind])


def _explanation(d: Diagnostic) -> list[str]:
    lines = []
    if d.detail:
        for para in d.detail.split("\n\n"):
            lines += textwrap.wrap(one_line(para), 100, initial_indent="    ", subsequent_indent="    ")
    if d.model_source:
        lines.append(f"    model: {d.model} ({d.model_source})" if d.model else f"    model from: {d.model_source}")
    return lines


def summary_lines(result: RunResult, unsafe: bool = False, *, full: bool = False, notes_shown: bool = True,
                  paths: tuple[str, ...] = ()) -> list[str]:
    """A few lines: counts per severity, then how many configs were checked against their model."""
    lines: list[str] = []
    sev = Counter(d.severity.value for d in result.diagnostics)
    if result.diagnostics:
        errors, warnings, notes = sev.get("error", 0), sev.get("warning", 0), sev.get("info", 0)
        found = f"Found {_n(errors, 'error')}, {_n(warnings, 'warning')}, {_n(notes, 'note')}"
        if notes and not notes_shown:
            found += " (notes not shown: --show-notes)"
        fixes = fix_summary(result.diagnostics, unsafe)
        lines.append(found + "." + (f" ({fixes})" if fixes else ""))
    else:
        lines.append("All checks passed.")
    checked = [o for o in result.outcomes if not o.skipped]
    for o in checked:
        if o.model_note:  # a tree read statically from the code, with subtrees it could not read
            lines.append(f"  {escape_line(o.spec.label())}: checked against {o.model} ({o.model_note}); names that could be "
                         "there are not reported")
    if full:
        for o in checked:
            if o.from_default:
                lines.append(f"  {escape_line(o.spec.label())}: checked against {o.model} ({o.how}); "
                             "runs with another model are not checked")
        for v in result.verdicts:
            lines.append(f"  {v}")
    lines.extend(unchecked_lines(result, paths))
    lines.append(f"Checked {_n(result.files, 'file')}: {coverage(result.specs, len(checked))}.")
    return lines


def unchecked_lines(result: RunResult, paths: tuple[str, ...] = ()) -> list[str]:
    """Configs whose model-aware checks did not run, every time, with the one command that checks
    them: a hub model that is not on this machine is fetched; the others say why with --show-configs."""
    skipped = result.skipped()
    if not skipped:
        return []
    import shlex  # only a run with unchecked configs quotes the paths

    fetchable = sum(o.fetchable for o in skipped)
    where = " ".join(shlex.quote(p) for p in paths) or "."
    lines = []
    if fetchable:
        lines.append(f"{_n(fetchable, 'config')} not checked: {'its' if fetchable == 1 else 'their'} base model is not "
                     f"on this machine; `peftlint cache fetch {where}` downloads the config.json files "
                     "(or run with --online).")
    if len(skipped) > fetchable:
        lines.append(f"{_n(len(skipped) - fetchable, 'config')} not checked against a base model: "
                     f"`peftlint check --show-configs {where}` says why.")
    return lines


def coverage(configs: int, checked: int) -> str:
    """"8 configs, 5 checked (62 %)"."""
    if not configs:
        return "no PEFT config found"
    return f"{_n(configs, 'config')}, {checked} checked ({100 * checked // configs} %)"


def _n(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"
