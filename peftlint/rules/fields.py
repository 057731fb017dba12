"""PFT3xx: the other targeting fields, checked against the base model (PEFT-SEMANTICS §1.6-§2.4, §4, §6)."""

from __future__ import annotations

import re
from typing import Iterator

from peftlint.model import inventory as inv
from peftlint.rules.context import Context
from peftlint.diagnostics import Diagnostic, Severity
from peftlint.semantics.matching import (
    SEQ_CLS_HEADS,
    entry_matches,
    layer_filter_active,
    layer_index,
    modules_to_save_excludes,
    pattern_key,
    safe_fullmatch,
    wrapper_matches,
)
from peftlint.spec import Value
from peftlint.semantics.suggest import closest_names, format_names
from peftlint.rules.base import Example, Rule
from peftlint.rules.form import literal_problem

SMOL = "HuggingFaceTB/SmolLM2-135M"

# Methods whose rank_pattern/alpha_pattern go through peft's ``get_pattern_key`` (first match wins).
# AdaLoRA's rank_pattern is an internal budget mask and OSF uses re.search (§2.3).
PATTERN_KEY_METHODS = frozenset({"LORA", "LOHA", "LOKR", "HIRA", "DELORA"})


def _py(body: str, model: str = SMOL, imports: str = "LoraConfig") -> Example:
    return Example(f"from peft import {imports}\n\n# peftlint: model={model}\n{body}\n")


def _auto_heads(ctx: Context) -> set[str]:
    """modules_to_save entries PEFT appends itself for the task (they are in saved configs)."""
    task = ctx.view.task_type
    task = task.rsplit(".", 1)[-1] if isinstance(task, str) else None
    if task in ("SEQ_CLS", "TOKEN_CLS"):
        return set(SEQ_CLS_HEADS)
    if task == "QUESTION_ANS":
        return {"qa_outputs"}
    return set()


def _user_saved(ctx: Context) -> list[Value]:
    heads = _auto_heads(ctx)
    return [i for i in _items(ctx, "modules_to_save") if i.value not in heads]


def _items(ctx: Context, name: str) -> list[Value]:
    """The static string items of a list field."""
    v = ctx.field(name)
    if v is None or v.dynamic or v.items is None:
        return []
    return [i for i in v.items if not i.dynamic and isinstance(i.value, str)]


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _indices(v: Value) -> list[tuple[int, Value]]:
    if v.dynamic:
        return []
    if v.items is not None:
        return [(i.value, i) for i in v.items if not i.dynamic and isinstance(i.value, int) and not isinstance(i.value, bool)]
    if isinstance(v.value, int) and not isinstance(v.value, bool):
        return [(v.value, v)]
    return []


def _patterns(value: object) -> list[str]:
    if isinstance(value, str):
        return [value] if value else []
    if isinstance(value, list):
        return [p for p in value if isinstance(p, str)]
    return []


class LayerOutOfRange(Rule):
    code = "PFT301"
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
    bad = (_py('config = LoraConfig(target_modules=["q_proj", "v_proj"], layers_to_transform=[28, 29, 30])'),)
    good = (_py('config = LoraConfig(target_modules=["q_proj", "v_proj"], layers_to_transform=[27, 28, 29])'),)

    def check(self, ctx: Context) -> Iterator[Diagnostic]:
        t = ctx.targeting
        v = ctx.field("layers_to_transform")
        if t is None or v is None or t.mode != "list" or not layer_filter_active(ctx.view.layers_to_transform):
            return
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
        runtime = ("no requested index exists, so PEFT raises \"Target modules ... not found in the base model. Note: "
                   "You specified 'layers_to_transform'\"" if all_missing else
                   "PEFT adapts the other indices and ignores this one silently")
        lo, hi = min(available), max(available)
        for i, item in missing:
            yield self.diagnostic(
                ctx, item.span,
                f"layer {i} does not exist for these targets on {ctx.model_label} (blocks {lo}-{hi}): {runtime}",
                subject=str(i))


