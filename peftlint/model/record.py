"""Record a model built on the meta device as an :class:`Inventory`: every module, its kind and
shapes, embeddings and ties, repeated blocks, towers, PEFT's default targets and what PEFT's
transformers-5 MoE rewrite does for this model type (read from peft's tables and probes)."""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any

from peftlint.model import inventory as inv
from peftlint.model.inventory import AllLinearRewrite, Inventory, ModuleInfo, MoeConversion
from peftlint.store import package_versions

if TYPE_CHECKING:
    from peftlint.model.resolve import Resolved


def record(model: Any, resolved: "Resolved", requested: str, class_note: str) -> Inventory:
    """Record a transformers model, or a diffusers model (``resolved.library == "diffusers"``: a
    ``ModelMixin`` whose config is a plain dict without ``model_type``, no LM head, no towers)."""
    from peft.tuners.tuners_utils import BaseTuner
    from transformers import PreTrainedModel

    named = list(model.named_modules())
    modules = [_module_info(name, module) for name, module in named if name]
    diffusers = resolved.library == "diffusers"
    # what PEFT reads model_type from when it looks up default targets
    peft_config = BaseTuner.get_model_config(model)
    has_model_type = isinstance(peft_config, dict) and "model_type" in peft_config
    tie: bool | None
    if diffusers:
        model_type, tie, layers = "", False, None
    else:
        config = model.config
        text_config = config.get_text_config() if hasattr(config, "get_text_config") else config
        model_type = getattr(config, "model_type", None) or str(resolved.config.get("model_type") or "")
        tie = getattr(text_config, "tie_word_embeddings", None)
        if tie is None:
            tie = getattr(config, "tie_word_embeddings", False)
        layers = getattr(text_config, "num_hidden_layers", None)

    default_targets, ia3_feedforward = _default_targets(model, model_type, has_model_type)
    libraries = ("torch", "transformers", "peft") + (("diffusers",) if diffusers else ())

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
        towers={} if diffusers else _towers(model, named),
        versions=package_versions(*libraries),
        requested_class=requested,
        class_note=class_note,
        module_aliases=_module_aliases(model, named),
        layer_lists=_layer_lists(named),
        moe=_safe_moe_conversion(model, model_type),
        library=resolved.library,
        peft_model_type=has_model_type,
        auto_classes=auto_classes_of(type(model).__name__),
        root_params=[n for n, _ in model.named_parameters(recurse=False)],
        total_parameters=sum(p.numel() for p in model.parameters()),
        embedding_tied=_embedding_tied(model),
        is_encoder_decoder=bool(not diffusers and getattr(model.config, "is_encoder_decoder", False)),
    )


def _embedding_tied(model: Any) -> list[str]:
    from peft.utils.other import _get_module_names_tied_with_embedding

    try:
        return [str(n) for n in _get_module_names_tied_with_embedding(model)]
    except Exception:  # a model peft cannot read ties from: TrainableTokens counts then stay unknown
        return []


def auto_classes_of(class_name: str) -> list[str]:
    """The transformers auto classes whose model mapping (``MODEL_FOR_CAUSAL_LM_MAPPING_NAMES``,
    ``MODEL_MAPPING_NAMES``, ... in ``transformers.models.auto.modeling_auto``) lists ``class_name``."""
    from transformers.models.auto import modeling_auto

    out = []
    for name in sorted(dir(modeling_auto)):
        mapping = getattr(getattr(modeling_auto, name, None), "_model_mapping", None) if name.startswith("AutoModel") \
            else None
        names = getattr(mapping, "_model_mapping", None)
        if not isinstance(names, dict):
            continue
        for value in names.values():
            if value == class_name or (isinstance(value, (list, tuple)) and class_name in value):
                out.append(name)
                break
    return out


def _kind(module: Any) -> inv.ModuleKind:
    import torch.nn as nn
    from transformers.pytorch_utils import Conv1D

    kinds = ((Conv1D, inv.CONV1D_GPT2), (nn.Linear, inv.LINEAR), (nn.Conv1d, inv.CONV1D), (nn.Conv2d, inv.CONV2D),
             (nn.Conv3d, inv.CONV3D), (nn.Embedding, inv.EMBEDDING), (nn.MultiheadAttention, inv.MHA),
             ((nn.ModuleList, nn.ModuleDict, nn.ParameterList, nn.ParameterDict), inv.MODULE_LIST))
    for types, kind in kinds:  # in this order: Conv1D before Linear-like subclasses
        if isinstance(module, types):
            return kind
    norm_types: tuple[type, ...] = (nn.LayerNorm, nn.GroupNorm, nn.modules.batchnorm._NormBase, nn.LocalResponseNorm)
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


