"""``--format json``: one JSON array, one object per finding, in a deterministic order."""

from __future__ import annotations

import json

from peftlint.engine.results import RunResult


def render(result: RunResult, options: dict) -> str:
    if options.get("statistics"):
        return json.dumps(statistics(result, bool(getattr(options.get("settings"), "unsafe_fixes", False))),
                          indent=2) + "\n"
    return json.dumps([d.to_json() for d in result.diagnostics], indent=2) + "\n"


def statistics(result: RunResult, unsafe: bool) -> list[dict]:
    """``--statistics --output-format json``: one object per code, most frequent first (as ruff)."""
    from collections import Counter

    from peftlint.diagnostics import fixable

    counts = Counter((d.code, d.name, d.severity.value) for d in result.diagnostics)
    fix = {d.code for d in result.diagnostics if fixable(d, unsafe)}
    return [{"code": code, "name": name, "severity": sev, "count": n, "fixable": code in fix}
            for (code, name, sev), n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))]