class LayersPatternNotFound(Rule):
    code = "PFT302"
    name = "layers-pattern-not-found"
    severity = Severity.ERROR
    summary = "`layers_pattern` names no indexed module list."
    docs = """
    With `layers_pattern`, PEFT reads a target's block index from the part of its name that
    follows `<pattern>.` (`layers.3.`), where the pattern is a regex at a dot boundary. If no
    module name has `<pattern>.<number>.` in it (`"layer"` on Llama, `"h"` on Llama, `"blocks"`
    on GPT-2), no target gets an index, every suffix-matched target is dropped, and PEFT raises
    `Target modules ... not found ... You also specified 'layers_pattern'`.

    Fix: use the name of the model's block list (`layers` on Llama, `h` on GPT-2, `block` on T5).
    """
    bad = (_py('config = LoraConfig(target_modules=["q_proj", "v_proj"], layers_to_transform=[0], layers_pattern="h")'),)
    good = (_py('config = LoraConfig(target_modules=["q_proj", "v_proj"], layers_to_transform=[0], '
                'layers_pattern="layers")'),)

    def check(self, ctx: Context) -> Iterator[Diagnostic]:
        v = ctx.field("layers_pattern")
        if ctx.inventory is None or v is None or v.dynamic:
            return
        names = ctx.inventory.names()
        lists = sorted({n.rsplit(".", 1)[-1] for n in (ctx.inventory.extra.get("layer_lists") or {})})
        items = v.items if v.items is not None else [v]
        for item in items:
            if item.dynamic or not isinstance(item.value, str) or not item.value:
                continue
            p = item.value
            try:
                rx = re.compile(rf"(?:^|.*?\.){p}\.(?P<idx>\d+)\.")
            except re.error as exc:
                yield self.diagnostic(ctx, item.span, f"layers_pattern `{p}` is not a valid regex ({exc})", subject=p)
                continue
            if any(rx.match(n) for n in names):
                continue
            hint = f"; this model's block lists are {format_names(lists)}" if lists else ""
            yield self.diagnostic(
                ctx, item.span,
                f"no module of {ctx.model_label} has `{p}.<index>.` in its name, so PEFT finds no layer index, drops "
                f"every suffix-matched target and raises \"Target modules ... not found ... You also specified "
                f"'layers_pattern'\"{hint}",
                subject=p)


class LayerFilterBypassed(Rule):
    code = "PFT303"
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
    bad = (_py('config = LoraConfig(target_modules=["q_proj", "v_proj", "lm_head"], layers_to_transform=[0, 1])'),)
    good = (_py('config = LoraConfig(target_modules=["q_proj", "v_proj"], layers_to_transform=[0, 1])'),)

    def check(self, ctx: Context) -> Iterator[Diagnostic]:
        t = ctx.targeting
        if t is None or not layer_filter_active(ctx.view.layers_to_transform):
            return
        if t.parameters_targeted:
            lt = ctx.field("layers_to_transform")
            leaves = sorted({k.rsplit(".", 1)[-1] for k in t.parameters_targeted})
            yield self.diagnostic(
                ctx, lt.span if lt is not None else ctx.spec.span,
                f"layers_to_transform does not apply to target_parameters: PEFT adapts {format_names(leaves)} in every "
                f"block ({_plural(len(t.parameters_targeted), 'parameter')}); name one block's parameters "
                "(`model.layers.0.mlp.experts.down_proj`) to restrict them",
                subject="layers_to_transform")
        if t.mode == "default" and isinstance(t.effective_targets, str):
            yield from self._regex_default(ctx, t)
        if t.mode != "list":
            return
        names = set(ctx.inventory.names())
        dropped = set(t.layer_dropped)
        indexed = any(layer_index(h, ctx.view.layers_pattern) is not None for hs in t.entry_hits.values() for h in hs)
        for item in _items(ctx, "target_modules"):
            e = item.value
            if e in names:
                yield self.diagnostic(
                    ctx, item.span,
                    f"`{e}` is a full module name, so PEFT matches it exactly and adapts it regardless of "
                    f"layers_to_transform={ctx.view.layers_to_transform!r}; drop it or use a suffix name",
                    subject=e)
                continue
            hits = t.entry_hits.get(e, [])
            if indexed and hits and all(h in dropped and layer_index(h, ctx.view.layers_pattern) is None for h in hits):
                yield self.diagnostic(
                    ctx, item.span,
                    f"`{e}` matches {_plural(len(hits), 'module')} with no block index ({format_names(hits, 3)}), so "
                    "the layer filter drops it and PEFT adapts nothing for it, silently; remove it"
                    + ("" if ctx.view.layers_pattern else ", or set layers_pattern to the name of its module list"),
                    subject=e)

    def _regex_default(self, ctx: Context, t) -> Iterator[Diagnostic]:
        """No target_modules, and PEFT's default for the model type is a regex: never layer-filtered."""
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
            f"{_plural(len(outside), 'module')} outside it ({format_names(outside, 3)}) are adapted too. Pass "
            "target_modules yourself with the layer selection in it (e.g. that regex with the block numbers written "
            "into it after `layers\\.`)",
            subject="layers_to_transform")