def _default_targets(model: Any, model_type: str, has_model_type: bool = True) -> tuple[dict[str, Any], Any]:
    """PEFT's ``target_modules=None`` defaults for ``model_type``, per peft type, read from each
    tuner's ``target_module_mapping`` (IA3 keeps its table in ``peft.utils.constants``).

    Without a ``model_type`` in the config PEFT reads (diffusers models), every tuner's
    ``_prepare_adapter_config`` indexes ``model_config["model_type"]`` and raises ``KeyError``, except
    TrainableTokens, which looks for the input embedding instead."""
    from peft.mapping import PEFT_TYPE_TO_TUNER_MAPPING
    from peft.utils.constants import (
        TRANSFORMERS_MODELS_TO_IA3_FEEDFORWARD_MODULES_MAPPING,
        TRANSFORMERS_MODELS_TO_IA3_TARGET_MODULES_MAPPING,
    )
    from peft.utils.other import _get_input_embeddings_name

    out: dict[str, Any] = {}
    for peft_type, tuner in PEFT_TYPE_TO_TUNER_MAPPING.items():
        key = str(getattr(peft_type, "value", peft_type))
        if not has_model_type and key != "TRAINABLE_TOKENS":
            continue
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
    feedforward = TRANSFORMERS_MODELS_TO_IA3_FEEDFORWARD_MODULES_MAPPING.get(model_type) if has_model_type else None
    return dict(sorted(out.items())), (_jsonable_targets(feedforward) if feedforward is not None else None)


def _safe_moe_conversion(model: Any, model_type: str) -> MoeConversion:
    try:
        return _moe_conversion(model, model_type)
    except Exception as exc:  # a probe that peft rejects must not cost the whole inventory
        return MoeConversion(error=_one_line(exc))


def _moe_conversion(model: Any, model_type: str) -> MoeConversion:
    info = MoeConversion()
    try:
        from peft import LoraConfig
        from peft.utils import transformers_weight_conversion as twc
        from transformers.conversion_mapping import get_checkpoint_conversion_mapping
    except ImportError:  # transformers < 5: PEFT does no rewrite
        return info
    info.available = True
    info.has_checkpoint_conversion = get_checkpoint_conversion_mapping(model_type) is not None
    base = twc._MODEL_TO_CONVERSION_PATTERN.get(model_type)
    info.base_model_type = base
    target_map: dict[str, str] = dict(twc._MOE_TARGET_MODULE_MAPPING.get(base, {})) if base else {}
    fused: dict[str, list[str]] = (
        {k: list(v) for k, v in twc._MOE_FUSED_TARGETS.get(base, {}).items()} if base else {}
    )

    r, alpha = 4, 8
    probe = LoraConfig(r=r, lora_alpha=alpha, target_modules=sorted(target_map) or ["peftlint_probe"])
    twc.convert_peft_config_for_transformers(probe, model, None)
    if not probe.target_parameters:
        return info
    info.applies = True
    info.target_map = target_map
    info.fused = fused
    for new in fused:
        for key, rank in (probe.rank_pattern or {}).items():
            if key.endswith(new):
                info.pattern_keys[new] = key
                info.rank_multiplier[new] = rank // r

    empty = LoraConfig(r=r, lora_alpha=alpha)
    twc.convert_peft_config_for_transformers(empty, model, None)
    info.none_targets_become_empty = empty.target_modules is not None and len(empty.target_modules) == 0

    all_linear = LoraConfig(r=r, lora_alpha=alpha, target_modules="all-linear")
    twc.convert_peft_config_for_transformers(all_linear, model, None)
    if not isinstance(all_linear.target_modules, str):
        info.all_linear = AllLinearRewrite(
            target_modules=sorted(all_linear.target_modules or []),
            target_parameters=sorted(all_linear.target_parameters or []),
        )
    return info


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__
