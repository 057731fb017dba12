"""mmengine-style configs (xtuner): ``lora=dict(type=LoraConfig, r=64, ...)`` is a LoraConfig that
xtuner builds later (``BUILDER.build``), read like the call ``LoraConfig(r=64, ...)``.

xtuner's models (``SupervisedFinetune``, ``LLaVAModel``, ``InternVL``) take the config beside the
model it adapts in the same ``model=dict(...)``: ``lora`` / ``llm_lora`` adapt ``llm``,
``visual_encoder_lora`` adapts ``visual_encoder``, each a ``dict(type=<class>.from_pretrained,
pretrained_model_name_or_path=...)``. When ``target_modules`` is None (or left out) xtuner lists
the model's linear layers itself (``xtuner/model/utils.py`` ``find_all_linear_names``: the last
name segment of every ``nn.Linear``, without ``lm_head`` and ``output_layer``), applied by
``semantics.trainer_targets`` once the model is known.
"""

from __future__ import annotations

import ast

from peftlint.sources.python.evaluate import ValueResolver
from peftlint.sources.python.program import Program
from peftlint.sources.trainer_rule import placeholder
from peftlint.spec import AdapterSpec, ModelRef, TargetRule, Value

TOOL = "xtuner"


def dict_config_class(p: Program, call: ast.Call, classes: frozenset[str]) -> str | None:
    """The peft config class of ``dict(type=LoraConfig, ...)`` (the builtin ``dict``), else None."""
    if not (isinstance(call.func, ast.Name) and call.func.id == "dict" and p.is_builtin(call.func, "dict")):
        return None
    for kw in call.keywords:
        if kw.arg == "type":
            for qn in p.qualified_names(kw.value):
                parts = qn.split(".")
                if parts[0] == "peft" and len(parts) >= 2 and parts[-1] in classes:
                    return parts[-1]
    return None


def _model_key(key: str) -> str:
    """The key of the model a config key adapts: ``lora``/``llm_lora`` -> ``llm``."""
    if key == "lora":
        return "llm"
    return key[: -len("_lora")] if key.endswith("_lora") else key


def xtuner_targets(p: Program, call: ast.Call, spec: AdapterSpec) -> None:
    """``target_modules`` None or left out: xtuner's own list of the model's linear layers."""
    tm = spec.fields.get("target_modules")
    if tm is not None and not (tm.fully_static and tm.value is None):
        return
    span = tm.span if tm is not None else p.span(call)
    written = "target_modules=None" if tm is not None else "no target_modules"
    rule = TargetRule(TOOL, f"{written} (xtuner's find_all_linear_names)", span)
    spec.facts.target_rule = rule
    spec.fields["target_modules"] = Value(None, span, kind="list", items=[placeholder(rule)], origin=rule.written)


def link_dict_config(p: Program, values: ValueResolver, call: ast.Call) -> tuple[ModelRef | None, str]:
    """The model beside the config in its ``model=dict(...)``, or (None, why not)."""
    kw = p.parent(call)
    outer = p.parent(kw) if isinstance(kw, ast.keyword) else None
    if not isinstance(kw, ast.keyword) or kw.arg is None or not isinstance(outer, ast.Call):
        return None, "the config dict is not an argument of a model dict(...) naming its model"
    key = _model_key(kw.arg)
    model = next((k.value for k in outer.keywords if k.arg == key), None)
    if not isinstance(model, ast.Call):
        return None, f"the model dict has no `{key}=dict(...)` beside `{kw.arg}`"
    args = {k.arg: k.value for k in model.keywords if k.arg}
    loader = args.get("type")
    name = args.get("pretrained_model_name_or_path")
    if not isinstance(loader, ast.Attribute) or loader.attr != "from_pretrained" or name is None:
        return None, f"`{key}` is not a dict(type=<class>.from_pretrained, pretrained_model_name_or_path=...)"
    value = values.value(name)
    if not value.is_str:
        return None, f"`pretrained_model_name_or_path` of `{key}` is not known statically: {value.reason or 'dynamic'}"
    trust = args.get("trust_remote_code")
    trusted = trust is not None and values.value(trust).value is True
    qualified = [q for q in p.qualified_names(loader.value) if q.startswith("transformers.")]
    cls = qualified[0].rsplit(".", 1)[-1] if qualified else None  # a transformers class, else the config's own
    how = f"`pretrained_model_name_or_path` of `{key}=dict(...)` at line {p.line(model)} (xtuner config)"
    return ModelRef(value.value, how, span=value.span, model_class=cls, class_from_code=cls is not None,
                    trust_remote_code=trusted), ""
