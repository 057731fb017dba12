"""PFT209 unknown-argument."""

from __future__ import annotations

import difflib
from typing import Iterator

from peftlint.diagnostics import Diagnostic, Severity
from peftlint.rules._common import py_example
from peftlint.rules.base import Rule
from peftlint.rules.context import Context

# Keywords unsloth's FastLanguageModel/FastVisionModel.get_peft_model accepts besides LoraConfig's fields.
UNSLOTH_ONLY_ARGS = frozenset({
    "use_gradient_checkpointing", "random_state", "max_seq_length", "temporary_location",
    "finetune_vision_layers", "finetune_language_layers", "finetune_attention_modules", "finetune_mlp_modules",
    "qat_scheme",
})


class UnknownArgument(Rule):
    code = "PFT209"
    name = "unknown-argument"
    severity = Severity.ERROR
    summary = "A keyword the config class does not accept (typo such as `target_module=`)."
    docs = """
    PEFT config classes are dataclasses: an unknown keyword raises `TypeError: __init__() got an
    unexpected keyword argument` when the script starts. In a saved `adapter_config.json`, PEFT
    warns about unknown keys and ignores them, so a misspelled field has no effect.

    Fix: use the field name the installed peft defines.
    """
    bad = (py_example('config = LoraConfig(target_module=["q_proj", "v_proj"])', model=None),)
    good = (py_example('config = LoraConfig(target_modules=["q_proj", "v_proj"])', model=None),)
    needs_model = False

    def check(self, ctx: Context) -> Iterator[Diagnostic]:
        facts = ctx.facts
        info = ctx.config_info
        if info is None:
            return
        known = set(info.fields)
        is_json = ctx.spec.source != "python"
        if is_json:
            known |= {"peft_type", "auto_mapping", "peft_version", "base_model_name_or_path", "revision", "task_type",
                      "inference_mode"}
        if ctx.spec.facts.tool == "unsloth":
            known |= UNSLOTH_ONLY_ARGS
        for name, v in ctx.spec.fields.items():
            if name in known:
                continue
            close = difflib.get_close_matches(name, sorted(known), n=1, cutoff=0.7)
            hint = f"; did you mean `{close[0]}`?" if close else ""
            span = ctx.spec.facts.key_spans.get(name, v.span)
            if ctx.spec.source == "adapter_config":
                yield self.diagnostic(ctx, span, f"`{name}` is not a field of {info.name} in peft {facts.version}: "
                                      f"PEFT warns and ignores it{hint}", subject=name, severity=Severity.WARNING)
            else:
                yield self.diagnostic(ctx, span, f"{info.name} has no argument `{name}`: the script fails with "
                                      f"TypeError: __init__() got an unexpected keyword argument '{name}'{hint}",
                                      subject=name)
