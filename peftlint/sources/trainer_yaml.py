"""Trainer configs → AdapterSpecs: axolotl, LLaMA-Factory (v0 flat keys and v1 ``peft_config``)
and TRL ``ModelConfig`` YAML.

Each trainer's keys are mapped onto the ``LoraConfig`` fields they become (``trainer_keys.py``), so
the same rules report the same codes as for a Python ``LoraConfig(...)``. Positions come from
PyYAML's events (``yamlread.py``: only the keys read here are composed, aliases are never
expanded into trees). Trainer behaviour is reproduced, not PEFT's shorthand:

- axolotl ``lora_target_linear: true`` and LLaMA-Factory ``lora_target: all`` (also its default)
  make the trainer list the model's linear layers itself: a ``TargetRule`` that
  ``semantics.trainer_targets`` applies once the model is known (axolotl adds the names to any
  ``lora_target_modules`` given beside it; it passes ``[]`` when neither is set);
- LLaMA-Factory ``lora_target`` / ``additional_target`` are comma-separated strings, split into
  per-item spans; v1 wraps a string ``target_modules`` in a list (a literal name, not a regex);
- a ``peft_config`` mapping with ``peft_type`` (GLM-4 / ChatGLM finetune demos) is the dict PEFT's
  ``get_peft_config(config_dict)`` turns into ``PEFT_TYPE_TO_CONFIG_MAPPING[peft_type](**config_dict)``:
  every key is a config argument; the model comes from the command line, so it stays unresolved;
- TRL needs ``use_peft: true``; ``lora_task_type`` becomes ``task_type``; a one-item
  ``lora_target_modules`` list becomes that string (``ModelConfig.__post_init__``), so
  ``[q_proj]`` is the regex ``"q_proj"`` (which full-matches nothing) and ``[all-linear]`` works.

A YAML file without a trainer key at the top level is ignored unread; one that does not parse but
has one gives ``PFT902``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from peftlint.codes import Code
from peftlint.diagnostics import Span
from peftlint.sources import Problem, SourceResult
from peftlint.sources import trainer_keys as K
from peftlint.sources.trainer_rule import placeholder
from peftlint.sources.trainer_values import (
    BUDGET,
    NodeValues,
    OverBudget,
    Unreadable,
    comma_value,
    la_factory_scalar,
    node_span,
    one_item_list,
    trl_single,
)
from peftlint.sources.yamlread import MAX_DEPTH, Document, read_yaml
from peftlint.spec import TASK_TYPE_TO_AUTO_CLASS as _TASK_CLASSES
from peftlint.spec import AdapterSpec, ModelRef, SourceKind, TargetRule, Value
from peftlint.textpos import LineIndex


def looks_like_trainer_yaml(text: str) -> bool:
    return bool(K.MARKERS.search(text))


@dataclass
class _Entry:
    key: Value  # the key (its span is the key's position)
    value: Value


def extract_trainer_yaml(text: str, path: str, abspath: str, peft_types: dict[str, str] | None = None) -> SourceResult:
    """One spec per trainer config document; nothing for YAML that is not a trainer config. ``peft_types`` maps
    peft_type ("LORA") to its config class ("LoraConfig") for ``peft_config: {peft_type: ...}`` mappings."""
    if not looks_like_trainer_yaml(text):
        return SourceResult()
    read = read_yaml(text, K.WANTED.__contains__)
    result = SourceResult(problems=list(read.problems))
    lines = LineIndex(text)
    values = NodeValues(lines)
    for doc in read.documents:
        top = _top(doc, values, result.problems)
        spec = _spec(top, doc.start, path, abspath, lines, result.problems, peft_types or {"LORA": "LoraConfig"})
        if spec is not None:
            result.specs.append(spec)
    return result


def _top(doc: Document, values: NodeValues, problems: list[Problem]) -> dict[str, _Entry]:
    """The wanted top-level entries as Values; ``<<`` merges fill keys the document does not set."""
    pairs = [(k, e.key, e.value) for k, e in doc.entries.items()]
    for merged in doc.merged:
        for m in _merge_sources(merged):
            for k, v in m.value:
                name = getattr(k, "value", None)
                if isinstance(name, str) and name in K.WANTED and all(p[0] != name for p in pairs):
                    pairs.append((name, k, v))
    out: dict[str, _Entry] = {}
    for name, knode, vnode in pairs:
        key = Value(name, node_span(knode, values.lines), kind="str")
        values.spent = 0
        if vnode is None:
            out[name] = _Entry(key, Value(None, key.span, dynamic=True, kind="dynamic", reason=(
                f"its value nests more than {MAX_DEPTH} levels deep, which peftlint does not read")))
            continue
        try:
            out[name] = _Entry(key, values.value(vnode))
        except Unreadable:  # an invalid tag, reported by the reader: the value is unknown, never absent
            out[name] = _Entry(key, Value(None, node_span(vnode, values.lines), dynamic=True, kind="dynamic",
                                          reason=f"its value cannot be built by yaml.safe_load (see the {Code.SYNTAX_ERROR} note)"))
        except OverBudget:
            if not any(p.message.startswith("YAML value too large:") for p in problems):  # once per file
                problems.append(Problem(
                    Code.SYNTAX_ERROR, f"YAML value too large: the value of `{name}` expands to more than {BUDGET} nodes "
                    "(aliases counted each time they are used: an alias bomb?); it was not read", key.span, subject=name))
            out[name] = _Entry(key, Value(None, key.span, dynamic=True, kind="dynamic", reason=(
                f"its value has more than {BUDGET:,} nodes (aliases counted each time they are used), which peftlint "
                "does not read")))
    return out


def _merge_sources(merged: Any) -> list[Any]:
    import yaml

    if isinstance(merged, yaml.MappingNode):
        return [merged]
    if isinstance(merged, yaml.SequenceNode):
        return [m for m in merged.value if isinstance(m, yaml.MappingNode)]
    return []


# -- trainer flavours ------------------------------------------------------------------------------

def _flavour(top: dict[str, _Entry]) -> str | None:
    def val(k: str) -> Any:
        e = top.get(k)
        return e.value.value if e is not None else None

    pc = top.get("peft_config")
    if pc is not None and pc.value.kind == "dict":
        if "peft_type" in (pc.value.members or {}) and "name" not in (pc.value.members or {}):
            return "peft-dict"
        lora = str(val("peft_config").get("name") or "").lower() == "lora"
        return "llama-factory-v1" if lora and not val("peft_config").get("adapter_name_or_path") else None
    if "finetuning_type" in top or "lora_target" in top or "additional_target" in top:
        return "llama-factory" if str(val("finetuning_type") or "lora").lower() == "lora" else None
    if "base_model" in top or "adapter" in top or "lora_target_linear" in top:
        return "axolotl" if str(val("adapter") or "").lower() in ("lora", "qlora") else None
    if "use_peft" in top:
        return "trl" if val("use_peft") is True else None
    return None


def _spec(top: dict[str, _Entry], doc_span: Span, path: str, abspath: str, lines: LineIndex,
          problems: list[Problem], peft_types: dict[str, str]) -> AdapterSpec | None:
    flavour = _flavour(top)
    if flavour is None:
        return None
    first = Span(doc_span.line, doc_span.column, doc_span.line, doc_span.column + 1)
    if flavour == "peft-dict":
        return _peft_dict(top["peft_config"], path, abspath, peft_types)
    spec = AdapterSpec(path=path, source=SourceKind.YAML, config_class="LoraConfig", method="LORA", span=first,
                       abspath=abspath)
    spec.facts.tool = "llama-factory" if flavour == "llama-factory-v1" else flavour
    if flavour == "llama-factory-v1":
        _v1_fields(spec, top["peft_config"], first, problems)
        _link_model(spec, top, flavour, abspath)
        return spec
    table = {"axolotl": K.AXOLOTL, "llama-factory": K.LLAMA_FACTORY, "trl": K.TRL}[flavour]
    for key, field_name in table.items():
        e = top.get(key)
        if e is None:
            continue
        v = e.value
        if key in K.COMMA_KEYS and v.is_str:
            v = comma_value(v.value, v.span, lines.slice(v.span) if v.span.line == v.span.end_line else None)
        spec.fields[field_name] = v
        spec.facts.key_spans[field_name] = e.key.span
        spec.facts.trainer_keys[field_name] = key
    if flavour == "axolotl":
        _axolotl_targets(spec, top, first)
    elif flavour == "llama-factory":
        tm = spec.fields.get("target_modules")
        if tm is None:
            _rule(spec, "llama-factory", "lora_target: all (its default)", first, None)
        elif _is_all(tm):
            _rule(spec, "llama-factory", "lora_target: all", tm.span, None)
    else:
        tm = spec.fields.get("target_modules")
        if tm is not None and tm.items is not None and len(tm.items) == 1 and tm.items[0].is_str:
            spec.fields["target_modules"] = trl_single(tm.items[0])
        tt = top.get("lora_task_type")
        if tt is not None and tt.value.is_str:
            spec.fields["task_type"] = tt.value
            spec.task_type = tt.value.value
            spec.facts.key_spans["task_type"] = tt.key.span
            spec.facts.trainer_keys["task_type"] = "lora_task_type"
    _link_model(spec, top, flavour, abspath)
    return spec


def _rule(spec: AdapterSpec, trainer: str, written: str, span: Span, own: Value | None) -> None:
    """``target_modules`` the trainer computes from the model: ``own`` names plus a placeholder."""
    rule = TargetRule(trainer, written, span)
    spec.facts.target_rule = rule
    items = list(own.items or []) if own is not None else []
    items.append(placeholder(rule))
    spec.fields["target_modules"] = Value(None, own.span if own is not None else span, kind="list", items=items,
                                          origin=written)


def _axolotl_targets(spec: AdapterSpec, top: dict[str, _Entry], first: Span) -> None:
    tm = spec.fields.get("target_modules")
    lin = top.get("lora_target_linear")
    if lin is not None and lin.value.value is True:
        # axolotl: list(set([lora_target_modules] + find_all_linear_names(model))); a string beside it
        # becomes one literal entry of that list
        own = one_item_list(tm, "lora_target_modules beside lora_target_linear") if tm is not None and tm.is_str else tm
        _rule(spec, "axolotl", "lora_target_linear: true", lin.value.span, own if own and own.items else None)
        if own is None or not own.items:
            spec.facts.key_spans["target_modules"] = lin.key.span
            spec.facts.trainer_keys["target_modules"] = "lora_target_linear"
    elif tm is None and "target_parameters" not in spec.fields:
        # axolotl passes `cfg.lora_target_modules or []`: never PEFT's default targets
        spec.fields["target_modules"] = Value([], first, kind="list", items=[],
                                              origin="axolotl passes [] without lora_target_modules")
        spec.facts.trainer_notes["target_modules"] = (
            "axolotl passes `target_modules=[]` when neither `lora_target_modules` nor `lora_target_linear: true` "
            "is set: set one of them")


def _v1_fields(spec: AdapterSpec, pc: _Entry, first: Span, problems: list[Problem]) -> None:
    members = pc.value.members or {}
    keys = pc.value.keys or {}
    for key, v in members.items():
        field_name = K.LLAMA_FACTORY_V1.get(key)
        if field_name is None:
            if key not in K.LLAMA_FACTORY_V1_OTHER:
                known = ", ".join(sorted(set(K.LLAMA_FACTORY_V1) | K.LLAMA_FACTORY_V1_OTHER))
                problems.append(Problem(
                    Code.UNKNOWN_ARGUMENT, f"`peft_config.{key}` is not a LLaMA-Factory LoRA option: training stops with "
                    f"\"Unknown params for PeftPlugin.LoraParams\" (it accepts {known})", keys[key].span, subject=key))
            continue
        v = la_factory_scalar(v)
        if field_name == "target_modules" and v.is_str:
            if v.value == "all":
                _rule(spec, "llama-factory-v1", "target_modules: all", v.span, None)
            else:
                spec.fields[field_name] = one_item_list(v, "a string target_modules (LLaMA-Factory wraps it in a list)")
        else:
            spec.fields[field_name] = v
        spec.facts.key_spans[field_name] = keys[key].span
        spec.facts.trainer_keys[field_name] = f"peft_config.{key}"
    if "target_modules" not in spec.fields:
        _rule(spec, "llama-factory-v1", "target_modules: all (the default)", pc.key.span, None)


def _peft_dict(pc: _Entry, path: str, abspath: str, peft_types: dict[str, str]) -> AdapterSpec | None:
    """``peft_config: {peft_type: LORA, r: 8, ...}``: ``get_peft_config`` passes every key to the config class."""
    members = pc.value.members or {}
    keys = pc.value.keys or {}
    ptype = members["peft_type"]
    if not ptype.is_str or ptype.value not in peft_types:
        return None  # a peft_type this peft does not know, or not a literal: not read
    span = pc.key.span
    spec = AdapterSpec(path=path, source=SourceKind.YAML, config_class=peft_types[ptype.value], method=ptype.value,
                       span=Span(span.line, span.column, span.line, span.column + 1), abspath=abspath,
                       fields=dict(members))
    spec.facts.key_spans = {k: keys[k].span for k in members if k in keys}
    tt = members.get("task_type")
    spec.task_type = tt.value if tt is not None and tt.is_str else None
    spec.facts.model_unresolved = ("the `peft_config` mapping (read by peft's get_peft_config) names no base model: "
                                   "the training script takes it from elsewhere")
    spec.facts.model_class = _TASK_CLASSES.get(spec.task_type or "CAUSAL_LM")
    return spec


def _is_all(v: Value) -> bool:
    """LLaMA-Factory compares the split list with ``["all"]`` exactly."""
    vals = [i.value for i in v.items] if v.items is not None else [v.value]
    return len(vals) == 1 and vals[0] == "all"


_MODEL_KEYS = {"axolotl": ("base_model_config", "base_model"), "llama-factory": ("model_name_or_path",),
               "llama-factory-v1": ("model",), "trl": ("model_name_or_path",)}
_REVISION_KEYS = {"axolotl": "revision_of_model", "llama-factory": "model_revision", "trl": "model_revision"}


def _link_model(spec: AdapterSpec, top: dict[str, _Entry], flavour: str, abspath: str) -> None:
    keys = _MODEL_KEYS[flavour]
    model_class = _TASK_CLASSES.get(spec.task_type or "CAUSAL_LM")
    if flavour == "axolotl":
        t = top.get("type_of_model")
        if t is not None and t.value.is_str and t.value.value.startswith("AutoModel"):
            model_class = t.value.value
    if flavour == "llama-factory-v1":
        mc = top.get("model_class")
        name = str(mc.value.value).lower() if mc is not None and not mc.value.dynamic else "llm"
        model_class, spec.task_type = K.LLAMA_FACTORY_V1_CLASSES.get(name, (model_class, "CAUSAL_LM"))
    base_dir = str(Path(abspath).parent) if abspath else None
    tool = "LLaMA-Factory v1" if flavour == "llama-factory-v1" else flavour
    for k in keys:
        e = top.get(k)
        if e is not None and e.value.is_str and e.value.value:
            rev = top.get(_REVISION_KEYS.get(flavour, ""))
            trc = top.get("trust_remote_code")
            spec.model = ModelRef(
                ref=e.value.value, how=f"`{k}` in the {tool} config", span=e.value.span,
                revision=rev.value.value if rev is not None and rev.value.is_str else None,
                base_dir=base_dir, model_class=model_class,
                trust_remote_code=bool(trc is not None and trc.value.value is True))
            return
        if e is not None and e.value.dynamic:
            spec.facts.model_unresolved = f"`{k}` is not known before the config is used: {e.value.reason}"
            spec.facts.model_class = model_class
            return
    if flavour == "llama-factory-v1":
        spec.model = ModelRef(K.LLAMA_FACTORY_V1_DEFAULT_MODEL, "the default `model` of LLaMA-Factory v1 (ModelArguments)",
                              base_dir=base_dir, model_class=model_class, from_default=True)
    else:
        spec.facts.model_unresolved = f"the {flavour} config names no base model (`{keys[-1]}`)"
        spec.facts.model_class = model_class
