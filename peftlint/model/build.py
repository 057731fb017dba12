"""Build a base model on the torch ``meta`` device (no weights), then record it (``record.py``).

torch, transformers and peft are imported inside the functions that need them, so importing this
module (for instance for :class:`BuildError`) stays cheap.
"""

from __future__ import annotations

import contextlib
import warnings
from typing import TYPE_CHECKING, Any, Iterator

from peftlint.config import DEFAULT_MAX_MODEL_MODULES
from peftlint.model.build_diffusers import BuildError
from peftlint.model.classes import CANDIDATE_AUTO_CLASSES
from peftlint.model.inventory import Inventory

if TYPE_CHECKING:
    from peftlint.model.resolve import Resolved


# config.json keys that would make a meta build fail or do something other than build the tree.
_STRIP_KEYS = (
    "_source",
    "auto_map",
    "quantization_config",
    "attn_implementation",
    "_attn_implementation",
    "_attn_implementation_autoset",
)


DEFAULT_MAX_MODULES = DEFAULT_MAX_MODEL_MODULES  # ``max-model-modules`` in [tool.peftlint]


def build_inventory(resolved: "Resolved", model_class: str, *, trust_remote_code: bool = False,
                    max_modules: int = DEFAULT_MAX_MODULES) -> Inventory:
    """Build ``resolved``'s model as ``model_class`` on the meta device and record its inventory.

    At most ``max_modules`` modules are created: a config that asks for more (``num_hidden_layers:
    10000000``) is refused with a BuildError naming the limit, instead of running out of memory
    (see ``limits.py``).
    """
    from peftlint.model import limits

    if resolved.library == "diffusers":
        from peftlint.model.build_diffusers import build_diffusers_model
        from peftlint.model.record import record

        try:
            with _quiet(), limits.module_limit(max_modules):
                model, class_note = build_diffusers_model(resolved, model_class)
        except limits.TooManyModules:
            raise BuildError(limits.too_large(resolved.label, f"more than {max_modules:,} modules",
                                              max_modules)) from None
        with _quiet():
            return record(model, resolved, model_class, class_note)
    why = limits.check_config_size(resolved.config, max_modules)
    if why:
        raise BuildError(limits.too_large(resolved.label, why, max_modules))
    with _quiet():
        if not resolved.runs_remote_code(trust_remote_code):
            why = limits.estimated_too_large(resolved, max_modules,
                                             lambda r: _build_model(r, model_class, trust_remote_code)[0])
            if why:
                raise BuildError(limits.too_large(resolved.label, why, max_modules))
        try:
            with limits.module_limit(max_modules):
                model, class_note = _build_model(resolved, model_class, trust_remote_code)
        except limits.TooManyModules:
            raise BuildError(limits.too_large(resolved.label, f"more than {max_modules:,} modules",
                                              max_modules)) from None
        from peftlint.model.record import record

        return record(model, resolved, model_class, class_note)


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
    names += [n for n in CANDIDATE_AUTO_CLASSES if n not in names]
    return names


def _by_preference(auto_classes: list[str]) -> list[str]:
    """Auto classes, those of peft's task types first, the generic ones last."""
    from peftlint.model.classes import AUTO_CLASS_TO_TASK_TYPE

    def rank(name: str) -> tuple[int, str]:
        if name in AUTO_CLASS_TO_TASK_TYPE and name != "AutoModel":
            return 0, name
        return (2 if name in ("AutoModelForPreTraining", "AutoModel") else 1), name

    return sorted(auto_classes, key=rank)


def _build_model(resolved: "Resolved", model_class: str, trust_remote_code: bool) -> tuple[Any, str]:
    import torch
    import transformers

    cfg, remote, config_note = _make_config(resolved, trust_remote_code)
    auto_map = resolved.config["auto_map"] if isinstance(resolved.config.get("auto_map"), dict) else {}
    tried: list[str] = []
    names = _candidate_classes(model_class, resolved.config)
    named = getattr(transformers, model_class, None) if model_class.isidentifier() else None
    if named is not None and not remote and not hasattr(named, "_model_mapping"):
        cfg = _tower_config(cfg, named)
    same_head = ""
    if named is not None and not remote and not hasattr(named, "_model_mapping") and \
            not isinstance(cfg, getattr(named, "config_class", type(None))):
        # a concrete class of another architecture (a saved adapter's auto_mapping, checked against
        # --model): build this config's model with the auto class that lists that class
        from peftlint.model.record import auto_classes_of

        autos = _by_preference(auto_classes_of(model_class))
        names = autos + [n for n in names if n not in autos]
        same_head = f"{model_class} is a {named.config_class.model_type} class; built this config's model with " \
            "the auto class that lists it"
    for name in names:
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
        if name == model_class:
            note = ""
        elif same_head and not tried:
            note = f"{same_head} ({name})"
        else:
            note = f"{model_class} cannot build this config: " + "; ".join(tried)
        return model, "; ".join(n for n in (config_note, note) if n)
    raise BuildError(f"no transformers class can build {resolved.label}: " + "; ".join(tried))


def _tower_config(cfg: Any, cls: Any) -> Any:
    """The sub-config a tower class reads from a composite repository, as transformers'
    ``PreTrainedConfig.from_pretrained`` does: ``CLIPVisionModel.from_pretrained`` on a CLIP repo
    builds the vision tower from ``vision_config`` (the class's ``base_config_key``, else the
    sub-config of its ``model_type``); any other config is returned as it is."""
    own = getattr(cls, "config_class", None)
    if own is None or isinstance(cfg, own):
        return cfg
    key = getattr(own, "base_config_key", "")
    sub = getattr(cfg, key, None) if key else None
    if isinstance(sub, own):
        return sub
    subs = [v for v in vars(cfg).values() if isinstance(v, own)]
    return subs[0] if len(subs) == 1 else cfg


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__