def _pattern_dicts(ctx: Context) -> Iterator[tuple[str, Value, list[str]]]:
    if ctx.spec.method not in PATTERN_KEY_METHODS:
        return
    for name in ("rank_pattern", "alpha_pattern"):
        v = ctx.field(name)
        if v is None or v.dynamic or not isinstance(v.value, dict) or not v.value:
            continue
        yield name, v, [k for k in v.value if isinstance(k, str)]


def _key_span(v: Value, key: str):
    return v.keys[key].span if v.keys and key in v.keys else v.span


class UnmatchedPatternKey(Rule):
    code = "PFT304"
    name = "unmatched-pattern-key"
    severity = Severity.WARNING
    summary = "A `rank_pattern`/`alpha_pattern` key matches no targeted module."
    docs = """
    PEFT looks each adapted module up in `rank_pattern`/`alpha_pattern` with
    `re.match(rf"(.*\\.)?({key})$", name)`: a key is a regex that must match a dot-bounded
    suffix of the full name. A partial word (`proj`), a container (`self_attn`), a prefix
    (`model.layers.0`) or a module that is not a target matches nothing: that module keeps `r`
    and `lora_alpha`, and PEFT only warns at runtime `The following rank_pattern keys did not
    match any targeted module and were ignored`.

    Fix: use the targeted module's name or a suffix of it (`q_proj`, `layers.0.self_attn.q_proj`).
    """
    bad = (_py('config = LoraConfig(target_modules=["q_proj", "v_proj"], rank_pattern={"self_attn": 16})'),)
    good = (_py('config = LoraConfig(target_modules=["q_proj", "v_proj"], rank_pattern={"q_proj": 16})'),)

    def check(self, ctx: Context) -> Iterator[Diagnostic]:
        t = ctx.targeting
        if t is None or not ctx.complete:
            return
        targets = list(t.targeted) + list(t.parameters_targeted)
        for field_name, v, keys in _pattern_dicts(ctx):
            for k in keys:
                try:
                    re.compile(rf"(.*\.)?({k})$")
                except re.error as exc:
                    yield self.diagnostic(
                        ctx, _key_span(v, k),
                        f"{field_name} key `{k}` is not a valid regex ({exc}): get_peft_model raises re.error when it "
                        "looks up the ranks; escape it (keys are regexes matched against module-name suffixes)",
                        subject=k, severity=Severity.ERROR)
                    continue
                if any(pattern_key([k], n) for n in targets):
                    continue
                other = [m.name for m in ctx.inventory.modules if pattern_key([k], m.name)]
                why = (f"it matches {format_names(other, 2)}, which {'is' if len(other) == 1 else 'are'} not adapted"
                       if other else "it matches no module name as a dot-bounded suffix")
                yield self.diagnostic(
                    ctx, _key_span(v, k),
                    f"{field_name} key `{k}` applies to no adapted module ({why}): PEFT warns that it was ignored "
                    f"and those modules keep the default; use a targeted module's name or suffix",
                    subject=k)


