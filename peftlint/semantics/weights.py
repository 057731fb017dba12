"""Saved adapter weights compared with what PEFT expects (the file is read by
``sources/adapter_weights.py``, header only). Nothing here imports torch, transformers or peft.

Expected keys and shapes follow docs/peft-behaviour.md#saved-format. LoRA is fully supported (Linear, GPT-2 Conv1D,
Embedding, ConvNd, DoRA magnitudes, ``lora_bias``, ``modules_to_save`` copies, saved embedding
matrices, ``target_parameters`` ParamWrappers); other methods get readability, zero-size and key
presence checks only.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field
from typing import Any, TypedDict

from peftlint.model import inventory as inv
from peftlint.model.inventory import Inventory, ModuleInfo
from peftlint.semantics.matching import entry_matches, pattern_key
from peftlint.sources.adapter_weights import AdapterWeights, TensorInfo, WeightFile

PREFIX = "base_model.model."
FULL_SUPPORT = ("LORA",)

# The part a LoRA key ends with, after the module name and any ``.base_layer`` nesting. Matched by
# suffix, not by a regex: a crafted header can hold keys of megabytes that a backtracking pattern
# would take hours over.
_LORA_PARTS = ("lora_A.weight", "lora_B.weight", "lora_B.bias", "lora_embedding_A", "lora_embedding_B",
               "lora_magnitude_vector")
_INDEX = re.compile(r"\.\d+\.")
_LORA_PART = re.compile(r"\.(lora_A|lora_B|lora_embedding_A|lora_embedding_B|lora_magnitude_vector)(\.weight|\.bias)?$")


@dataclass(frozen=True)
class Expected:
    key: str
    shape: tuple[int, ...]
    module: str  # base module name (for ParamWrapper: "<module>.<parameter>")
    part: str  # "lora_A" | "lora_B" | "bias" | "magnitude" | "full" | "embedding"
    base: str  # e.g. "Linear(576 -> 192)"
    rank: int | None = None
    rank_axis: int | None = None  # the axis that holds the rank (times ``rank_scale``)
    rank_scale: int = 1
    rank_from: str = "r"  # "r" or the rank_pattern key that decided the rank
    required: bool = True  # optional keys (saved embedding matrices) are checked only when present


class _Common(TypedDict, total=False):
    """The keyword arguments every expected tensor of one module shares."""

    module: str
    base: str
    rank: int | None
    rank_from: str
    rank_scale: int


@dataclass
class Mismatch:
    key: str
    saved: tuple[int, ...]
    expected: Expected

    @property
    def is_rank(self) -> bool:
        """Only the rank axis differs: the config's r / rank_pattern disagrees with the file."""
        e = self.expected
        if e.rank_axis is None or len(self.saved) != len(e.shape):
            return False
        return all(s == x for i, (s, x) in enumerate(zip(self.saved, e.shape)) if i != e.rank_axis)

    @property
    def saved_rank(self) -> int | None:
        e = self.expected
        if e.rank_axis is None or len(self.saved) <= e.rank_axis:
            return None
        return self.saved[e.rank_axis] // max(e.rank_scale, 1)


@dataclass
class WeightReport:
    """Everything the PFT40x rules and the verdict need for one adapter folder."""

    adapter_dir: str
    weights_path: str | None = None  # the safetensors file, if present
    pickle_path: str | None = None  # a pickle that PEFT would load instead (never opened)
    file: WeightFile | None = None
    method: str = ""
    full_support: bool = False
    checked_model: bool = False  # compared with a base model inventory
    expected: dict[str, Expected] = field(default_factory=dict)
    shape: list[Mismatch] = field(default_factory=list)  # feature dims differ (another base)
    rank: list[Mismatch] = field(default_factory=list)  # only the rank differs
    missing: list[Expected] = field(default_factory=list)  # required by the config, absent in the file
    missing_modules: list[str] = field(default_factory=list)  # non-LoRA: targeted modules without keys
    untargeted: list[str] = field(default_factory=list)  # keys for base modules the config does not target
    absent: list[str] = field(default_factory=list)  # keys for modules the base model does not have
    zero: list[str] = field(default_factory=list)  # zero-sized tensors
    targets_nothing: bool = False  # the config adapts no module or parameter of the base model

    @property
    def readable(self) -> bool:
        return self.file is not None and self.file.error is None


