"""PFT212 slow-regex."""

from __future__ import annotations

from functools import partial
from typing import Callable, Iterator

from peftlint.codes import Code
from peftlint.diagnostics import Diagnostic, Severity, Span
from peftlint.rules._common import py_example, string_items
from peftlint.rules.base import Expect, Rule
from peftlint.rules.context import Context
from peftlint.rules.fields._common import key_span, pattern_dicts
from peftlint.semantics import regex_budget as budgeted
from peftlint.semantics.matching import (
    ALL_LINEAR,
    layers_pattern_regex,
    modules_to_save_excludes,
    pattern_key,
    safe_fullmatch,
)

_SHOWN = 80  # characters of a pattern quoted in the message


class SlowRegex(Rule):
    code = Code.SLOW_REGEX
    name = "slow-regex"
    severity = Severity.WARNING
    summary = "A user regex takes longer than the time budget to match the model's module names (catastrophic backtracking)."
    docs = """
    PEFT matches the regexes of a config with Python's `re` against every module name of the
    model: a string `target_modules` or `exclude_modules` (`re.fullmatch`), each `modules_to_save`
    entry, `layers_pattern`, the keys of `rank_pattern`/`alpha_pattern` and an IA3 string
    `feedforward_modules`. A pattern with nested repetition such as `(.*)*z` or `(a|aa)*b`
    backtracks exponentially: `get_peft_model` never returns, and neither would a linter that simply
    ran the pattern.

    peftlint runs each such pattern with the same `re` under a time budget (`regex-timeout` in
    `[tool.peftlint]`, 1 second by default, summed over all module names); a pattern that exceeds
    it is reported here and the checks that depend on it are skipped.

    Fix: write the pattern without nested quantifiers, e.g. `r".*\\.(q_proj|v_proj)"`.
    """
    bad = (py_example('config = LoraConfig(target_modules="(.*)*z")',
                      expect=(Expect(4, 36, "the target_modules regex `(.*)*z`"),)),)
    good = (py_example('config = LoraConfig(target_modules=r".*\\.(q_proj|v_proj)")'),)

    def check(self, ctx: Context) -> Iterator[Diagnostic]:
        assert ctx.inventory is not None  # needs_model: the engine runs this rule only with a model
        inv = ctx.inventory
        names = inv.names()
        keys = names + [f"{m.name}.{p}" for m in inv.modules for p in m.params]
        for field_name, span, pattern, probe in _user_patterns(ctx):
            try:
                for n in keys:
                    probe(n)
            except budgeted.RegexTooSlow as exc:
                shown = pattern if len(pattern) <= _SHOWN else pattern[:_SHOWN] + "…"
                yield self.diagnostic(
                    ctx, span,
                    f"matching the {field_name} `{shown}` against the module names of {ctx.model_label} took "
                    f"more than {exc.budget:g} s: get_peft_model would hang too; rewrite it without nested quantifiers",
                    subject=pattern,
                    detail="The match was stopped (catastrophic backtracking, e.g. nested repetition such as `(.*)*`). "
                           "PEFT runs the same `re` matching on every module name, so get_peft_model would hang here "
                           "too. The checks that depend on the pattern were skipped (the budget is regex-timeout in "
                           "[tool.peftlint]).")


Probe = Callable[[str], object]


def _user_patterns(ctx: Context) -> Iterator[tuple[str, Span, str, Probe]]:
    """(field, span, pattern, how PEFT matches it against one name) for every user regex of the spec."""
    for name in ("target_modules", "exclude_modules"):
        v = ctx.field(name)
        if v is not None and v.is_str and v.value and v.value.lower() != ALL_LINEAR:
            yield f"{name} regex", v.span, v.value, partial(safe_fullmatch, v.value)
    if ctx.spec.method == "IA3":
        v = ctx.field("feedforward_modules")
        if v is not None and v.is_str and v.value:
            yield "feedforward_modules regex", v.span, v.value, partial(safe_fullmatch, v.value)
    for item in string_items(ctx, "modules_to_save"):
        yield "modules_to_save entry", item.span, item.value, partial(modules_to_save_excludes, item.value)
    lp = ctx.field("layers_pattern")
    if lp is not None and not lp.dynamic:
        items = lp.items if lp.items is not None else [lp]
        for item in items:
            if not item.dynamic and isinstance(item.value, str) and item.value:
                yield "layers_pattern", item.span, item.value, partial(_match, layers_pattern_regex(item.value))
    for field_name, v, pkeys in pattern_dicts(ctx):
        for k in pkeys:
            yield f"{field_name} key", key_span(v, k), k, partial(pattern_key, [k])


def _match(pattern: str, name: str) -> object:
    try:
        return budgeted.match(pattern, name)
    except budgeted.RegexTooSlow:
        raise
    except Exception:  # an invalid pattern is PFT302's business
        return None
