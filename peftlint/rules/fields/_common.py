"""Helpers shared by the fields rules."""

from __future__ import annotations

from typing import Iterator

from peftlint.rules._common import string_items
from peftlint.rules.context import Context
from peftlint.semantics.matching import SEQ_CLS_HEADS
from peftlint.spec import Value

# Methods whose rank_pattern/alpha_pattern go through peft's ``get_pattern_key`` (first match wins).
# AdaLoRA's rank_pattern is an internal budget mask and OSF uses re.search (docs/peft-behaviour.md#patterns).
PATTERN_KEY_METHODS = frozenset({"LORA", "LOHA", "LOKR", "HIRA", "DELORA"})


def _auto_heads(ctx: Context) -> set[str]:
    """modules_to_save entries PEFT appends itself for the task (they are in saved configs)."""
    task = ctx.view.task_type
    task = task.rsplit(".", 1)[-1] if isinstance(task, str) else None
    if task in ("SEQ_CLS", "TOKEN_CLS"):
        return set(SEQ_CLS_HEADS)
    if task == "QUESTION_ANS":
        return {"qa_outputs"}
    return set()


def user_saved_items(ctx: Context) -> list[Value]:
    heads = _auto_heads(ctx)
    return [i for i in string_items(ctx, "modules_to_save") if i.value not in heads]


def plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _patterns(value: object) -> list[str]:
    if isinstance(value, str):
        return [value] if value else []
    if isinstance(value, list):
        return [p for p in value if isinstance(p, str)]
    return []


def pattern_dicts(ctx: Context) -> Iterator[tuple[str, Value, list[str]]]:
    if ctx.spec.method not in PATTERN_KEY_METHODS:
        return
    for name in ("rank_pattern", "alpha_pattern"):
        v = ctx.field(name)
        if v is None or v.dynamic or not isinstance(v.value, dict) or not v.value:
            continue
        yield name, v, [k for k in v.value if isinstance(k, str)]


def key_span(v: Value, key: str):
    return v.keys[key].span if v.keys and key in v.keys else v.span
