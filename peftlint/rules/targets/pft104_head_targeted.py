"""PFT104 head-targeted."""

from __future__ import annotations

from typing import Iterator

from peftlint.codes import Code
from peftlint.diagnostics import Diagnostic, Severity
from peftlint.rules._common import py_example
from peftlint.rules.base import Expect, Rule
from peftlint.rules.context import Context
from peftlint.rules.targets._common import span_for
from peftlint.semantics import unsloth
from peftlint.semantics.embedding_save import EMBEDDING_LAYER_NAMES
from peftlint.semantics.methods import EMBEDDING_METHODS


class HeadTargeted(Rule):
    code = Code.HEAD_TARGETED
    name = "head-targeted"
    severity = Severity.WARNING
    summary = "The output head (`lm_head`, `embed_out`, `proj_out`, ...) is adapted."
    docs = """
    `"all-linear"` deliberately skips the output embedding, but a list entry or regex that names
    it puts an adapter on the LM head. On models with tied input/output embeddings the head shares
    its weight with `embed_tokens`: PEFT warns about `tie_word_embeddings`, merging gets harder,
    and serving stacks such as vLLM reject adapters with head weights.

    Not reported for TrainableTokens (it ties the head's delta to the embedding's on purpose) nor
    in a file that calls `resize_token_embeddings` (new tokens need the head trained).

    Fix: drop the head from `target_modules`; if you really need to train it, put it in
    `modules_to_save` (and set `ensure_weight_tying=True` on tied models).
    """
    bad = (py_example('config = LoraConfig(target_modules=["q_proj", "v_proj", "lm_head"])',
                      expect=(Expect(4, 57, "the output head `lm_head` of HuggingFaceTB/SmolLM2-135M gets an adapter"),)),)
    good = (py_example('config = LoraConfig(target_modules=["q_proj", "v_proj"])'),)

    def check(self, ctx: Context) -> Iterator[Diagnostic]:
        t = ctx.targeting
        head = ctx.inventory.output_embedding
        if t is None or head is None or head not in t.targeted:
            return
        if ctx.spec.method in EMBEDDING_METHODS or ctx.spec.facts.resizes_embeddings:
            return  # TrainableTokens ties the head's delta to the embedding's on purpose; new tokens need the head
        warns = head.rsplit(".", 1)[-1] in EMBEDDING_LAYER_NAMES
        span, subject = span_for(ctx, head)
        if ctx.spec.facts.tool == "unsloth" and unsloth.unsure_entry(ctx.spec.facts.call, subject or head):
            return  # unsloth handles the head itself, differently across releases (semantics/unsloth.py)
        tied = (f" It is tied to the input embedding (tie_word_embeddings=True): PEFT {'warns' if warns else 'does not warn'}"
                ", and merging or exporting the adapter can break the tie.") if ctx.inventory.tie_word_embeddings else ""
        yield self.diagnostic(
            ctx, span,
            f"the output head `{head}` of {ctx.model_label} gets an adapter.{tied} Remove it from target_modules, or "
            "train it fully with modules_to_save",
            subject=subject or head)