class OverlappingPatternKeys(Rule):
    code = "PFT305"
    name = "overlapping-pattern-keys"
    severity = Severity.WARNING
    summary = "Two pattern keys match the same module (first match wins; saving sorts keys)."
    docs = """
    For each module PEFT takes the **first** key of `rank_pattern`/`alpha_pattern` (in dict
    order) that matches — not the most specific one. `{"q_proj": 4, "layers.0.self_attn.q_proj":
    16}` gives layer 0 rank 4. Worse, `save_pretrained` writes the config with sorted keys, so
    the reloaded adapter can pick the other key: for `rank_pattern` that is a different shape,
    and `PeftModel.from_pretrained` fails with `size mismatch`.

    Fix: make the keys disjoint, e.g. with a regex that excludes the special case.
    """
    bad = (_py('config = LoraConfig(target_modules=["q_proj", "v_proj"],\n'
               '                    rank_pattern={"q_proj": 4, "layers.0.self_attn.q_proj": 16})'),)
    good = (_py('config = LoraConfig(target_modules=["q_proj", "v_proj"],\n'
                '                    rank_pattern={"q_proj": 4, "v_proj": 16})'),)

    def check(self, ctx: Context) -> Iterator[Diagnostic]:
        t = ctx.targeting
        if t is None:
            return
        targets = list(t.targeted) + list(t.parameters_targeted)
        for field_name, v, keys in _pattern_dicts(ctx):
            pairs: dict[tuple[str, str], list[str]] = {}
            for n in targets:
                hits = [k for k in keys if pattern_key([k], n)]
                if len(hits) < 2:
                    continue
                for later in hits[1:]:
                    if v.value[hits[0]] != v.value[later]:
                        pairs.setdefault((hits[0], later), []).append(n)
            for (first, later), mods in pairs.items():
                after_save = pattern_key(sorted(keys), mods[0])
                if after_save != first:
                    reload = (f"save_pretrained sorts the keys, so the reloaded adapter uses `{after_save}`="
                              f"{v.value[after_save]!r} there"
                              + (" and loading fails with a size mismatch" if field_name == "rank_pattern" else ""))
                else:
                    reload = f"`{later}` never applies to {'it' if len(mods) == 1 else 'them'}"
                yield self.diagnostic(
                    ctx, _key_span(v, later),
                    f"{field_name} keys `{first}` and `{later}` both match {format_names(mods, 2)} "
                    f"({_plural(len(mods), 'module')}); PEFT uses the first key in dict order (`{first}`="
                    f"{v.value[first]!r}), and {reload}. Make the keys disjoint",
                    subject=later)


class UnmatchedModulesToSave(Rule):
    code = "PFT306"
    name = "unmatched-modules-to-save"
    severity = Severity.ERROR
    summary = "A `modules_to_save` entry matches nothing."
    docs = """
    PEFT wraps every module whose full name ends with a `modules_to_save` entry and trains it
    fully. An entry that ends no module name (`score` on a causal LM, `classifier` on Llama,
    `lm-head`) is ignored **silently**: the layer you meant to train stays frozen and is not
    saved with the adapter.

    Fix: use the model's own name for the layer (`peftlint modules MODEL` lists them).
    """
    bad = (_py('config = LoraConfig(target_modules=["q_proj", "v_proj"], modules_to_save=["classifier"])'),)
    good = (_py('config = LoraConfig(target_modules=["q_proj", "v_proj"], modules_to_save=["lm_head"])'),)

    def check(self, ctx: Context) -> Iterator[Diagnostic]:
        if ctx.inventory is None:
            return
        names = ctx.inventory.names() + list((ctx.inventory.extra.get("module_aliases") or {}))
        for item in _user_saved(ctx):
            m = item.value
            if not m or any(wrapper_matches(m, n) for n in names):
                continue
            hint = closest_names(m, ctx.inventory)
            yield self.diagnostic(
                ctx, item.span,
                f"modules_to_save entry `{m}` ends no module name of {ctx.model_label}: PEFT ignores it silently and "
                "trains nothing fully" + (f"; did you mean {format_names(hint)}?" if hint else ""),
                subject=m)


