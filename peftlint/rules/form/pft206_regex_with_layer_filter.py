"""PFT206 regex-with-layer-filter."""

from __future__ import annotations

from typing import Iterator

from peftlint.diagnostics import Diagnostic, Severity
from peftlint.rules._common import py_example
from peftlint.rules.base import Rule
from peftlint.rules.context import Context
from peftlint.spec import Value

# Config classes whose __post_init__ rejects a str target_modules together with a layer filter
# (checked against the installed peft in tests/test_rules_fields.py); the others accept the config
# and then ignore the filter, because PEFT never applies it to a regex.
STR_TARGETS_WITH_LAYER_FILTER_RAISE = frozenset({
    "LoraConfig", "AdaLoraConfig", "C3AConfig", "DeftConfig", "DeloraConfig", "FourierFTConfig", "HRAConfig",
    "HiraConfig", "MissConfig", "PsoftConfig", "ShadowConfig", "UniLoraConfig", "WaveFTConfig",
})


def _set(v: Value | None) -> bool:
    """The field is given with a static value other than None."""
    return v is not None and not v.dynamic and v.value is not None


class RegexWithLayerFilter(Rule):
    code = "PFT206"
    name = "regex-with-layer-filter"
    severity = Severity.ERROR
    summary = "A string `target_modules` (regex or `\"all-linear\"`) together with `layers_to_transform`/`layers_pattern`."
    docs = """
    PEFT applies `layers_to_transform` only to list entries matched by suffix; a string
    `target_modules` (a regex, or `"all-linear"`) is never layer-filtered. `LoraConfig` and most
    other configs therefore reject the combination when the script starts
    (`ValueError: layers_to_transform cannot be used when target_modules is a str.`); configs
    without that check (LoHa, LoKr, OFT, VeRA, ...) accept it and adapt **every** layer.

    Fix: put the layer selection into the regex (`r".*\\.layers\\.(0|1)\\..*\\.(q_proj|v_proj)"`),
    or use a list of names with `layers_to_transform`.
    """
    bad = (py_example('config = LoraConfig(target_modules=r".*\\.(q_proj|v_proj)", layers_to_transform=[0, 1])', model=None),)
    good = (py_example('config = LoraConfig(target_modules=["q_proj", "v_proj"], layers_to_transform=[0, 1])', model=None),)
    needs_model = False

    def check(self, ctx: Context) -> Iterator[Diagnostic]:
        tm = ctx.field("target_modules")
        if tm is None or not tm.is_str:
            return
        raises = ctx.spec.config_class in STR_TARGETS_WITH_LAYER_FILTER_RAISE
        for name in ("layers_to_transform", "layers_pattern"):
            v = ctx.field(name)
            if not _set(v) or v.value == []:
                continue
            if raises:
                what = (f"{ctx.spec.config_class} raises \"`{name}` cannot be used when `target_modules` is a str.\" "
                        "when the script starts")
            else:
                what = (f"{ctx.spec.config_class} accepts it, but PEFT never layer-filters a string target_modules, "
                        "so every layer the regex matches is adapted")
            yield self.diagnostic(
                ctx, v.span,
                f"{name} with a string target_modules ({tm.value!r}): {what}. Put the layer selection into the regex, "
                f"or use a list of names with {name}",
                subject=name)
