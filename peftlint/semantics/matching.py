"""PEFT's targeting rules, reproduced on an Inventory (docs/peft-behaviour.md#matching).

Pure Python: no torch, no peft. ``tests/test_differential.py`` compares every answer with what
``peft.get_peft_model`` does on the same meta-device model.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from peftlint.model import inventory as inv
from peftlint.model.inventory import Inventory, ModuleInfo
from peftlint.semantics import regex_budget as budgeted

ALL_LINEAR = "all-linear"
SEQ_CLS_HEADS = ("classifier", "score")
LINEAR_KINDS = frozenset({inv.LINEAR, inv.CONV1D_GPT2})
_DEFAULT_INDEX_RE = re.compile(r".*?\.[^.]*\.(?P<idx>\d+)\.")
_PLAIN = re.compile(r"[A-Za-z0-9_]+")  # no regex syntax at all


@dataclass
class PeftView:
    """The targeting fields of a config, as PEFT sees them (static values only)."""

    method: str = "LORA"
    target_modules: Any = None  # None | str | list[str]
    target_parameters: list[str] | None = None
    exclude_modules: Any = None  # None | str | list[str]
    modules_to_save: list[str] | None = None
    layers_to_transform: Any = None  # None | int | list[int]
    layers_pattern: Any = None  # None | str | list[str]
    task_type: str | None = None
    # target_parameters that a tool added for target_modules entries (unsloth's MoE experts):
    # parameter entry -> the entries it stands for, which then reach the parameters' modules
    parameter_sources: dict[str, list[str]] = field(default_factory=dict)
    # unsloth's import patches peft's MoE rewrite: skipped when target_parameters are set or the
    # target is a regex with a dot, and dotted list entries are kept as written (``moe_rewrite``)
    unsloth: bool = False


def entry_matches(entry: str, key: str) -> bool:
    """A list entry matches a module name exactly or as a suffix starting at a dot boundary."""
    return key == entry or key.endswith("." + entry)


def safe_fullmatch(pattern: str, key: str) -> bool:
    """``re.fullmatch`` of a user pattern (within its time budget: ``regex_budget.RegexTooSlow``)."""
    try:
        return budgeted.fullmatch(pattern, key) is not None
    except re.error:
        return False


def modules_to_save_excludes(entry: str, key: str) -> bool:
    """PEFT's exclusion matcher for ``modules_to_save``: a raw regex at a dot boundary, descendants too."""
    if _PLAIN.fullmatch(entry):  # a plain name matches when it is one of the dotted segments: no regex needed
        return entry == key or key.endswith("." + entry) or f".{entry}." in f".{key}"
    try:
        return budgeted.match(modules_to_save_pattern(entry), key) is not None
    except re.error:
        return False


def modules_to_save_pattern(entry: str) -> str:
    return rf"(^|.*\.){entry}($|\..*)"


def layer_index(key: str, layers_pattern: Any) -> int | None:
    """The layer index PEFT reads from a module name (first indexed segment), or None."""
    if layers_pattern is None or len(layers_pattern) == 0:
        m = _DEFAULT_INDEX_RE.match(key)
    else:
        patterns = [layers_pattern] if isinstance(layers_pattern, str) else list(layers_pattern)
        m = None
        for p in patterns:
            try:
                m = budgeted.match(layers_pattern_regex(p), key)
            except re.error:
                m = None
            if m is not None:
                break
    return int(m.group("idx")) if m else None


def layers_pattern_regex(p: str) -> str:
    """The regex PEFT builds from one ``layers_pattern`` entry to read a layer index."""
    return rf"(?:^|.*?\.){p}\.(?P<idx>\d+)\."


def layer_filter_active(layers_to_transform: Any) -> bool:
    if layers_to_transform is None:
        return False
    if isinstance(layers_to_transform, list):
        return len(layers_to_transform) != 0
    return True


def layer_selected(index: int, layers_to_transform: Any) -> bool:
    if isinstance(layers_to_transform, int) and not isinstance(layers_to_transform, bool):
        return index == layers_to_transform
    return index in layers_to_transform


def moe_rewrite_applies(inventory: Inventory) -> bool:
    """True when PEFT's transformers-5 MoE rewrite turns a missing target_modules into an empty set."""
    return inventory.moe.none_targets_become_empty


def all_linear_names(inventory: Inventory, task_type: str | None) -> list[str]:
    """What ``"all-linear"`` expands to: every Linear/Conv1D minus the output head (docs/peft-behaviour.md#all-linear)."""
    names = [m.name for m in inventory.modules if m.kind in LINEAR_KINDS]
    excluded: set[str] = set()
    if inventory.is_pretrained_model:
        if inventory.output_embedding:
            excluded.add(inventory.output_embedding)
        elif task_type == "SEQ_CLS" and inventory.seq_cls_head:
            excluded.add(inventory.seq_cls_head)
    return [n for n in names if n not in excluded]


