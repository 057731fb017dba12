"""PFT403 rank-mismatch."""

from __future__ import annotations

from typing import Iterator

from peftlint.codes import Code
from peftlint.diagnostics import Diagnostic, Severity, Span
from peftlint.rules.base import Expect, Rule
from peftlint.rules.context import Context
from peftlint.rules.weights._common import (
    adapter_example,
    and_more,
    config_key_span,
    mismatch_groups,
    weight_report,
    weights_name,
)
from peftlint.rules.weights._examples import adapter_config, lora_shapes, safetensors_bytes
from peftlint.semantics.weights import fmt_shape


def _pattern_key_span(ctx: Context, key: str) -> Span:
    v = ctx.spec.fields.get("rank_pattern")
    if v is not None and v.keys and key in v.keys:
        return v.keys[key].span
    return config_key_span(ctx, "rank_pattern", "r")


class RankMismatch(Rule):
    code = Code.RANK_MISMATCH
    name = "rank-mismatch"
    severity = Severity.ERROR
    summary = "The rank saved in the weights differs from `r`/`rank_pattern` in the config."
    docs = """
    PEFT builds the LoRA layers from `adapter_config.json` before it loads the weights: the rank
    of each module is the value of the **first** `rank_pattern` key (in the file's order) whose
    regex matches a dot-bounded suffix of the module name, otherwise `r`. When the saved tensors
    have another rank, `PeftModel.from_pretrained` fails with `size mismatch`.

    Common causes: the config was edited or regenerated after training, or `rank_pattern` keys
    overlap and `save_pretrained` sorted them alphabetically, so a different key now matches
    first (see PFT305).

    Fix: set `r` (or the `rank_pattern` entry named in the message) to the rank that was trained.
    """
    bad = (adapter_example(adapter_config(r=4), safetensors_bytes(lora_shapes(r=8)),
                    note="trained with r=8, config says r=4",
                    expect=(Expect(7, 8, "q_proj.lora_A.weight` was saved with rank 8"),
                            Expect(7, 8, "v_proj.lora_A.weight` was saved with rank 8"))),)
    good = (adapter_example(adapter_config(r=8), safetensors_bytes(lora_shapes(r=8))),)

    def check(self, ctx: Context) -> Iterator[Diagnostic]:
        rep = weight_report(ctx)
        if rep is None:
            return
        for mm, more in mismatch_groups(rep.rank):
            e = mm.expected
            if e.rank_from == "r":
                src, span = f"`r` = {e.rank}", config_key_span(ctx, "r")
                fix = f"set `r` to {mm.saved_rank}"
            else:
                src = f"`rank_pattern` key {e.rank_from!r} (the first key that matches) = {e.rank}"
                span = _pattern_key_span(ctx, e.rank_from)
                fix = f"set `rank_pattern[{e.rank_from!r}]` to {mm.saved_rank}, or reorder the keys"
            yield self.diagnostic(
                ctx, span,
                f"`{mm.key}` was saved with rank {mm.saved_rank}, but the config gives rank {e.rank}{and_more(more)}: "
                f"loading raises a size mismatch; {fix}",
                subject=mm.key,
                detail=f"{weights_name(rep)}: `{mm.key}` was saved with rank {mm.saved_rank} ({fmt_shape(mm.saved)}), "
                       f"but the config gives `{e.module}` rank {e.rank} from {src}: PEFT builds rank-{e.rank} layers "
                       f"and PeftModel.from_pretrained raises \"size mismatch for {mm.key}\".")
