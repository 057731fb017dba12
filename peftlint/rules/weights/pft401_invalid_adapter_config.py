"""PFT401 invalid-adapter-config."""

from __future__ import annotations

import functools
from typing import Any, Iterator

from peftlint.diagnostics import Diagnostic, Severity
from peftlint.rules._common import value_problem
from peftlint.rules.base import Rule
from peftlint.rules.context import Context
from peftlint.rules.weights._common import adapter_example
from peftlint.rules.weights._examples import adapter_config

_JSON_KIND = {str: "a string", bool: "a boolean", int: "an integer", float: "a number", list: "an array",
              dict: "an object", type(None): "null"}


_FLOAT_OK = ("alpha", "dropout", "scaling")  # int-annotated fields PEFT uses as plain numbers


@functools.lru_cache(maxsize=1024)
def _split_top(s: str, sep: str) -> tuple[str, ...]:
    parts, depth, cur = [], 0, ""
    for ch in s:
        depth += ch == "["
        depth -= ch == "]"
        if ch == sep and depth == 0:
            parts.append(cur)
            cur = ""
        else:
            cur += ch
    parts.append(cur)
    return tuple(p.strip() for p in parts if p.strip())  # cached, so immutable


def accepts(value: Any, ann: str, float_ok: bool = False) -> bool:
    """Whether a JSON value fits a dataclass field annotation as peft declares it (lenient on unknowns)."""
    alts = _split_top(ann, "|")
    if len(alts) > 1:
        return any(accepts(value, a, float_ok) for a in alts)
    head, _, inner = ann.strip().partition("[")
    inner = inner[:-1] if inner.endswith("]") else inner
    head = head.strip().rsplit(".", 1)[-1]
    if head == "Optional":
        return value is None or accepts(value, inner, float_ok)
    if head == "Union":
        return any(accepts(value, a, float_ok) for a in _split_top(inner, ","))
    if head in ("list", "List", "Sequence", "set", "Set"):
        return isinstance(value, list) and (not inner or all(accepts(v, inner) for v in value))
    if head in ("tuple", "Tuple"):
        return isinstance(value, list)
    if head in ("dict", "Dict"):
        return isinstance(value, dict)
    if head == "Literal":
        return isinstance(value, str) if ("'" in inner or '"' in inner) else True
    if head == "str":
        return isinstance(value, str)
    if head == "bool":
        return isinstance(value, bool)
    if head == "int":
        ok = (int, float) if float_ok else (int,)
        return isinstance(value, ok) and not isinstance(value, bool)
    if head == "float":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if head in ("None", "NoneType"):
        return value is None
    if head.endswith("Config"):
        return isinstance(value, dict)
    if head in ("TaskType", "PeftType"):
        return isinstance(value, str)
    return True  # an annotation peftlint does not model


def _short(value: Any) -> str:
    import json

    text = json.dumps(value)
    return text if len(text) <= 40 else text[:37] + "..."


class InvalidAdapterConfig(Rule):
    code = "PFT401"
    name = "invalid-adapter-config"
    severity = Severity.ERROR
    summary = "`adapter_config.json` is not valid JSON, lacks a known `peft_type`, or has fields of the wrong type."
    needs_model = False
    docs = """
    `PeftConfig.from_pretrained` reads `adapter_config.json`, looks up the config class from
    `peft_type` and passes every field to it **unchecked**. Broken JSON or a missing or unknown
    `peft_type` makes loading fail. A field of the wrong type is accepted by the config and fails
    later, while the layers are built, or silently means something else: `"target_modules":
    ["q_proj", 7]` fails inside the matcher, `"layers_to_transform": ["0", "1"]` never equals an
    integer layer index, a sub-config such as `"loftq_config": "none"` is not an object.

    The types are the field annotations of the installed peft's config class. Top-level types and
    values (`"r": "8"`, an unknown `bias`) are PFT210, for every source; PFT401 adds what a saved
    file gets wrong beyond that: the items of lists and sub-configs. Unknown keys are PFT209.

    Fix: write the value with the declared JSON type, or re-save the config with
    `config.save_pretrained(dir)`.
    """
    bad = (
        adapter_example(adapter_config(layers_to_transform=["0", "1"]), note="layer indices written as strings"),
        adapter_example('{\n  "r": 8,\n  "target_modules": ["q_proj", "v_proj"]\n}\n', note="no `peft_type`"),
    )
    good = (adapter_example(adapter_config()),)

    def check(self, ctx: Context) -> Iterator[Diagnostic]:
        spec = ctx.spec
        if spec.source != "adapter_config" or ctx.facts is None:
            return
        info = ctx.facts.configs.get(spec.config_class)
        if info is None:
            return
        for name, v in spec.fields.items():
            f = info.fields.get(name)
            if f is None or name == "peft_type" or v.dynamic:
                continue
            ann = str(f.get("type") or "")
            if not ann or (v.value is None and f.get("default") is None):
                continue
            if accepts(v.value, ann, float_ok=any(s in name for s in _FLOAT_OK)):
                continue
            if value_problem(ctx, name, v.value, ann, ctx.facts.task_types):
                continue  # PFT210 reports it (top-level types and values, every source)
            kind = _JSON_KIND.get(type(v.value), type(v.value).__name__)
            yield self.diagnostic(
                ctx, v.span,
                f"`{name}` is {kind} ({_short(v.value)}) but {spec.config_class} declares `{ann}`: PEFT passes "
                "the value on unchecked, so loading this adapter fails while the layers are built or silently "
                f"does something else; write it as `{ann}`",
                subject=name)
