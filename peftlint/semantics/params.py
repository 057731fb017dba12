"""A static ``print_trainable_parameters()``: what a config trains on a model, counted from the
shapes of the modules it adapts (docs/peft-behaviour.md#parameter-counts).

Pure Python on an Inventory: no torch, no peft. Each method's formula restates the parameters
peft's layer creates in its ``update_layer``; ``tests/semantics/test_params_differential.py`` builds
the same models with ``get_peft_model`` and compares ``get_nb_trainable_parameters()`` and the
number of wrapped layers with these answers. A method, layer kind or option whose count is not
reproduced there gives no number and says why.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

from peftlint.model import inventory as inv
from peftlint.model.inventory import Inventory, ModuleInfo
from peftlint.semantics.matching import Targeting, pattern_key, wrapper_matches
from peftlint.spec import AdapterSpec, Value

# peft's get_peft_model casts float16/bfloat16 adapter weights to float32 (autocast_adapter_dtype=True)
SAVE_DTYPE = "float32"
SAVE_BYTES = 4

# LoRA options whose layers (or ranks) differ from the plain formula and are not reproduced: a config
# that sets one of them gets no number
_LORA_UNCOUNTED = ("megatron_config", "trainable_token_indices", "eva_config", "corda_config", "lora_ga_config",
                   "velora_config", "alora_invocation_tokens", "use_qalora", "monteclora_config",
                   "layer_replication", "target_parameters", "use_bdlora", "arrow_config", "kasa_config",
                   "ensure_weight_tying", "loftq_config")
_LORA_INITS = (True, False, "gaussian")
# task types whose PeftModel class wraps further heads after injection (not reproduced)
_UNCOUNTED_TASKS = ("TOKEN_CLS", "QUESTION_ANS")
# peft's EMBEDDING_LAYER_NAMES: naming one in target_modules makes save_pretrained store whole embeddings
_EMBEDDING_LAYER_NAMES = ("embed_tokens", "lm_head")


class NotCounted(Exception):
    """The count is not reproduced for this config; the message says why."""


@dataclass
class ParameterCount:
    trainable: int | None  # PeftModel.get_nb_trainable_parameters()[0]
    adapted_modules: int | None  # layers peft wraps in a tuner layer
    all_parameters: int | None  # get_nb_trainable_parameters()[1]: the base model plus what peft adds
    adapter_bytes: int | None  # tensor bytes of the saved adapter in SAVE_DTYPE (the file header aside)
    reason: str = ""  # why a number is None

    @property
    def percent(self) -> float | None:
        if self.trainable is None or not self.all_parameters:
            return None
        return 100 * self.trainable / self.all_parameters

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    def report_fields(self) -> dict[str, Any]:
        """The fields the JSON reports carry (docs/output.md)."""
        return {"trainable_parameters": self.trainable, "adapted_modules": self.adapted_modules,
                "all_parameters": self.all_parameters,
                "trainable_percent": round(self.percent, 4) if self.percent is not None else None,
                "adapter_bytes": self.adapter_bytes, "parameters_note": self.reason or None}

    def line(self) -> str:
        """peft's print_trainable_parameters() line, plus the wrapped layers and the file size."""
        if self.trainable is None or self.all_parameters is None:
            return f"trainable params: not computed ({self.reason})"
        size = f", adapter file ~{human_bytes(self.adapter_bytes)} ({SAVE_DTYPE})" if self.adapter_bytes is not None \
            else ""
        return (f"trainable params: {self.trainable:,d} || all params: {self.all_parameters:,d} || "
                f"trainable%: {self.percent:.4f} ({self.adapted_modules} modules adapted{size})")


def human_bytes(n: int | None) -> str:
    if n is None:
        return "?"
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024  # type: ignore[assignment]
    return f"{n} B"


def not_counted(reason: str) -> ParameterCount:
    return ParameterCount(None, None, None, None, reason)


