"""PFT210 invalid-value."""

from __future__ import annotations

from typing import Iterator

from peftlint.diagnostics import Diagnostic, Severity
from peftlint.rules._common import py_example, value_problem
from peftlint.rules.base import Rule
from peftlint.rules.context import Context

# List fields whose items PEFT uses as names or layer indices.
_ITEM_TYPES = {"target_modules": str, "modules_to_save": str, "exclude_modules": str, "target_parameters": str,
               "layers_to_transform": int, "layers_pattern": str, "feedforward_modules": str}


class InvalidValue(Rule):
    code = "PFT210"
    name = "invalid-value"
    severity = Severity.ERROR
    summary = "A value of the wrong type or out of range (`r<=0`, unknown `bias`, `task_type`, `init_lora_weights`)."
    docs = """
    PEFT checks few values when the config is created; most bad values fail only inside
    `get_peft_model`, after the model is loaded:

    - `r <= 0`: `` ValueError: `r` should be a positive integer value but the value passed is 0 ``.
    - an unknown `bias`: `NotImplementedError: Requested bias: ..., is not implemented.`
    - an unknown `task_type` (it is case-sensitive): `ValueError: Invalid task type: 'causal_lm'`.
    - an unknown `init_lora_weights` string: `ValueError: Unknown initialization init_lora_weights='...'`.
    - a value of the wrong type (`r=8.0`, `lora_dropout="0.1"`, `target_modules=5`) fails with a
      TypeError deep inside torch.

    The accepted values and types are read from the installed peft's config classes.
    """
    bad = (py_example('config = LoraConfig(r=0, target_modules=["q_proj", "v_proj"], bias="lora")', model=None),)
    good = (py_example('config = LoraConfig(r=8, target_modules=["q_proj", "v_proj"], bias="lora_only")', model=None),)
    needs_model = False

    def check(self, ctx: Context) -> Iterator[Diagnostic]:
        facts = ctx.facts
        info = ctx.config_info
        if info is None:
            return
        for name, v in ctx.spec.fields.items():
            meta = info.fields.get(name)
            if meta is None or not v.fully_static:
                continue
            msg = value_problem(ctx, name, v.value, meta.get("type") or "", facts.task_types)
            if msg:
                yield self.diagnostic(ctx, v.span, msg, subject=name)
            elif v.items is not None and ctx.spec.source != "adapter_config":  # saved configs: PFT401
                yield from self._items(ctx, name, v)

    def _items(self, ctx: Context, name: str, v) -> Iterator[Diagnostic]:
        want = _ITEM_TYPES.get(name)
        if want is None:
            return
        for item in v.items:
            if item.dynamic or (isinstance(item.value, want) and not isinstance(item.value, bool)):
                continue
            effect = ("PEFT compares layer indices with ints, so this entry never matches a layer"
                      if want is int else "PEFT formats it into a name that matches nothing useful")
            yield self.diagnostic(ctx, item.span, f"{name} entry {item.value!r} has type {type(item.value).__name__}, "
                                  f"not {want.__name__}: {effect}", subject=name)
