"""PFT105 embedding-targeted."""

from __future__ import annotations

from typing import Iterator

from peftlint.codes import Code
from peftlint.diagnostics import Diagnostic, Severity
from peftlint.model import inventory as inv
from peftlint.rules._common import py_example
from peftlint.rules.base import Expect, Rule
from peftlint.rules.context import Context
from peftlint.rules.targets._common import span_for
from peftlint.semantics import unsloth
from peftlint.semantics.embedding_save import saved_in_full
from peftlint.semantics.methods import EMBEDDING_METHODS
from peftlint.semantics.suggest import format_names


class EmbeddingTargeted(Rule):
    code = Code.EMBEDDING_TARGETED
    name = "embedding-targeted"
    severity = Severity.WARNING
    summary = "An input embedding is adapted (saved whole; tied weights)."
    docs = """
    Adapting an embedding creates `lora_embedding_A/B`. When `target_modules` names it by one of
    PEFT's embedding names (`embed_tokens`, `lm_head`) on a transformers model, PEFT's
    `save_pretrained` also sets `save_embedding_layers=True` and writes the **full** embedding
    matrix into the adapter file (a 135M model's adapter grows by ~100 MB; a 1B model's by GBs).
    Under any other name (gpt2's `wte`, a custom class's `emb`) only the small adapter matrices
    are saved, and peftlint says nothing about the size.

    PEFT warns about a tied embedding (`Model has tie_word_embeddings=True and a tied layer is
    part of the adapter ...`) only when it recognises it **by name**: a target whose last part is
    `embed_tokens` or `lm_head`. An embedding tied to the output head under another name (such as
    gpt2's `wte`) gets the adapter with no warning at all; the message then says so.

    Not reported for TrainableTokens (training embedding rows is its purpose), nor in a file that
    calls `resize_token_embeddings` (PEFT's documented recipe for new tokens targets the
    embedding on purpose).

    Fix: remove the embedding unless you are adding tokens; for new tokens prefer
    `trainable_token_indices`.
    """
    bad = (py_example('config = LoraConfig(target_modules=["q_proj", "v_proj", "embed_tokens"])',
                      expect=(Expect(4, 57, "`model.embed_tokens` (the input embedding, 49152x576) gets an adapter"),)),)
    good = (py_example('config = LoraConfig(target_modules=["q_proj", "v_proj"])'),)

    def check(self, ctx: Context) -> Iterator[Diagnostic]:
        assert ctx.inventory is not None  # needs_model: the engine runs this rule only with a model
        t = ctx.targeting
        if t is None or ctx.spec.method in EMBEDDING_METHODS or ctx.spec.facts.resizes_embeddings:
            return
        tti = ctx.spec.get("trainable_token_indices")
        saved = saved_in_full(ctx.spec.method, ctx.view.target_modules,
                              None if tti is None or (not tti.dynamic and tti.value is None) else True,
                              ctx.inventory, t.targeted)
        for name in t.targeted:
            m = ctx.inventory.module(name)
            if m is None or m.kind != inv.EMBEDDING or name == ctx.inventory.output_embedding:
                continue
            shared = self._tied_partners(ctx, name)
            silent_tie = bool(shared) and not self._tie_warning_by_name(t.targeted)
            if name not in saved and not silent_tie:
                continue  # only lora_embedding_A/B are saved, and nothing tied goes unnoticed
            span, subject = span_for(ctx, name)
            if ctx.spec.facts.tool == "unsloth" and unsloth.unsure_entry(ctx.spec.facts.call, subject or name):
                continue  # unsloth moves it to modules_to_save on some paths (semantics/unsloth.py)
            is_input = name == ctx.inventory.input_embedding
            what = "the input embedding" if is_input else "an embedding"
            size = f"{m.in_features}x{m.out_features}" if m.in_features else ""
            head = f"`{name}` ({what}{', ' + size if size else ''}) gets an adapter"
            if name in saved:
                tied = " It is tied to the output head." if is_input and ctx.inventory.tie_word_embeddings else ""
                if silent_tie:
                    tied = f" {self._silent(shared)}"
                message = f"{head}, saved whole into the adapter file; remove it unless you are training new tokens"
                detail = (f"PEFT then saves the whole embedding matrix into the adapter file.{tied} To train new tokens, "
                          "consider trainable_token_indices.")
            else:
                message = (f"{head}, and its weight is tied to {format_names(shared, 2)} without a warning from PEFT; "
                           "remove it unless you mean to change the tied weight")
                detail = self._silent(shared)
            yield self.diagnostic(ctx, span, message, subject=subject or name, detail=detail)
            return  # one finding per config is enough

    @staticmethod
    def _silent(shared: list[str]) -> str:
        return (f"Its weight is tied to {format_names(shared, 2)}, but PEFT detects tied layers only by the "
                "names `embed_tokens`/`lm_head`, so it will NOT warn that the adapter touches a tied weight "
                "(merging or exporting can break the tie).")

    # peft.utils.constants.EMBEDDING_LAYER_NAMES: the names PEFT's tie warning looks for.
    _TIE_WARNING_NAMES = ("embed_tokens", "lm_head")

    @staticmethod
    def _tied_partners(ctx: Context, module_name: str) -> list[str]:
        """Other parameters sharing storage with ``<module_name>.weight`` (from the inventory's tied groups)."""
        assert ctx.inventory is not None  # needs_model: the engine runs this rule only with a model
        own = f"{module_name}.weight"
        for group in ctx.inventory.tied_weights:
            if own in group:
                return [p for p in group if p != own]
        return []

    @classmethod
    def _tie_warning_by_name(cls, targeted: list[str]) -> bool:
        return any(n.rsplit(".", 1)[-1] in cls._TIE_WARNING_NAMES for n in targeted)