@dataclass
class Targeting:
    """What PEFT would do with one config on one model."""

    mode: str  # "list" | "regex" | "all-linear" | "default" | "empty" | "parameters-only" | "moe-error"
    effective_targets: Any  # the target_modules PEFT matches with (after defaults / all-linear)
    modules_to_save: list[str]  # including task heads PEFT appends before injection
    targeted: list[str] = field(default_factory=list)  # modules that get an adapter
    matched: list[str] = field(default_factory=list)  # matched before exclusion
    excluded: dict[str, str] = field(default_factory=dict)  # name -> "exclude_modules" | "modules_to_save"
    layer_dropped: list[str] = field(default_factory=list)  # suffix-matched but removed by the layer filter
    # list entries: entry -> modules it reaches by name (before exclusion and layer filter)
    entry_hits: dict[str, list[str]] = field(default_factory=dict)
    no_default: bool = False  # target_modules None and PEFT has no default for this model type / method
    # the transformers-5 MoE rewrite (LoRA only), when it changes this config; see ``moe_rewrite``
    moe: MoeRewrite | None = None
    # target_parameters as PEFT uses them (the user's plus the rewrite's), and the full parameter
    # names ("model.layers.0.mlp.experts.gate_up_proj") they reach
    effective_parameters: list[str] = field(default_factory=list)
    parameters_targeted: list[str] = field(default_factory=list)
    parameter_hits: dict[str, list[str]] = field(default_factory=dict)
    # target_parameters entries that name a parameter of the model itself -> that parameter (PEFT raises)
    root_parameter_hits: dict[str, str] = field(default_factory=dict)

    def unsupported(self, inventory: Inventory, kinds: frozenset[str] | None) -> list[ModuleInfo]:
        if kinds is None:
            return []
        out = []
        for name in self.targeted:
            m = inventory.module(name)
            if m is not None and m.kind not in kinds:
                out.append(m)
        return out


def _task_heads_before_injection(view: PeftView) -> list[str]:
    mts = list(view.modules_to_save or [])
    if view.task_type == "SEQ_CLS" and view.method not in ("XLORA",):
        mts += list(SEQ_CLS_HEADS)
    return mts


def compute_targeting(view: PeftView, inventory: Inventory) -> Targeting:
    """Reproduce ``BaseTuner.inject_adapter``'s module matching for ``view`` on ``inventory``."""
    t = _compute_modules(view, inventory)
    _match_parameters(t, view, inventory)
    return t


def _compute_modules(view: PeftView, inventory: Inventory) -> Targeting:
    modules_to_save = _task_heads_before_injection(view)
    targets = view.target_modules
    mode = "list"
    no_default = False
    moe = moe_rewrite(view, inventory, modules_to_save)
    if moe is not None:
        if isinstance(targets, str):
            mode = ALL_LINEAR if targets.lower() == ALL_LINEAR else "regex"
        targets = list(moe.remaining)
        if moe.error is not None:
            mode = "moe-error"  # PEFT raises before matching anything
        elif not targets:
            mode = "parameters-only"
    elif targets is None:
        # PEFT fills the model type's default targets even when target_parameters are given
        # (LoraModel._prepare_adapter_config); only without a default do the parameters stand alone
        mode = "default"
        targets = inventory.default_targets.get(view.method)
        if targets is None or (view.method == "LORA" and moe_rewrite_applies(inventory)):
            # the transformers-5 MoE rewrite runs before the defaults and turns None into set()
            targets, no_default = None, True
        if no_default and view.target_parameters:
            mode, no_default = "parameters-only", False
    if isinstance(targets, str) and moe is None:
        if targets.lower() == ALL_LINEAR:
            mode = ALL_LINEAR
            targets = all_linear_names(inventory, view.task_type)
        elif mode != "default":
            mode = "regex"
    if mode == "list" and isinstance(targets, (list, tuple, set)) and len(targets) == 0:
        mode = "empty"
    if isinstance(targets, (set, tuple)):
        targets = list(targets)

    t = Targeting(mode=mode, effective_targets=targets, modules_to_save=modules_to_save, no_default=no_default,
                  moe=moe)
    if targets is None or mode in ("parameters-only", "empty") or (moe is not None and moe.error):
        return t

    is_regex = isinstance(targets, str)
    target_set = set() if is_regex else set(targets)
    filter_on = (not is_regex) and layer_filter_active(view.layers_to_transform)
    unique = targets if is_regex else list(dict.fromkeys(targets))  # a repeated entry matches the same modules
    if not is_regex:
        t.entry_hits = {e: [] for e in unique}

    for m in inventory.modules:
        key = m.name
        if not is_regex:
            for e in unique:
                if entry_matches(e, key):
                    t.entry_hits[e].append(key)
        # PEFT checks exclusions first, but we want to know whether the module would have matched.
        found = _matches(key, unique, is_regex, target_set, view, filter_on, t)
        excluded_by_ = excluded_by(key, view, modules_to_save)
        if excluded_by_:
            if found:
                t.excluded[key] = excluded_by_
            continue
        if found:
            t.targeted.append(key)
    t.matched = t.targeted + list(t.excluded)
    return t


