"""A static ``print_trainable_parameters()``: what a config trains on a model, counted from the
shapes of the modules it adapts (docs/peft-behaviour.md#parameter-counts).

Pure Python on an Inventory: no torch, no peft. Each method's formula restates the parameters
peft's layer creates in its ``update_layer``; ``tests/semantics/test_params_differential.py`` builds
the same models with ``get_peft_model`` and compares ``get_nb_trainable_parameters()`` and the
number of wrapped layers with these answers. A method, layer kind or option whose count is not
reproduced there gives no number and says why.
"""

from __future__ import annotations

from typing import Any

from peftlint.model.inventory import Inventory, ModuleInfo
from peftlint.semantics.matching import Targeting, safe_fullmatch, wrapper_matches
from peftlint.semantics.param_count import SAVE_BYTES, ParameterCount, not_counted
from peftlint.semantics.param_layers import BIAS_METHODS, COUNTERS, NotCounted, numel, shared_saved
from peftlint.spec import AdapterSpec, Value

# task types whose PeftModel class wraps further heads after injection (not reproduced)
_UNCOUNTED_TASKS = ("TOKEN_CLS", "QUESTION_ANS")
# peft's EMBEDDING_LAYER_NAMES: naming one in target_modules makes save_pretrained store whole embeddings
_EMBEDDING_LAYER_NAMES = ("embed_tokens", "lm_head")




def count_parameters(inventory: Inventory, method: str, values: dict[str, Any], targeting: Targeting | None,
                     task_type: str | None = None) -> ParameterCount:
    """The count for a config with these field values (peft's defaults filled in) on ``inventory``."""
    try:
        return _count(inventory, method, values, targeting, task_type)
    except NotCounted as exc:
        return not_counted(str(exc))
    except (TypeError, ValueError, ArithmeticError, OverflowError):
        return not_counted("a value has a type or size peft does not accept")


def _count(inventory: Inventory, method: str, values: dict[str, Any], targeting: Targeting | None,
           task_type: str | None) -> ParameterCount:
    total = inventory.total_parameters
    if total is None:
        raise NotCounted("the model's parameter shapes are not all known")
    counter = COUNTERS.get(method)
    if counter is None:
        raise NotCounted(f"the parameter count of {method} is not reproduced")
    if targeting is None:
        raise NotCounted("the targeted modules are computed at runtime")
    if targeting.no_default or targeting.mode in ("empty", "moe-error") or not targeting.targeted:
        raise NotCounted("peft raises: no module is targeted")
    if targeting.moe is not None or targeting.effective_parameters:
        raise NotCounted("target_parameters are not counted")
    if task_type in _UNCOUNTED_TASKS:
        raise NotCounted(f"task_type {task_type} wraps further heads; not reproduced")
    modules = []
    for name in targeting.targeted:
        m = inventory.module(name)
        if m is None:
            raise NotCounted(f"`{name}` is not in the model")
        if any(d < 0 for d in (m.in_features or 0, m.out_features or 0)):
            raise NotCounted(f"the shape of `{name}` is not known")
        modules.append(m)
    layers, extra_adapted = counter(inventory, modules, values)
    added = sum(x.trainable for x in layers)
    saved = sum(x.saved for x in layers) + shared_saved(method, modules, values)

    copies = _modules_to_save(inventory, targeting, method)
    copy_params = sum(_subtree_params(inventory, c) for c in copies)  # whole copies, all trainable
    bias = values.get("bias", "none") if method in BIAS_METHODS else "none"
    if bias == "none":
        biases = 0
    elif bias == "all":  # every parameter named bias, but those of the modules_to_save originals
        biases = _all_biases(inventory) - sum(_all_biases(inventory, c) for c in copies)
    elif isinstance(bias, str) and bias.endswith("_only"):  # the adapted layers' own biases
        biases = sum(numel(m.params.get("bias")) for m in modules)
    else:
        raise NotCounted(f"peft raises: bias={bias!r} is not implemented")
    saved_biases = biases
    if bias == "all":  # the file holds every key with "bias" in it: originals' and copies' biases too
        saved_biases = _all_biases(inventory) + sum(_all_biases(inventory, c) for c in copies)
    adapter_bytes: int | None = (saved + copy_params + saved_biases) * SAVE_BYTES
    reason = ""
    if _saves_embeddings(method, values, inventory):
        adapter_bytes = None
        reason = "save_pretrained also stores the whole embedding layers (a target is named embed_tokens or lm_head)"
    # inference_mode=True (get_peft_model with it, or a saved adapter loaded without is_trainable)
    # freezes the adapter and the copies; the biases bias= names stay trainable
    trainable = (0 if values.get("inference_mode") else added + copy_params) + biases
    return ParameterCount(trainable=trainable, adapted_modules=len(modules) + extra_adapted,
                          all_parameters=total + added + copy_params, adapter_bytes=adapter_bytes, reason=reason)