class TargetAlsoSaved(Rule):
    code = "PFT307"
    name = "target-also-saved"
    severity = Severity.WARNING
    summary = "A module is both targeted and in `modules_to_save`, or a `modules_to_save` suffix hits other modules."
    docs = """
    `modules_to_save` is matched twice, differently. Before injection, an entry removes the
    module **and everything below it** from the adapter targets (regex at a dot boundary), so a
    module listed in both is silently trained fully instead of with an adapter, and
    `modules_to_save=["mlp"]` silently removes `down_proj` from the targets. Afterwards, the
    wrapper is applied to every module whose name merely **ends with** the entry, with no dot
    boundary: `"head"` also wraps `lm_head`, and `"_proj"` hits adapted layers, which raises
    `TypeError: modules_to_save cannot be applied to modules of type <class '...lora.layer.Linear'>`.

    Fix: list each module in one field only, and use full leaf names in `modules_to_save`.
    """
    bad = (_py('config = LoraConfig(target_modules=["q_proj", "v_proj", "lm_head"], modules_to_save=["lm_head"])'),)
    good = (_py('config = LoraConfig(target_modules=["q_proj", "v_proj"], modules_to_save=["lm_head"])'),)

    def check(self, ctx: Context) -> Iterator[Diagnostic]:
        t = ctx.targeting
        if t is None:
            return
        targeted = set(t.targeted)
        names = ctx.inventory.names()
        for item in _user_saved(ctx):
            m = item.value
            if not m:
                continue
            removed = [n for n, why in t.excluded.items() if why == "modules_to_save" and modules_to_save_excludes(m, n)]
            wrapped = [n for n in names if wrapper_matches(m, n)]
            on_adapter = [n for n in wrapped if n in targeted]
            loose = [n for n in wrapped if not entry_matches(m, n) and n not in on_adapter]
            if on_adapter:
                yield self.diagnostic(
                    ctx, item.span,
                    f"modules_to_save entry `{m}` ends the names of adapted modules ({format_names(on_adapter, 2)}): "
                    "PEFT wraps by plain suffix and raises \"TypeError: modules_to_save cannot be applied to modules of "
                    "type <class 'peft.tuners.lora.layer.Linear'>\"; use the full leaf name of the layer to train",
                    subject=m, severity=Severity.ERROR)
            elif removed:
                own = [n for n in removed if entry_matches(m, n)]
                below = [n for n in removed if n not in own]
                what = (f"the targeted {format_names(own, 2)}" if own else "") + \
                    (f"{' and ' if own else ''}{_plural(len(below), 'targeted module')} inside it "
                     f"({format_names(below, 2)})" if below else "")
                yield self.diagnostic(
                    ctx, item.span,
                    f"modules_to_save entry `{m}` removes {what} from the adapter: PEFT trains "
                    f"{'it' if len(removed) == 1 else 'them'} fully instead, silently. Keep each module in one field",
                    subject=m)
            if loose and not on_adapter:
                yield self.diagnostic(
                    ctx, item.span,
                    f"modules_to_save entry `{m}` also wraps {format_names(loose, 3)}: PEFT matches it as a plain "
                    "suffix without a dot boundary, so those are trained fully and saved too; use the full leaf name",
                    subject=m)


