"""Trainer configs → AdapterSpecs: axolotl, LLaMA-Factory and TRL ``ModelConfig`` YAML, and TRL /
LLaMA-Factory command lines in shell scripts (``--lora_target_modules q_proj v_proj``).

Each trainer's keys are mapped onto the ``LoraConfig`` fields they become, so the same rules report
the same codes as for a Python ``LoraConfig(...)``. Positions come from PyYAML's node tree
(``yaml.compose``: ``start_mark``/``end_mark`` of every key, value and list item); never from a
hand-written YAML parser. Trainer shorthands are honoured:

- axolotl ``lora_target_linear: true`` → ``target_modules="all-linear"`` (axolotl adds every
  linear layer but the head; a ``lora_target_modules`` list next to it is still checked entry by
  entry);
- LLaMA-Factory ``lora_target`` / ``additional_target`` are comma-separated strings, split into
  per-item spans; ``all`` (also its default when ``lora_target`` is absent) means all linear layers;
- TRL needs ``use_peft: true``; ``lora_task_type`` becomes ``task_type``; a one-item
  ``lora_target_modules`` list becomes that string (``ModelConfig.__post_init__``), so
  ``[q_proj]`` is the regex ``"q_proj"`` (which full-matches nothing) and ``[all-linear]`` works.

A YAML file that is not a trainer config is ignored silently; one that does not parse but looks
like a trainer config gives ``PFT902``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from peftlint.diagnostics import Span
from peftlint.model.classes import TASK_TYPE_TO_AUTO_CLASS as _TASK_CLASSES
from peftlint.sources import Problem, SourceResult
from peftlint.spec import AdapterSpec, ModelRef, Value
from peftlint.textpos import LineIndex

# Keys whose presence (as a top-level key) marks a file as a trainer config worth a PFT902.
_MARKERS = re.compile(
    r"^(lora_target_modules|lora_target_linear|lora_target|lora_modules_to_save|finetuning_type|use_peft|"
    r"adapter|peft_layers_to_transform|lora_r|lora_rank)\s*:", re.M)

_TEMPLATE = re.compile(r"\$\{?[A-Za-z_]|\{\{")  # ${VAR}, $VAR, {{ jinja }}


# trainer key -> LoraConfig field, per trainer (only keys whose meaning is the LoraConfig field's)
AXOLOTL = {
    "lora_r": "r", "lora_alpha": "lora_alpha", "lora_dropout": "lora_dropout",
    "lora_target_modules": "target_modules", "lora_modules_to_save": "modules_to_save",
    "peft_layers_to_transform": "layers_to_transform", "peft_layers_pattern": "layers_pattern",
    "lora_target_parameters": "target_parameters", "peft_use_dora": "use_dora", "peft_use_rslora": "use_rslora",
    "lora_fan_in_fan_out": "fan_in_fan_out",
}
LLAMA_FACTORY = {
    "lora_rank": "r", "lora_alpha": "lora_alpha", "lora_dropout": "lora_dropout",
    "lora_target": "target_modules", "additional_target": "modules_to_save",
    "use_dora": "use_dora", "use_rslora": "use_rslora",
}
TRL = {
    "lora_r": "r", "lora_alpha": "lora_alpha", "lora_dropout": "lora_dropout",
    "lora_target_modules": "target_modules", "lora_modules_to_save": "modules_to_save",
    "lora_target_parameters": "target_parameters", "use_rslora": "use_rslora", "use_dora": "use_dora",
}
_COMMA_KEYS = {"lora_target", "additional_target"}  # LLaMA-Factory's comma-separated lists


def looks_like_trainer_yaml(text: str) -> bool:
    return bool(_MARKERS.search(text))


def extract_trainer_yaml(text: str, path: str, abspath: str) -> SourceResult:
    """One spec per trainer config document; nothing for YAML that is not a trainer config."""
    try:
        docs = list(yaml.compose_all(text, Loader=yaml.SafeLoader))
    except yaml.YAMLError as exc:
        if not looks_like_trainer_yaml(text):
            return SourceResult()
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        span = Span(mark.line + 1, mark.column + 1, mark.line + 1, mark.column + 2) if mark else Span(1, 1, 1, 1)
        what = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        return SourceResult(problems=[Problem("PFT902", f"cannot parse this trainer config as YAML: {what}", span)])
    result = SourceResult()
    for doc in docs:
        if not isinstance(doc, yaml.MappingNode):
            continue
        try:
            top = _Reader(text).mapping(doc)
        except yaml.YAMLError as exc:  # e.g. an unknown tag in a value
            if looks_like_trainer_yaml(text):
                result.problems.append(Problem("PFT902", f"cannot read this trainer config: {exc}", _span(doc)))
            continue
        spec = _spec_from_mapping(top, _span(doc), path, abspath, text)
        if spec is not None:
            result.specs.append(spec)
    return result


# -- YAML nodes → Values ---------------------------------------------------------------------------

def _span(node: yaml.Node, lines: LineIndex | None = None) -> Span:
    s, e = node.start_mark, node.end_mark
    text = lines.text if lines is not None else None
    if lines is not None and e.index > s.index and text[e.index - 1:e.index] in ("\n", " ", "\r", "\t"):
        # a block collection ends at the start of the next key: end the span after its last character
        end = e.index
        while end > s.index and text[end - 1] in " \t\r\n":
            end -= 1
        line, col = lines.pos(end)
        return Span(s.line + 1, s.column + 1, line, col)
    return Span(s.line + 1, s.column + 1, e.line + 1, e.column + 1)


@dataclass
class _Entry:
    key: Value  # the key (its span is the key's position)
    value: Value


class _Reader:
    def __init__(self, text: str) -> None:
        self.text = text
        self.lines = LineIndex(text)
        self.constructor = yaml.constructor.SafeConstructor()

    def mapping(self, node: yaml.MappingNode) -> dict[str, _Entry]:
        out: dict[str, _Entry] = {}
        for k, v in node.value:
            if isinstance(k, yaml.ScalarNode):
                out[str(k.value)] = _Entry(self.value(k), self.value(v))
        return out

    def value(self, node: yaml.Node) -> Value:
        if isinstance(node, yaml.SequenceNode):
            items = [self.value(n) for n in node.value]
            return Value([i.value for i in items], _span(node, self.lines), kind="list", items=items)
        if isinstance(node, yaml.MappingNode):
            members = {str(k.value): self.value(v) for k, v in node.value if isinstance(k, yaml.ScalarNode)}
            keys = {str(k.value): self.value(k) for k, _ in node.value if isinstance(k, yaml.ScalarNode)}
            return Value({k: m.value for k, m in members.items()}, _span(node, self.lines), kind="dict", keys=keys,
                         members=members)
        py = self.constructor.construct_object(node, deep=True)
        if isinstance(py, str) and _TEMPLATE.search(py):
            return Value(None, _span(node, self.lines), dynamic=True, kind="dynamic",
                         reason=f"filled in by a template variable when the config is rendered ({py})")
        kind = {str: "str", bool: "bool", int: "int", float: "float", type(None): "none"}.get(type(py), "str")
        return Value(py, _span(node, self.lines), kind=kind)


def comma_value(s: str, span: Span, raw: str | None) -> Value:
    """LLaMA-Factory's ``q_proj,v_proj``: one item per name, each with its own span when the text
    ``raw`` at ``span`` (one line) is the value itself, plain or quoted without escapes."""
    offset = None
    if raw is not None and span.line == span.end_line:
        if raw == s:
            offset = 0
        elif len(raw) >= 2 and raw[0] in "'\"" and raw[-1] == raw[0] and raw[1:-1] == s:
            offset = 1
    items = []
    pos = 0
    for part in s.split(","):
        name = part.strip()
        lead = len(part) - len(part.lstrip())
        if offset is not None:
            col = span.column + offset + pos + lead
            item_span = Span(span.line, col, span.line, col + len(name))
        else:
            item_span = span
        items.append(Value(name, item_span, kind="str"))
        pos += len(part) + 1
    return Value([i.value for i in items], span, kind="list", items=items, origin="comma-separated string")


def _slice(text: str, span: Span) -> str | None:
    lines = text.split("\n")
    if span.line != span.end_line or span.line > len(lines):
        return None
    return lines[span.line - 1][span.column - 1: span.end_column - 1]


# -- trainer flavours ------------------------------------------------------------------------------

def _flavour(top: dict[str, _Entry]) -> str | None:
    def val(k: str) -> Any:
        e = top.get(k)
        return e.value.value if e is not None else None

    if "finetuning_type" in top or "lora_target" in top or "additional_target" in top:
        return "llama-factory" if str(val("finetuning_type") or "lora").lower() == "lora" else None
    if "base_model" in top or "adapter" in top or "lora_target_linear" in top:
        return "axolotl" if str(val("adapter") or "").lower() in ("lora", "qlora") else None
    if "use_peft" in top:
        return "trl" if val("use_peft") is True else None
    return None


def _spec_from_mapping(top: dict[str, _Entry], doc_span: Span, path: str, abspath: str,
                       text: str) -> AdapterSpec | None:
    flavour = _flavour(top)
    if flavour is None:
        return None
    table = {"axolotl": AXOLOTL, "llama-factory": LLAMA_FACTORY, "trl": TRL}[flavour]
    first = Span(doc_span.line, doc_span.column, doc_span.line, doc_span.column + 1)
    spec = AdapterSpec(path=path, source="yaml", config_class="LoraConfig", method="LORA", span=first,
                       abspath=abspath)
    spec.facts.tool = flavour
    key_spans: dict[str, Span] = {}
    trainer_keys: dict[str, str] = {}
    for key, field_name in table.items():
        e = top.get(key)
        if e is None:
            continue
        v = e.value
        if key in _COMMA_KEYS and v.is_str:
            v = comma_value(v.value, v.span, _slice(text, v.span))
        if field_name == "target_modules" and flavour == "llama-factory" and _is_all(v):
            v = Value("all-linear", v.span, kind="str", origin="lora_target: all")
        spec.fields[field_name] = v
        key_spans[field_name] = e.key.span
        trainer_keys[field_name] = key
    if flavour == "axolotl":
        lin = top.get("lora_target_linear")
        if lin is not None and lin.value.value is True and "target_modules" not in spec.fields:
            spec.fields["target_modules"] = Value("all-linear", lin.value.span, kind="str",
                                                  origin="lora_target_linear: true")
            trainer_keys["target_modules"] = "lora_target_linear"
    if flavour == "llama-factory" and "target_modules" not in spec.fields:
        # LLaMA-Factory's default lora_target is "all" (every linear layer but the head)
        spec.fields["target_modules"] = Value("all-linear", first, kind="str", origin="default lora_target: all")
    if flavour == "trl":
        tm = spec.fields.get("target_modules")
        if tm is not None and tm.items is not None and len(tm.items) == 1 and tm.items[0].is_str:
            spec.fields["target_modules"] = trl_single(tm.items[0])
        tt = top.get("lora_task_type")
        if tt is not None and tt.value.is_str:
            spec.fields["task_type"] = tt.value
            spec.task_type = tt.value.value
            key_spans["task_type"] = tt.key.span
    spec.facts.key_spans = key_spans
    spec.facts.trainer_keys = trainer_keys
    _link_model(spec, top, flavour, abspath)
    return spec


def trl_single(item: Value) -> Value:
    """TRL's ``ModelConfig.__post_init__`` turns a one-item ``lora_target_modules`` list into that
    string, which LoraConfig then treats as a regex (or as the ``all-linear`` shorthand)."""
    return Value(item.value, item.span, kind="str", origin="one-item lora_target_modules (TRL passes the string)")


def _is_all(v: Value) -> bool:
    vals = v.value if isinstance(v.value, list) else [v.value]
    return len(vals) == 1 and isinstance(vals[0], str) and vals[0].strip().lower() == "all"


def _link_model(spec: AdapterSpec, top: dict[str, _Entry], flavour: str, abspath: str) -> None:
    keys = {"axolotl": ("base_model_config", "base_model"), "llama-factory": ("model_name_or_path",),
            "trl": ("model_name_or_path",)}[flavour]
    rev_key = {"axolotl": "revision_of_model", "llama-factory": "model_revision", "trl": "model_revision"}[flavour]
    model_class = _TASK_CLASSES.get(spec.task_type or "CAUSAL_LM")
    if flavour == "axolotl":
        t = top.get("type_of_model")
        if t is not None and t.value.is_str and t.value.value.startswith("AutoModel"):
            model_class = t.value.value
    base_dir = str(Path(abspath).parent) if abspath else None
    for k in keys:
        e = top.get(k)
        if e is not None and e.value.is_str and e.value.value:
            rev = top.get(rev_key)
            trc = top.get("trust_remote_code")
            spec.model = ModelRef(
                ref=e.value.value, how=f"`{k}` in the {flavour} config", span=e.value.span,
                revision=rev.value.value if rev is not None and rev.value.is_str else None,
                base_dir=base_dir, model_class=model_class,
                trust_remote_code=bool(trc is not None and trc.value.value is True))
            return
    spec.facts.model_unresolved = f"the {flavour} config names no base model (`{keys[-1]}`)"
    spec.facts.model_class = model_class
