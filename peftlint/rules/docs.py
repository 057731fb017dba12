"""Rule documentation as text: used by ``peftlint rule CODE`` and the README generator."""

from __future__ import annotations

import textwrap

from peftlint.rules.base import Example, Rule

_FENCE = {"python": "python", "json": "json", "yaml": "yaml", "notebook": "json"}


def _example(ex: Example) -> str:
    lines = []
    if ex.note:
        lines.append(ex.note)
    if ex.args:
        lines.append("(run with `peftlint " + " ".join(ex.args) + "`)")
    lines.append(f"```{_FENCE.get(ex.kind, '')}\n{textwrap.dedent(ex.code).strip()}\n```")
    return "\n".join(lines)


def explain(rule: type[Rule]) -> str:
    parts = [f"# {rule.code} {rule.name} ({rule.severity.value})", "", rule.summary.strip(), ""]
    if rule.docs:
        parts += [textwrap.dedent(rule.docs).strip(), ""]
    if rule.bad:
        parts.append("## Bad")
        parts += [_example(e) for e in rule.bad]
        parts.append("")
    if rule.good:
        parts.append("## Good")
        parts += [_example(e) for e in rule.good]
    return "\n".join(parts).rstrip() + "\n"
