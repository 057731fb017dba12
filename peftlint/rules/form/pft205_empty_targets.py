"""PFT205 empty-targets."""

from __future__ import annotations

from typing import Iterator

from peftlint.codes import Code
from peftlint.diagnostics import Diagnostic, Severity
from peftlint.rules._common import py_example
from peftlint.rules.base import Expect, Rule
from peftlint.rules.context import Context
from peftlint.semantics.peft_errors import error_class, nothing_targeted


class EmptyTargets(Rule):
    code = Code.EMPTY_TARGETS
    name = "empty-targets"
    severity = Severity.ERROR
    summary = "`target_modules=[]` or `\"\"` and no `target_parameters`."
    docs = """
    An empty `target_modules` is not "use the defaults" (that is `None`): PEFT raises
    `No target_modules passed but also no target_parameters found`. It typically comes from a
    helper like `find_all_linear_names` that returned nothing for a quantized model.

    Fix: omit `target_modules` for PEFT's default, or name the targets.
    """
    bad = (py_example('config = LoraConfig(target_modules=[])', model=None,
                      expect=(Expect(3, 36, "target_modules is empty and there are no target_parameters"),)),)
    good = (py_example('config = LoraConfig(target_modules=["q_proj", "v_proj"])', model=None),)
    needs_model = False

    def check(self, ctx: Context) -> Iterator[Diagnostic]:
        v = ctx.field("target_modules")
        if v is None or v.dynamic or v.value not in ([], "", (), set()) or v.value is None:
            return
        if v.items is not None and any(i.dynamic for i in v.items):
            return
        tp = ctx.field("target_parameters")
        if tp is not None and (tp.dynamic or tp.value):
            return
        raised = "NoMatchingPeftModuleError (\"No `target_modules` passed but also no `target_parameters` found\")"
        t = ctx.targeting if ctx.inventory is not None else None
        if t is not None and ctx.complete:  # exclusions that cover modules change peft's words
            raised = nothing_targeted(ctx.view, ctx.inventory, t)
        yield self.diagnostic(ctx, v.span, f"target_modules is empty and there are no target_parameters: PEFT raises "
                              f"{error_class(raised)}; omit it for PEFT's default or name the layers",
                              subject="target_modules", detail=f"PEFT raises {raised}.")