def _matches(key: str, targets: Any, is_regex: bool, target_set: set, view: PeftView, filter_on: bool,
             t: Targeting) -> bool:
    if is_regex:
        return safe_fullmatch(targets, key)
    if key in target_set:
        return True
    if not any(key.endswith("." + e) for e in targets):
        return False
    if filter_on:
        idx = layer_index(key, view.layers_pattern)
        if idx is None or not layer_selected(idx, view.layers_to_transform):
            t.layer_dropped.append(key)
            return False
    return True


def excluded_by(key: str, view: PeftView, modules_to_save: list[str]) -> str | None:
    ex = view.exclude_modules
    if ex:
        if isinstance(ex, str):
            if safe_fullmatch(ex, key):
                return "exclude_modules"
        elif any(entry_matches(e, key) for e in ex):
            return "exclude_modules"
    if modules_to_save and any(modules_to_save_excludes(m, key) for m in modules_to_save):
        return "modules_to_save"
    return None


# -- target_parameters and the transformers-5 MoE rewrite (docs/peft-behaviour.md#moe) ------------------------


@dataclass
class MoeRewrite:
    """What ``convert_peft_config_for_transformers`` does to a LoRA config on this model (docs/peft-behaviour.md#moe)."""

    moved: dict[str, str]  # target_modules entry -> the target_parameters entry it became
    remaining: list[str]  # target_modules after the rewrite
    parameters: list[str]  # target_parameters after the rewrite
    pattern_keys: dict[str, int] = field(default_factory=dict)  # rank/alpha_pattern key added -> multiplier
    error: str | None = None  # PEFT's ValueError when only one half of a fused pair is named
    from_string: bool = False  # a regex / "all-linear" was first resolved to leaf names


def moe_rewrite(view: PeftView, inventory: Inventory, modules_to_save: list[str] | None = None) -> MoeRewrite | None:
    """The MoE rewrite of ``view``'s targets, or None when PEFT leaves the config as it is.

    Driven by ``inventory.moe``, which ``record.py`` reads from peft's own conversion tables and
    probes (no hard-coded model list here).
    """
    info = inventory.moe
    targets = view.target_modules
    if view.method != "LORA" or not info.applies or targets is None:
        return None
    if view.unsloth and (view.target_parameters or (isinstance(targets, str) and "." in targets)):
        return None  # unsloth/import_fixes.py: _patch_peft_moe_target_conversion
    target_map = info.target_map
    fused = info.fused
    from_string = isinstance(targets, str)
    if from_string:
        targets = _resolve_string_targets(targets, view, inventory, target_map, modules_to_save or [])
        if not targets:
            return None
    if not isinstance(targets, (list, tuple, set)):
        return None
    moved: dict[str, str] = {}
    remaining: list[str] = []
    parameters = list(view.target_parameters or [])
    present: dict[str, set[str]] = {}
    for entry in targets:
        hit = next(((old, new) for old, new in target_map.items() if entry == old or entry.endswith("." + old)), None)
        if view.unsloth and not from_string and "." in entry:
            hit = None  # unsloth rewrites the bare names only
        if hit is None:
            remaining.append(entry)
            continue
        moved[entry] = hit[1]
        if hit[1] not in parameters:
            parameters.append(hit[1])
        if hit[1] in fused:
            present.setdefault(hit[1], set()).add(hit[0])
    if not moved and not from_string:
        return None
    rw = MoeRewrite(moved=moved, remaining=remaining, parameters=parameters, from_string=from_string)
    for new, required in fused.items():
        got = present.get(new, set())
        if 0 < len(got) < len(required):
            missing = ", ".join(sorted(set(required) - got))
            rw.error = (f"Cannot convert PEFT target(s) {', '.join(sorted(got))} without also targeting {missing} "
                        f"because they are fused into {new}.")
            break
        if len(got) == len(required) and len(required) > 1:
            key = info.pattern_keys.get(new) or rf".*\.{re.escape(new)}"
            rw.pattern_keys[key] = len(required)
    return rw


