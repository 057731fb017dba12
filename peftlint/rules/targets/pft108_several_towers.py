"""PFT108 several-towers."""

from __future__ import annotations

from typing import Iterator

from peftlint.codes import Code
from peftlint.diagnostics import Diagnostic, Severity, Span
from peftlint.rules.base import Example, Expect, Rule
from peftlint.rules.context import Context
from peftlint.rules.targets._common import list_entries

# A tiny LLaVA (CLIP vision tower + Llama language model) written beside the examples of PFT108.
TINY_LLAVA = (
    '{"model_type": "llava", "architectures": ["LlavaForConditionalGeneration"], "image_token_index": 100, '
    '"vision_config": {"model_type": "clip_vision_model", "hidden_size": 32, "intermediate_size": 64, '
    '"num_hidden_layers": 2, "num_attention_heads": 2, "image_size": 32, "patch_size": 16, "projection_dim": 32}, '
    '"text_config": {"model_type": "llama", "hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 2, '
    '"num_attention_heads": 2, "num_key_value_heads": 2, "vocab_size": 128}}'
)


def _tower_of(name: str, towers: dict[str, str]) -> str | None:
    best = None
    for prefix in towers:
        if (name == prefix or name.startswith(prefix + ".")) and (best is None or len(prefix) > len(best)):
            best = prefix
    return best


class SeveralTowers(Rule):
    code = Code.SEVERAL_TOWERS
    name = "several-towers"
    severity = Severity.WARNING
    summary = "In a composite model, an entry matches in more than one sub-model (language model, vision tower, ...)."
    docs = """
    Multimodal models (LLaVA, Qwen2-VL, Gemma 3, ...) contain several sub-models: a language
    model, a vision or audio tower, a projector. Their layers often share names (`q_proj`,
    `fc1`, `out_proj`), so a suffix entry adapts **every** tower — fine-tuning the vision encoder
    when you meant to tune the language model, with more memory and a different result. (The
    encoder and decoder of a seq2seq model such as T5 are one model; they never trigger this.)

    Fix: qualify the entry with the tower (`language_model.layers.0...` is too narrow; a regex
    such as `r".*language_model.*\\.(q_proj|v_proj)"` selects one tower), or exclude the other
    tower with `exclude_modules`.
    """
    bad = (Example(
        "from peft import LoraConfig\n\n# peftlint: model=./tiny-llava\n"
        'config = LoraConfig(target_modules=["q_proj", "v_proj"])\n',
        files=(("tiny-llava/config.json", TINY_LLAVA),),
        expect=(Expect(4, 37, "`q_proj` adapts modules in 2 sub-models"),
                Expect(4, 47, "`v_proj` adapts modules in 2 sub-models"))),)
    good = (Example(
        "from peft import LoraConfig\n\n# peftlint: model=./tiny-llava\n"
        'config = LoraConfig(target_modules=r".*language_model.*\\.(q_proj|v_proj)")\n',
        files=(("tiny-llava/config.json", TINY_LLAVA),)),)

    def check(self, ctx: Context) -> Iterator[Diagnostic]:
        assert ctx.inventory is not None  # needs_model: the engine runs this rule only with a model
        t = ctx.targeting
        towers = ctx.inventory.towers
        if t is None or len(towers) < 2 or t.mode not in ("list", "regex"):
            return
        targeted = set(t.targeted)
        groups: list[tuple[str, list[str], Span]] = []
        if t.mode == "list":
            for entry, item in list_entries(ctx):
                groups.append((entry, [n for n in t.entry_hits.get(entry, []) if n in targeted], item.span))
        else:
            v = ctx.field("target_modules")
            groups.append((str(t.effective_targets), t.targeted, v.span if v else ctx.spec.span))
        for entry, hits, span in groups:
            found: dict[str, int] = {}
            for n in hits:
                tower = _tower_of(n, towers)
                if tower is not None:
                    found[tower] = found.get(tower, 0) + 1
            if len(found) < 2:
                continue
            where = ", ".join(f"{towers[p]} (`{p}`, {c} module{'s' if c != 1 else ''})" for p, c in found.items())
            first = next((p for p in found if "language" in towers[p]), next(iter(found)))
            yield self.diagnostic(
                ctx, span,
                f"`{entry}` adapts modules in {len(found)} sub-models of {ctx.model_label} "
                f"({', '.join(towers[p] for p in found)}); to adapt one, use a regex on the full name "
                f"(r\".*{first.rsplit('.', 1)[-1]}.*\\.{entry.rsplit('.', 1)[-1]}\") or exclude_modules",
                subject=entry,
                detail=f"`{entry}` adapts modules in {where}. If you meant one of them, select it with a regex on the "
                       "full name or exclude the others with exclude_modules.")
