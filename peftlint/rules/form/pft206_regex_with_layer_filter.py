"""PFT206 regex-with-layer-filter."""

from __future__ import annotations

from typing import Iterator, TypeGuard

from peftlint.codes import Code
from peftlint.diagnostics import Applicability, Diagnostic, Fix, Severity
from peftlint.fix.ops import Op, OpKind
from peftlint.rules._common import py_example, py_text
from peftlint.rules.base import Expect, Rule
from peftlint.rules.callfix import call_fix, linear_leaves
from peftlint.rules.context import Context
from peftlint.spec import Value


def _set(v: Value | None) -> TypeGuard[Value]:
    """The field is given with a static value other than None."""
    return v is not None and not v.dynamic and v.value is not None


class RegexWithLayerFilter(Rule):
    code = Code.REGEX_WITH_LAYER_FILTER
    name = "regex-with-layer-filter"
    severity = Severity.ERROR
    summary = "A string `target_modules` (regex or `\"all-linear\"`) together with `layers_to_transform`/`layers_pattern`."
    docs = """
    PEFT applies `layers_to_transform` only to list entries matched by suffix; a string
    `target_modules` (a regex, or `"all-linear"`) is never layer-filtered. `LoraConfig` and most
    other configs therefore reject the combination when the script starts
    (`ValueError: layers_to_transform cannot be used when target_modules is a str.`); configs
    without that check (LoHa, LoKr, OFT, VeRA, ...) accept it and adapt **every** layer.

    When every argument of the call is a literal, PFT211 reports peft's own error; this rule covers
    the configs peft accepts, and calls with computed arguments (it asks peft about
    `target_modules` and the layer filter alone).

    Fix: put the layer selection into the regex (`r".*\\.layers\\.(0|1)\\..*\\.(q_proj|v_proj)"`),
    or use a list of names with `layers_to_transform`.

    ## Fix safety

    With the base model known, the fix writes `target_modules` as the list of the layer names the
    string reaches on that model (for `"all-linear"`: every linear layer but the output head), so
    that the layer filter applies. It is unsafe: a list matches names by suffix, which can reach
    modules a regex anchored to one sub-model left out.
    """
    bad = (py_example('config = LoHaConfig(target_modules=r".*\\.(q_proj|v_proj)", layers_to_transform=[0, 1])', model=None,
                      imports="LoHaConfig",
                      expect=(Expect(3, 80, "PEFT ignores the layer filter silently",
                                     detail="LoHaConfig accepts it, but PEFT never layer-filters a string target_modules"),)),
           py_example('import sys\n\nconfig = LoraConfig(target_modules=r".*\\.(q_proj|v_proj)", layers_to_transform=[0, 1], '
                      'r=int(sys.argv[1]))', model=None,
                      expect=(Expect(5, 80, "LoraConfig raises when the script starts",
                                     detail='LoraConfig raises "`layers_to_transform` cannot be used when'),)),
           py_example('config = LoHaConfig(target_modules="all-linear", layers_to_transform=[0, 1])',
                      imports="LoHaConfig",
                      expect=(Expect(4, 70, "PEFT ignores the layer filter silently",
                                     fixed=py_text('config = LoHaConfig(target_modules=["q_proj", "k_proj", "v_proj", '
                                                   '"o_proj", "gate_proj", "up_proj", "down_proj"], '
                                                   'layers_to_transform=[0, 1])', imports="LoHaConfig")),)))
    good = (py_example('config = LoraConfig(target_modules=["q_proj", "v_proj"], layers_to_transform=[0, 1])', model=None),)
    needs_model = False

    def check(self, ctx: Context) -> Iterator[Diagnostic]:
        tm = ctx.field("target_modules")
        if tm is None or not tm.is_str:
            return
        alone = ctx.constructed(("target_modules",))
        if alone is None or alone.raised is not None:
            return
        for name in ("layers_to_transform", "layers_pattern"):
            v = ctx.field(name)
            if not _set(v) or v.value == [] or name in ctx.peft_complaints:  # PFT211 reports peft's verdict
                continue
            both = ctx.constructed(("target_modules", name))
            if both is None:
                continue
            severity = Severity.ERROR
            if both.raised is not None:
                short = f"{ctx.spec.config_class} raises when the script starts"
                what = f"{ctx.spec.config_class} raises \"{both.raised.message}\" when the script starts"
            else:
                severity = Severity.WARNING
                short = "PEFT ignores the layer filter silently"
                what = (f"{ctx.spec.config_class} accepts it, but PEFT never layer-filters a string target_modules, "
                        "so every layer the regex matches is adapted")
            yield self.diagnostic(
                ctx, v.span,
                f"{name} with a string target_modules (`{tm.value}`): {short}; put the layer selection into the "
                f"regex, or use a list of names",
                subject=name, severity=severity, fix=_fix(ctx, tm.value), detail=f"{what}.")


def _fix(ctx: Context, written: str) -> Fix | None:
    """Unsafe: the layer names the string reaches on the model, as a list (layer-filtered by PEFT)."""
    if ctx.inventory is None:
        return None
    if written.lower() == "all-linear":
        names = linear_leaves(ctx)
    else:
        t = ctx.targeting
        if t is None or t.mode != "regex":
            return None
        names = list(dict.fromkeys(n.rsplit(".", 1)[-1] for n in t.targeted))
    if not names:
        return None
    return call_fix(ctx, Applicability.UNSAFE, f"list the layers the string reaches: {', '.join(names)}",
                    [Op(OpKind.SET_ARG, "target_modules", value=names)])