def _saves_embeddings(method: str, values: dict[str, Any], inventory: Inventory) -> bool:
    """save_pretrained's ``save_embedding_layers="auto"``: a target list naming embed_tokens or lm_head,
    or a target regex matching a module so named, stores the whole embedding layers too."""
    targets = values.get("target_modules")
    if method == "TRAINABLE_TOKENS" or values.get("trainable_token_indices") is not None or not targets:
        return False
    if isinstance(targets, str):
        if targets == "all-linear":
            return False
        return any(safe_fullmatch(targets, m.name) for m in inventory.modules
                   if any(m.name == e or m.name.endswith("." + e) for e in _EMBEDDING_LAYER_NAMES))
    return isinstance(targets, (list, tuple, set)) and any(t in targets for t in _EMBEDDING_LAYER_NAMES)


# -- modules_to_save copies and biases -------------------------------------------------------------------


def _modules_to_save(inventory: Inventory, targeting: Targeting, method: str) -> list[str]:
    """The modules peft copies (``ModulesToSaveWrapper``): every name, aliases included, ending with an entry."""
    entries = [e for e in targeting.modules_to_save if isinstance(e, str)]
    if not entries:
        return []
    if method == "TRAINABLE_TOKENS":
        return []
    names = [m.name for m in inventory.modules] + list(inventory.module_aliases)
    hits = [n for n in names if any(wrapper_matches(e, n) for e in entries)]
    canonical = [inventory.module_aliases.get(n, n) for n in hits]
    for a in canonical:
        if any(b != a and a.startswith(b + ".") for b in canonical):
            raise NotCounted(f"modules_to_save wraps `{a}` inside another wrapped module; not counted")
    if set(canonical) & set(targeting.targeted):
        raise NotCounted("a module is both adapted and in modules_to_save; not counted")
    return canonical


def _secondary_tied(inventory: Inventory) -> set[str]:
    """Parameter names that share storage with an earlier one (named_parameters() skips them)."""
    out: set[str] = set()
    for group in inventory.tied_weights:
        out.update(group[1:])
    return out


def _subtree(inventory: Inventory, root: str) -> list[ModuleInfo]:
    return [m for m in inventory.modules if m.name == root or m.name.startswith(root + ".")]


def _subtree_params(inventory: Inventory, root: str) -> int:
    """Parameters of a deep copy of ``root``: storage shared inside the subtree counts once."""
    seen: dict[str, str] = {}
    for group in inventory.tied_weights:
        inside = [p for p in group if p.startswith(root + ".")]
        for p in inside[1:]:
            seen[p] = inside[0]
    total = 0
    for m in _subtree(inventory, root):
        for pname, shape in m.params.items():
            if f"{m.name}.{pname}" not in seen:
                total += numel(shape)
    return total


def _all_biases(inventory: Inventory, root: str | None = None) -> int:
    skip = _secondary_tied(inventory)
    mods = inventory.modules if root is None else _subtree(inventory, root)
    return sum(numel(m.params["bias"]) for m in mods if "bias" in m.params and f"{m.name}.bias" not in skip)


# -- a checked config -------------------------------------------------------------------------------------


def config_values(defaults: dict[str, Any], fields: dict[str, Value]) -> dict[str, Any]:
    """peft's defaults with the config's own values over them; NotCounted when one is computed at runtime."""
    from peftlint.semantics.peft_check import NotLiteral, literal

    values = dict(defaults)
    for name, v in fields.items():
        try:
            values[name] = literal(v)
        except (NotLiteral, TypeError, RecursionError):
            raise NotCounted(f"`{name}` is computed at runtime") from None
    return values


def count_for_config(inventory: Inventory | None, spec: AdapterSpec, defaults: dict[str, Any] | None,
                     targeting: Targeting | None, task_type: str | None, complete: bool) -> ParameterCount | None:
    """The count of a checked config (None without a model)."""
    if inventory is None:
        return None
    if spec.source == "diffusers_lora":
        return not_counted("the config is read from a diffusers LoRA weights file")
    if spec.facts.tool:
        return not_counted(f"the config is built by {spec.facts.tool}, whose defaults are not counted")
    if spec.opaque:
        return not_counted("some arguments are passed as **kwargs or positionally")
    if defaults is None:
        return not_counted(f"peft has no config class {spec.config_class}")
    if not complete:
        return not_counted("the targets or the model tree are not all known statically")
    try:
        values = config_values(defaults, spec.fields)
    except NotCounted as exc:
        return not_counted(str(exc))
    if spec.source == "adapter_config":
        values["inference_mode"] = False  # counted as loaded for training (is_trainable=True)
    return count_parameters(inventory, spec.method, values, targeting, task_type)
