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
    verb = "raises" if facts.expects_kind == "raises" else "warns"
    for d in diags:
        if d.severity in lowered and not d.code.startswith("PFT9"):
            d.severity = Severity.INFO
            d.add_note(f"(expected: peft {verb} here as the enclosing `{facts.expects}` at line "
                       f"{facts.expects_line} expects)")
