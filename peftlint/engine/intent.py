"""Findings the code expects: inside ``with pytest.raises(...)`` a config that makes peft raise is
the test's point, so its errors and warnings become notes that say so (``pytest.warns``: its
warnings). Read by ``sources.python.intent`` into ``SourceFacts.expects``."""

from __future__ import annotations

from peftlint.diagnostics import Diagnostic, Severity
from peftlint.spec import AdapterSpec


def apply_intent(diags: list[Diagnostic], spec: AdapterSpec) -> None:
    facts = spec.facts
    if not facts.expects:
        return
    lowered = (Severity.ERROR, Severity.WARNING) if facts.expects_kind == "raises" else (Severity.WARNING,)
    block = f"`{facts.expects}` at line {facts.expects_line}"
    for d in diags:
        if d.severity not in lowered or d.code.startswith("PFT9"):
            continue
        if facts.expects_kind == "warns":
            why = f"expected: the enclosing {block} expects a warning here"
        elif d.severity is Severity.ERROR:
            why = f"expected: peft raises here as the enclosing {block} expects"
        else:
            why = f"inside {block}: the test expects this config to fail"
        d.severity = Severity.INFO
        d.add_note(f"({why})")
