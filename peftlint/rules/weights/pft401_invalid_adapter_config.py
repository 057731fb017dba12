"""PFT401 invalid-adapter-config."""

from __future__ import annotations

from dataclasses import replace
from typing import Iterator

from peftlint.codes import Code
from peftlint.diagnostics import Diagnostic, Severity
from peftlint.rules.base import Expect, Rule
from peftlint.rules.context import Context
from peftlint.rules.weights._common import adapter_example
from peftlint.rules.weights._examples import adapter_config
from peftlint.semantics.peft_facts import accepts

_JSON_KIND = {str: "a string", bool: "a boolean", int: "an integer", float: "a number", list: "an array",
              dict: "an object", type(None): "null"}


_FLOAT_OK = ("alpha", "dropout", "scaling")  # int-annotated fields PEFT uses as plain numbers


def _short(value: object) -> str:
    import json

    text = json.dumps(value)
    return text if len(text) <= 40 else text[:37] + "..."


class InvalidAdapterConfig(Rule):
    code = Code.INVALID_ADAPTER_CONFIG
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
        adapter_example(adapter_config(layers_to_transform=["0", "1"]), note="layer indices written as strings",
                        expect=(Expect(4, 26, '`layers_to_transform` is an array (["0", "1"])'),)),
        adapter_example('{\n  "r": 8,\n  "target_modules": ["q_proj", "v_proj"]\n}\n', note="no `peft_type`",
                        expect=(Expect(1, 1, 'no "peft_type"'),)),
    )
    good = (adapter_example(adapter_config()),)

    def check(self, ctx: Context) -> Iterator[Diagnostic]:
        spec = ctx.spec
        if spec.source != "adapter_config" or ctx.facts is None:
            return
        info = ctx.facts.configs.get(spec.config_class)
        if info is None:
            return
        rejected = ctx.peft_complaints
        for name, v in spec.fields.items():
            f = info.fields.get(name)
            if f is None or name == "peft_type" or v.dynamic:
                continue
            ft = f.type
            ann = ft.text
            if v.value is None and f.default is None:
                continue
            lenient = ft if not any(s in name for s in _FLOAT_OK) else replace(ft, kinds=[*ft.kinds, "float"])
            if accepts(lenient, v.value, any_choice=True) or name in rejected:
                continue
            kind = _JSON_KIND.get(type(v.value), type(v.value).__name__)
            yield self.diagnostic(
                ctx, v.span,
                f"`{name}` is {kind} ({_short(v.value)}) but {spec.config_class} declares `{ann}`: loading fails or "
                "misbehaves; write a value of the declared type",
                subject=name,
                detail="PEFT passes the value on unchecked, so loading this adapter fails while the layers are built "
                       "or silently does something else.")
