"""Helpers shared by the targets rules."""

from __future__ import annotations

from peftlint.rules._common import literal_problem, string_items
from peftlint.rules.context import Context
from peftlint.semantics.matching import entry_matches


def list_entries(ctx: Context):
    """(entry text, Value) for each static item of a list target_modules that is a plain name; a
    repeated entry once, at its first occurrence (the repetitions are PFT204's)."""
    seen: set[str] = set()
    for item in string_items(ctx):
        if item.value in seen:
            continue
        seen.add(item.value)
        if literal_problem(item.value) is None:  # else reported by the PFT2xx form rules
            yield item.value, item


def span_for(ctx: Context, module_name: str):
    """The span of the list entry that reaches ``module_name``, else of the whole field."""
    v = ctx.field("target_modules")
    if v is None:
        return ctx.spec.span, None
    if v.items is not None:
        for item in v.items:
            if isinstance(item.value, str) and entry_matches(item.value, module_name):
                return item.span, item.value
    return v.span, None


def backticked(xs) -> str:
    return ", ".join(f"`{x}`" for x in xs)
