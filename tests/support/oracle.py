"""The real peft as the oracle: build the same meta-device model and call get_peft_model on it."""

from __future__ import annotations

import copy
import functools
import json
import warnings
from pathlib import Path

MODELS = Path(__file__).resolve().parents[2] / "peftlint" / "data" / "models"


def bundled_ids(library: str = "transformers") -> list[str]:
    """One id per bundled config file built by ``library`` (aliases and pipelines' shared text
    encoders share files; a component is ``repo:subfolder``)."""
    index = json.loads((MODELS.parent / "bundled_index.json").read_text())
    files = {}
    for hub_id, entry in sorted(index.items()):
        if entry.get("library", "transformers") == library and "alias_of" not in entry:
            files.setdefault(entry["file"], hub_id)
    return sorted(files.values())


@functools.lru_cache(maxsize=64)
def meta_model(hub_id: str, model_class: str):
    """A pristine meta-device model; callers get a deep copy."""
    import torch
    import transformers

    index = json.loads((MODELS.parent / "bundled_index.json").read_text())
    cfg_dict = json.loads((MODELS / index[hub_id]["file"]).read_text())
    if index[hub_id].get("library") == "diffusers":
        import diffusers

        cls = getattr(diffusers, model_class)
        with torch.device("meta"):
            return cls.from_config({k: v for k, v in cfg_dict.items() if not k.startswith("_")})
    cfg = transformers.AutoConfig.for_model(cfg_dict["model_type"], **{k: v for k, v in cfg_dict.items() if k != "model_type"})
    cls = getattr(transformers, model_class)
    with torch.device("meta"):
        if model_class.startswith("Auto"):
            return cls.from_config(cfg)
        return cls._from_config(cfg)


def built_inventory(ref: str):
    """peftlint's inventory of a bundled model, built on the meta device (no cache)."""
    from peftlint.model.build import build_inventory
    from peftlint.model.classes import pick_model_class
    from peftlint.model.resolve import ResolveOptions, resolve

    res = resolve(ref, options=ResolveOptions())
    return build_inventory(res, pick_model_class(res.config, None, None))


def fresh(hub_id: str, model_class: str):
    return copy.deepcopy(meta_model(hub_id, model_class))


def peft_outcome(model, config) -> tuple[str, set[str], list[str]]:
    """(verdict, targeted module names, warning texts) of ``get_peft_model(model, config)``."""
    from peft import get_peft_model

    targets_were_none = getattr(config, "target_modules", 0) is None  # peft mutates the config
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            pm = get_peft_model(model, config)
        except (ValueError, TypeError, KeyError, NotImplementedError) as exc:
            msg = str(exc)
            if isinstance(exc, KeyError) and targets_were_none and exc.args == ("model_type",):
                return "no-default", set(), []  # a config without model_type (diffusers models)
            lost_default = targets_were_none and "No `target_modules` passed" in msg
            if "Please specify `target_modules`" in msg or "Please specify `feedforward_modules`" in msg or lost_default:
                return "no-default", set(), []
            if "not found in the base model" in msg or "No modules were targeted" in msg or \
                    "No `target_modules` passed" in msg:
                return "unmatched", set(), []
            if "not supported" in msg or "No layers types compatible" in msg or "No layer types compatible" in msg \
                    or "does not support" in msg:
                return "unsupported", set(), []
            raise
    texts = [str(w.message) for w in caught if "is_gradient_checkpointing" not in str(w.message)]
    return "ok", set(pm.base_model.targeted_module_names), texts


def add_adapter_outcome(model, config) -> tuple[str, set[str]]:
    """(verdict, adapted module names) of diffusers' ``model.add_adapter(config)``: PEFT's
    ``inject_adapter_in_model`` on the model itself (no PeftModel wrapper, no ``base_model.model.``)."""
    from peft.tuners.tuners_utils import BaseTunerLayer

    targets_were_none = getattr(config, "target_modules", 0) is None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            model.add_adapter(config)
        except KeyError as exc:
            if targets_were_none and exc.args == ("model_type",):
                return "no-default", set()
            raise
        except ValueError as exc:
            msg = str(exc)
            if "not found in the base model" in msg or "No modules were targeted" in msg:
                return "unmatched", set()
            if "not supported" in msg:
                return "unsupported", set()
            raise
    return "ok", {n for n, m in model.named_modules() if isinstance(m, BaseTunerLayer)}


def peftlint_outcome(targeting, inventory, method: str = "LORA") -> tuple[str, set[str]]:
    from peftlint.semantics.methods import supported_kinds

    if targeting.no_default:
        return "no-default", set()
    if targeting.mode == "empty" or not targeting.targeted:
        return "unmatched", set()
    if targeting.unsupported(inventory, supported_kinds(method)):
        return "unsupported", set()
    return "ok", set(targeting.targeted)


def wrapped_parameters(peft_model) -> set[str]:
    """``<module>.<param>`` of every parameter peft wrapped in a lora.ParamWrapper."""
    out = set()
    for name, module in peft_model.base_model.model.named_modules():
        if type(module).__name__ == "ParamWrapper":
            owner = ".".join(p for p in name.split(".") if p != "base_layer")
            out.add(f"{owner}.{module.parameter_name}")
    return out
