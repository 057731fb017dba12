"""PFT102 unmatched-regex."""

from __future__ import annotations

from typing import Iterator

from peftlint.codes import Code
from peftlint.diagnostics import Diagnostic, Severity
from peftlint.rules._common import py_example
from peftlint.rules.base import Expect, Rule
from peftlint.rules.context import Context
from peftlint.semantics import regex_budget as budgeted
from peftlint.semantics.partial import is_partial
from peftlint.semantics.peft_errors import error_class, nothing_targeted
from peftlint.semantics.suggest import format_names


class UnmatchedRegex(Rule):
    code = Code.UNMATCHED_REGEX
    name = "unmatched-regex"
    severity = Severity.ERROR
    summary = "A string `target_modules` full-matches no module name."
    docs = """
    A string `target_modules` is a regular expression that PEFT applies with `re.fullmatch` to the
    *full* module name (`model.layers.0.self_attn.q_proj`), not a search and not a leaf name. A
    plain word such as `"q_proj"` therefore matches nothing on a transformers model, and
    `"q_proj|v_proj"` neither. PEFT raises NoMatchingPeftModuleError after loading the model.

    Fix: anchor the expression on the full name (`r".*\\.(q_proj|v_proj)"`) or use a list.
    """
    bad = (py_example('config = LoraConfig(target_modules="q_proj|v_proj")',
                      expect=(Expect(4, 36, "the regex `q_proj|v_proj` full-matches no module name",
                                     detail='PEFT raises NoMatchingPeftModuleError ("Target modules'),)),)
    good = (py_example('config = LoraConfig(target_modules=r".*\\.(q_proj|v_proj)")'),)

    def check(self, ctx: Context) -> Iterator[Diagnostic]:
        assert ctx.inventory is not None  # needs_model: the engine runs this rule only with a model
        t = ctx.targeting
        v = ctx.field("target_modules")
        if t is None or v is None or t.matched or is_partial(ctx.inventory):
            return
        if t.mode == "all-linear" and not t.parameters_targeted and ctx.complete:
            raised = nothing_targeted(ctx.view, ctx.inventory, t)
            yield self.diagnostic(
                ctx, v.span,
                f"`all-linear` selects no layer of {ctx.model_label}, so PEFT raises {error_class(raised)}; name the "
                "layers to adapt",
                subject="all-linear",
                detail=f"`all-linear` selects the Linear layers of {ctx.model_label} other than its output head, and it "
                       f"has none, so PEFT raises {raised}.")
            return
        if t.mode != "regex":
            return
        pattern = t.effective_targets
        error = budgeted.compile_error(pattern)
        if error is not None:
            yield self.diagnostic(ctx, v.span, f"`{pattern}` is not a valid regular expression ({error}); PEFT raises re.error",
                                  subject=pattern)
            return
        names = ctx.inventory.names()
        example = next((m.name for m in ctx.inventory.modules if m.kind in ("linear", "gpt2-conv1d")), names[0] if names else "")
        hint = ""
        searched = sorted({n.rsplit(".", 1)[-1] for n in names if budgeted.search(pattern, n)})
        if searched:
            alt = "|".join(searched[:6])
            hint = f"; write r\".*\\.({alt})\" or the list {searched[:6]!r}"
        raised = nothing_targeted(ctx.view, ctx.inventory, t)
        yield self.diagnostic(
            ctx, v.span,
            f"the regex `{pattern}` full-matches no module name of {ctx.model_label}, so PEFT raises "
            f"{error_class(raised)}{hint}",
            detail=f"PEFT uses re.fullmatch on full module names such as `{example}`, so PEFT raises {raised}."
                   + (f" As a search the regex would match {format_names(searched)}." if searched else ""),
            subject=pattern)
