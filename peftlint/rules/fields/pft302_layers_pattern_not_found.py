"""PFT302 layers-pattern-not-found."""

from __future__ import annotations

from typing import Iterator

from peftlint.codes import Code
from peftlint.diagnostics import Diagnostic, Severity
from peftlint.rules._common import py_example
from peftlint.rules.base import Expect, Rule
from peftlint.rules.context import Context
from peftlint.semantics import regex_budget as budgeted
from peftlint.semantics.matching import layers_pattern_regex
from peftlint.semantics.partial import is_partial
from peftlint.semantics.peft_errors import error_class, nothing_targeted
from peftlint.semantics.suggest import format_names


class LayersPatternNotFound(Rule):
    code = Code.LAYERS_PATTERN_NOT_FOUND
    name = "layers-pattern-not-found"
    severity = Severity.ERROR
    summary = "`layers_pattern` names no indexed module list."
    docs = """
    With `layers_pattern`, PEFT reads a target's block index from the part of its name that
    follows `<pattern>.` (`layers.3.`), where the pattern is a regex at a dot boundary. If no
    module name has `<pattern>.<number>.` in it (`"layer"` on Llama, `"h"` on Llama, `"blocks"`
    on GPT-2), no target gets an index, every suffix-matched target is dropped, and PEFT raises
    `Target modules ... not found ... You also specified 'layers_pattern'`.

    Fix: use the name of the model's block list (`layers` on Llama, `h` on GPT-2, `block` on T5).
    """
    bad = (py_example('config = LoraConfig(target_modules=["q_proj", "v_proj"], layers_to_transform=[0], layers_pattern="h")',
                      expect=(Expect(4, 98, "no module of HuggingFaceTB/SmolLM2-135M has `h.<index>.` in its name"),)),)
    good = (py_example('config = LoraConfig(target_modules=["q_proj", "v_proj"], layers_to_transform=[0], '
                'layers_pattern="layers")'),)

    def check(self, ctx: Context) -> Iterator[Diagnostic]:
        v = ctx.field("layers_pattern")
        if (ctx.inventory is None or v is None or v.dynamic or "layers_pattern" in ctx.peft_complaints
                or is_partial(ctx.inventory)):
            return
        names = ctx.inventory.names()
        lists = sorted({n.rsplit(".", 1)[-1] for n in ctx.inventory.layer_lists})
        items = v.items if v.items is not None else [v]
        for item in items:
            if item.dynamic or not isinstance(item.value, str) or not item.value:
                continue
            p = item.value
            rx = layers_pattern_regex(p)
            error = budgeted.compile_error(rx)
            if error is not None:
                yield self.diagnostic(ctx, item.span, f"layers_pattern `{p}` is not a valid regex ({error})", subject=p)
                continue
            if any(budgeted.match(rx, n) for n in names):
                continue
            hint = f"; this model's block lists are {format_names(lists, 4)}" if lists else ""
            t = ctx.targeting
            if t is not None and not t.targeted and not t.parameters_targeted and ctx.complete:
                raised = nothing_targeted(ctx.view, ctx.inventory, t)
                short, outcome = f"and raises {error_class(raised)}", f"and raises {raised}"
            else:
                short, outcome = "silently", "silently (only the full module names in target_modules are adapted)"
            yield self.diagnostic(
                ctx, item.span,
                f"no module of {ctx.model_label} has `{p}.<index>.` in its name, so PEFT drops every suffix-matched "
                f"target {short}{hint}",
                subject=p,
                detail=f"PEFT finds no layer index in any module name, so PEFT drops every suffix-matched target "
                       f"{outcome}.")
