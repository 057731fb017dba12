"""PFT404 weight-key-mismatch."""

from __future__ import annotations

from typing import Iterator

from peftlint.codes import Code
from peftlint.diagnostics import Diagnostic, Severity
from peftlint.rules.base import Expect, Rule
from peftlint.rules.context import Context
from peftlint.rules.weights._common import (
    adapter_example,
    and_more,
    config_key_span,
    weight_report,
    weights_name,
)
from peftlint.rules.weights._examples import GOOD_WEIGHTS, adapter_config, lora_shapes, safetensors_bytes
from peftlint.semantics.weights import group_keys


class WeightKeyMismatch(Rule):
    code = Code.WEIGHT_KEY_MISMATCH
    name = "weight-key-mismatch"
    severity = Severity.ERROR
    summary = "Weights for modules the config does not target or the base lacks, or targets without weights."
    docs = """
    PEFT creates adapter layers for the modules the **config** targets and then copies the saved
    tensors into them by name:

    - a targeted module without saved tensors keeps its fresh initialisation (LoRA `B` is zero, so
      the layer does nothing); PEFT only warns `Found missing adapter keys while loading the
      checkpoint: [...]`;
    - saved tensors for modules the config does not target are **ignored silently**: the trained
      weights are not used;
    - tensors named after modules the base model does not have come from another architecture;
    - a `modules_to_save` module without its saved copy keeps the base model's weights.

    Fix: make `target_modules`/`modules_to_save` in `adapter_config.json` describe what was
    trained (re-save with `model.save_pretrained`), or load the adapter onto the base it was
    trained on.
    """
    bad = (adapter_example(adapter_config(targets=("q_proj", "v_proj")),
                    safetensors_bytes(lora_shapes(modules=("q_proj",))),
                    note="`v_proj` is targeted but has no saved weights",
                    expect=(Expect(8, 21, "the config targets `model.layers.0.self_attn.v_proj` but",
                                   detail='PEFT warns "Found missing adapter keys while loading the checkpoint"'),)),
           adapter_example(adapter_config(targets=("q_proj",)), GOOD_WEIGHTS,
                    note="`v_proj` weights are saved but not targeted",
                    expect=(Expect(8, 21, "is in the adapter file, but its module is not targeted"),)))
    good = (adapter_example(adapter_config(targets=("q_proj", "v_proj"))),)

    def check(self, ctx: Context) -> Iterator[Diagnostic]:
        rep = weight_report(ctx)
        if rep is None or not rep.checked_model:
            return
        label = ctx.model_label
        tspan = config_key_span(ctx, "target_modules", "target_parameters")
        for keys in group_keys([e.key for e in rep.missing]).values():
            e = rep.expected[keys[0]]
            if e.part == "full":
                msg = (f"`{e.module}` is in modules_to_save but the adapter file has no weights for it"
                       f"{and_more(len(keys) - 1)}: the trained copy is lost; re-save the adapter or remove the entry")
                detail = (f"{weights_name(rep)} has no `{keys[0]}`: PEFT keeps the base model's weights for "
                          f"`{e.module}`, so the trained copy is lost.")
                span = config_key_span(ctx, "modules_to_save")
            else:
                msg = (f"the config targets `{e.module}` but the adapter file has no weights for it{and_more(len(keys) - 1)}: "
                       "PEFT warns and leaves it untrained; fix target_modules or re-save the adapter")
                detail = (f"{weights_name(rep)} has no `{keys[0]}`: PEFT warns \"Found missing adapter keys while "
                          "loading the checkpoint\" and leaves those layers untrained.")
                span = tspan
            yield self.diagnostic(ctx, span, msg, subject=keys[0], detail=detail)
        for mods in group_keys(rep.missing_modules).values():
            yield self.diagnostic(
                ctx, tspan,
                f"the config targets `{mods[0]}`{and_more(len(mods) - 1)} but the adapter file has no {rep.method} weights "
                "for it: PEFT warns and leaves it untrained; fix target_modules or re-save the adapter",
                subject=mods[0],
                detail=f"{weights_name(rep)} has no {rep.method} weights for `{mods[0]}`: PEFT warns about missing "
                       "adapter keys and leaves that layer untrained.")
        for keys in group_keys(rep.untargeted).values():
            yield self.diagnostic(
                ctx, tspan,
                f"`{keys[0]}`{and_more(len(keys) - 1)} is in the adapter file, but its module is not targeted: PEFT "
                "ignores it silently; add the module to target_modules",
                subject=keys[0],
                detail=f"{weights_name(rep)} has `{keys[0]}`, but the config does not target that module: PEFT ignores "
                       "these weights silently. Add the module to target_modules (or modules_to_save) as it was trained.")
        for keys in group_keys(rep.absent).values():
            yield self.diagnostic(
                ctx, config_key_span(ctx, "base_model_name_or_path"),
                f"`{keys[0]}`{and_more(len(keys) - 1)} is in the adapter file, but {label} has no such module: PEFT "
                "ignores it silently; load the adapter onto its own base model",
                subject=keys[0],
                detail=f"{weights_name(rep)} has `{keys[0]}`, but {label} has no such module: these weights come from "
                       "another architecture and PEFT ignores them silently; load the adapter onto the base it was "
                       "trained on.")
