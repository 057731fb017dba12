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
- On a MoE model whose experts are fused parameters, both add ``target_parameters`` for the experts
  when ``target_modules`` names ``gate_proj``/``up_proj``/``gate_up_proj`` (-> ``...experts.gate_up_proj``)
  or ``down_proj`` (-> ``...experts.down_proj``) and no ``target_parameters`` were passed
  (``get_moe_target_parameters`` in ``unsloth/models/_utils.py``; ``moe_target_parameters`` here).
- ``import unsloth`` patches peft's transformers-5 MoE rewrite (``_patch_peft_moe_target_conversion``
  in ``unsloth/import_fixes.py``): it is skipped when the config has ``target_parameters`` (so
  after the step above) or a target regex with a dot, and dotted list entries are kept as written
  (``PeftView.unsloth`` in ``semantics/matching.py``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from peftlint.model.inventory import Inventory

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


# get_moe_target_parameters: the target_modules entries that ask for the experts, and the parameter
# paths unsloth tries (the first, or the second where the model has it: Gemma 4 keeps its experts
# directly under the layer)
_MOE_BROAD_MLP_TARGETS = frozenset({"gate_proj", "up_proj", "down_proj", "gate_up_proj"})
_MOE_PARAMETERS = (
    (frozenset({"gate_proj", "up_proj", "gate_up_proj"}), "mlp.experts.gate_up_proj", "experts.gate_up_proj"),
    (frozenset({"down_proj"}), "mlp.experts.down_proj", "experts.down_proj"),
)


def moe_target_parameters(target_modules: list[str], inventory: Inventory) -> dict[str, list[str]]:
    """The ``target_parameters`` unsloth adds for a MoE model's fused experts (see the module docs),
    each with the ``target_modules`` entries that asked for it; {} when it adds none.

    unsloth first asks whether the config counts experts (``num_experts``, ``n_routed_experts`` or
    ``num_local_experts``); a model whose experts are fused parameters does, so here the parameters
    alone decide."""
    asked = [e for e in target_modules if isinstance(e, str) and "." not in e and e in _MOE_BROAD_MLP_TARGETS]
    if not asked:
        return {}
    keys = [f"{m.name}.{p}" for m in inventory.modules for p in m.params]

    def has(name: str) -> bool:
        return any(k == name or k.endswith("." + name) for k in keys)

    out: dict[str, list[str]] = {}
    for wants, default, alternate in _MOE_PARAMETERS:
        entries = [e for e in asked if e in wants]
        if not entries:
            continue
        # _resolve_moe_parameter_name: the first parameter that ends in either name decides
        name = next((n for k in keys for n in (default, alternate) if k == n or k.endswith("." + n)),
                    alternate if inventory.model_type.startswith("gemma4") else default)
        if has(name):
            out[name] = entries
    return out