@dataclass
class _Layer:
    trainable: int = 0
    saved: int = 0


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
    counter = _COUNTERS.get(method)
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
    trainable = sum(x.trainable for x in layers)
    saved = sum(x.saved for x in layers) + _shared_saved(method, modules, values)

    copies = _modules_to_save(inventory, targeting, method)
    copy_params = sum(_subtree_params(inventory, c) for c in copies)  # whole copies, all trainable
    bias = values.get("bias", "none") if method in _BIAS_METHODS else "none"
    if bias == "none":
        biases = 0
    elif bias == "all":  # every parameter named bias, but those of the modules_to_save originals
        biases = _all_biases(inventory) - sum(_all_biases(inventory, c) for c in copies)
    elif isinstance(bias, str) and bias.endswith("_only"):  # the adapted layers' own biases
        biases = sum(_numel(m.params.get("bias")) for m in modules)
    else:
        raise NotCounted(f"peft raises: bias={bias!r} is not implemented")
    saved_biases = biases
    if bias == "all":  # the file holds every key with "bias" in it: originals' and copies' biases too
        saved_biases = _all_biases(inventory) + sum(_all_biases(inventory, c) for c in copies)
    adapter_bytes: int | None = (saved + copy_params + saved_biases) * SAVE_BYTES
    reason = ""
    if _saves_embeddings(method, values):
        adapter_bytes = None
        reason = "save_pretrained also stores the whole embedding layers (a target is named embed_tokens or lm_head)"
    return ParameterCount(trainable=trainable + copy_params + biases, adapted_modules=len(modules) + extra_adapted,
                          all_parameters=total + trainable + copy_params, adapter_bytes=adapter_bytes,
                          reason=reason)


# -- what each method adds per layer -------------------------------------------------------------------


def _numel(shape: list[int] | None) -> int:
    return math.prod(shape) if shape else 0


def _kernel(m: ModuleInfo) -> int:
    return math.prod(m.kernel_size or [1])


def _rank(values: dict[str, Any], name: str, key: str = "r") -> int:
    pattern = values.get("rank_pattern") or {}
    hit = pattern_key(list(pattern), name) if isinstance(pattern, dict) else None
    r = pattern[hit] if hit is not None else values.get(key)
    if not isinstance(r, int) or isinstance(r, bool) or r <= 0:
        raise NotCounted(f"peft raises: the rank of `{name}` is {r!r}")
    return r


def _dims(m: ModuleInfo) -> tuple[int, int]:
    return int(m.in_features or 0), int(m.out_features or 0)


