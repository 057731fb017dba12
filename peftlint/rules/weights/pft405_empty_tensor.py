"""PFT405 empty-tensor."""

from __future__ import annotations

from typing import Iterator

from peftlint.codes import Code
from peftlint.diagnostics import Diagnostic, Severity
from peftlint.rules.base import Expect, Rule
from peftlint.rules.context import Context
from peftlint.rules.weights._common import adapter_example, and_more, weights_diagnostic
from peftlint.rules.weights._examples import adapter_config, lora_shapes, safetensors_bytes
from peftlint.semantics.weights import fmt_shape, group_keys


class EmptyTensor(Rule):
    code = Code.EMPTY_TENSOR
    name = "empty-tensor"
    severity = Severity.ERROR
    summary = "A zero-sized tensor in the adapter file."
    needs_model = False
    docs = """
    A tensor with a zero dimension (shape `[0]`, `[0, 4096]`) holds no weights. It is what a
    DeepSpeed ZeRO-3 (or FSDP) run writes when the adapter is saved from a rank that holds only a
    shard, without gathering the parameters first. Loading it raises `size mismatch` (the layer
    expects `[r, in]`), or, for a tensor PEFT does not look at, the trained weights are simply lost.

    Fix: save with the trainer (`trainer.save_model()`, which gathers ZeRO-3 parameters) or
    gather the state dict before `model.save_pretrained`.
    """
    bad = (adapter_example(adapter_config(), safetensors_bytes({**lora_shapes(), **{
        "base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight": (0,)}}),
        note="a ZeRO-3 shard saved without gathering",
        expect=(Expect(1, 1, "has shape [0] and holds no weights"),)),)
    good = (adapter_example(adapter_config()),)

    def check(self, ctx: Context) -> Iterator[Diagnostic]:
        rep = ctx.weights
        if rep is None or not rep.readable or not rep.zero:
            return
        assert rep.file is not None
        for keys in group_keys(rep.zero).values():
            shape = rep.file.tensors[keys[0]].shape
            yield weights_diagnostic(
                self, ctx, rep,
                f"`{keys[0]}` has shape {fmt_shape(shape)} and holds no weights{and_more(len(keys) - 1)}; re-save with "
                "the parameters gathered (trainer.save_model())",
                keys[0],
                detail="This is what a DeepSpeed ZeRO-3/FSDP shard saved without gathering looks like; loading fails "
                       "with \"size mismatch\" or loses the weights.")
