"""PFT402 weight-shape-mismatch."""

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
    mismatch_groups,
    weight_report,
    weights_name,
)
from peftlint.rules.weights._examples import adapter_config, lora_shapes, safetensors_bytes
from peftlint.semantics.weights import fmt_shape


class WeightShapeMismatch(Rule):
    code = Code.WEIGHT_SHAPE_MISMATCH
    name = "weight-shape-mismatch"
    severity = Severity.ERROR
    summary = "A saved tensor does not fit the base model's module (adapter trained on another base)."
    docs = """
    A LoRA tensor's shape follows from the base module it was trained on: `lora_A` is
    `[r, in_features]`, `lora_B` is `[out_features, r]` (GPT-2 `Conv1D` the same; embeddings
    `lora_embedding_A [r, num_embeddings]`, `lora_embedding_B [embedding_dim, r]`; DoRA magnitudes
    `[out_features]`; `target_parameters` on fused experts `[r*E, in]`/`[out, r*E]`). When the
    feature sizes in `adapter_model.safetensors` differ from the base model's modules, the adapter
    was trained on another base: `PeftModel.from_pretrained` fails with
    `RuntimeError: Error(s) in loading state_dict for PeftModel: size mismatch for ...` only after
    the base model has been downloaded and loaded.

    peftlint reads only the safetensors header (no weights) and compares it with the base model's
    module tree. A whole saved embedding matrix that differs from the base means the vocabulary was
    resized during training: call `model.resize_token_embeddings(n)` before loading.

    Fix: load the adapter onto the model it was trained on (see `base_model_name_or_path`), or
    retrain it for this base.
    """
    bad = (adapter_example(adapter_config(), safetensors_bytes(lora_shapes(hidden=96, kv=48)),
                    note="weights from a model with hidden size 96; the base has 64",
                    expect=(Expect(2, 30, "q_proj.lora_A.weight` has shape [4, 96]",
                                   detail='PeftModel.from_pretrained raises "size mismatch for base_model.model.'),
                            Expect(2, 30, "v_proj.lora_A.weight` has shape [4, 96]"))),)
    good = (adapter_example(adapter_config()),)

    def check(self, ctx: Context) -> Iterator[Diagnostic]:
        rep = weight_report(ctx)
        if rep is None:
            return
        for mm, more in mismatch_groups(rep.shape):
            e = mm.expected
            if e.part == "embedding":
                short = f"call resize_token_embeddings({mm.saved[0]}) on the base model first"
                why = ("the vocabulary was resized during training; call `model.resize_token_embeddings"
                       f"({mm.saved[0]})` on the base model before loading the adapter")
            elif e.part == "full" and len(mm.saved) >= 1 and mm.saved[1:] == e.shape[1:]:
                short = f"load a classification head's base model with num_labels={mm.saved[0]}"
                why = (f"if `{e.module}` is a classification head, load the base model with "
                       f"num_labels={mm.saved[0]}; otherwise the adapter was trained on another base model")
            else:
                short = "load it onto its own base model"
                why = ("this adapter was trained on another base model; load it onto the model it was trained "
                       "on (base_model_name_or_path) or retrain it for this one")
            yield self.diagnostic(
                ctx, config_key_span(ctx, "base_model_name_or_path"),
                f"`{mm.key}` has shape {fmt_shape(mm.saved)}, the base model needs {fmt_shape(e.shape)}"
                f"{and_more(more)}: loading raises a size mismatch; {short}",
                subject=mm.key,
                detail=f"{weights_name(rep)}: `{mm.key}` has shape {fmt_shape(mm.saved)}, but `{e.module}` of "
                       f"{ctx.model_label} is {e.base} and needs {fmt_shape(e.shape)}: PeftModel.from_pretrained raises "
                       f"\"size mismatch for {mm.key}\"; {why}.")
