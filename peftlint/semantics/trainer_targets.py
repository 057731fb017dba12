"""What a trainer passes as ``target_modules`` when it lists the model's linear layers itself.

None of these is PEFT's ``"all-linear"`` (every Linear/Conv1D but the output head, matched by full
name): each trainer collects the *last name segment* of the modules it selects and passes that
list, which PEFT then matches as suffixes — so a name also reaches every other module that shares
it (a vision tower's ``q_proj``). Rules read from each trainer's source, run on the model's
inventory instead of the loaded model:

- axolotl (``loaders/adapter.py`` ``find_all_linear_names``, unchanged from 2025-05 to v0.18):
  every ``torch.nn.Linear`` (bitsandbytes ``Linear4bit``/``Linear8bitLt`` are subclasses on a
  quantised load) and every module whose class name contains ``Linear`` (but
  ``LlamaLinearScalingRotaryEmbedding``); then the output embedding's name from its own table
  (``get_linear_embedding_layers``: ``embed_out`` for gpt_neox, else ``lm_head``) is removed. Vision
  and audio towers, projectors and linear MoE routers stay in. ``lora_target_modules`` given beside
  it are added to the list (``list(set(modules + linear_names))``).
- LLaMA-Factory v0 (``model/model_utils/misc.py`` ``find_all_linear_modules``): modules whose class
  name contains ``Linear`` and not ``Embedding`` (so GPT-2's ``Conv1D`` is not one), skipping every
  module whose full name contains ``lm_head`` (``output_layer`` for chatglm, ``output`` for
  internlm2). For multimodal models it then rewrites every target list with its own per-model
  table (``patch_target_modules``: substring match, vision tower frozen by default); peftlint does
  not reproduce that table and leaves such targets unchecked.
- xtuner (``xtuner/model/utils.py`` ``find_all_linear_names``, when the config's ``target_modules``
  is None): every ``torch.nn.Linear`` (subclasses too), without ``lm_head`` and ``output_layer``.
- LLaMA-Factory v1 (``v1/plugins/model_plugins/peft.py`` ``_find_all_linear_modules``): the same
  class test, skipping full names that contain ``lm_head``, ``output_layer``, ``output``, ``score``
  or ``classifier``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from peftlint.model import inventory as inv
from peftlint.model.inventory import Inventory
from peftlint.sources.trainer_rule import is_placeholder
from peftlint.spec import AdapterSpec, Value

AXOLOTL_OUTPUT_EMBEDDING = {"gpt_neox": "embed_out", "falcon": "lm_head", "nemotron_h": "lm_head"}
LLAMA_FACTORY_FORBIDDEN = {"chatglm": "output_layer", "internlm2": "output"}
LLAMA_FACTORY_V1_FORBIDDEN = ("lm_head", "output_layer", "output", "score", "classifier")


@dataclass
class Expanded:
    spec: AdapterSpec  # a copy whose target_modules is what the trainer passes to LoraConfig
    generated: set[str] = field(default_factory=set)  # names the trainer added
    note: str = ""  # how the trainer found them, for messages about those names
    explicit: bool = False  # the config also lists names of its own


def trainer_linear_names(trainer: str, inventory: Inventory) -> tuple[list[str], str]:
    """(the names the trainer lists for this model, a one-line account of its rule)."""
    if trainer == "axolotl":
        names = {m.leaf for m in inventory.modules
                 if m.kind == inv.LINEAR or ("Linear" in m.cls and m.cls != "LlamaLinearScalingRotaryEmbedding")}
        head = AXOLOTL_OUTPUT_EMBEDDING.get(inventory.model_type, "lm_head")
        names.discard(head)
        how = (f"axolotl adds the last name segment of every linear layer except `{head}` (find_all_linear_names), "
               "and PEFT matches each such name wherever it occurs")
        return sorted(names), how
    if trainer == "xtuner":
        names = {m.leaf for m in inventory.modules if m.kind == inv.LINEAR} - {"lm_head", "output_layer"}
        how = ("xtuner passes the last name segment of every nn.Linear except `lm_head` and `output_layer` "
               "(find_all_linear_names), and PEFT matches each such name wherever it occurs")
        return sorted(names), how
    if trainer == "llama-factory":
        forbidden: tuple[str, ...] = ("lm_head",)
        if inventory.model_type in LLAMA_FACTORY_FORBIDDEN:
            forbidden += (LLAMA_FACTORY_FORBIDDEN[inventory.model_type],)
    else:
        forbidden = LLAMA_FACTORY_V1_FORBIDDEN
    names = {m.leaf for m in inventory.modules
             if "Linear" in m.cls and "Embedding" not in m.cls and not any(f in m.name for f in forbidden)}
    skipped = ", ".join(f"`{f}`" for f in forbidden)
    how = (f"LLaMA-Factory lists the last name segment of every module whose class name contains `Linear`, "
           f"skipping names that contain {skipped} (find_all_linear_modules), and PEFT matches each such name "
           "wherever it occurs")
    return sorted(names), how


def expand(spec: AdapterSpec, inventory: Inventory) -> Expanded | None:
    """The spec as the trainer hands it to PEFT on this model, or None when nothing changes."""
    rule = spec.facts.target_rule
    tm = spec.fields.get("target_modules")
    if spec.facts.tool == "llama-factory" and inventory.towers and tm is not None:
        reason = ("LLaMA-Factory rewrites the targets of multimodal models with its own per-model table "
                  "(patch_target_modules: substring match, vision tower frozen by default); not checked")
        dyn = Value(None, tm.span, dynamic=True, kind="dynamic", reason=reason, origin=tm.origin)
        return Expanded(dataclasses.replace(spec, fields={**spec.fields, "target_modules": dyn}))
    if rule is None or tm is None or tm.items is None:
        return None
    names, how = trainer_linear_names(rule.trainer, inventory)
    own = [i for i in tm.items if not is_placeholder(i, rule)]
    present = {i.value for i in own if i.is_str}
    added = [Value(n, rule.span, kind="str", origin=rule.written) for n in names if n not in present]
    items = own + added
    value = None if any(i.dynamic for i in items) else [i.value for i in items]
    new = Value(value, tm.span, kind="list", items=items, origin=tm.origin or rule.written)
    note = f"`target_modules` comes from `{rule.written}`: {how}"
    return Expanded(dataclasses.replace(spec, fields={**spec.fields, "target_modules": new}),
                    generated={v.value for v in added}, note=note, explicit=bool(own))
