"""PFT207 feedforward-not-subset."""

from __future__ import annotations

from typing import Iterator

from peftlint.codes import Code
from peftlint.diagnostics import Diagnostic, Severity
from peftlint.rules.base import Example, Expect, Rule
from peftlint.rules.context import Context


class FeedforwardNotSubset(Rule):
    code = Code.FEEDFORWARD_NOT_SUBSET
    name = "feedforward-not-subset"
    severity = Severity.ERROR
    summary = "IA3 `feedforward_modules` is not a subset of `target_modules` (exact strings)."
    docs = """
    `IA3Config` requires every `feedforward_modules` entry to appear in `target_modules`, and it
    compares the **strings**, not the modules they match: `["down_proj"]` against
    `["mlp.down_proj"]` fails although both name the same layers. The script stops with
    `ValueError: feedforward_modules should be a subset of target_modules`. (With a regex on
    either side, or tuples, PEFT checks nothing.)

    When every argument of the call is a literal, PFT211 reports peft's own error for the whole
    config; this rule covers calls with computed arguments (it asks peft about the two lists
    alone) and adds which entry is missing.

    Fix: write each feed-forward entry exactly as it appears in `target_modules`.
    """
    bad = (Example('import sys\n\nfrom peft import IA3Config\n\nconfig = IA3Config(target_modules=["k_proj", "v_proj", '
                   '"mlp.down_proj"], feedforward_modules=["down_proj"],\n                   modules_to_save=sys.argv[1:])\n',
                   note="`modules_to_save` is computed, so the whole config is not built (PFT211 would report it "
                   "otherwise)",
                   expect=(Expect(5, 95, "feedforward_modules entry `down_proj` is not in target_modules"),)),)
    good = (Example('from peft import IA3Config\n\nconfig = IA3Config(target_modules=["k_proj", "v_proj", "down_proj"], '
                    'feedforward_modules=["down_proj"])\n'),)
    needs_model = False

    def check(self, ctx: Context) -> Iterator[Diagnostic]:
        if ctx.spec.method != "IA3":
            return
        tm, ff = ctx.field("target_modules"), ctx.field("feedforward_modules")
        if tm is None or ff is None or not tm.fully_static or not ff.fully_static:
            return
        if "feedforward_modules" in ctx.peft_complaints or tm.items is None or ff.items is None:
            return  # PFT211 reports peft's verdict on the whole config
        verdict = ctx.constructed(("target_modules", "feedforward_modules"))
        if verdict is None or verdict.raised is None or ctx.field_named_by(verdict.raised.message) != "feedforward_modules":
            return  # peft accepts the pair (it checks only when both are lists)
        targets = {i.value for i in tm.items}
        for item in ff.items:
            if item.value in targets:
                continue
            same = [t for t in targets if isinstance(t, str) and isinstance(item.value, str)
                    and (t.endswith("." + item.value) or item.value.endswith("." + t))]
            hint = (f"; write `{same[0]}`, the same layers as PEFT compares the strings"
                    if same else "; add it to target_modules or remove it")
            yield self.diagnostic(
                ctx, item.span,
                f"feedforward_modules entry `{item.value}` is not in target_modules, so {ctx.spec.config_class} "
                f"raises{hint}",
                subject=str(item.value),
                detail=f"{ctx.spec.config_class} raises \"{verdict.raised.message}\".")
