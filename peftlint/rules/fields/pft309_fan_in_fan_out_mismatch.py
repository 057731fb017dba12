"""PFT309 fan-in-fan-out-mismatch."""

from __future__ import annotations

from typing import Iterator

from peftlint.codes import Code
from peftlint.diagnostics import Diagnostic, Severity
from peftlint.model import inventory as inv
from peftlint.rules._common import py_example
from peftlint.rules.base import Expect, Rule
from peftlint.rules.context import Context
from peftlint.rules.fields._common import plural
from peftlint.semantics.suggest import format_names


class FanInFanOutMismatch(Rule):
    code = Code.FAN_IN_FAN_OUT_MISMATCH
    name = "fan-in-fan-out-mismatch"
    severity = Severity.WARNING
    summary = "`fan_in_fan_out` disagrees with the targeted layer type."
    docs = """
    `fan_in_fan_out=True` is for layers that store their weight as `(in, out)`: GPT-2 style
    `transformers.pytorch_utils.Conv1D`. On `nn.Linear` PEFT warns `fan_in_fan_out is set to True
    but the target module is torch.nn.Linear. Setting fan_in_fan_out to False.` and flips the
    shared config flag (and the reverse for Conv1D), layer by layer — so with both layer types
    targeted, the saved `adapter_config.json` records whichever layer came last.

    Fix: set `fan_in_fan_out` to match the targets (True only for Conv1D models such as GPT-2),
    or leave it out.
    """
    bad = (py_example('config = LoraConfig(target_modules=["q_proj", "v_proj"], fan_in_fan_out=True)',
                      expect=(Expect(4, 73, "60 modules are torch.nn.Linear: PEFT warns and sets fan_in_fan_out=False"),)),)
    good = (py_example('config = LoraConfig(target_modules=["q_proj", "v_proj"])'),)

    def check(self, ctx: Context) -> Iterator[Diagnostic]:
        assert ctx.inventory is not None  # needs_model: the engine runs this rule only with a model
        t = ctx.targeting
        v = ctx.field("fan_in_fan_out")
        if t is None or v is None or v.dynamic or not isinstance(v.value, bool):
            return
        kinds: dict[str, list[str]] = {}
        for n in t.targeted:
            m = ctx.inventory.module(n)
            if m is not None and m.kind in (inv.LINEAR, inv.CONV1D_GPT2):
                kinds.setdefault(m.kind, []).append(n)
        wrong_kind = inv.LINEAR if v.value else inv.CONV1D_GPT2
        wrong = kinds.get(wrong_kind, [])
        if not wrong:
            return
        layer = "torch.nn.Linear" if v.value else "transformers Conv1D"
        mixed = (" Both layer types are targeted, so the flag flips back and forth and the saved config records "
                 "only the last one." if len(kinds) == 2 else "")
        yield self.diagnostic(
            ctx, v.span,
            f"fan_in_fan_out={v.value} but {plural(len(wrong), 'module')} "
            f"{'is' if len(wrong) == 1 else 'are'} {layer}: PEFT warns and sets fan_in_fan_out={not v.value}; "
            f"set fan_in_fan_out={not v.value}" + ("" if len(kinds) == 2 else " or leave it out"),
            subject="fan_in_fan_out",
            detail=f"{format_names(wrong, 2)} {'is' if len(wrong) == 1 else 'are'} {layer}: PEFT warns and sets "
                   f"fan_in_fan_out={not v.value} for {'it' if len(wrong) == 1 else 'them'}.{mixed}")
