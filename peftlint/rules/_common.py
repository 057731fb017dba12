"""Helpers shared by several rule families."""

from __future__ import annotations

import functools
import re

from peftlint.rules.base import Example
from peftlint.rules.context import Context
from peftlint.semantics.matching import ALL_LINEAR
from peftlint.spec import Value

SMOL = "HuggingFaceTB/SmolLM2-135M"


def py_example(body: str, model: str | None = SMOL, imports: str = "LoraConfig") -> Example:
    """A Python example: ``from peft import ...``, a model hint comment (unless ``model`` is None), ``body``."""
    hint = f"# peftlint: model={model}\n" if model else ""
    return Example(f"from peft import {imports}\n\n{hint}{body}\n")


_REGEX_CHARS = re.compile(r"[*+?()|^$\\{}]")


_MALFORMED = re.compile(r"[\[\]'\",\s]")


@functools.lru_cache(maxsize=4096)
def literal_problem(entry: str) -> str | None:
    """Why a list entry cannot be a literal module name ("regex", "shorthand", "malformed"), or None."""
    if entry.lower() == ALL_LINEAR:
        return "shorthand"
    if _REGEX_CHARS.search(entry):
        return "regex"
    if entry == "" or _MALFORMED.search(entry) or entry.startswith(".") or entry.endswith(".") or ".." in entry:
        return "malformed"
    return None


def string_items(ctx: Context, field_name: str = "target_modules") -> list[Value]:
    """The static string items of a list field (none when the field is absent, dynamic or not a list)."""
    v = ctx.field(field_name)
    if v is None or v.dynamic or v.items is None:
        return []
    return [i for i in v.items if not i.dynamic and isinstance(i.value, str)]


_LITERAL = re.compile(r"Literal\[([^\]]*)\]")


_SIMPLE_TYPES = {"int": (int,), "float": (int, float), "bool": (bool,), "str": (str,), "dict": (dict,),
                 "list": (list,), "tuple": (list,), "set": (list,)}


def _allowed_types(type_name: str) -> tuple[set[type], bool] | None:
    """(Python types a field accepts, whether None is allowed) from peft's annotation, or None when
    the annotation names anything this simple reader does not know (sub-configs, enums...)."""
    text = _LITERAL.sub("str", type_name)
    text = text.replace("Optional[", "None|").replace("Union[", "")
    tokens = [t for t in re.split(r"[\[\],|\s]+", text) if t]
    allowed: set[type] = set()
    none_ok = False
    for tok in tokens:
        if tok in ("None", "NoneType"):
            none_ok = True
        elif tok in _SIMPLE_TYPES:
            allowed |= set(_SIMPLE_TYPES[tok])
        elif tok in ("TaskType", "PeftType"):
            allowed.add(str)
        else:
            return None
    return allowed, none_ok


def _type_ok(name: str, value: object, allowed: set[type]) -> bool:
    if isinstance(value, bool):
        return bool in allowed
    if isinstance(value, int) and bool in allowed and value in (0, 1):
        return True  # truthiness works the same
    if isinstance(value, float) and int in allowed and name != "r":
        return True  # e.g. lora_alpha=16.0 works; only a float rank breaks the layer shapes
    return isinstance(value, tuple(allowed))


def value_problem(ctx: Context, name: str, value: object, type_name: str, task_types: list[str]) -> str | None:
    """Why ``name=value`` is not accepted by the spec's config class (PFT210), or None."""
    cls = ctx.spec.config_class
    if name == "task_type":
        if value is not None and value not in task_types:
            close = [t for t in task_types if t.lower() == str(value).lower()]
            hint = f"; did you mean {close[0]!r}?" if close else f"; use one of {', '.join(task_types)}"
            return f"task_type={value!r} is not a peft TaskType: {cls} raises \"Invalid task type\"{hint}"
        return None
    if name == "r" and isinstance(value, int) and not isinstance(value, bool) and value <= 0:
        if ctx.spec.method == "LORA":
            return (f"r={value}: get_peft_model raises \"`r` should be a positive integer value but the value "
                    f"passed is {value}\"; use a positive rank such as 8")
        return f"r={value} is not a positive rank: {cls} cannot build a useful adapter with it; use a positive rank"
    literal = _LITERAL.search(type_name)
    choices = [c.strip().strip("'\"") for c in literal.group(1).split(",")] if literal else []
    if isinstance(value, str) and choices and name == "bias" and value not in choices:
        return (f"bias={value!r} is not one of {choices}: get_peft_model raises \"Requested bias: {value}, is not "
                "implemented.\"")
    if isinstance(value, str) and choices and name.startswith("init_") and name.endswith("_weights"):
        ok = {c.lower() for c in choices} | {"lora_ga"}  # lora_ga is accepted but missing from the annotation
        if value.lower() not in ok and not value.startswith(("pissa", "corda")):
            shown = [c for c in choices if "[" not in c]
            return (f"{name}={value!r} is not a known initialization: get_peft_model raises \"Unknown initialization "
                    f"{name}='{value}'\"; use True, False or one of {shown}")
        return None
    allowed = _allowed_types(type_name)
    if allowed is None or value is None and allowed[1]:
        return None
    types, _ = allowed
    if value is None or not types or _type_ok(name, value, types):
        return None
    want = " or ".join(sorted({t.__name__ for t in types} | ({"None"} if allowed[1] else set())))
    return (f"{name}={value!r} has type {type(value).__name__}, but {cls} expects {want}: PEFT does not convert "
            "it and fails later (usually with a TypeError inside get_peft_model)")