class UnmatchedExclude(Rule):
    code = "PFT308"
    name = "unmatched-exclude"
    severity = Severity.WARNING
    summary = "An `exclude_modules` entry matches nothing, or names a container whose children stay adapted."
    docs = """
    `exclude_modules` removes only the **matched module itself** (exact name or dot-bounded
    suffix for a list, `re.fullmatch` on the full name for a string). Excluding a container such
    as `self_attn` or `mlp` does not exclude the layers inside it, and an entry that matches
    nothing is ignored (PEFT warns only when nothing at all was excluded). A plain word as a
    string (`exclude_modules="v_proj"`) full-matches no name, so it excludes nothing.

    Fix: name the adapted layers themselves (`mlp.down_proj`), or use a regex over the full
    name (`r".*\\.mlp\\..*"`).
    """
    bad = (_py('config = LoraConfig(target_modules="all-linear", exclude_modules=["mlp"])'),)
    good = (_py('config = LoraConfig(target_modules="all-linear", '
                'exclude_modules=["mlp.gate_proj", "mlp.up_proj", "mlp.down_proj"])'),)

    def check(self, ctx: Context) -> Iterator[Diagnostic]:
        t = ctx.targeting
        v = ctx.field("exclude_modules")
        if t is None or v is None or v.dynamic or v.value is None:
            return
        targeted = t.targeted
        names = ctx.inventory.names()
        if v.is_str:
            try:
                re.compile(v.value)
            except re.error as exc:
                yield self.diagnostic(
                    ctx, v.span, f"exclude_modules={v.value!r} is not a valid regex ({exc}): get_peft_model raises "
                    "re.error", subject=v.value, severity=Severity.ERROR)
                return
            if v.value and not any(safe_fullmatch(v.value, n) for n in names):
                yield self.diagnostic(
                    ctx, v.span,
                    f"exclude_modules={v.value!r} is a regex that full-matches no module name of {ctx.model_label}, so "
                    f"it excludes nothing (PEFT warns at runtime); use r\".*\\.{v.value}\" or the list [{v.value!r}]",
                    subject=v.value)
            return
        for item in _items(ctx, "exclude_modules"):
            e = item.value
            if literal_problem(e) is not None:
                continue  # reported by the PFT2xx form rules
            hits = [n for n in names if entry_matches(e, n)]
            if not hits:
                hint = closest_names(e, ctx.inventory)
                yield self.diagnostic(
                    ctx, item.span,
                    f"exclude_modules entry `{e}` matches no module of {ctx.model_label}, so it excludes nothing"
                    + (f"; did you mean {format_names(hint)}?" if hint else ""),
                    subject=e)
                continue
            owners = [k for k in t.parameters_targeted if any(k.startswith(h + ".") for h in hits)]
            if owners:
                yield self.diagnostic(
                    ctx, item.span,
                    f"exclude_modules entry `{e}` names modules whose parameters are in target_parameters, but "
                    f"exclude_modules does not apply to parameters: PEFT still adapts {format_names(owners, 2)} "
                    f"({_plural(len(owners), 'parameter')}); remove them from target_parameters instead",
                    subject=e)
                continue
            containers = [n for n in hits if ctx.inventory.module(n).kind in (inv.CONTAINER, inv.MODULE_LIST)]
            inside = [n for n in targeted if any(n.startswith(c + ".") for c in containers)]
            if inside:
                leaves = list(dict.fromkeys(n.rsplit(".", 1)[-1] for n in inside))
                yield self.diagnostic(
                    ctx, item.span,
                    f"exclude_modules entry `{e}` names a container; PEFT excludes only the container itself, so the "
                    f"{_plural(len(inside), 'module')} inside it ({format_names(leaves, 4)}) stay adapted; list them "
                    f"(e.g. {[f'{e}.{x}' for x in leaves[:3]]!r}) or use the regex r\".*\\.{e}\\..*\"",
                    subject=e)


class FanInFanOutMismatch(Rule):
    code = "PFT309"
    name = "fan-in-fan-out-mismatch"
    severity = Severity.WARNING
    summary = "`fan_in_fan_out` disagrees with the targeted layer type."
    docs = """
    `fan_in_fan_out=True` is for layers that store their weight as `(in, out)`: GPT-2 style
    `transformers.pytorch_utils.Conv1D`. On `nn.Linear` PEFT warns `fan_in_fan_out is set to True
    but the target module is torch.nn.Linear. Setting fan_in_fan_out to False.` and flips the
    shared config flag (and the reverse for Conv1D), layer by layer — so with both layer types
    targeted, the saved `adapter_config.json` records whichever layer came last.

    Fix: set `fan_in_fan_out` to match the targets (True only for Conv1D models such as GPT-2),
    or leave it out.
    """
    bad = (_py('config = LoraConfig(target_modules=["q_proj", "v_proj"], fan_in_fan_out=True)'),)
    good = (_py('config = LoraConfig(target_modules=["q_proj", "v_proj"])'),)

    def check(self, ctx: Context) -> Iterator[Diagnostic]:
        t = ctx.targeting
        v = ctx.field("fan_in_fan_out")
        if t is None or v is None or v.dynamic or not isinstance(v.value, bool):
            return
        kinds: dict[str, list[str]] = {}
        for n in t.targeted:
            m = ctx.inventory.module(n)
            if m is not None and m.kind in (inv.LINEAR, inv.CONV1D_GPT2):
                kinds.setdefault(m.kind, []).append(n)
        wrong_kind = inv.LINEAR if v.value else inv.CONV1D_GPT2
        wrong = kinds.get(wrong_kind, [])
        if not wrong:
            return
        layer = "torch.nn.Linear" if v.value else "transformers Conv1D"
        mixed = (" Both layer types are targeted, so the flag flips back and forth and the saved config records "
                 "only the last one." if len(kinds) == 2 else "")
        yield self.diagnostic(
            ctx, v.span,
            f"fan_in_fan_out={v.value} but {format_names(wrong, 2)} ({_plural(len(wrong), 'module')}) "
            f"{'is' if len(wrong) == 1 else 'are'} {layer}: PEFT warns and sets fan_in_fan_out={not v.value} for "
            f"{'it' if len(wrong) == 1 else 'them'}.{mixed} Set fan_in_fan_out={not v.value}"
            + ("" if len(kinds) == 2 else " or leave it out"),
            subject="fan_in_fan_out")


