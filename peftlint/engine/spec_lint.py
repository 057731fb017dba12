"""One config against its model: the model chosen, the rules run, the findings given the trainer's
words. Mixed into the Linter (``engine.run``)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from peftlint.diagnostics import Diagnostic, Span
from peftlint.engine.intent import apply_intent
from peftlint.engine.models import ModelChoice
from peftlint.engine.results import SpecOutcome, parameter_count
from peftlint.semantics.regex_budget import RegexTooSlow
from peftlint.spec import AdapterSpec, ModelRef

if TYPE_CHECKING:
    from peftlint.rules import Rule
    from peftlint.rules.context import Context
    from peftlint.semantics.peft_facts import PeftFacts
    from peftlint.semantics.trainer_targets import Expanded


class SpecLint(ModelChoice):
    """Linting one spec; the Linter provides its rules, peft's facts and internal-error findings."""

    def rules(self, source: str) -> list[Rule]:  # provided by the Linter
        raise NotImplementedError

    def facts(self) -> PeftFacts:  # provided by the Linter
        raise NotImplementedError

    def _internal(self, path: str, span: Span, exc: BaseException) -> Diagnostic:  # provided by the Linter
        raise NotImplementedError

    def lint_spec(self, spec: AdapterSpec, text: str, outcome: SpecOutcome) -> list[Diagnostic]:
        if not spec.method:
            info = self.facts().configs.get(spec.config_class)
            spec.method = info.peft_type if info else ""
        ref = self.choose_ref(spec)
        if ref is not None and ref is spec.model and spec.other_models:
            from peftlint.engine.candidates import lint_candidates

            diags = lint_candidates(self, spec, text, outcome, [ref] + spec.other_models)
        else:
            diags = self._lint_one(spec, text, outcome, ref)
        for d in diags:
            d.noqa_lines = tuple(sorted({d.span.line, spec.span.line}))
        return diags

    def _lint_one(self, spec: AdapterSpec, text: str, outcome: SpecOutcome, ref: ModelRef | None) -> list[Diagnostic]:
        from peftlint.rules.context import Context

        diags: list[Diagnostic] = []
        inventory, label, resolved = None, None, None
        if ref is None:
            outcome.skipped = spec.facts.model_unresolved or "no base model linked to this config"
            diags.append(self._unresolved(spec, outcome.skipped, None))
        else:
            got = self._inventory_for(spec, ref, text)
            inventory, label, resolved = got.inventory, got.label, got.resolved
            outcome.model_note = got.note
            if inventory is None:
                outcome.skipped = got.why
                diags.append(self._unresolved(spec, got.why, ref, got))
        outcome.model, outcome.inventory = label, inventory
        if ref is not None:
            outcome.how, outcome.from_default, outcome.ref = ref.how, ref.from_default, ref.ref
        expanded = None
        if inventory is not None and spec.facts.tool in ("axolotl", "llama-factory", "xtuner"):
            from peftlint.semantics.trainer_targets import expand

            expanded = expand(spec, inventory)  # what the trainer itself passes as target_modules
        ctx = Context(spec=expanded.spec if expanded else spec, inventory=inventory, model_label=label,
                      settings=self.settings, facts=self.facts(), resolved=resolved, text=text,
                      offload=self.offload)
        outcome.ctx = ctx
        diags += self._run_rules(ctx)
        outcome.parameters = parameter_count(ctx)  # after the rules: their targeting is cached
        return self.finish(diags, spec, ref, label, expanded)

    def finish(self, diags: list[Diagnostic], spec: AdapterSpec, ref: ModelRef | None, label: str | None,
               expanded: Expanded | None = None) -> list[Diagnostic]:
        """Findings of one spec against one model: the model named, trainer keys spelt as the trainer does."""
        keys = {f: k for f, k in spec.facts.trainer_keys.items() if f != k}
        apply_intent(diags, spec)
        for d in diags:
            if d.model is None:
                d.model = label
            if expanded is not None and expanded.note and (d.subject in expanded.generated or (
                    not expanded.explicit and re.search(r"\btarget_modules\b", d.text()))):
                d.add_note(f"({expanded.note})")
            elif keys or spec.facts.trainer_notes:
                note = _trainer_key_note(d.text(), keys, spec.facts.tool or "trainer", spec.facts.trainer_notes)
                if note is not None:
                    d.add_note(note)
            if ref is not None and d.model_source is None:
                d.model_source = ref.how
        return diags

    def _run_rules(self, ctx: Context) -> list[Diagnostic]:
        from peftlint.rules.callfix import checked  # fixes of the call: peft must accept the result

        diags: list[Diagnostic] = []
        for rule in self.rules(ctx.spec.source):
            if rule.needs_model and ctx.inventory is None:
                continue
            if not self.settings.selects(rule.code):
                continue
            try:
                diags.extend(checked(rule, ctx, rule.findings(ctx)))
            except RegexTooSlow:
                continue  # a user regex over its time budget: PFT212 reports it, dependent checks are skipped
            except Exception as exc:
                diags.append(self._internal(ctx.spec.path, ctx.spec.span, exc))
        return diags


def _trainer_key_note(message: str, keys: dict[str, str], tool: str,
                      notes: dict[str, str] | None = None) -> str | None:
    """Messages speak PEFT's field names; the note that says once what the first field ``message``
    names is called in the trainer config (or what the trainer does with it)."""
    for field_name in [*(notes or {}), *keys]:
        if re.search(rf"\b{re.escape(field_name)}\b", message):
            if notes and field_name in notes:
                return f"({notes[field_name]})"
            return f"(`{field_name}` is `{keys[field_name]}` in this {tool} config)"
    return None