# -- expected keys ---------------------------------------------------------------------------------

def _base_desc(m: ModuleInfo) -> str:
    if m.kind == inv.EMBEDDING:
        return f"Embedding({m.in_features}, {m.out_features})"
    if m.kind in (inv.LINEAR, inv.CONV1D_GPT2):
        return f"{m.cls}({m.in_features} -> {m.out_features})"
    if m.kind in (inv.CONV1D, inv.CONV2D, inv.CONV3D):
        return f"{m.cls}({m.in_features} -> {m.out_features}, kernel {m.kernel_size})"
    return m.cls


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _rank(name: str, r: int, rank_pattern: dict) -> tuple[int, str]:
    """(rank, where it came from); rank -1 (any) when the config's value is not an int (PFT401)."""
    k = pattern_key(list(rank_pattern), name)
    if k is None:
        return r, "r"
    v = rank_pattern[k]
    return (v if _is_int(v) else -1), k


def shape_fits(saved: tuple[int, ...], expected: tuple[int, ...]) -> bool:
    """Equal shapes; -1 in ``expected`` matches any size (a rank peftlint cannot know)."""
    return len(saved) == len(expected) and all(e < 0 or s == e for s, e in zip(saved, expected))


def _lora_module(m: ModuleInfo, r: int, rank_from: str, dora: bool, lora_bias: bool,
                 base: str = PREFIX) -> list[Expected]:
    p = base + m.name
    desc = _base_desc(m)
    common = _Common(module=m.name, base=desc, rank=r, rank_from=rank_from)
    i, o = m.in_features, m.out_features
    if i is None or o is None:
        return []
    out: list[Expected] = []
    if m.kind in (inv.LINEAR, inv.CONV1D_GPT2):
        out += [Expected(p + ".lora_A.weight", (r, i), part="lora_A", rank_axis=0, **common),
                Expected(p + ".lora_B.weight", (o, r), part="lora_B", rank_axis=1, **common)]
        if dora:
            out.append(Expected(p + ".lora_magnitude_vector", (o,), part="magnitude", **common))
    elif m.kind == inv.EMBEDDING:
        out += [Expected(p + ".lora_embedding_A", (r, i), part="lora_A", rank_axis=0, **common),
                Expected(p + ".lora_embedding_B", (o, r), part="lora_B", rank_axis=1, **common)]
        if dora:
            out.append(Expected(p + ".lora_magnitude_vector", (o,), part="magnitude", **common))
        out.append(Expected(p + ".base_layer.weight", (i, o), part="embedding", required=False, **common))
    elif m.kind in (inv.CONV1D, inv.CONV2D, inv.CONV3D) and m.kernel_size:
        g = m.groups or 1
        ones = (1,) * len(m.kernel_size)
        out += [Expected(p + ".lora_A.weight", (r, i, *m.kernel_size), part="lora_A", rank_axis=0, **common),
                Expected(p + ".lora_B.weight", (o, r // g if r > 0 else -1, *ones), part="lora_B", rank_axis=None,
                         **common)]
        if dora:
            out.append(Expected(p + ".lora_magnitude_vector", (1, o, *ones), part="magnitude", **common))
    else:
        return []  # MHA and custom layers: keys are accepted unchecked
    if lora_bias and m.kind != inv.EMBEDDING:
        out.append(Expected(p + ".lora_B.bias", (o,), part="bias", **common))
    return out


def _param_targets(inventory: Inventory, target_parameters: list[str]) -> dict[str, list[str]]:
    """module -> its targeted own parameters, in registration order (docs/peft-behaviour.md#target-parameters)."""
    found: dict[str, list[str]] = {}
    for m in inventory.modules:
        for pname in m.params:
            key = f"{m.name}.{pname}"
            if any(entry_matches(t, key) for t in target_parameters):
                found.setdefault(m.name, []).append(pname)
    return found


def _wrapper_keys(m: ModuleInfo, order: list[str], r: int, rank_pattern: dict, base: str = PREFIX) -> list[Expected]:
    """Expected keys for nested ParamWrappers on ``m``; ``order`` is innermost first."""
    out: list[Expected] = []
    # the wrapper of the parameter wrapped last is outermost: no ".base_layer" in its key
    for depth, pname in enumerate(reversed(order)):
        shape = m.params[pname]
        name = f"{m.name}.{pname}"
        rank, rank_from = _rank(name, r, rank_pattern)
        p = base + m.name + ".base_layer" * depth
        if len(shape) == 2:
            o, i = shape
            scale = 1
        elif len(shape) == 3:
            e, d1, d2 = shape
            i, o = (d1, d2) if m.is_transposed else (d2, d1)
            scale = e
        else:
            continue
        desc = f"{m.cls}.{pname} {list(shape)}"
        common = _Common(module=name, base=desc, rank=rank, rank_from=rank_from, rank_scale=scale)
        rs = rank * scale if rank > 0 else -1
        out += [Expected(p + ".lora_A.weight", (rs, i), part="lora_A", rank_axis=0, **common),
                Expected(p + ".lora_B.weight", (o, rs), part="lora_B", rank_axis=1, **common)]
    return out


def _param_wrappers(inventory: Inventory, target_parameters: list[str], r: int, rank_pattern: dict,
                    saved: dict[str, TensorInfo] | None, base: str = PREFIX) -> list[Expected]:
    """PEFT nests one ParamWrapper per targeted parameter in registration order. The cached
    inventory does not keep that order, so with several parameters on one module the nesting that
    best explains the saved file is used (any order gives the same keys; only shapes can differ)."""
    out: list[Expected] = []
    for mod, pnames in _param_targets(inventory, target_parameters).items():
        m = inventory.module(mod)
        assert m is not None
        best = _wrapper_keys(m, pnames, r, rank_pattern, base)
        if saved and 1 < len(pnames) <= 4:
            def score(exp: list[Expected]) -> int:
                return sum(1 for e in exp if e.key in saved and shape_fits(saved[e.key].shape, e.shape))

            for order in itertools.permutations(pnames):
                cand = _wrapper_keys(m, list(order), r, rank_pattern, base)
                if score(cand) > score(best):
                    best = cand
        out += best
    return out


def wrapped_modules_to_save(inventory: Inventory, modules_to_save: list[str]) -> list[str]:
    """Modules PEFT wraps in ModulesToSaveWrapper: ``name.endswith(entry)``, outermost only (docs/peft-behaviour.md#modules-to-save)."""
    entries = [e for e in modules_to_save if isinstance(e, str) and e]
    out: list[str] = []
    for m in inventory.modules:
        if any(m.name.endswith(e) for e in entries):
            if not any(m.name.startswith(w + ".") for w in out):
                out.append(m.name)
    return out


def _full_copy(inventory: Inventory, mod: str, part: str = "full", required: bool = True,
               base: str = PREFIX) -> list[Expected]:
    out = []
    for m in inventory.modules:
        if m.name == mod or m.name.startswith(mod + "."):
            for pname, shape in m.params.items():
                out.append(Expected(f"{base}{m.name}.{pname}", tuple(shape), module=mod, part=part,
                                    base=f"{m.cls} {pname} {list(shape)}", required=required))
    return out


def expected_lora(spec_fields: dict[str, Any], targeting: Any, inventory: Inventory,
                  saved: dict[str, TensorInfo] | None = None, base: str = PREFIX) -> dict[str, Expected]:
    """key -> Expected for a LoRA config (plain field values) on ``inventory``; ``base`` is what the
    saved keys start with (``base_model.model.`` for PEFT, ``unet.`` in a diffusers LoRA file)."""
    r = spec_fields.get("r", 8)
    r = r if _is_int(r) else -1
    rank_pattern = spec_fields.get("rank_pattern") or {}
    rank_pattern = rank_pattern if isinstance(rank_pattern, dict) else {}
    dora = spec_fields.get("use_dora") is True
    lora_bias = spec_fields.get("lora_bias") is True
    exp: dict[str, Expected] = {}
    for name in targeting.targeted if targeting is not None else []:
        m = inventory.module(name)
        if m is None:
            continue
        rank, rank_from = _rank(name, r, rank_pattern)
        for e in _lora_module(m, rank, rank_from, dora, lora_bias, base):
            exp[e.key] = e
    tp = spec_fields.get("target_parameters")
    if isinstance(tp, list) and all(isinstance(t, str) for t in tp):
        for e in _param_wrappers(inventory, tp, r, rank_pattern, saved, base):
            exp[e.key] = e
    mts = list(targeting.modules_to_save) if targeting is not None else []
    for mod in wrapped_modules_to_save(inventory, mts):
        for e in _full_copy(inventory, mod, base=base):
            exp[e.key] = e
    # resized or targeted embeddings may be saved whole (save_embedding_layers); optional
    for emb in (inventory.input_embedding, inventory.output_embedding):
        if emb:
            for e in _full_copy(inventory, emb, "embedding", required=False, base=base):
                exp.setdefault(e.key, e)
    return exp


# -- comparison ---------------------------------------------------------------------------------

def saved_module(key: str, base: str = PREFIX) -> str | None:
    """The base module a saved key belongs to ("base_model.model.x.q_proj.lora_A.weight" -> "x.q_proj")."""
    if not key.startswith(base):
        return None
    rest = key[len(base):]
    part = next((p for p in _LORA_PARTS if rest.endswith("." + p) and len(rest) > len(p) + 1), None)
    mod = rest[: -len(part) - 1] if part else rest.rsplit(".", 1)[0]
    return mod.replace(".base_layer", "")


def _in_base(inventory: Inventory, key: str, base: str = PREFIX) -> bool:
    mod = saved_module(key, base)
    if mod is None:
        return False
    if inventory.module(mod) is not None:
        return True
    # a parameter key of a full copy: "<module>.<param>"
    parent, _, pname = mod.rpartition(".")
    owner = inventory.module(parent) if parent else None
    return owner is not None and pname in owner.params


def _inside_unchecked(inventory: Inventory, key: str, base: str = PREFIX) -> bool:
    """Keys whose saved layout peftlint does not model (MultiheadAttention, trainable tokens)."""
    if ".token_adapter." in key or "trainable_tokens_" in key:
        return True
    mod = saved_module(key, base) or ""
    parts = mod.split(".")
    for i in range(len(parts), 0, -1):
        m = inventory.module(".".join(parts[:i]))
        if m is not None and m.kind == inv.MHA:
            return True
    return False


def compare(report: WeightReport, spec_fields: dict[str, Any], targeting: Any, inventory: Inventory,
            prefix: str, base: str = PREFIX) -> None:
    """Fill the key and shape findings of ``report`` (the file must be readable)."""
    assert report.file is not None
    saved = report.file.tensors
    report.checked_model = True
    if report.full_support:
        report.expected = expected_lora(spec_fields, targeting, inventory, saved, base)
        for key, t in saved.items():
            e = report.expected.get(key)
            if e is None:
                if _inside_unchecked(inventory, key, base):
                    continue
                (report.untargeted if _in_base(inventory, key, base) else report.absent).append(key)
            elif not shape_fits(t.shape, e.shape) and t.size:
                mm = Mismatch(key, t.shape, e)
                (report.rank if mm.is_rank else report.shape).append(mm)
        report.missing = [e for k, e in report.expected.items() if e.required and k not in saved]
        report.targets_nothing = not any(e.part == "lora_A" for e in report.expected.values())
        return
    # other methods: key presence only
    targeted = list(targeting.targeted) if targeting is not None else []
    report.targets_nothing = not targeted and not spec_fields.get("target_parameters")
    for mod in targeted:
        head = f"{base}{mod}."
        if not any(k.startswith(head) and prefix in k[len(head):] for k in saved):
            report.missing_modules.append(mod)
    for key in saved:
        if key.startswith(base) and not _in_base(inventory, key, base) and not _inside_unchecked(inventory, key, base):
            report.absent.append(key)


def analyze(found: AdapterWeights, method: str, spec_fields: dict[str, Any], targeting: Any,
            inventory: Inventory | None, prefix: str) -> WeightReport:
    """Compare an adapter folder's weights with the config and the base model."""
    report = WeightReport(found.adapter_dir, found.weights_path, found.pickle_path, method=method,
                          full_support=method in FULL_SUPPORT)
    report.file = found.file
    if report.file is None or not report.readable:
        return report
    report.zero = [k for k, t in report.file.tensors.items() if t.size == 0]
    if inventory is not None:
        compare(report, spec_fields, targeting, inventory, prefix, found.base)
    return report


def group_keys(keys: list[str]) -> dict[str, list[str]]:
    """Keys grouped by module with layer indices replaced by N (one finding per group)."""
    groups: dict[str, list[str]] = {}
    for k in keys:
        form = saved_module(k) or _LORA_PART.sub("", k)
        groups.setdefault(_INDEX.sub(".N.", _INDEX.sub(".N.", form + ".")), []).append(k)
    return groups


def fmt_shape(shape: tuple[int, ...]) -> str:
    return "[" + ", ".join(str(d) for d in shape) + "]"


def first_problem(report: WeightReport) -> str | None:
    """Why the adapter does not load as trained onto the base model, naming the first tensor; None if it fits."""
    if report.file is not None and report.file.error:
        return f"unreadable weights: {report.file.error}"
    if report.zero:
        return f"zero-sized tensor {report.zero[0]}"
    if report.targets_nothing:
        return "the config adapts no module of the base model, so PEFT raises when it loads the adapter"
    for mm in report.shape + report.rank:
        return (f"first mismatching tensor {mm.key}: saved {fmt_shape(mm.saved)}, "
                f"base expects {fmt_shape(mm.expected.shape)}")
    if report.missing:
        return f"{len(report.missing)} tensor(s) the config needs are not saved, first {report.missing[0].key}"
    if report.missing_modules:
        return f"no weights for targeted module {report.missing_modules[0]}"
    if report.absent:
        return f"{len(report.absent)} tensor(s) for modules the base model lacks, first {report.absent[0]}"
    return None


# -- the verdict -----------------------------------------------------------------------------------

def verdict(rep: WeightReport | None, model_label: str | None, adapter_label: str, skipped: str | None) -> str | None:
    """One line for the text report: whether the adapter loads onto its base model as trained."""
    if rep is None or (rep.weights_path is None and rep.pickle_path is None):
        return None
    model = model_label or "its base model"
    head = f"adapter {adapter_label}: fits {model}:"
    if rep.file is None:
        return f"{head} unknown (weights are a pickle, never loaded)"
    problem = first_problem(rep)
    if problem is not None and (rep.file.error or rep.zero or rep.checked_model):
        return f"{head} no ({problem})"
    if not rep.checked_model:
        return f"{head} unknown (base model not resolved: {skipped or 'no model'})"
    n = len(rep.file.tensors)
    scope = "" if rep.full_support else f"; {rep.method}: key names only, shapes not checked"
    notes = f"; {len(rep.untargeted)} saved tensor(s) not used by the config" if rep.untargeted else ""
    return f"{head} yes ({n} tensors{scope}{notes})"