_CLASS_TASKS = (
    ("ForCausalLM", "CAUSAL_LM"),
    ("ForSequenceClassification", "SEQ_CLS"),
    ("ForTokenClassification", "TOKEN_CLS"),
    ("ForQuestionAnswering", "QUESTION_ANS"),
)
_CLASSIFIER_SUFFIXES = ("ForSequenceClassification", "ForTokenClassification", "ForQuestionAnswering",
                        "ForImageClassification", "ForAudioClassification")


def _task_of(ctx: Context) -> str | None:
    cls = ctx.inventory.model_class
    for suffix, task in _CLASS_TASKS:
        if cls.endswith(suffix):
            return task
    tops = {n.split(".")[-1] for n in ctx.inventory.names() if n.count(".") <= 1}
    if cls.endswith("ForConditionalGeneration") and {"encoder", "decoder"} <= tops:
        return "SEQ_2_SEQ_LM"
    if "For" not in cls:
        return "FEATURE_EXTRACTION"
    return None


def _head(ctx: Context) -> str | None:
    if ctx.inventory.model_class.endswith("ForQuestionAnswering"):
        return next((n for n in ctx.inventory.names() if n.rsplit(".", 1)[-1] == "qa_outputs"), None)
    return ctx.inventory.seq_cls_head


class TaskTypeMismatch(Rule):
    code = "PFT310"
    name = "task-type-mismatch"
    severity = Severity.WARNING
    summary = "`task_type` disagrees with the model class, or is missing on a classifier."
    docs = """
    `task_type` picks the PeftModel class and decides what happens to a classification head, but
    PEFT never checks it against the model:

    - `CAUSAL_LM` on a sequence classifier fails at the first forward/generate with
      `AttributeError: ... has no attribute 'prepare_inputs_for_generation'`.
    - `SEQ_CLS` on a causal LM silently adds `classifier`/`score` to `modules_to_save`, matching
      nothing.
    - A classifier **without** `task_type` gets no special head handling: the randomly
      initialised head stays frozen and is not saved — and with `"all-linear"` it gets LoRA
      instead of full training.

    Fix: set `task_type` to the model's task (`SEQ_CLS` for `...ForSequenceClassification`), or
    put the head into `modules_to_save`.
    """
    bad = (Example(
        "from transformers import AutoModelForSequenceClassification\n"
        "from peft import LoraConfig, get_peft_model\n\n"
        'model = AutoModelForSequenceClassification.from_pretrained("roberta-base")\n'
        'config = LoraConfig(target_modules="all-linear")\n'
        "model = get_peft_model(model, config)\n"),)
    good = (Example(
        "from transformers import AutoModelForSequenceClassification\n"
        "from peft import LoraConfig, get_peft_model\n\n"
        'model = AutoModelForSequenceClassification.from_pretrained("roberta-base")\n'
        'config = LoraConfig(target_modules="all-linear", task_type="SEQ_CLS")\n'
        "model = get_peft_model(model, config)\n"),)

    def check(self, ctx: Context) -> Iterator[Diagnostic]:
        t = ctx.targeting
        if t is None:
            return
        facts = ctx.facts
        info = ctx.config_info
        if info is not None and "task_type" not in info.fields:
            return
        v = ctx.field("task_type")
        task = ctx.view.task_type
        if task is not None and (v is None or v.dynamic or not isinstance(v.value, str)):
            task = task if isinstance(task, str) else None
        expected = _task_of(ctx)
        cls = ctx.inventory.model_class
        span = v.span if v is not None else ctx.spec.span
        if task:
            task = task.rsplit(".", 1)[-1]
            if expected is None or task == expected or (facts is not None and task not in facts.task_types):
                return
            if task == "SEQ_CLS":
                what = ("PEFT adds 'classifier' and 'score' to modules_to_save, which match nothing here (silently), "
                        "and wraps the model as PeftModelForSequenceClassification")
            elif expected in ("SEQ_CLS", "TOKEN_CLS", "QUESTION_ANS") and task in ("CAUSAL_LM", "SEQ_2_SEQ_LM"):
                what = (f"PEFT wraps it as a generation model, which fails at the first forward or generate "
                        f"(AttributeError: '{cls}' object has no attribute 'prepare_inputs_for_generation')")
            else:
                what = "PEFT picks the PeftModel class and head handling from task_type, not from the model"
            yield self.diagnostic(
                ctx, span,
                f"task_type={task!r} but the model is {cls} (task {expected}): {what}; use task_type={expected!r}",
                subject="task_type")
            return
        if not cls.endswith(_CLASSIFIER_SUFFIXES):
            return
        head = _head(ctx)
        user_saved = [i.value for i in _items(ctx, "modules_to_save")]
        if head is None or any(wrapper_matches(m, head) for m in user_saved):
            return
        adapted = [n for n in t.targeted if n == head or n.startswith(head + ".")]
        suggest = next((task for suffix, task in _CLASS_TASKS if cls.endswith(suffix)), None)
        fix = f"set task_type={suggest!r}" if suggest else f"add modules_to_save=[{head.rsplit('.', 1)[-1]!r}]"
        if adapted:
            what = (f"the randomly initialised head `{head}` gets LoRA ({format_names(adapted, 2)}) instead of full "
                    "training, and its base weights are not saved with the adapter")
        else:
            what = f"the randomly initialised head `{head}` stays frozen and is not saved with the adapter"
        yield self.diagnostic(
            ctx, span,
            f"{cls} is a classifier but the config has no task_type: {what}; {fix}",
            subject="task_type")