def _lora(inventory: Inventory, modules: list[ModuleInfo], values: dict[str, Any]) -> tuple[list[_Layer], int]:
    for name in _LORA_UNCOUNTED:
        if values.get(name) not in (None, False, {}, []):
            raise NotCounted(f"LoRA with {name} is not counted")
    if values.get("init_lora_weights", True) not in _LORA_INITS:
        raise NotCounted(f"init_lora_weights={values.get('init_lora_weights')!r} is not counted")
    dora, lora_bias = bool(values.get("use_dora")), bool(values.get("lora_bias"))
    out = []
    for m in modules:
        r = _rank(values, m.name)
        fan_in, fan_out = _dims(m)
        if m.kind in (inv.LINEAR, inv.CONV1D_GPT2):
            n = r * (fan_in + fan_out) + (fan_out if lora_bias else 0)
        elif m.kind == inv.EMBEDDING:
            if lora_bias:
                raise NotCounted("peft raises: lora_bias is not supported for Embedding layers")
            n = r * (fan_in + fan_out)
        elif m.kind in (inv.CONV1D, inv.CONV2D, inv.CONV3D):
            groups = m.groups or 1
            if r % groups:
                raise NotCounted(f"peft raises: r={r} is not divisible by the groups of `{m.name}`")
            n = r * fan_in * _kernel(m) + fan_out * (r // groups) + (fan_out if lora_bias else 0)
        else:
            raise NotCounted(f"LoRA on {m.cls} (`{m.name}`) is not counted")
        if dora:
            n += fan_out  # the magnitude vector: one value per output feature
        out.append(_Layer(n, n))
    return out, 0


def _ia3(inventory: Inventory, modules: list[ModuleInfo], values: dict[str, Any]) -> tuple[list[_Layer], int]:
    from peftlint.semantics.matching import ia3_is_feedforward

    feedforward = values.get("feedforward_modules")
    if feedforward is None:  # peft takes its table's entry for the model type, targets given or not
        feedforward = inventory.ia3_default_feedforward
        if feedforward is None:
            raise NotCounted("peft raises: no default feedforward_modules for this model type")
    out = []
    for m in modules:
        if m.kind not in (inv.LINEAR, inv.CONV1D_GPT2, inv.CONV2D, inv.CONV3D):
            raise NotCounted(f"IA3 on {m.cls} (`{m.name}`) is not counted")
        fan_in, fan_out = _dims(m)
        n = fan_in if ia3_is_feedforward(feedforward, m.name) else fan_out
        out.append(_Layer(n, n))
    return out, 0


def _conv_shape(m: ModuleInfo, effective: bool) -> tuple[int, int, list[int] | None]:
    """(out, in, kernel) of a LyCORIS layer: a kernel only when the effective (Tucker) form is used."""
    fan_in, fan_out = _dims(m)
    per_group = fan_in // (m.groups or 1)
    kernel = list(m.kernel_size or [1])
    if m.kind in (inv.CONV1D, inv.CONV2D) and effective and any(k != 1 for k in kernel):
        return fan_out, per_group, kernel
    return fan_out, per_group * _kernel(m), None


def _loha(inventory: Inventory, modules: list[ModuleInfo], values: dict[str, Any]) -> tuple[list[_Layer], int]:
    out = []
    for m in modules:
        r = _rank(values, m.name)
        if m.kind == inv.LINEAR:
            fan_in, fan_out = _dims(m)
            n = 2 * r * (fan_in + fan_out)
        elif m.kind in (inv.CONV1D, inv.CONV2D):
            o, i, kernel = _conv_shape(m, bool(values.get("use_effective_conv2d")))
            n = 2 * (r * o + r * i + (r * r * math.prod(kernel) if kernel else 0))
        else:
            raise NotCounted(f"LoHa on {m.cls} (`{m.name}`) is not counted")
        out.append(_Layer(n, n))
    return out, 0


def factorization(dimension: int, factor: int = -1) -> tuple[int, int]:
    """LoKr's split of a dimension into two factors (smaller first): ``factor`` itself when it
    divides the dimension, else the divisor pair reached by walking divisors upward from 1 while
    the sum of the pair does not grow and the smaller one stays within ``factor``."""
    if factor > 0 and dimension % factor == 0:
        return factor, dimension // factor
    limit = dimension if factor == -1 else factor
    small, large = 1, dimension
    while small < large:
        cand = next(d for d in range(small + 1, dimension + 1) if dimension % d == 0)
        if cand + dimension // cand > small + large or cand > limit:
            break
        small, large = cand, dimension // cand
    return (small, large) if small <= large else (large, small)


def _lokr(inventory: Inventory, modules: list[ModuleInfo], values: dict[str, Any]) -> tuple[list[_Layer], int]:
    factor = values.get("decompose_factor", -1)
    both = bool(values.get("decompose_both"))
    out = []
    for m in modules:
        r = _rank(values, m.name)
        if m.kind not in (inv.LINEAR, inv.CONV1D, inv.CONV2D):
            raise NotCounted(f"LoKr on {m.cls} (`{m.name}`) is not counted")
        fan_in, fan_out = _dims(m)
        if m.kind != inv.LINEAR:
            fan_in //= (m.groups or 1)
        in_m, in_n = factorization(fan_in, factor)
        out_l, out_k = factorization(fan_out, factor)
        use_w1 = not (both and r < max(out_l, in_m) / 2)
        use_w2 = r >= max(out_k, in_n) / 2
        n = out_l * in_m if use_w1 else r * (out_l + in_m)
        kernel = m.kernel_size or [1]
        if m.kind == inv.LINEAR:
            n += out_k * in_n if use_w2 else r * (out_k + in_n)
        elif use_w2:
            n += out_k * in_n * math.prod(kernel)
        elif values.get("use_effective_conv2d") and any(k != 1 for k in kernel):
            n += r * r * math.prod(kernel) + r * (out_k + in_n)
        else:
            n += r * (out_k + in_n * math.prod(kernel))
        out.append(_Layer(n, n))
    return out, 0


def _adjust_block(features: int, wanted: int) -> int:
    """OFT's correction of an r or block size that does not divide the input size: the nearest
    divisor (the lower one on a tie), or the input size when it is not smaller."""
    if wanted >= features:
        return features
    higher = wanted
    while higher <= features and features % higher:
        higher += 1
    lower = wanted
    while lower > 1 and features % lower:
        lower -= 1
    return lower if wanted - lower <= higher - wanted else higher


def _oft(inventory: Inventory, modules: list[ModuleInfo], values: dict[str, Any]) -> tuple[list[_Layer], int]:
    r0, block0 = values.get("r", 0), values.get("oft_block_size", 32)
    share = bool(values.get("block_share"))
    out = []
    for m in modules:
        fan_in, _ = _dims(m)
        if m.kind == inv.LINEAR:
            dim = fan_in
        elif m.kind == inv.CONV2D:
            k = (m.kernel_size or [1])[0]
            dim = fan_in * k * k
        else:
            raise NotCounted(f"OFT on {m.cls} (`{m.name}`) is not counted")
        if r0 == 0 and block0 != 0:
            block = block0 if dim % block0 == 0 and block0 <= dim else _adjust_block(dim, block0)
            r = dim // block
        elif r0 != 0 and block0 == 0:
            r = r0 if dim % r0 == 0 and r0 <= dim else _adjust_block(dim, r0)
            block = dim // r
        else:
            raise NotCounted("peft raises: set exactly one of r and oft_block_size")
        n = (1 if share else r) * (block * (block - 1) // 2)
        out.append(_Layer(n, n))
    return out, 0


def _boft(inventory: Inventory, modules: list[ModuleInfo], values: dict[str, Any]) -> tuple[list[_Layer], int]:
    if values.get("boft_n_butterfly_factor", 1) != 1:
        raise NotCounted("boft_n_butterfly_factor > 1 depends on whether peft's CUDA extension loads")
    size0, num0 = values.get("boft_block_size", 4), values.get("boft_block_num", 0)
    out = []
    for m in modules:
        if m.kind != inv.LINEAR:
            raise NotCounted(f"BOFT on {m.cls} (`{m.name}`) is not counted")
        fan_in, fan_out = _dims(m)
        if size0 == 0 and num0 != 0 and fan_in % num0 == 0:
            size, num = fan_in // num0, num0
        elif size0 != 0 and num0 == 0 and fan_in % size0 == 0:
            size, num = size0, fan_in // size0
        else:
            raise NotCounted(f"peft raises: boft_block_size/boft_block_num do not fit `{m.name}`")
        n = num * size * size + fan_out
        out.append(_Layer(n, n))
    return out, 0


def _vera(inventory: Inventory, modules: list[ModuleInfo], values: dict[str, Any]) -> tuple[list[_Layer], int]:
    r = values.get("r", 256)
    out = []
    for m in modules:
        if m.kind not in (inv.LINEAR, inv.CONV1D_GPT2):
            raise NotCounted(f"VeRA on {m.cls} (`{m.name}`) is not counted")
        n = _dims(m)[1] + r  # lambda_b (one per output) and lambda_d (one per rank)
        out.append(_Layer(n, n))
    return out, 0


def _adalora(inventory: Inventory, modules: list[ModuleInfo], values: dict[str, Any]) -> tuple[list[_Layer], int]:
    if values.get("rank_pattern"):
        raise NotCounted("AdaLoRA with a rank_pattern (a trained adapter's ranks) is not counted")
    if values.get("use_dora") or values.get("lora_bias"):
        raise NotCounted("AdaLoRA with DoRA or lora_bias is not counted")
    r = values.get("init_r", 12)
    out = []
    for m in modules:
        fan_in, fan_out = _dims(m)
        if m.kind in (inv.LINEAR, inv.CONV1D_GPT2):
            n = r * (fan_in + 1 + fan_out)
        elif m.kind == inv.CONV2D:
            k = m.kernel_size or [1, 1]
            n = r * (fan_in * k[0] * k[1] + 1 + fan_out)
        else:
            raise NotCounted(f"AdaLoRA on {m.cls} (`{m.name}`) is not counted")
        out.append(_Layer(n + 1, n))  # ranknum: one value per layer, trainable after injection, not saved
    return out, 0


def _trainable_tokens(inventory: Inventory, modules: list[ModuleInfo],
                      values: dict[str, Any]) -> tuple[list[_Layer], int]:
    tokens = values.get("token_indices") or []
    if not isinstance(tokens, (list, tuple)) or not tokens:
        raise NotCounted("peft raises: token_indices is empty")
    out = []
    for m in modules:
        if m.kind != inv.EMBEDDING:
            raise NotCounted(f"TrainableTokens on {m.cls} (`{m.name}`) is not counted")
        n = len(tokens) * _dims(m)[1]
        out.append(_Layer(n, n))
    # every module (under any of its names) tied to the adapted input embedding gets a layer sharing
    # the embedding's delta; the saved file repeats the delta under each of them
    adapted = {m.name for m in modules}
    tied = 0
    if inventory.input_embedding in adapted:
        names = [m.name for m in inventory.modules] + list(inventory.module_aliases)
        tied = sum(1 for n in names if n not in adapted and any(n.endswith(t) for t in inventory.embedding_tied))
        delta = out[[m.name for m in modules].index(inventory.input_embedding)].trainable
        out += [_Layer(0, delta)] * tied
    return out, tied


_COUNTERS = {"LORA": _lora, "IA3": _ia3, "LOHA": _loha, "LOKR": _lokr, "OFT": _oft, "BOFT": _boft, "VERA": _vera,
             "ADALORA": _adalora, "TRAINABLE_TOKENS": _trainable_tokens}
_BIAS_METHODS = frozenset({"LORA", "ADALORA", "OFT", "BOFT", "VERA"})


def _shared_saved(method: str, modules: list[ModuleInfo], values: dict[str, Any]) -> int:
    """Model-level tensors the adapter file holds besides the layers' own (VeRA's projections)."""
    if method != "VERA" or not values.get("save_projection", True):
        return 0
    r = values.get("r", 256)
    return r * max(_dims(m)[0] for m in modules) + r * max(_dims(m)[1] for m in modules)


def _saves_embeddings(method: str, values: dict[str, Any]) -> bool:
    targets = values.get("target_modules")
    if method not in ("LORA", "ADALORA") or not isinstance(targets, (list, tuple, set)):
        return False
    return any(t in targets for t in _EMBEDDING_LAYER_NAMES)


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
                total += _numel(shape)
    return total


def _all_biases(inventory: Inventory, root: str | None = None) -> int:
    skip = _secondary_tied(inventory)
    mods = inventory.modules if root is None else _subtree(inventory, root)
    return sum(_numel(m.params["bias"]) for m in mods if "bias" in m.params and f"{m.name}.bias" not in skip)


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
    return count_parameters(inventory, spec.method, values, targeting, task_type)
