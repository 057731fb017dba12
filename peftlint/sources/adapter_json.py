"""adapter_config.json → AdapterSpec, with the position of every key and list element."""

from __future__ import annotations

import json
from pathlib import Path

from peftlint.codes import Code
from peftlint.diagnostics import Span
from peftlint.sources import Problem, SourceResult
from peftlint.sources.jsonpos import JSONLimitError, parse_json_with_positions
from peftlint.spec import TASK_TYPE_TO_AUTO_CLASS as _TASK_CLASSES
from peftlint.spec import AdapterSpec, ModelRef, SourceKind, Value


def extract_adapter_config(text: str, path: str, abspath: str, peft_types: dict[str, str]) -> SourceResult:
    """``peft_types`` maps peft_type ("LORA") to its config class name ("LoraConfig")."""
    try:
        root = parse_json_with_positions(text)
    except json.JSONDecodeError as exc:
        span = Span(exc.lineno, exc.colno, exc.lineno, exc.colno + 1)
        return SourceResult(problems=[Problem(Code.INVALID_ADAPTER_CONFIG, f"not valid JSON: {exc.msg}", span)])
    except JSONLimitError as exc:
        span = Span(exc.lineno, exc.colno, exc.lineno, exc.colno + 1)
        return SourceResult(problems=[Problem(
            Code.INVALID_ADAPTER_CONFIG, f"PEFT cannot read this file: {exc.msg} (PeftConfig.from_pretrained reads it with Python's json "
            "module, which raises here)", span)])
    if root.kind != "dict" or root.members is None:
        return SourceResult(problems=[Problem(Code.INVALID_ADAPTER_CONFIG, "an adapter config must be a JSON object", root.span)])
    fields: dict[str, Value] = dict(root.members)
    first = Span(root.span.line, root.span.column, root.span.line, root.span.column + 1)
    ptype = fields.get("peft_type")
    if ptype is None:
        return SourceResult(problems=[Problem(Code.INVALID_ADAPTER_CONFIG, "no \"peft_type\": PEFT cannot tell which method this adapter uses", first, "peft_type")])
    if not isinstance(ptype.value, str) or ptype.value not in peft_types:
        known = ", ".join(sorted(peft_types))
        return SourceResult(problems=[Problem(
            Code.INVALID_ADAPTER_CONFIG, f"unknown peft_type {ptype.value!r}; the installed peft knows: {known}", ptype.span, "peft_type")])
    spec = AdapterSpec(
        path=path,
        source=SourceKind.ADAPTER_CONFIG,
        config_class=peft_types[ptype.value],
        method=ptype.value,
        span=first,
        fields={k: v for k, v in fields.items()},
        abspath=abspath,
        adapter_dir=str(Path(abspath).parent),
    )
    spec.facts.key_spans = {k: kv.span for k, kv in (root.keys or {}).items()}
    tt = fields.get("task_type")
    spec.task_type = tt.value if tt is not None and isinstance(tt.value, str) else None
    base = fields.get("base_model_name_or_path")
    if base is not None and isinstance(base.value, str) and base.value:
        rev = fields.get("revision")
        spec.model = ModelRef(
            ref=base.value,
            how="base_model_name_or_path",
            span=base.span,
            revision=rev.value if rev is not None and isinstance(rev.value, str) else None,
            base_dir=str(Path(abspath).parent),
            model_class=_model_class(fields, spec.task_type),
        )
    else:
        spec.facts.model_unresolved = "base_model_name_or_path is empty"
        spec.facts.model_class = _model_class(fields, spec.task_type)
    return SourceResult(specs=[spec])


def _model_class(fields: dict[str, Value], task_type: str | None) -> str | None:
    am = fields.get("auto_mapping")
    if am is not None and isinstance(am.value, dict):
        cls = am.value.get("base_model_class")
        if isinstance(cls, str) and cls:
            return cls  # a concrete class ("LlamaForCausalLM"); the builder maps it to its auto class when needed
    return _TASK_CLASSES.get(task_type or "")
