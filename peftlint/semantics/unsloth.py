"""What unsloth's ``get_peft_model`` does with its arguments before peft sees them, in one place.

Read from unsloth's own source, release 2026.8.19 (unslothai/unsloth commit 015bdef0d94a):
``FastLlamaModel.get_peft_model`` in ``unsloth/models/llama.py`` (called as
``FastLanguageModel.get_peft_model``) and ``FastBaseModel.get_peft_model`` in
``unsloth/models/vision.py`` (``FastModel``, ``FastVisionModel``, ``FastTextModel``). Only what
that code does for certain is modelled; where unsloth's behaviour depends on the release or on how
the model was loaded, peftlint says nothing:

- Both accept keywords of their own besides ``LoraConfig``'s fields (``KEYWORDS``). A newer
  release may accept more, so an unknown keyword is only a note.
- ``FastLanguageModel`` delegates to ``FastBaseModel`` when the model was loaded through it
  (``UNSLOTH_USE_NEW_MODEL``), which the code alone does not tell. On its own path it moves
  ``embed_tokens`` from ``target_modules`` to ``modules_to_save``; it did the same with ``lm_head``
  before release 2026.3.1 and has adapted it with LoRA since. Both entries are therefore left alone.
- Without ``target_modules`` (or with ``"all-linear"``, or with a ``finetune_*`` filter switched),
  unsloth picks the layers itself (``FastLanguageModel``: its list of projections, narrowed by
  ``FastBaseModel`` to language layers; ``FastModel``: ``unsloth_zoo``'s ``get_peft_regex``), so the
  targets are not known statically.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

RELEASE = "2026.8.19"

# FastLlamaModel.get_peft_model's own parameters (the others go to LoraConfig through **kwargs)
_LANGUAGE_KEYWORDS = frozenset({
    "finetune_last_n_layers", "use_gradient_checkpointing", "random_state", "max_seq_length",
    "temporary_location", "qat_scheme",
    # popped from **kwargs when it delegates to FastBaseModel
    "finetune_vision_layers", "finetune_language_layers", "finetune_attention_modules", "finetune_mlp_modules",
    "finetune_audio_layers",
})
# FastBaseModel.get_peft_model's own parameters
_BASE_KEYWORDS = frozenset({
    "finetune_vision_layers", "finetune_language_layers", "finetune_attention_modules", "finetune_mlp_modules",
    "finetune_audio_layers", "finetune_last_n_layers", "use_gradient_checkpointing", "random_state",
    "max_seq_length", "temporary_location", "qat_scheme",
})
# What FastBaseModel's finetune_* filters default to; another value routes target_modules through
# unsloth_zoo's get_peft_regex
_FILTER_DEFAULTS = {"finetune_vision_layers": True, "finetune_language_layers": True,
                    "finetune_attention_modules": True, "finetune_mlp_modules": True, "finetune_audio_layers": False}


@dataclass(frozen=True)
class Loader:
    name: str
    keywords: frozenset[str]  # accepted besides LoraConfig's fields
    # target_modules entries whose fate depends on the release or the loading path
    unsure_entries: frozenset[str] = frozenset()


LANGUAGE = Loader("FastLanguageModel", _LANGUAGE_KEYWORDS, frozenset({"embed_tokens", "lm_head"}))
BASE = Loader("FastModel", _BASE_KEYWORDS)
LOADERS = {"FastLanguageModel": LANGUAGE, "FastModel": BASE, "FastVisionModel": BASE, "FastTextModel": BASE}
KEYWORDS = _LANGUAGE_KEYWORDS | _BASE_KEYWORDS


def loader(call: str) -> Loader | None:
    """The loader of ``"FastLanguageModel.get_peft_model"``; None for a class not modelled here."""
    return LOADERS.get(call.split(".", 1)[0])


def keywords(call: str) -> frozenset[str]:
    """The keywords unsloth's call accepts besides LoraConfig's (all known ones for other classes)."""
    found = loader(call)
    return found.keywords if found is not None else KEYWORDS


def unsure_entry(call: str, entry: str) -> bool:
    """True when unsloth may move or handle ``entry`` of target_modules itself (see the module docs)."""
    found = loader(call)
    return found is None or entry in found.unsure_entries


def targets_as_written(call: str, fields: dict[str, Any]) -> bool:
    """Whether target_modules reaches LoraConfig as written (``fields``: name -> Value)."""
    found = loader(call)
    tm = fields.get("target_modules")
    if found is None or tm is None or tm.dynamic or tm.value is None:
        return False  # unsloth picks the layers itself
    if isinstance(tm.value, str):
        return False  # "all-linear" and regexes go through unsloth's own regex builder
    for name, default in _FILTER_DEFAULTS.items():
        v = fields.get(name)
        if v is not None and (found is LANGUAGE or v.dynamic or v.value != default):
            return False  # the filters narrow an explicit list through get_peft_regex
    if "finetune_last_n_layers" in fields and "layers_to_transform" not in fields:
        return False  # unsloth computes layers_to_transform from it
    return True
