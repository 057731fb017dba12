"""PFT107 partial-coverage."""

from __future__ import annotations

from typing import Iterator

from peftlint.codes import Code
from peftlint.diagnostics import Diagnostic, Severity
from peftlint.rules._common import py_example
from peftlint.rules.base import Expect, Rule
from peftlint.rules.context import Context
from peftlint.rules.targets._common import list_entries
from peftlint.semantics.matching import layer_filter_active, layer_position
from peftlint.semantics.partial import touches_unknown


def _blocks(positions: dict[str, tuple[str, int] | None], names: list[str]) -> dict[str, set[int]]:
    """{numbered ModuleList: indices} of the repeated blocks ``names`` lie in."""
    out: dict[str, set[int]] = {}
    for n in names:
        pos = positions[n]
        if pos is not None:
            out.setdefault(pos[0], set()).add(pos[1])
    return out


def _in_block(name: str, pos: tuple[str, int]) -> str:
    return name[len(f"{pos[0]}.{pos[1]}."):]


def _ranges(indices: set[int]) -> str:
    xs = sorted(indices)
    if len(xs) > 6:
        return f"{', '.join(map(str, xs[:5]))}, ... ({len(xs)} blocks)"
    return ", ".join(map(str, xs))


def _other_kind_of_block(ctx: Context, lst: str, reached: set[int], total: int, entry: str,
                         parameter: str | None = None) -> bool:
    """The blocks the entry misses are of another kind and have no layer of that name at all (a
    UNet's `DownBlock2D` next to its `CrossAttnDownBlock2D`s has no attention; a hybrid model's
    Mamba or linear-attention blocks next to its attention blocks, all of one class but holding
    other layers): nothing to fix. A block's kind is its class and its children's names and classes.

    ``parameter``: the entry reaches fused expert parameters of that name (PEFT's MoE rewrite made
    it a target_parameters entry); the missed blocks count as holding it only when a module there
    has such a parameter (a DeepSeek model's dense first blocks have none: the Linear `down_proj`
    there is dropped by the rewrite, which PFT109 reports)."""
    assert ctx.inventory is not None  # needs_model: the engine runs this rule only with a model
    inv = ctx.inventory

    def kind(i: int) -> tuple[str, ...] | None:
        m = inv.module(f"{lst}.{i}")
        if m is None:
            return None
        children = sorted(f"{c}:{c_m.cls}" for c in m.children if (c_m := inv.module(f"{m.name}.{c}")) is not None)
        return (m.cls, *children)

    kinds = {i: kind(i) for i in range(total)}
    missed = set(range(total)) - reached
    if {kinds[i] for i in missed} & {kinds[i] for i in reached}:
        return False
    leaf = next((p for p in reversed(entry.split(".")) if not p.isdigit()), entry)
    prefixes = tuple(f"{lst}.{i}." for i in missed)
    if parameter is not None:
        return not any(m.name.startswith(prefixes) and parameter in m.params for m in inv.modules)
    return not any(m.name.startswith(prefixes) and leaf in m.name.split(".") for m in inv.modules)


class PartialCoverage(Rule):
    code = Code.PARTIAL_COVERAGE
    name = "partial-coverage"
    severity = Severity.WARNING
    summary = "A `target_modules` entry reaches only some of the repeated blocks."
    docs = """
    A list entry matches every module whose full name ends with `.` + entry. An entry that carries
    a block index (`layers.0.mlp.down_proj`) or names a layer that exists only in some blocks
    (dense layers of a MoE model, a layer type that alternates) adapts only those blocks, without
    any message from PEFT. That is rarely intended: usually the entry was copied from one
    module's printed name.

    Fix: use the leaf name (`down_proj`) for every block; to select blocks on purpose, use
    `layers_to_transform` (with suffix entries, which the layer filter applies to).

    Blocks of another kind that have no such layer at all are not reported: a UNet's
    `DownBlock2D` has no attention, so `to_q` reaching only its `CrossAttnDownBlock2D`s is complete;
    so is `q_proj` reaching only the attention blocks of a hybrid model (Mamba or linear-attention
    blocks of the same class but with other layers inside), and `down_proj` reaching only the MoE
    blocks once PEFT's MoE rewrite made it an expert parameter the dense first blocks of a
    DeepSeek-like model do not have (PFT109 reports the Linear modules the rewrite drops).
    """
    bad = (py_example('config = LoraConfig(target_modules=["q_proj", "v_proj", "layers.0.mlp.down_proj"])',
                      expect=(Expect(4, 57, "`layers.0.mlp.down_proj` reaches only block 0 of the 30 blocks"),)),)
    good = (py_example('config = LoraConfig(target_modules=["q_proj", "v_proj", "down_proj"])'),)

    def check(self, ctx: Context) -> Iterator[Diagnostic]:
        assert ctx.inventory is not None  # needs_model: the engine runs this rule only with a model
        t = ctx.targeting
        if t is None or t.mode != "list" or layer_filter_active(ctx.view.layers_to_transform):
            return
        lists = ctx.inventory.layer_lists
        # what all entries together reach, per (block list, path inside the block): full names
        # saved for every block (an expanded "all-linear") cover each other
        union: dict[tuple[str, str], set[int]] = {}
        positions = {n: layer_position(n, ctx.inventory) for hits in t.entry_hits.values() for n in hits}
        for hits in t.entry_hits.values():
            for n in hits:
                pos = positions[n]
                if pos is not None:
                    union.setdefault((pos[0], _in_block(n, pos)), set()).add(pos[1])
        for entry, item in list_entries(ctx):
            for lst, idx in _blocks(positions, t.entry_hits.get(entry, [])).items():
                total = lists.get(lst)
                if not total or len(idx) >= total or touches_unknown(ctx.inventory, lst):
                    continue
                paths = {_in_block(n, pos) for n in t.entry_hits.get(entry, [])
                         if (pos := positions[n]) is not None and pos[0] == lst}
                if all(len(union.get((lst, p), ())) >= total for p in paths):
                    continue
                moved = t.moe.moved.get(entry) if t.moe is not None else None
                if _other_kind_of_block(ctx, lst, idx, total, entry,
                                        moved.rsplit(".", 1)[-1] if moved is not None else None):
                    continue
                leaf = entry.rsplit(".", 1)[-1]
                yield self.diagnostic(
                    ctx, item.span,
                    f"`{entry}` reaches only block{'s' if len(idx) > 1 else ''} {_ranges(idx)} of the {total} blocks "
                    f"of `{lst}`, silently; use `{leaf}` for every block",
                    subject=entry,
                    detail=f"PEFT adapts just the blocks a full name reaches, silently. Use `{leaf}` for every block, "
                           f"or `{leaf}` with layers_to_transform to choose blocks on purpose.")
                break
