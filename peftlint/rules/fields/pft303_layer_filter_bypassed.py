"""PFT303 layer-filter-bypassed."""

from __future__ import annotations

from typing import Iterator

from peftlint.codes import Code
from peftlint.diagnostics import Diagnostic, Severity
from peftlint.rules._common import py_example, string_items
from peftlint.rules.base import Expect, Rule
from peftlint.rules.context import Context
from peftlint.rules.fields._common import plural
from peftlint.semantics.matching import layer_filter_active, layer_index
from peftlint.semantics.partial import is_partial
from peftlint.semantics.peft_errors import nothing_targeted
from peftlint.semantics.suggest import format_names


class LayerFilterBypassed(Rule):
    code = Code.LAYER_FILTER_BYPASSED
    name = "layer-filter-bypassed"
    severity = Severity.WARNING
    summary = "With `layers_to_transform`, an entry is a full name or matches only unindexed modules."
    docs = """
    `layers_to_transform` applies only to modules matched by suffix. An entry that is a module's
    **full name** (`lm_head`, `model.layers.0.self_attn.q_proj`) is matched exactly and adapted
    whatever the layer filter says. An entry whose modules carry no block index (`embed_tokens`,
    a top-level `ModuleList` without `layers_pattern`) is dropped by the filter, silently.

    The same bypass happens without any `target_modules`: when PEFT's default for the model type
    is a regex string (gemma4's `.*language_model\\..*\\.(q_proj|v_proj)`), the layer filter is
    never applied to it, and every layer the regex matches is adapted, silently.

    Fix: drop the entry, or select its blocks with suffix names only; without `target_modules`,
    pass `target_modules` yourself with the layer selection in it.
    """
    bad = (py_example('config = LoraConfig(target_modules=["q_proj", "v_proj", "lm_head"], layers_to_transform=[0, 1])',
                      expect=(Expect(4, 57, "`lm_head` is a full module name, so PEFT matches it exactly"),)),)
    good = (py_example('config = LoraConfig(target_modules=["q_proj", "v_proj"], layers_to_transform=[0, 1])'),)

    def check(self, ctx: Context) -> Iterator[Diagnostic]:
        assert ctx.inventory is not None  # needs_model: the engine runs this rule only with a model
        t = ctx.targeting
        if t is None or not layer_filter_active(ctx.view.layers_to_transform):
            return
        if t.parameters_targeted:
            lt = ctx.field("layers_to_transform")
            leaves = sorted({k.rsplit(".", 1)[-1] for k in t.parameters_targeted})
            yield self.diagnostic(
                ctx, lt.span if lt is not None else ctx.spec.span,
                f"layers_to_transform does not apply to target_parameters: PEFT adapts {format_names(leaves)} in every "
                f"block ({plural(len(t.parameters_targeted), 'parameter')}); name one block's parameters "
                "(`model.layers.0.mlp.experts.down_proj`) to restrict them",
                subject="layers_to_transform")
        if t.mode == "default" and isinstance(t.effective_targets, str):
            yield from self._regex_default(ctx, t)
        if t.mode != "list":
            return
        names = set(ctx.inventory.names())
        dropped = set(t.layer_dropped)
        indexed = any(layer_index(h, ctx.view.layers_pattern) is not None for hs in t.entry_hits.values() for h in hs)
        if (not indexed and dropped and not t.targeted and not t.excluded and not t.parameters_targeted
                and ctx.complete and not is_partial(ctx.inventory) and "layers_pattern" not in ctx.spec.fields):
            lt = ctx.field("layers_to_transform")
            yield self.diagnostic(
                ctx, lt.span if lt is not None else ctx.spec.span,
                f"layers_to_transform={ctx.view.layers_to_transform!r} drops every module the targets match: none has "
                f"a block index PEFT can read ({format_names(sorted(dropped), 3)}; PEFT looks for `<name>.<list>.<index>.`"
                f"), so PEFT raises {nothing_targeted(ctx.view, ctx.inventory, t)}; set layers_pattern or drop the "
                "layer filter", subject="layers_to_transform", severity=Severity.ERROR)
            return
        for item in string_items(ctx, "target_modules"):
            e = item.value
            if e in names:
                yield self.diagnostic(
                    ctx, item.span,
                    f"`{e}` is a full module name, so PEFT matches it exactly and adapts it regardless of "
                    f"layers_to_transform={ctx.view.layers_to_transform!r}; drop it or use a suffix name",
                    subject=e)
                continue
            hits = t.entry_hits.get(e, [])
            if indexed and hits and not is_partial(ctx.inventory) and all(h in dropped and layer_index(h, ctx.view.layers_pattern) is None for h in hits):
                yield self.diagnostic(
                    ctx, item.span,
                    f"`{e}` matches {plural(len(hits), 'module')} with no block index ({format_names(hits, 3)}), so "
                    "the layer filter drops it and PEFT adapts nothing for it, silently; remove it"
                    + ("" if ctx.view.layers_pattern else ", or set layers_pattern to the name of its module list"),
                    subject=e)

    def _regex_default(self, ctx: Context, t) -> Iterator[Diagnostic]:
        """No target_modules, and PEFT's default for the model type is a regex: never layer-filtered."""
        assert ctx.inventory is not None  # needs_model: the engine runs this rule only with a model
        lt = ctx.view.layers_to_transform
        wanted = {lt} if isinstance(lt, int) else set(lt)
        outside = [n for n in t.targeted if (i := layer_index(n, ctx.view.layers_pattern)) is None or i not in wanted]
        if not outside:
            return
        v = ctx.field("layers_to_transform")
        yield self.diagnostic(
            ctx, v.span if v is not None else ctx.spec.span,
            f"target_modules is omitted, and PEFT's default for model_type `{ctx.inventory.model_type}` is the regex "
            f"`{t.effective_targets}`, which PEFT never layer-filters: layers_to_transform={lt!r} is ignored and "
            f"{plural(len(outside), 'module')} outside it ({format_names(outside, 3)}) are adapted too. Pass "
            "target_modules yourself with the layer selection in it (e.g. that regex with the block numbers written "
            "into it after `layers\\.`)",
            subject="layers_to_transform")
