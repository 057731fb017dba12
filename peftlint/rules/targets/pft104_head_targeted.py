"""PFT104 head-targeted."""

from __future__ import annotations

from typing import Iterator

from peftlint.codes import Code
from peftlint.diagnostics import Applicability, Diagnostic, Fix, Severity
from peftlint.fix.ops import Op, OpKind
from peftlint.rules._common import py_example, py_text
from peftlint.rules.base import Expect, Rule
from peftlint.rules.callfix import call_fix
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

    ## Fix safety

    When the head is one entry of a `target_modules` list, the fix (unsafe: it changes what is
    trained and saved) takes it out of the list; on a model whose head is not tied to the input
    embedding it moves the entry to `modules_to_save` (the head is then trained fully), on a tied
    model it drops it.
    """
    bad = (py_example('config = LoraConfig(target_modules=["q_proj", "v_proj", "lm_head"])',
                      expect=(Expect(4, 57, "the output head `lm_head` of HuggingFaceTB/SmolLM2-135M gets an adapter",
                                     fixed=py_text('config = LoraConfig(target_modules=["q_proj", "v_proj"])')),)),
           py_example('config = LoraConfig(target_modules=["c_attn", "lm_head"])', model="gpt2",
                      expect=(Expect(4, 47, "the output head `lm_head` of gpt2 gets an adapter",
                                     fixed=py_text('config = LoraConfig(target_modules=["c_attn"])', model="gpt2")),)),
           py_example('config = LoraConfig(\n    target_modules=["q_proj", "lm_head"],  # all\n    r=8,\n)',
                      model="Qwen/Qwen2.5-7B-Instruct",
                      expect=(Expect(5, 31, "the output head `lm_head` of Qwen/Qwen2.5-7B-Instruct gets an adapter",
                                     fixed=py_text('config = LoraConfig(\n    target_modules=["q_proj"],  # all\n'
                                                   '    r=8,\n    modules_to_save=["lm_head"],\n)',
                                                   model="Qwen/Qwen2.5-7B-Instruct")),)))
    good = (py_example('config = LoraConfig(target_modules=["q_proj", "v_proj"])'),)

    def check(self, ctx: Context) -> Iterator[Diagnostic]:
        assert ctx.inventory is not None  # needs_model: the engine runs this rule only with a model
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
        tied = ctx.inventory.tie_word_embeddings
        detail = (f"It is tied to the input embedding (tie_word_embeddings=True): PEFT {'warns' if warns else 'does not warn'}"
                  ", and merging or exporting the adapter can break the tie.") if tied else None
        yield self.diagnostic(
            ctx, span,
            f"the output head `{head}` of {ctx.model_label} gets an adapter{' (tied to the input embedding)' if tied else ''}; "
            "remove it from target_modules, or train it fully with modules_to_save",
            subject=subject or head, fix=self._fix(ctx, subject), detail=detail)

    @staticmethod
    def _fix(ctx: Context, entry: str | None) -> Fix | None:
        assert ctx.inventory is not None  # needs_model: the engine runs this rule only with a model
        v = ctx.field("target_modules")
        if entry is None or v is None or v.items is None or len(v.items) < 2:
            return None
        index = next((k for k, i in enumerate(v.items) if i.value == entry), None)
        if index is None:
            return None
        ops = [Op(OpKind.REPLACE_ITEM, "target_modules", index=index)]
        saved = ctx.field("modules_to_save")
        if ctx.inventory.tie_word_embeddings or (saved is not None and saved.items is None):
            return call_fix(ctx, Applicability.UNSAFE, f"remove `{entry}` from target_modules", ops)
        if saved is None or entry not in [i.value for i in saved.items or ()]:  # items: not None here
            ops.append(Op(OpKind.APPEND_ITEMS, "modules_to_save", values=(entry,)))
        return call_fix(ctx, Applicability.UNSAFE, f"move `{entry}` from target_modules to modules_to_save", ops)
