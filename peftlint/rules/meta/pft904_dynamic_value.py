"""PFT904 dynamic-value."""

from __future__ import annotations

from typing import Iterator

from peftlint.codes import Code
from peftlint.diagnostics import Diagnostic, Severity
from peftlint.rules.base import Example, Expect, Rule
from peftlint.rules.context import Context
from peftlint.sources.trainer_rule import is_placeholder
from peftlint.spec import Value


class DynamicValue(Rule):
    code = Code.DYNAMIC_VALUE
    name = "dynamic-value"
    severity = Severity.INFO
    summary = "A field's value is computed at runtime and cannot be checked."
    docs = """
    peftlint reads literals and constants (module or function level, concatenations, argparse
    and dataclass defaults). A value computed by a call (`find_all_linear_names(model)`) or read
    from elsewhere is not guessed; it is reported once so you know what was not checked.

    Arguments passed as `**kwargs` (or `*args`, or positionally) whose content is not static are
    reported the same way: a field the call does not name may be set there, so it is unknown, never
    taken as omitted.

    Fix: nothing is wrong; use a literal or a constant if you want it checked.
    """
    bad = (Example("from peft import LoraConfig\n\ndef build(names):\n    return LoraConfig(target_modules=names())\n",
                   expect=(Expect(4, 38, "`target_modules` was not checked: computed by names() at runtime"),)),)
    good = (Example("from peft import LoraConfig\n\nTARGETS = ['q_proj', 'v_proj']\nconfig = LoraConfig(target_modules=TARGETS)\n"),)
    needs_model = False

    def check(self, ctx: Context) -> Iterator[Diagnostic]:
        rule = ctx.spec.facts.target_rule
        for name, v in ctx.spec.fields.items():
            for d in _dynamic_parts(v):
                if rule is not None and is_placeholder(d, rule):
                    continue  # the trainer's own list: it stays unknown only when the model does (PFT901)
                # the reasons say how the value is made ("computed by f() at runtime", "set by --lora_r ...")
                message = (f"`{name}` was not checked: {d.reason}" if d.reason
                           else f"`{name}` is computed at runtime; it was not checked")
                yield self.diagnostic(ctx, d.span, message, subject=name)
        facts = ctx.spec.facts
        for name, v in facts.changed_later.items():
            yield self.diagnostic(ctx, v.span, f"`{name}` was not checked: {v.reason}", subject=name)
        if facts.changed_unknown:
            yield self.diagnostic(ctx, ctx.spec.span, f"{facts.changed_unknown} may change any field of the config "
                                  "after it is built: the fields were not checked against the model")
        if ctx.spec.opaque:
            # a splat of unknown content leaves every field it does not name unknown (Context.field)
            what = ", ".join(f"`{a}`" if a.startswith("*") else a for a in ctx.spec.facts.opaque_args) or "an argument"
            yield self.diagnostic(ctx, ctx.spec.span, f"{what} is not read statically: the fields the call does not "
                                  "name may be set there and were not checked")


def _dynamic_parts(v: Value) -> Iterator[Value]:
    """``v`` itself when it is computed at runtime, else each computed item at any depth of its
    lists, tuples and sets (``[["q_proj", f()]]``, or a literal nested so deeply that its innermost
    part was not evaluated), in source order."""
    stack = [v]
    while stack:
        cur = stack.pop()
        if cur.dynamic:
            yield cur
        elif cur.items:
            stack.extend(reversed(cur.items))
