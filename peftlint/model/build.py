"""Build a base model on the torch ``meta`` device and record its module tree as an :class:`Inventory`.

torch, transformers and peft are imported inside the functions that need them, so importing this
module (for instance for :class:`BuildError` or :func:`pick_model_class`) stays cheap.

Besides the fields documented on :class:`~peftlint.model.inventory.Inventory`, ``Inventory.extra``
holds:

``requested_class`` / ``class_note``
    the class that was asked for, and why another one was built when the request could not build
    this config (e.g. ``AutoModelForCausalLM`` on t5 builds ``T5ForConditionalGeneration``).
``module_aliases``
    ``{name: canonical name}`` for modules reachable under a second name (T5's
    ``encoder.embed_tokens`` is ``shared``); PEFT, like ``named_modules()``, only sees the first.
``layer_lists``
    ``{name: length}`` of every ModuleList whose children are numbered (``model.layers``: 32).
``moe_conversion``
    what PEFT's transformers-v5 MoE rewrite (``peft/utils/transformers_weight_conversion.py``)
    does to a LoRA config for this ``model_type``; read from peft's tables and checked by running
    ``convert_peft_config_for_transformers`` on probe configs against the built model::

        {
          "available": bool,            # the conversion module could be imported (transformers >= 5)
          "methods": ["LORA"],          # the rewrite only runs for these peft types
          "has_checkpoint_conversion": bool,  # transformers.conversion_mapping knows the model_type
          "base_model_type": str | None,      # peft's _MODEL_TO_CONVERSION_PATTERN[model_type]
          "applies": bool,              # the rewrite changes configs for this model_type
          "target_map": {old: new},     # target_modules entry (exact or ".old" suffix) -> target_parameters entry
                                        #   e.g. {"w1": "gate_up_proj", "w3": "gate_up_proj",
                                        #         "w2": "down_proj", "gate": "gate.weight"}
          "fused": {new: [old, ...]},   # halves fused into one parameter; naming only some raises ValueError
          "rank_multiplier": {new: n},  # rank_pattern/alpha_pattern[".*\\.new"] = n * r / n * lora_alpha
          "pattern_keys": {new: key},   # the rank_pattern/alpha_pattern key PEFT adds
          "none_targets_become_empty": bool,  # target_modules=None turns into set() (default targets lost)
          "all_linear": {"target_modules": [...], "target_parameters": [...]} | None,
                                        # what "all-linear" becomes (leaf names), when the rewrite applies
        }
"""

from __future__ import annotations

import contextlib
import hashlib
import warnings
from typing import TYPE_CHECKING, Any, Iterator

from peftlint.model import inventory as inv
from peftlint.model.cache import package_versions
from peftlint.model.inventory import Inventory, ModuleInfo

from peftlint.spec import TASK_TYPE_TO_AUTO_CLASS

if TYPE_CHECKING:
    from peftlint.model.resolve import Resolved


# Loader classes from other libraries that build a transformers auto class.
_FOREIGN_LOADERS = {
    "FastLanguageModel": "AutoModelForCausalLM",  # unsloth
    "FastVisionModel": "AutoModelForImageTextToText",  # unsloth
    "AutoPeftModel": "AutoModel",
    "AutoPeftModelForCausalLM": "AutoModelForCausalLM",
    "AutoPeftModelForSeq2SeqLM": "AutoModelForSeq2SeqLM",
    "AutoPeftModelForSequenceClassification": "AutoModelForSequenceClassification",
    "AutoPeftModelForTokenClassification": "AutoModelForTokenClassification",
    "AutoPeftModelForQuestionAnswering": "AutoModelForQuestionAnswering",
    "AutoPeftModelForFeatureExtraction": "AutoModel",
}

# Tried in order when the requested auto class has no mapping for the config's type.
_FALLBACK_AUTO_CLASSES = (
    "AutoModelForSeq2SeqLM",
    "AutoModelForSpeechSeq2Seq",
    "AutoModelForImageTextToText",
    "AutoModelForCausalLM",
    "AutoModelForMaskedLM",
    "AutoModelForImageClassification",
    "AutoModel",
)

# config.json keys that would make a meta build fail or do something other than build the tree.
_STRIP_KEYS = (
    "_source",
    "auto_map",
    "quantization_config",
    "attn_implementation",
    "_attn_implementation",
    "_attn_implementation_autoset",
)


class BuildError(Exception):
    """The model could not be built; the message is meant for users."""


