"""The default output: ``path:line:col: CODE message``, then a summary of what was checked."""

from __future__ import annotations

from collections import Counter

from peftlint.engine.run import RunResult


def render(result: RunResult, options: dict) -> str:
    from peftlint.fix.apply import fixable

    unsafe = bool(getattr(options.get("settings"), "unsafe_fixes", False))
    out: list[str] = []
    for d in result.diagnostics:
        mark = " [*]" if fixable(d, unsafe) else ""
        out.append(f"{d.path}:{d.span.line}:{d.span.column}: {d.code}{mark} {d.message}")
    if options.get("statistics"):
        counts = Counter((d.code, d.name) for d in result.diagnostics)
        if out:
            out.append("")
        for (code, name), n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])):
            out.append(f"{n:5d}  {code}  {name}")
    out.extend(summary_lines(result, unsafe))
    return "\n".join(out) + "\n"


def summary_lines(result: RunResult, unsafe: bool = False) -> list[str]:
    lines = [""] if result.diagnostics else []
    checked = [o for o in result.outcomes if not o.skipped]
    lines.append(
        f"Checked {result.files} file{'s' if result.files != 1 else ''}: "
        f"{result.specs} config{'s' if result.specs != 1 else ''} found, {len(checked)} checked against "
        f"their base model, {len(result.skipped())} without a model."
    )
    for o in checked:
        if o.from_default:
            lines.append(f"  {o.spec.label()}: checked against {o.model} ({o.how}); runs with another model are not checked")
        if o.model_note:
            lines.append(f"  {o.spec.label()}: checked against {o.model} ({o.model_note}); names that could be there "
                         "are not reported")
    for o in result.skipped():
        lines.append(f"  skipped model checks for {o.spec.label()}: {o.skipped}")
    for v in getattr(result, "verdicts", []):
        lines.append(f"  {v}")
    sev = Counter(d.severity.value for d in result.diagnostics)
    from peftlint.fix.apply import summary as fix_summary

    fixable = fix_summary(result.diagnostics, unsafe)
    if result.diagnostics:
        parts = [f"{sev.get('error', 0)} error{'s' if sev.get('error', 0) != 1 else ''}",
                 f"{sev.get('warning', 0)} warning{'s' if sev.get('warning', 0) != 1 else ''}",
                 f"{sev.get('info', 0)} note{'s' if sev.get('info', 0) != 1 else ''}"]
        tail = f" ({fixable})" if fixable else ""
        lines.append("Found " + ", ".join(parts) + "." + tail)
    else:
        lines.append("All checks passed.")
    return lines