def _resolve_string_targets(pattern: str, view: PeftView, inventory: Inventory, target_map: dict[str, str],
                            modules_to_save: list[str]) -> list[str]:
    """PEFT's ``_resolve_string_target_modules``: a regex or "all-linear" becomes leaf names."""
    if pattern.lower() == ALL_LINEAR:
        leaves = {n.rsplit(".", 1)[-1] for n in all_linear_names(inventory, view.task_type)}
        return sorted(leaves | set(target_map))

    def exists(key: str) -> bool:
        return excluded_by(key, view, modules_to_save) is None and safe_fullmatch(pattern, key)

    param_keys = [f"{m.name}.{p}" for m in inventory.modules for p in m.params]
    matched = {k.rsplit(".", 1)[-1] for k in [*inventory.names(), *param_keys] if exists(k)}
    containers: dict[str, list[str]] = {}
    for k in param_keys:
        container, _, leaf = k.rpartition(".")
        containers.setdefault(leaf, []).append(container)
    for old, new in target_map.items():
        if old not in matched and any(exists(f"{c}.{old}") for c in containers.get(new, [])):
            matched.add(old)
    return sorted(matched)


def parameter_matches(entry: str, key: str) -> bool:
    """``target_parameters`` use the module rule on ``<module>.<param>`` keys (no regex)."""
    return entry_matches(entry, key)


def _match_parameters(t: Targeting, view: PeftView, inventory: Inventory) -> None:
    params = list(t.moe.parameters) if t.moe is not None else list(view.target_parameters or [])
    if t.moe is not None and t.moe.error:
        params = list(view.target_parameters or [])
    t.effective_parameters = params
    if not params:
        return
    t.parameter_hits = {p: [] for p in params}
    for pname in inventory.root_params:  # PEFT's key for them is ".<name>"
        for p in params:
            if parameter_matches(p, f".{pname}"):
                t.root_parameter_hits.setdefault(p, pname)
    for m in inventory.modules:
        for pname in m.params:
            key = f"{m.name}.{pname}"
            hit = False
            for p in params:
                if parameter_matches(p, key):
                    t.parameter_hits[p].append(key)
                    hit = True
            if hit:
                t.parameters_targeted.append(key)

    def owners(parameter: str) -> list[str]:
        """The modules that hold what the target_parameters entry ``parameter`` reaches, in order."""
        return list(dict.fromkeys(param_owner(k) for k in t.parameter_hits.get(parameter, [])))

    if t.moe is not None and not t.moe.error:
        for entry, new in t.moe.moved.items():
            t.entry_hits[entry] = owners(new)
    for new, entries in view.parameter_sources.items():
        for entry in entries:
            if entry in t.entry_hits and not t.entry_hits[entry]:
                t.entry_hits[entry] = owners(new)


def param_owner(key: str) -> str:
    """The module that owns a ``<module>.<parameter>`` key."""
    return key.rpartition(".")[0]


# -- other matchers PEFT uses --------------------------------------------------------------------------


def pattern_key(keys: list[str], module_name: str) -> str | None:
    """PEFT's ``get_pattern_key``: the first rank/alpha pattern key (dict order) matching the name."""
    for k in keys:
        try:
            if budgeted.match(pattern_key_regex(k), module_name):
                return k
        except re.error:
            continue
    return None


def pattern_key_regex(k: str) -> str:
    """The regex ``get_pattern_key`` builds from one rank/alpha_pattern key."""
    return rf"(.*\.)?({k})$"


def wrapper_matches(entry: str, key: str) -> bool:
    """``modules_to_save`` wrapping (``_set_trainable``): a plain ``endswith``, no dot boundary."""
    return key.endswith(entry)


def ia3_is_feedforward(feedforward: Any, key: str) -> bool:
    """IA3's feedforward test: ``re.fullmatch`` for a str, plain ``endswith`` for a list."""
    if isinstance(feedforward, str):
        return safe_fullmatch(feedforward, key)
    return any(key.endswith(f) for f in feedforward or ())


def layer_position(key: str, inventory: Inventory) -> tuple[str, int] | None:
    """(numbered ModuleList, index) of the outermost repeated block ``key`` lies in, or None."""
    best: tuple[str, int] | None = None
    for lst in inventory.layer_lists:
        prefix = lst + "."
        if key.startswith(prefix):
            idx = key[len(prefix):].split(".", 1)[0]
            if idx.isdigit() and (best is None or len(lst) < len(best[0])):
                best = (lst, int(idx))
    return best