def pick_model_class(config: dict[str, Any], code_class: str | None, task_type: str | None) -> str:
    """The transformers class to build: the class named in the code, else the task type's auto
    class, else ``config["architectures"][0]``, else ``AutoModelForCausalLM``.

    This is a pure function of its arguments (no transformers import: its result is part of the
    cache key of warm runs). Whether transformers has the class, and whether an auto class supports
    the config's type, is decided by :func:`build_inventory`, which falls back to a class that can
    build the config and records the substitution in ``Inventory.extra["class_note"]``.
    """
    if code_class:
        name = code_class.rsplit(".", 1)[-1].strip()
        if name:
            return _FOREIGN_LOADERS.get(name, name)
    if task_type:
        key = str(task_type).rsplit(".", 1)[-1].strip().upper()
        if key in TASK_TYPE_TO_AUTO_CLASS:
            return TASK_TYPE_TO_AUTO_CLASS[key]
    archs = config.get("architectures")
    if isinstance(archs, list) and archs and isinstance(archs[0], str) and archs[0].isidentifier():
        return archs[0]
    return "AutoModelForCausalLM"


def build_inventory(resolved: "Resolved", model_class: str, *, trust_remote_code: bool = False) -> Inventory:
    """Build ``resolved``'s model as ``model_class`` on the meta device and record its inventory."""
    with _quiet():
        model, class_note = _build_model(resolved, model_class, trust_remote_code)
        return _record(model, resolved, model_class, class_note)


# -- building -------------------------------------------------------------------------------------


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    from transformers.utils import logging as tlogging

    previous = tlogging.get_verbosity()
    tlogging.set_verbosity_error()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        tlogging.set_verbosity(previous)


def _make_config(resolved: "Resolved", trust_remote_code: bool) -> tuple[Any, bool, str]:
    """(transformers config, whether it came from remote code, a note when remote code was skipped)."""
    from transformers import AutoConfig

    note = ""
    if resolved.runs_remote_code(trust_remote_code):
        try:
            return _make_remote_config(resolved), True, ""
        except BuildError as exc:
            if resolved.needs_remote_code:
                raise
            note = f"{exc}; built transformers' own class instead"
    config = {k: v for k, v in resolved.config.items() if k not in _STRIP_KEYS}
    model_type = config.pop("model_type", None)
    if resolved.needs_remote_code:
        what = f"model_type {model_type!r}" if model_type else "a config without model_type"
        hint = (
            "its code is not available here"
            if trust_remote_code
            else "pass --trust-remote-code to allow running the model's own code"
        )
        raise BuildError(
            f"{resolved.label} has {what}, which the installed transformers does not know; it needs "
            f"trust_remote_code ({hint})"
        )
    if not model_type:
        model_type = _guess_model_type(resolved.label)
        if model_type is None:
            raise BuildError(f"the config.json of {resolved.label} has no model_type; add one or pass --model")
    try:
        return AutoConfig.for_model(model_type, **config), False, note
    except Exception as exc:
        raise BuildError(f"transformers cannot read the config of {resolved.label}: {_one_line(exc)}") from None


def _guess_model_type(label: str) -> str | None:
    """The model type named in ``label``, as ``AutoConfig.from_pretrained`` guesses it for old
    config.json files without ``model_type`` (longest known type contained in the name)."""
    from transformers.models.auto.configuration_auto import CONFIG_MAPPING_NAMES

    return next((t for t in sorted(CONFIG_MAPPING_NAMES, key=len, reverse=True) if t in label), None)


def _make_remote_config(resolved: "Resolved") -> Any:
    import os

    from transformers import AutoConfig

    where = os.path.dirname(resolved.location) if resolved.source == "local" else resolved.label
    try:
        return AutoConfig.from_pretrained(
            where,
            trust_remote_code=True,
            revision=resolved.revision,
            local_files_only=resolved.source != "online",
        )
    except Exception as exc:
        raise BuildError(
            f"cannot load the remote-code config of {resolved.label} from {where}: {_one_line(exc)}"
        ) from None


def _candidate_classes(model_class: str, config: dict[str, Any]) -> list[str]:
    archs = config.get("architectures")
    arch = archs[0] if isinstance(archs, list) and archs and isinstance(archs[0], str) else None
    names = [model_class]
    if arch and arch not in names:
        names.append(arch)
    names += [n for n in _FALLBACK_AUTO_CLASSES if n not in names]
    return names


