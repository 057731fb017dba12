"""PFT301 layer-out-of-range."""

from __future__ import annotations

from typing import Iterator

from peftlint.codes import Code
from peftlint.diagnostics import Diagnostic, Severity
from peftlint.rules._common import py_example
from peftlint.rules.base import Expect, Rule
from peftlint.rules.context import Context
from peftlint.semantics.matching import layer_filter_active, layer_index
from peftlint.semantics.partial import is_partial
from peftlint.semantics.peft_errors import nothing_targeted
from peftlint.spec import Value


def _indices(v: Value) -> list[tuple[int, Value]]:
    if v.dynamic:
        return []
    if v.items is not None:
        return [(i.value, i) for i in v.items if not i.dynamic and isinstance(i.value, int) and not isinstance(i.value, bool)]
    if isinstance(v.value, int) and not isinstance(v.value, bool):
        return [(v.value, v)]
    return []


class LayerOutOfRange(Rule):
    code = Code.LAYER_OUT_OF_RANGE
    name = "layer-out-of-range"
    severity = Severity.ERROR
    summary = "A `layers_to_transform` index the model does not have."
    docs = """
    `layers_to_transform` keeps a suffix-matched target only if the block index PEFT reads from
    its name is in the list. An index beyond the model's blocks (`[30, 31]` on a 30-layer model,
    a 1-based count, an index copied from a bigger model) selects nothing: the other indices are
    adapted silently, and if none exists PEFT raises `Target modules ... not found in the base
    model. Note: You specified 'layers_to_transform': [...]`.

    Fix: use indices from 0 to the number of blocks minus one.
    """
    bad = (py_example('config = LoraConfig(target_modules=["q_proj", "v_proj"], layers_to_transform=[28, 29, 30])',
                      expect=(Expect(4, 87, "layer 30 does not exist for these targets"),)),)
    good = (py_example('config = LoraConfig(target_modules=["q_proj", "v_proj"], layers_to_transform=[27, 28, 29])'),)

    def check(self, ctx: Context) -> Iterator[Diagnostic]:
        t = ctx.targeting
        v = ctx.field("layers_to_transform")
        if t is None or v is None or t.mode != "list" or not layer_filter_active(ctx.view.layers_to_transform):
            return
        if is_partial(ctx.inventory):
            return  # more blocks may exist in what was not read
        pattern = ctx.view.layers_pattern
        available: set[int] = set()
        for hits in t.entry_hits.values():
            for name in hits:
                idx = layer_index(name, pattern)
                if idx is not None:
                    available.add(idx)
        if not available:
            return  # no indexed target at all: PFT302 / PFT303
        wanted = _indices(v)
        missing = [(i, item) for i, item in wanted if i not in available]
        if not missing:
            return
        all_missing = len(missing) == len(wanted) and ctx.complete
        all_missing = all_missing and not t.targeted and not t.parameters_targeted
        runtime = (f"no requested index exists, so PEFT raises {nothing_targeted(ctx.view, ctx.inventory, t)}"
                   if all_missing else
                   "PEFT adapts the other indices and ignores this one silently")
        lo, hi = min(available), max(available)
        for i, item in missing:
            yield self.diagnostic(
                ctx, item.span,
                f"layer {i} does not exist for these targets on {ctx.model_label} (blocks {lo}-{hi}): {runtime}",
                subject=str(i))
