"""One config checked against several candidate models (pytest parameters, subclasses).

A finding that is the same for every model that was built (code, span, subject, message) is
reported once. Any other finding is reported for the model it holds on, and its message says so;
its fix is dropped, since an edit right for one model may be wrong for another.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from peftlint.config import Settings
from peftlint.diagnostics import Diagnostic, Severity
from peftlint.engine.results import SpecOutcome, parameter_count
from peftlint.model.load import Loaded
from peftlint.model.offload import Offload
from peftlint.rules import rule_by_code
from peftlint.rules.context import Context
from peftlint.rules.meta import UNRESOLVED
from peftlint.spec import AdapterSpec, ModelRef

if TYPE_CHECKING:
    from peftlint.semantics.peft_facts import PeftFacts


class Checker(Protocol):
    """What this module uses of the run's ``Linter`` (engine/run.py), which calls it."""

    settings: Settings
    offload: Offload

    def facts(self) -> PeftFacts | None: ...
    def finish(self, diags: list[Diagnostic], spec: AdapterSpec, ref: ModelRef | None,
               label: str | None) -> list[Diagnostic]: ...
    def _inventory_for(self, spec: AdapterSpec, ref: ModelRef, text: str = "") -> Loaded: ...
    def _unresolved(self, spec: AdapterSpec, why: str, ref: ModelRef | None, got: Loaded | None = None,
                    summary: str = "") -> Diagnostic: ...
    def _run_rules(self, ctx: Context) -> list[Diagnostic]: ...


def _key(d: Diagnostic) -> tuple:
    return (d.code, d.span, d.subject, d.text())


def merge_findings(per_model: list[tuple[str, list[Diagnostic]]]) -> list[Diagnostic]:
    """Findings of each (model label, findings) pair, merged as described above."""
    labels = [label for label, _ in per_model]
    holders: dict[tuple, set[str]] = {}
    for label, diags in per_model:
        for d in diags:
            holders.setdefault(_key(d), set()).add(label)
    out: list[Diagnostic] = []
    emitted: set[tuple] = set()
    for label, diags in per_model:
        for d in diags:
            key = _key(d)
            if len(holders[key]) == len(labels):
                if key in emitted:
                    continue
                emitted.add(key)
                d.model = d.model or labels[0]
                out.append(d)
                continue
            d.add_note(with_model(label, labels))
            d.model = label
            d.fix = None
            out.append(d)
    return out


def with_model(label: str, labels: list[str]) -> str:
    """``(with facebook/opt-350m; the config is also checked against gpt2)``"""
    others = [other for other in labels if other != label]
    return f"(with {label}; the config is also checked against {', '.join(others)})"


def unresolved_list(failures: list[tuple[str, str]]) -> str:
    """One reason for several models that could not be built (each reason names its model)."""
    return "; ".join(why if ref in why else f"{ref!r}: {why}" for ref, why in failures)


def lint_candidates(linter: Checker, spec: AdapterSpec, text: str, outcome: SpecOutcome,
                    refs: list[ModelRef]) -> list[Diagnostic]:
    """The config against each candidate model; ``linter`` is the run's ``Linter``, ``outcome``
    its ``SpecOutcome`` for this spec."""
    diags: list[Diagnostic] = []
    built: list[tuple[ModelRef, Loaded]] = []
    failed: list[tuple[ModelRef, Loaded]] = []
    for ref in refs:
        got = linter._inventory_for(spec, ref, text)
        if got.inventory is None:
            failed.append((ref, got))
            if got.needs_remote_code:
                diags.append(linter._unresolved(spec, got.why, ref, got))
        elif all(got.label != other.label for _, other in built):
            built.append((ref, got))
    unresolved = [(r, g) for r, g in failed if not g.needs_remote_code]
    if not built:
        return diags + _lint_unbuilt(linter, spec, text, outcome, failed, unresolved)
    if unresolved:
        rule = rule_by_code(UNRESOLVED)
        names = ", ".join(g.label or r.ref for r, g in built)
        why = unresolved_list([(r.ref, g.why) for r, g in unresolved])
        msg = (f"base model not resolved for {len(unresolved)} of the {len(refs)} models this "
               f"{spec.config_class} is applied to; it was checked against {names} only")
        diags.append(Diagnostic(UNRESOLVED, rule.name if rule else UNRESOLVED, rule.severity if rule else Severity.INFO,
                                msg, spec.path, spec.span, detail=why.rstrip(".") + "."))
    per_model: list[tuple[str, list[Diagnostic]]] = []
    for i, (ref, got) in enumerate(built):
        ctx = Context(spec=spec, inventory=got.inventory, model_label=got.label, settings=linter.settings,
                      facts=linter.facts(), resolved=got.resolved, text=text, offload=linter.offload)
        if i == 0:
            outcome.ctx, outcome.inventory = ctx, got.inventory
            outcome.how, outcome.from_default, outcome.ref = ref.how, ref.from_default, ref.ref
            outcome.model_note = got.note
        found = linter.finish(linter._run_rules(ctx), spec, ref, got.label)
        if i == 0:
            outcome.parameters = parameter_count(ctx)
        per_model.append((got.label or ref.ref, found))
    outcome.model = ", ".join(label for label, _ in per_model)
    return diags + merge_findings(per_model)


def _lint_unbuilt(linter: Checker, spec: AdapterSpec, text: str, outcome: SpecOutcome,
                  failed: list[tuple[ModelRef, Loaded]],
                  unresolved: list[tuple[ModelRef, Loaded]]) -> list[Diagnostic]:
    """No candidate model could be built: one note listing them; model-free rules still run."""
    outcome.skipped = unresolved_list([(r.ref, g.why) for r, g in failed])
    outcome.how, outcome.from_default = failed[0][0].how, failed[0][0].from_default
    diags: list[Diagnostic] = []
    if unresolved:
        summary = f"base model not resolved for any of the {len(failed)} models this config is applied to"
        diags.append(linter._unresolved(spec, outcome.skipped, unresolved[0][0], unresolved[0][1], summary))
    ctx = Context(spec=spec, inventory=None, model_label=None, settings=linter.settings,
                  facts=linter.facts(), resolved=None, text=text, offload=linter.offload)
    outcome.ctx = ctx
    return diags + linter._run_rules(ctx)