def _build_model(resolved: "Resolved", model_class: str, trust_remote_code: bool) -> tuple[Any, str]:
    import torch
    import transformers

    cfg, remote, config_note = _make_config(resolved, trust_remote_code)
    auto_map = resolved.config.get("auto_map") if isinstance(resolved.config.get("auto_map"), dict) else {}
    tried: list[str] = []
    for name in _candidate_classes(model_class, resolved.config):
        cls = getattr(transformers, name, None) if name.isidentifier() else None
        if cls is None and remote:
            # a remote class named in the code: build it through the auto class that maps to it
            auto_name = next((k for k, v in auto_map.items() if str(v).rsplit(".", 1)[-1] == name), None)
            cls = getattr(transformers, auto_name, None) if auto_name else None
        if cls is None:
            tried.append(f"{name} (not a transformers class)")
            continue
        is_auto = hasattr(cls, "_model_mapping")
        if is_auto and not remote and type(cfg) not in cls._model_mapping:
            tried.append(f"{name} (no {type(cfg).__name__} model)")
            continue
        try:
            with torch.device("meta"):
                if is_auto:
                    model = cls.from_config(cfg, trust_remote_code=True) if remote else cls.from_config(cfg)
                else:
                    own_cfg = cfg if isinstance(cfg, cls.config_class) else cls.config_class(**cfg.to_dict())
                    model = cls._from_config(own_cfg)
        except Exception as exc:
            if name == model_class:
                raise BuildError(f"building {resolved.label} as {name} failed: {_one_line(exc)}") from None
            tried.append(f"{name} ({_one_line(exc)})")
            continue
        note = "" if name == model_class else f"{model_class} cannot build this config: " + "; ".join(tried)
        return model, "; ".join(n for n in (config_note, note) if n)
    raise BuildError(f"no transformers class can build {resolved.label}: " + "; ".join(tried))


# -- recording ------------------------------------------------------------------------------------


def _record(model: Any, resolved: "Resolved", requested: str, class_note: str) -> Inventory:
    from transformers import PreTrainedModel

    named = list(model.named_modules())
    modules = [_module_info(name, module) for name, module in named if name]
    config = model.config
    text_config = config.get_text_config() if hasattr(config, "get_text_config") else config
    model_type = getattr(config, "model_type", None) or str(resolved.config.get("model_type") or "")

    tie = getattr(text_config, "tie_word_embeddings", None)
    if tie is None:
        tie = getattr(config, "tie_word_embeddings", False)
    layers = getattr(text_config, "num_hidden_layers", None)

    extra: dict[str, Any] = {
        "requested_class": requested,
        "module_aliases": _module_aliases(model, named),
        "layer_lists": _layer_lists(named),
        "moe_conversion": _safe_moe_conversion(model, model_type),
    }
    if class_note:
        extra["class_note"] = class_note
    default_targets, ia3_feedforward = _default_targets(model, model_type)

    return Inventory(
        model_id=resolved.label,
        model_type=model_type,
        model_class=type(model).__name__,
        config_hash=hashlib.sha256(resolved.config_text.encode("utf-8")).hexdigest(),
        modules=modules,
        output_embedding=_name_of(named, _call(model, "get_output_embeddings")),
        input_embedding=_name_of(named, _call(model, "get_input_embeddings")),
        tie_word_embeddings=bool(tie),
        tied_weights=_tied_groups(model),
        seq_cls_head=_seq_cls_head(model, named),
        num_hidden_layers=layers if isinstance(layers, int) else None,
        is_pretrained_model=isinstance(model, PreTrainedModel),
        default_targets=default_targets,
        ia3_default_feedforward=ia3_feedforward,
        towers=_towers(model, named),
        versions=package_versions("torch", "transformers", "peft"),
        extra=extra,
    )


def _kind(module: Any) -> str:
    import torch.nn as nn
    from transformers.pytorch_utils import Conv1D

    if isinstance(module, Conv1D):
        return inv.CONV1D_GPT2
    if isinstance(module, nn.Linear):
        return inv.LINEAR
    if isinstance(module, nn.Conv1d):
        return inv.CONV1D
    if isinstance(module, nn.Conv2d):
        return inv.CONV2D
    if isinstance(module, nn.Conv3d):
        return inv.CONV3D
    if isinstance(module, nn.Embedding):
        return inv.EMBEDDING
    if isinstance(module, nn.MultiheadAttention):
        return inv.MHA
    if isinstance(module, (nn.ModuleList, nn.ModuleDict, nn.ParameterList, nn.ParameterDict)):
        return inv.MODULE_LIST
    norm_types = (nn.LayerNorm, nn.GroupNorm, nn.modules.batchnorm._NormBase, nn.LocalResponseNorm)
    if hasattr(nn, "RMSNorm"):
        norm_types += (nn.RMSNorm,)
    cls_name = type(module).__name__
    if isinstance(module, norm_types) or cls_name.endswith(("Norm", "RMSNorm")):
        return inv.NORM
    if isinstance(module, nn.modules.dropout._DropoutNd):
        return inv.DROPOUT
    if next(module.children(), None) is not None:
        return inv.CONTAINER
    return inv.OTHER