class UnmatchedTargetParameter(Rule):
    code = "PFT311"
    name = "unmatched-target-parameter"
    severity = Severity.ERROR
    summary = "A `target_parameters` entry matches no parameter."
    docs = """
    `target_parameters` entries are matched against `<module name>.<parameter name>` of every
    module's **own** parameters, exactly or as a dot-bounded suffix — no regex. A module name
    (`mlp.experts`), a regex (`.*down_proj`) or a v4 name (`w1`) matches nothing: PEFT warns
    `target_parameters=... were set but no parameter was matched` (or raises, when nothing else
    matched), and the experts stay frozen.

    Fix: name the parameter, e.g. `mlp.experts.gate_up_proj`; `peftlint modules MODEL` lists
    the models' fused expert parameters.
    """
    bad = (_py('config = LoraConfig(target_modules=["q_proj"], target_parameters=["mlp.experts"])',
               "Qwen/Qwen1.5-MoE-A2.7B"),)
    good = (_py('config = LoraConfig(target_modules=["q_proj"], target_parameters=["mlp.experts.down_proj"])',
                "Qwen/Qwen1.5-MoE-A2.7B"),)

    def check(self, ctx: Context) -> Iterator[Diagnostic]:
        t = ctx.targeting
        if t is None:
            return
        for item in _items(ctx, "target_parameters"):
            e = item.value
            if t.parameter_hits.get(e):
                continue
            owners = [m for m in ctx.inventory.modules if entry_matches(e, m.name)]
            params = [p for m in owners for p, shape in m.params.items() if len(shape) in (2, 3)]
            if params:
                hint = f"; it names a module — name its parameters: {[f'{e}.{p}' for p in dict.fromkeys(params)]!r}"
            else:
                cands = list(dict.fromkeys(p for m in ctx.inventory.modules for p, s in m.params.items() if len(s) == 3))
                hint = (f"; this model's fused expert parameters are {format_names(cands)}" if cands else
                        "; entries are `<module>.<parameter>` names (e.g. `q_proj.weight`), not regexes")
            alone = not t.targeted and len(t.parameters_targeted) == 0
            runtime = ("PEFT raises because nothing is targeted" if alone and ctx.complete else
                       "PEFT warns \"target_parameters=... were set but no parameter was matched\" and adapts none")
            yield self.diagnostic(
                ctx, item.span,
                f"target_parameters entry `{e}` matches no parameter of {ctx.model_label}: {runtime}{hint}",
                subject=e)
