"""``--format json``: one JSON array, one object per finding, in a deterministic order."""

from __future__ import annotations

import json

from peftlint.engine.results import RunResult


def render(result: RunResult, options: dict) -> str:
    return json.dumps([d.to_json() for d in result.diagnostics], indent=2) + "\n"
