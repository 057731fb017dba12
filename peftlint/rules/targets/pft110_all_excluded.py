"""PFT110 all-excluded."""

from __future__ import annotations

from typing import Iterator

from peftlint.codes import Code
from peftlint.diagnostics import Diagnostic, Severity
from peftlint.rules._common import py_example
from peftlint.rules.base import Expect, Rule
from peftlint.rules.context import Context
from peftlint.semantics.matching import SEQ_CLS_HEADS
from peftlint.semantics.peft_errors import error_class, nothing_targeted


class AllExcluded(Rule):
    code = Code.ALL_EXCLUDED
    name = "all-excluded"
    severity = Severity.ERROR
    summary = "Every matched module is removed by `exclude_modules`/`modules_to_save`."
    docs = """
    PEFT checks `exclude_modules` and `modules_to_save` before the targets: a module named there
    is never adapted (`modules_to_save` also removes everything below it). When that removes
    every module the targets matched, `get_peft_model` raises NoMatchingPeftModuleError after the
    model is loaded: `No modules were targeted for adaptation. ...` when other modules of the model
    are neither matched nor excluded, `All modules were excluded. ...` when the exclusions cover
    every module of the model.

    Fix: narrow `exclude_modules`/`modules_to_save`, or target other modules.
    """
    bad = (py_example('config = LoraConfig(target_modules=["q_proj", "v_proj"], exclude_modules=["q_proj", "v_proj"])',
                      expect=(Expect(4, 74, "exclude_modules removes 60: nothing is left"),)),)
    good = (py_example('config = LoraConfig(target_modules=["q_proj", "v_proj"], exclude_modules=["layers.0.self_attn.q_proj"])'),)

    def check(self, ctx: Context) -> Iterator[Diagnostic]:
        t = ctx.targeting
        if t is None or not ctx.complete or not t.excluded or t.targeted or t.parameters_targeted:
            return
        if t.moe is not None and t.moe.error:
            return
        by: dict[str, int] = {}
        for reason in t.excluded.values():
            by[reason] = by.get(reason, 0) + 1
        how = " and ".join(f"{reason} removes {n}" for reason, n in by.items())
        v = ctx.field("exclude_modules") if "exclude_modules" in by else ctx.field("modules_to_save")
        span = v.span if v is not None else ctx.spec.span
        heads = ""
        if "modules_to_save" in by and ctx.field("modules_to_save") is None:
            heads = f" (task_type={ctx.view.task_type} adds {list(SEQ_CLS_HEADS)} to modules_to_save)"
        raised = nothing_targeted(ctx.view, ctx.inventory, t)
        yield self.diagnostic(
            ctx, span,
            f"the targets match {len(t.excluded)} module{'s' if len(t.excluded) != 1 else ''}, and {how}{heads}: "
            f"nothing is left, so get_peft_model raises {error_class(raised)}; narrow the exclusions",
            subject=None,
            detail=f"Nothing is left to adapt, so get_peft_model raises {raised}. Narrow the exclusions or target "
                   "other modules.")
