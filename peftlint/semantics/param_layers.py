"""What each PEFT method adds to one adapted layer: the parameters its ``update_layer`` creates,
restated from the layer's shapes (docs/peft-behaviour.md#parameter-counts). Used by
``semantics.params``; checked against peft in tests/semantics/test_params_differential.py.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable

from peftlint.model import inventory as inv
from peftlint.model.inventory import Inventory, ModuleInfo
from peftlint.semantics.matching import ia3_is_feedforward, pattern_key

# LoRA options whose layers (or ranks) differ from the plain formula and are not reproduced: a config
# that sets one of them gets no number
_LORA_UNCOUNTED = ("megatron_config", "eva_config", "corda_config", "lora_ga_config",
                   "velora_config", "alora_invocation_tokens", "use_qalora", "monteclora_config",
                   "layer_replication", "target_parameters", "use_bdlora", "arrow_config", "kasa_config",
                   "ensure_weight_tying", "loftq_config")
_LORA_INITS = (True, False, "gaussian")


class NotCounted(Exception):
    """The count is not reproduced for this config; the message says why."""


@dataclass
class Layer:
    trainable: int = 0
    saved: int = 0


def numel(shape: list[int] | None) -> int:
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


def dims(m: ModuleInfo) -> tuple[int, int]:
    return int(m.in_features or 0), int(m.out_features or 0)


def _lora(inventory: Inventory, modules: list[ModuleInfo], values: dict[str, Any]) -> tuple[list[Layer], int]:
    for name in _LORA_UNCOUNTED:
        if values.get(name) not in (None, False, {}, []):
            raise NotCounted(f"LoRA with {name} is not counted")
    if values.get("init_lora_weights", True) not in _LORA_INITS:
        raise NotCounted(f"init_lora_weights={values.get('init_lora_weights')!r} is not counted")
    dora, lora_bias = bool(values.get("use_dora")), bool(values.get("lora_bias"))
    out = []
    for m in modules:
        r = _rank(values, m.name)
        fan_in, fan_out = dims(m)
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
        out.append(Layer(n, n))
    tokens = _token_layers(inventory, modules, values.get("trainable_token_indices"))
    return out + tokens, len(tokens)


def _token_layers(inventory: Inventory, modules: list[ModuleInfo], indices: Any) -> list[Layer]:
    """LoRA's ``trainable_token_indices`` as a list: a TrainableTokens layer on the input embedding
    (inside its wrapper), training those rows. The dict form and tied embeddings are not counted."""
    if indices is None:
        return []
    if not isinstance(indices, (list, tuple)) or not indices:
        raise NotCounted("LoRA with trainable_token_indices other than a list of indices is not counted")
    embedding = inventory.module(inventory.input_embedding or "")
    if embedding is None or inventory.embedding_tied:
        raise NotCounted("LoRA with trainable_token_indices on a model with tied or no input embeddings "
                         "is not counted")
    if embedding in modules or embedding.kind != inv.EMBEDDING:
        raise NotCounted("LoRA with trainable_token_indices on an adapted embedding is not counted")
    n = len(indices) * int(embedding.out_features or 0)
    return [Layer(n, n)]


def _ia3(inventory: Inventory, modules: list[ModuleInfo], values: dict[str, Any]) -> tuple[list[Layer], int]:
    feedforward = values.get("feedforward_modules")
    if feedforward is None:  # peft takes its table's entry for the model type, targets given or not
        feedforward = inventory.ia3_default_feedforward
        if feedforward is None:
            raise NotCounted("peft raises: no default feedforward_modules for this model type")
    out = []
    for m in modules:
        if m.kind not in (inv.LINEAR, inv.CONV1D_GPT2, inv.CONV2D, inv.CONV3D):
            raise NotCounted(f"IA3 on {m.cls} (`{m.name}`) is not counted")
        fan_in, fan_out = dims(m)
        n = fan_in if ia3_is_feedforward(feedforward, m.name) else fan_out
        out.append(Layer(n, n))
    return out, 0


def _conv_shape(m: ModuleInfo, effective: bool) -> tuple[int, int, list[int] | None]:
    """(out, in, kernel) of a LyCORIS layer: a kernel only when the effective (Tucker) form is used."""
    fan_in, fan_out = dims(m)
    per_group = fan_in // (m.groups or 1)
    kernel = list(m.kernel_size or [1])
    if m.kind in (inv.CONV1D, inv.CONV2D) and effective and any(k != 1 for k in kernel):
        return fan_out, per_group, kernel
    return fan_out, per_group * _kernel(m), None


def _loha(inventory: Inventory, modules: list[ModuleInfo], values: dict[str, Any]) -> tuple[list[Layer], int]:
    out = []
    for m in modules:
        r = _rank(values, m.name)
        if m.kind == inv.LINEAR:
            fan_in, fan_out = dims(m)
            n = 2 * r * (fan_in + fan_out)
        elif m.kind in (inv.CONV1D, inv.CONV2D):
            o, i, kernel = _conv_shape(m, bool(values.get("use_effective_conv2d")))
            n = 2 * (r * o + r * i + (r * r * math.prod(kernel) if kernel else 0))
        else:
            raise NotCounted(f"LoHa on {m.cls} (`{m.name}`) is not counted")
        out.append(Layer(n, n))
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


def _lokr(inventory: Inventory, modules: list[ModuleInfo], values: dict[str, Any]) -> tuple[list[Layer], int]:
    factor = values.get("decompose_factor", -1)
    both = bool(values.get("decompose_both"))
    out = []
    for m in modules:
        r = _rank(values, m.name)
        if m.kind not in (inv.LINEAR, inv.CONV1D, inv.CONV2D):
            raise NotCounted(f"LoKr on {m.cls} (`{m.name}`) is not counted")
        fan_in, fan_out = dims(m)
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
        out.append(Layer(n, n))
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


def _oft(inventory: Inventory, modules: list[ModuleInfo], values: dict[str, Any]) -> tuple[list[Layer], int]:
    r0, block0 = values.get("r", 0), values.get("oft_block_size", 32)
    share = bool(values.get("block_share"))
    out = []
    for m in modules:
        fan_in, _ = dims(m)
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
        out.append(Layer(n, n))
    return out, 0


def _boft(inventory: Inventory, modules: list[ModuleInfo], values: dict[str, Any]) -> tuple[list[Layer], int]:
    if values.get("boft_n_butterfly_factor", 1) != 1:
        raise NotCounted("boft_n_butterfly_factor > 1 depends on whether peft's CUDA extension loads")
    size0, num0 = values.get("boft_block_size", 4), values.get("boft_block_num", 0)
    out = []
    for m in modules:
        if m.kind != inv.LINEAR:
            raise NotCounted(f"BOFT on {m.cls} (`{m.name}`) is not counted")
        fan_in, fan_out = dims(m)
        if size0 == 0 and num0 != 0 and fan_in % num0 == 0:
            size, num = fan_in // num0, num0
        elif size0 != 0 and num0 == 0 and fan_in % size0 == 0:
            size, num = size0, fan_in // size0
        else:
            raise NotCounted(f"peft raises: boft_block_size/boft_block_num do not fit `{m.name}`")
        n = num * size * size + fan_out
        out.append(Layer(n, n))
    return out, 0


def _vera(inventory: Inventory, modules: list[ModuleInfo], values: dict[str, Any]) -> tuple[list[Layer], int]:
    r = values.get("r", 256)
    out = []
    for m in modules:
        if m.kind not in (inv.LINEAR, inv.CONV1D_GPT2):
            raise NotCounted(f"VeRA on {m.cls} (`{m.name}`) is not counted")
        n = dims(m)[1] + r  # lambda_b (one per output) and lambda_d (one per rank)
        out.append(Layer(n, n))
    return out, 0


def _adalora(inventory: Inventory, modules: list[ModuleInfo], values: dict[str, Any]) -> tuple[list[Layer], int]:
    if values.get("rank_pattern"):
        raise NotCounted("AdaLoRA with a rank_pattern (a trained adapter's ranks) is not counted")
    if values.get("use_dora") or values.get("lora_bias"):
        raise NotCounted("AdaLoRA with DoRA or lora_bias is not counted")
    r = values.get("init_r", 12)
    out = []
    for m in modules:
        fan_in, fan_out = dims(m)
        if m.kind in (inv.LINEAR, inv.CONV1D_GPT2):
            n = r * (fan_in + 1 + fan_out)
        elif m.kind == inv.CONV2D:
            k = m.kernel_size or [1, 1]
            n = r * (fan_in * k[0] * k[1] + 1 + fan_out)
        else:
            raise NotCounted(f"AdaLoRA on {m.cls} (`{m.name}`) is not counted")
        out.append(Layer(n + 1, n))  # ranknum: one value per layer, trainable after injection, not saved
    return out, 0


def _trainable_tokens(inventory: Inventory, modules: list[ModuleInfo],
                      values: dict[str, Any]) -> tuple[list[Layer], int]:
    tokens = values.get("token_indices") or []
    if not isinstance(tokens, (list, tuple)) or not tokens:
        raise NotCounted("peft raises: token_indices is empty")
    out = []
    for m in modules:
        if m.kind != inv.EMBEDDING:
            raise NotCounted(f"TrainableTokens on {m.cls} (`{m.name}`) is not counted")
        n = len(tokens) * dims(m)[1]
        out.append(Layer(n, n))
    # every module (under any of its names) tied to the adapted input embedding gets a layer sharing
    # the embedding's delta; the saved file repeats the delta under each of them
    adapted = {m.name for m in modules}
    tied = 0
    if inventory.input_embedding in adapted:
        names = [m.name for m in inventory.modules] + list(inventory.module_aliases)
        tied = sum(1 for n in names if n not in adapted and any(n.endswith(t) for t in inventory.embedding_tied))
        delta = out[[m.name for m in modules].index(inventory.input_embedding)].trainable
        out += [Layer(0, delta)] * tied
    return out, tied


def _hra(inventory: Inventory, modules: list[ModuleInfo], values: dict[str, Any]) -> tuple[list[Layer], int]:
    out = []
    for m in modules:
        r = _rank(values, m.name)
        fan_in, _ = dims(m)
        if m.kind == inv.LINEAR:
            n = fan_in * r
        elif m.kind == inv.CONV2D and (m.groups or 1) == 1:
            k = (m.kernel_size or [1])[0]
            n = fan_in * k * k * r
        else:
            raise NotCounted(f"HRA on {m.cls} (`{m.name}`) is not counted")
        out.append(Layer(n, n))
    return out, 0


def _fourierft(inventory: Inventory, modules: list[ModuleInfo], values: dict[str, Any]) -> tuple[list[Layer], int]:
    if values.get("n_frequency_pattern"):
        raise NotCounted("FourierFT with n_frequency_pattern is not counted")
    n = values.get("n_frequency")
    if not isinstance(n, int) or isinstance(n, bool) or n <= 0:
        raise NotCounted(f"peft raises: n_frequency={n!r}")
    out = []
    for m in modules:
        fan_in, fan_out = dims(m)
        if m.kind not in (inv.LINEAR, inv.CONV1D_GPT2):
            raise NotCounted(f"FourierFT on {m.cls} (`{m.name}`) is not counted")
        if n > fan_in * fan_out:
            raise NotCounted(f"peft raises: n_frequency={n} is larger than `{m.name}`'s weight")
        out.append(Layer(n, n))  # the spectrum; the sampled indices are buffers
    return out, 0


Counter = Callable[[Inventory, list[ModuleInfo], dict[str, Any]], tuple[list[Layer], int]]
COUNTERS: dict[str, Counter] = {
    "LORA": _lora, "IA3": _ia3, "LOHA": _loha, "LOKR": _lokr, "OFT": _oft, "BOFT": _boft, "VERA": _vera,
    "ADALORA": _adalora, "TRAINABLE_TOKENS": _trainable_tokens, "HRA": _hra, "FOURIERFT": _fourierft,
}
BIAS_METHODS = frozenset({"LORA", "ADALORA", "OFT", "BOFT", "VERA", "HRA", "FOURIERFT"})


def shared_saved(method: str, modules: list[ModuleInfo], values: dict[str, Any]) -> int:
    """Model-level tensors the adapter file holds besides the layers' own (VeRA's projections)."""
    if method != "VERA" or not values.get("save_projection", True):
        return 0
    r = values.get("r", 256)
    return r * max(dims(m)[0] for m in modules) + r * max(dims(m)[1] for m in modules)
