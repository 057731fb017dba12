"""PFT312 rank-not-low-rank."""

from __future__ import annotations

from typing import Iterator

from peftlint.diagnostics import Diagnostic, Severity, Span
from peftlint.model import inventory as inv
from peftlint.rules._common import py_example
from peftlint.rules.base import Expect, Rule
from peftlint.rules.context import Context
from peftlint.rules.fields._common import key_span
from peftlint.semantics.matching import pattern_key
from peftlint.semantics.suggest import format_names

_KINDS = (inv.LINEAR, inv.CONV1D_GPT2)


class RankNotLowRank(Rule):
    code = "PFT312"
    name = "rank-not-low-rank"
    severity = Severity.WARNING
    summary = "A LoRA rank is at or above a targeted layer's smaller dimension: the adapter is not low-rank."
    docs = """
    LoRA adds `lora_A` (`r x in_features`) and `lora_B` (`out_features x r`) to each targeted
    layer: `r * (in_features + out_features)` trainable parameters
    ([peft-behaviour.md](peft-behaviour.md#parameter-counts)). The update `B @ A` can never have a
    rank above `min(in_features, out_features)`, so a rank at or above it buys nothing, and the
    adapter then has **more** parameters than the layer's own weight (`in_features * out_features`):
    more memory and a larger file than training the layer fully, with no more expressive power.
    It usually comes from a rank chosen for another model (a large `r` on a small model, or on a
    narrow grouped-query `k_proj`/`v_proj`).

    Only a rank the config writes (`r`, `rank_pattern`) is reported, on a model built from its
    config: peft's default `r=8` reaching a layer's size, or a model class read from the linted
    code, means a test suite's toy model, whose sizes are chosen for speed.

    Fix: use a rank below the layer's smaller dimension (`rank_pattern` can lower it for those
    layers only), or train the layer fully with `modules_to_save`.
    """
    bad = (
        py_example('config = LoraConfig(r=256, target_modules=["q_proj", "k_proj"])',
                   expect=(Expect(4, 23, "r=256 is not low-rank for `k_proj`"),)),
        py_example('config = LoraConfig(r=16, target_modules=["q_proj", "k_proj"], rank_pattern={"k_proj": 192})',
                   expect=(Expect(4, 78, "rank_pattern `k_proj`: 192 is not low-rank for `k_proj`"),)),
    )
    good = (py_example('config = LoraConfig(r=64, target_modules=["q_proj", "k_proj"])'),)

    def check(self, ctx: Context) -> Iterator[Diagnostic]:
        t, inventory = ctx.targeting, ctx.inventory
        # a model read from the linted code (total_parameters unknown) is the toy model of a test
        # suite, whose layer sizes are chosen for speed: not reported
        if t is None or inventory is None or inventory.total_parameters is None or ctx.spec.method != "LORA":
            return
        # only a rank the config writes: peft's default (r=8) at or above a layer's size means a tiny test model
        r_value = ctx.field("r")
        r = None if r_value is None or r_value.dynamic else r_value.value
        pattern_v = ctx.field("rank_pattern")
        pattern = pattern_v.value if pattern_v is not None and not pattern_v.dynamic else None
        pattern = pattern if isinstance(pattern, dict) else {}
        # (where the rank comes from, the rank) -> the layers it is too large for
        found: dict[tuple[str | None, int], list[inv.ModuleInfo]] = {}
        for name in t.targeted:
            m = inventory.module(name)
            if m is None or m.kind not in _KINDS or not m.in_features or not m.out_features:
                continue
            key = pattern_key([k for k in pattern if isinstance(k, str)], name)
            rank = pattern[key] if key is not None else r
            if not isinstance(rank, int) or isinstance(rank, bool) or min(m.in_features, m.out_features) <= 0:
                continue
            if rank >= min(m.in_features, m.out_features):
                found.setdefault((key, rank), []).append(m)
        for (key, rank), mods in found.items():
            narrow = min(mods, key=lambda m: min(m.in_features or 0, m.out_features or 0))
            fan_in, fan_out = narrow.in_features or 0, narrow.out_features or 0
            leaves = sorted({m.leaf for m in mods})
            where = f"rank_pattern `{key}`: {rank}" if key is not None else f"r={rank}"
            span: Span = key_span(pattern_v, key) if key is not None and pattern_v is not None else \
                (r_value.span if r_value is not None else ctx.spec.span)
            yield self.diagnostic(
                ctx, span,
                f"{where} is not low-rank for {format_names(leaves, 3)} ({fan_in}->{fan_out}, rank at or above "
                f"{min(fan_in, fan_out)}); {_remedy(min(fan_in, fan_out), key)}",
                subject=key if key is not None else "r",
                detail=f"{len(mods)} module{'' if len(mods) == 1 else 's'}: at or above min(in, out)="
                       f"{min(fan_in, fan_out)}, LoRA trains {rank * (fan_in + fan_out):,d} parameters per layer where "
                       f"the weight has {fan_in * fan_out:,d}.")


def _remedy(narrow: int, key: str | None) -> str:
    if narrow <= 1:  # no rank fits: a layer with one output (a gate) gains nothing from an adapter
        return "leave these layers out (exclude_modules) or train them fully with modules_to_save"
    where = "" if key is not None else " (rank_pattern for these layers)"
    return f"use a rank below {narrow}{where} or modules_to_save"
