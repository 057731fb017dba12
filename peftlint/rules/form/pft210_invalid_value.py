"""PFT210 invalid-value."""

from __future__ import annotations

import math
from typing import Iterator

from peftlint.codes import Code
from peftlint.diagnostics import Diagnostic, Severity
from peftlint.rules._common import py_example
from peftlint.rules.base import Expect, Rule
from peftlint.rules.context import Context
from peftlint.semantics.peft_facts import FieldType, accepts

# List fields whose items PEFT uses as names or layer indices.
_ITEM_TYPES = {"target_modules": str, "modules_to_save": str, "exclude_modules": str, "target_parameters": str,
               "layers_to_transform": int, "layers_pattern": str, "feedforward_modules": str}


class InvalidValue(Rule):
    code = Code.INVALID_VALUE
    name = "invalid-value"
    severity = Severity.ERROR
    summary = "A value `get_peft_model` rejects (`r<=0`, unknown `bias` or `init_lora_weights`, wrong type), or an unknown `task_type`."
    docs = """
    peft checks few values when the config is created (PFT211 reports those); most bad values fail
    only inside `get_peft_model`, after the model is loaded, while the layers are built:

    - `r=0` with LoRA: `` ValueError: `r` should be a positive integer value but the value passed is 0 ``.
    - an unknown `bias`: `NotImplementedError: Requested bias: ..., is not implemented.`
    - an unknown `init_lora_weights` string: `ValueError: Unknown initialization init_lora_weights='...'`.
    - a value of the wrong type (`r=8.0`, `lora_dropout="0.1"`) fails with a TypeError deep inside
      torch.
    - a number of the declared type that the layer refuses: `lora_dropout=1.5` gives `ValueError:
      dropout probability has to be between 0 and 1` from torch. Numbers that are negative, not
      finite, or above 1 where the default is a fraction are tried the same way.
    - an unknown `task_type` (it is case-sensitive): `ValueError: Invalid task type: 'causal_lm'`
      (reported here when the config has computed arguments; otherwise PFT211 reports peft's own
      message).

    peftlint does not keep its own list of accepted values. A value outside what the field's
    annotation in the installed peft declares (its `Literal` choices, its types) is tried on a
    one-layer model with peft's `get_peft_model`, with and without the value; only a failure that
    value alone causes is reported, with peft's message. Values peft accepts although its
    annotation does not list them (`init_lora_weights="pissa_niter_16"`, `OFTConfig(r=0,
    oft_block_size=8)`) give nothing. List entries of the wrong type (`layers_to_transform=["0"]`)
    never match anything and are reported too.
    """
    bad = (py_example('config = LoraConfig(r=0, target_modules=["q_proj", "v_proj"], bias="lora")', model=None,
                      expect=(Expect(3, 23, "r=0: get_peft_model raises ValueError"),
                                 Expect(3, 68, "bias='lora': get_peft_model raises NotImplementedError"))),
           py_example('config = LoraConfig(target_modules=["q_proj"], lora_dropout=1.5)', model=None,
                      expect=(Expect(3, 61, "lora_dropout=1.5: get_peft_model raises ValueError: dropout probability "
                                            "has to be between 0 and 1"),)))
    good = (py_example('config = LoraConfig(r=8, target_modules=["q_proj", "v_proj"], bias="lora_only")', model=None),)
    needs_model = False

    def check(self, ctx: Context) -> Iterator[Diagnostic]:
        info = ctx.config_info
        if info is None:
            return
        checked = ctx.peft_verdict is not None
        doubtful: dict[str, bool] = {}  # field -> its value is of a declared type
        for name, v in ctx.spec.fields.items():
            meta = info.fields.get(name)
            if meta is None or not v.fully_static or name in ctx.peft_complaints:
                continue
            declared = accepts(meta.type, v.value, any_choice=ctx.spec.source == "adapter_config")
            if not declared or _is_rank(name, v.value) or _unusual_number(meta.default, v.value) or name == "task_type":
                doubtful[name] = declared
        for name, v in ctx.spec.fields.items():
            if name in doubtful:
                msg = self._problem(ctx, name, v.value, info.fields[name].type, doubtful, checked)
                if msg:
                    yield self.diagnostic(ctx, v.span, msg, subject=name)
                    continue
            if v.fully_static and v.items is not None and ctx.spec.source != "adapter_config":  # saved: PFT401
                yield from self._items(ctx, name, v)

    def _problem(self, ctx: Context, name: str, value: object, ft: FieldType, doubtful: dict[str, bool],
                 checked: bool) -> str | None:
        cls = ctx.spec.config_class
        assert ctx.facts is not None  # the caller checks only fields peft's facts describe
        task_types = ctx.facts.task_types
        if name == "task_type":
            if checked or value is None or value in task_types:
                return None  # a config peft built has had its task_type checked by peft (PFT211)
            close = [t for t in task_types if t.lower() == str(value).lower()]
            hint = f"; did you mean {close[0]!r}?" if close else f"; use one of {', '.join(task_types)}"
            return f"task_type={value!r} is not a peft TaskType: {cls} raises \"Invalid task type\"{hint}"
        # saved configs: a wrong type is PFT401's; only values of a declared type are tried here
        if ctx.spec.source == "adapter_config" and not doubtful[name]:
            return None
        probe = ctx.probe(name, value, leave_out=frozenset(doubtful))
        if probe is None or probe.raised is None:
            return None  # peft accepts it (or cannot tell without the real model): nothing certain to say
        raised = probe.raised.text()
        if isinstance(value, str) and ft.choices and "str" not in ft.kinds:
            shown = ", ".join(repr(c) for c in ft.choices)
            return f"{name}={value!r}: get_peft_model raises {raised}; {cls} declares {shown}"
        if not doubtful[name]:
            return (f"{name}={value!r} is a {type(value).__name__}, but {cls} declares `{ft.text}`: get_peft_model "
                    f"raises {raised}")
        return f"{name}={value!r}: get_peft_model raises {raised}"

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


def _unusual_number(default: object, value: object) -> bool:
    """A number of a declared type that a layer may still refuse (torch's dropout takes 0..1): negative,
    not finite, or above 1 where the default is a fraction. Only a failure peft shows is reported."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    if value < 0 or not math.isfinite(value):
        return True
    return isinstance(default, float) and 0 <= default < 1 and value > 1


def _is_rank(name: str, value: object) -> bool:
    return name == "r" and isinstance(value, int) and not isinstance(value, bool) and value <= 0