def _module_info(name: str, module: Any) -> ModuleInfo:
    import torch

    kind = _kind(module)
    info = ModuleInfo(name=name, cls=type(module).__name__, kind=kind)
    if kind == inv.LINEAR:
        info.in_features, info.out_features = module.in_features, module.out_features
    elif kind == inv.CONV1D_GPT2:
        info.in_features, info.out_features = module.nx, module.nf
    elif kind == inv.EMBEDDING:
        info.in_features, info.out_features = module.num_embeddings, module.embedding_dim
    elif kind in (inv.CONV1D, inv.CONV2D, inv.CONV3D):
        info.in_features, info.out_features = module.in_channels, module.out_channels
        info.kernel_size = list(module.kernel_size)
        info.groups = module.groups
    elif kind == inv.MHA:
        info.in_features = info.out_features = module.embed_dim
    bias = getattr(module, "bias", None)
    info.bias = isinstance(bias, torch.Tensor)
    info.params = {n: list(p.shape) for n, p in module.named_parameters(recurse=False)}
    transposed = getattr(module, "is_transposed", None)
    info.is_transposed = transposed if isinstance(transposed, bool) else None
    info.children = [n for n, _ in module.named_children()]
    return info


def _call(model: Any, method: str) -> Any:
    try:
        return getattr(model, method)()
    except Exception:  # some models raise NotImplementedError instead of returning None
        return None


def _name_of(named: list[tuple[str, Any]], target: Any) -> str | None:
    if target is None:
        return None
    return next((name for name, module in named if module is target and name), None)


def _seq_cls_head(model: Any, named: list[tuple[str, Any]]) -> str | None:
    import torch.nn as nn
    from peft.utils.constants import SEQ_CLS_HEAD_NAMES

    for attr in SEQ_CLS_HEAD_NAMES:
        head = getattr(model, attr, None)
        if isinstance(head, nn.Module):
            return _name_of(named, head) or attr
    return None


def _tied_groups(model: Any) -> list[list[str]]:
    groups: dict[int, list[str]] = {}
    for name, param in model.named_parameters(remove_duplicate=False):
        groups.setdefault(id(param), []).append(name)
    return [names for names in groups.values() if len(names) > 1]


def _module_aliases(model: Any, named: list[tuple[str, Any]]) -> dict[str, str]:
    first = {id(module): name for name, module in named}
    return {
        name: first[id(module)]
        for name, module in model.named_modules(remove_duplicate=False)
        if name and first.get(id(module)) != name and id(module) in first
    }


def _layer_lists(named: list[tuple[str, Any]]) -> dict[str, int]:
    import torch.nn as nn

    out = {}
    for name, module in named:
        if name and isinstance(module, nn.ModuleList):
            keys = [k for k, _ in module.named_children()]
            if keys and all(k.isdigit() for k in keys):
                out[name] = len(keys)
    return out


def _towers(model: Any, named: list[tuple[str, Any]]) -> dict[str, str]:
    """Sub-models of a composite model: modules built from one of the root config's sub-configs,
    plus the modules beside them that hold parameters (projectors). Encoder/decoder stacks share the
    root config, so seq2seq and decoder-only models have no towers."""
    from transformers import PreTrainedModel

    config = model.config
    sub_ids = {id(getattr(config, key, None)) for key in (getattr(config, "sub_configs", None) or {})}
    sub_ids.discard(id(None))
    towers: dict[str, str] = {}
    for name, module in named:
        if not name or any(name.startswith(p + ".") for p in towers):
            continue
        if isinstance(module, PreTrainedModel) and id(getattr(module, "config", None)) in sub_ids:
            towers[name] = name.rsplit(".", 1)[-1]
    if not towers:
        return {}
    by_name = dict(named)
    for parent in sorted({t.rpartition(".")[0] for t in towers}):
        for child, sub in by_name[parent].named_children():
            full = f"{parent}.{child}" if parent else child
            if full not in towers and any(True for _ in sub.parameters()):
                towers[full] = child
    order = {name: i for i, (name, _) in enumerate(named)}
    return dict(sorted(towers.items(), key=lambda kv: order.get(kv[0], 0)))


def _jsonable_targets(value: Any) -> Any:
    if isinstance(value, str):
        return value
    if isinstance(value, (set, frozenset)):
        return sorted(value)
    return list(value)


