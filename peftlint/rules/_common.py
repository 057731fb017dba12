"""Helpers shared by several rule families."""

from __future__ import annotations

import functools
import re

from peftlint.diagnostics import Span
from peftlint.rules.base import Example, Expect
from peftlint.rules.context import Context
from peftlint.semantics.matching import ALL_LINEAR
from peftlint.spec import Value

SMOL = "HuggingFaceTB/SmolLM2-135M"


def py_text(body: str, model: str | None = SMOL, imports: str = "LoraConfig") -> str:
    """A Python file: ``from peft import ...``, a model hint comment (unless ``model`` is None), ``body``."""
    hint = f"# peftlint: model={model}\n" if model else ""
    return f"from peft import {imports}\n\n{hint}{body}\n"


def py_example(body: str, model: str | None = SMOL, imports: str = "LoraConfig",
               expect: tuple[Expect, ...] = ()) -> Example:
    """A Python example written by ``py_text``; ``expect`` pins a bad example's findings."""
    return Example(py_text(body, model, imports), expect=expect)


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


def argument_span(ctx: Context, name: str | None) -> Span:
    """Where the argument ``name`` is written (``name=value``), else the config call."""
    if name is None:
        return ctx.spec.span
    facts = ctx.spec.facts
    span = facts.key_spans.get(name)
    if span is not None:
        return span
    v = ctx.spec.fields.get(name)
    return v.span if v is not None else ctx.spec.span