def _default_targets(model: Any, model_type: str) -> tuple[dict[str, Any], Any]:
    """PEFT's ``target_modules=None`` defaults for ``model_type``, per peft type, read from each
    tuner's ``target_module_mapping`` (IA3 keeps its table in ``peft.utils.constants``)."""
    from peft.mapping import PEFT_TYPE_TO_TUNER_MAPPING
    from peft.utils.constants import (
        TRANSFORMERS_MODELS_TO_IA3_FEEDFORWARD_MODULES_MAPPING,
        TRANSFORMERS_MODELS_TO_IA3_TARGET_MODULES_MAPPING,
    )
    from peft.utils.other import _get_input_embeddings_name

    out: dict[str, Any] = {}
    for peft_type, tuner in PEFT_TYPE_TO_TUNER_MAPPING.items():
        key = str(getattr(peft_type, "value", peft_type))
        mapping = getattr(tuner, "target_module_mapping", None)
        if key == "IA3":
            mapping = TRANSFORMERS_MODELS_TO_IA3_TARGET_MODULES_MAPPING
        if isinstance(mapping, dict) and model_type in mapping:
            out[key] = _jsonable_targets(mapping[model_type])
        elif key == "OSF":
            # OSFModel._prepare_adapter_config falls back to "all-linear" for unknown model types
            out[key] = "all-linear"
        elif key == "TRAINABLE_TOKENS":
            # TrainableTokensModel._prepare_adapter_config targets the input embedding by name
            out[key] = _get_input_embeddings_name(model, "embed_tokens")
    feedforward = TRANSFORMERS_MODELS_TO_IA3_FEEDFORWARD_MODULES_MAPPING.get(model_type)
    return dict(sorted(out.items())), (_jsonable_targets(feedforward) if feedforward is not None else None)


def _safe_moe_conversion(model: Any, model_type: str) -> dict[str, Any]:
    try:
        return _moe_conversion(model, model_type)
    except Exception as exc:  # a probe that peft rejects must not cost the whole inventory
        return {**_empty_moe_info(), "error": _one_line(exc)}


def _empty_moe_info() -> dict[str, Any]:
    return {
        "available": False,
        "methods": ["LORA"],
        "has_checkpoint_conversion": False,
        "base_model_type": None,
        "applies": False,
        "target_map": {},
        "fused": {},
        "rank_multiplier": {},
        "pattern_keys": {},
        "none_targets_become_empty": False,
        "all_linear": None,
    }


def _moe_conversion(model: Any, model_type: str) -> dict[str, Any]:
    info = _empty_moe_info()
    try:
        from peft import LoraConfig
        from peft.utils import transformers_weight_conversion as twc
        from transformers.conversion_mapping import get_checkpoint_conversion_mapping
    except ImportError:  # transformers < 5: PEFT does no rewrite
        return info
    info["available"] = True
    info["has_checkpoint_conversion"] = get_checkpoint_conversion_mapping(model_type) is not None
    base = twc._MODEL_TO_CONVERSION_PATTERN.get(model_type)
    info["base_model_type"] = base
    target_map: dict[str, str] = dict(twc._MOE_TARGET_MODULE_MAPPING.get(base, {})) if base else {}
    fused: dict[str, list[str]] = (
        {k: list(v) for k, v in twc._MOE_FUSED_TARGETS.get(base, {}).items()} if base else {}
    )

    r, alpha = 4, 8
    probe = LoraConfig(r=r, lora_alpha=alpha, target_modules=sorted(target_map) or ["peftlint_probe"])
    twc.convert_peft_config_for_transformers(probe, model, None)
    if not probe.target_parameters:
        return info
    info["applies"] = True
    info["target_map"] = target_map
    info["fused"] = fused
    for new in fused:
        for key, rank in (probe.rank_pattern or {}).items():
            if key.endswith(new):
                info["pattern_keys"][new] = key
                info["rank_multiplier"][new] = rank // r

    empty = LoraConfig(r=r, lora_alpha=alpha)
    twc.convert_peft_config_for_transformers(empty, model, None)
    info["none_targets_become_empty"] = empty.target_modules is not None and len(empty.target_modules) == 0

    all_linear = LoraConfig(r=r, lora_alpha=alpha, target_modules="all-linear")
    twc.convert_peft_config_for_transformers(all_linear, model, None)
    if not isinstance(all_linear.target_modules, str):
        info["all_linear"] = {
            "target_modules": sorted(all_linear.target_modules or []),
            "target_parameters": sorted(all_linear.target_parameters or []),
        }
    return info


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__
