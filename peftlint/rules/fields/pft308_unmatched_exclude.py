"""PFT308 unmatched-exclude."""

from __future__ import annotations

from typing import Iterator

from peftlint.codes import Code
from peftlint.diagnostics import Diagnostic, Severity
from peftlint.model import inventory as inv
from peftlint.rules._common import literal_problem, py_example, string_items
from peftlint.rules.base import Expect, Rule
from peftlint.rules.context import Context
from peftlint.rules.fields._common import plural
from peftlint.semantics import regex_budget as budgeted
from peftlint.semantics.matching import entry_matches, safe_fullmatch
from peftlint.semantics.partial import is_partial
from peftlint.semantics.suggest import closest_names, format_names


class UnmatchedExclude(Rule):
    code = Code.UNMATCHED_EXCLUDE
    name = "unmatched-exclude"
    severity = Severity.WARNING
    summary = "An `exclude_modules` entry matches nothing, or names a container whose children stay adapted."
    docs = """
    `exclude_modules` removes only the **matched module itself** (exact name or dot-bounded
    suffix for a list, `re.fullmatch` on the full name for a string). Excluding a container such
    as `self_attn` or `mlp` does not exclude the layers inside it, and an entry that matches
    nothing is ignored (PEFT warns only when nothing at all was excluded). A plain word as a
    string (`exclude_modules="v_proj"`) full-matches no name, so it excludes nothing.

    Fix: name the adapted layers themselves (`mlp.down_proj`), or use a regex over the full
    name (`r".*\\.mlp\\..*"`).
    """
    bad = (py_example('config = LoraConfig(target_modules="all-linear", exclude_modules=["mlp"])',
                      expect=(Expect(4, 67, "exclude_modules entry `mlp` names a container"),)),)
    good = (py_example('config = LoraConfig(target_modules="all-linear", '
                'exclude_modules=["mlp.gate_proj", "mlp.up_proj", "mlp.down_proj"])'),)

    def check(self, ctx: Context) -> Iterator[Diagnostic]:
        assert ctx.inventory is not None  # needs_model: the engine runs this rule only with a model
        t = ctx.targeting
        v = ctx.field("exclude_modules")
        if t is None or v is None or v.dynamic or v.value is None:
            return
        targeted = t.targeted
        names = ctx.inventory.names()
        if v.is_str:
            exc = budgeted.compile_error(v.value)
            if exc is not None:
                yield self.diagnostic(
                    ctx, v.span, f"exclude_modules={v.value!r} is not a valid regex ({exc}): get_peft_model raises "
                    "re.error", subject=v.value, severity=Severity.ERROR)
                return
            if v.value and not any(safe_fullmatch(v.value, n) for n in names) and not is_partial(ctx.inventory):
                yield self.diagnostic(
                    ctx, v.span,
                    f"exclude_modules={v.value!r} is a regex that full-matches no module name of {ctx.model_label}, so "
                    f"it excludes nothing (PEFT warns at runtime); use r\".*\\.{v.value}\" or the list [{v.value!r}]",
                    subject=v.value)
            return
        for item in string_items(ctx, "exclude_modules"):
            e = item.value
            if literal_problem(e) is not None:
                continue  # reported by the PFT2xx form rules
            hits = [n for n in names if entry_matches(e, n)]
            if not hits and is_partial(ctx.inventory):
                continue  # it could match inside a subtree that was not read
            if not hits:
                hint = closest_names(e, ctx.inventory)
                yield self.diagnostic(
                    ctx, item.span,
                    f"exclude_modules entry `{e}` matches no module of {ctx.model_label}, so it excludes nothing"
                    + (f"; did you mean {format_names(hint)}?" if hint else ""),
                    subject=e)
                continue
            owners = [k for k in t.parameters_targeted if any(k.startswith(h + ".") for h in hits)]
            if owners:
                yield self.diagnostic(
                    ctx, item.span,
                    f"exclude_modules entry `{e}` names modules whose parameters are in target_parameters, but "
                    f"exclude_modules does not apply to parameters: PEFT still adapts {format_names(owners, 2)} "
                    f"({plural(len(owners), 'parameter')}); remove them from target_parameters instead",
                    subject=e)
                continue
            containers = [n for n in hits if (m := ctx.inventory.module(n)) is not None and m.kind in (inv.CONTAINER, inv.MODULE_LIST)]
            inside = [n for n in targeted if any(n.startswith(c + ".") for c in containers)]
            if inside:
                leaves = list(dict.fromkeys(n.rsplit(".", 1)[-1] for n in inside))
                yield self.diagnostic(
                    ctx, item.span,
                    f"exclude_modules entry `{e}` names a container: the {plural(len(inside), 'module')} inside it stay "
                    f"adapted; list them or use the regex r\".*\\.{e}\\..*\"",
                    subject=e,
                    detail=f"PEFT excludes only the container itself, so the modules inside it ({format_names(leaves, 4)}) "
                           f"stay adapted; list them (e.g. {[f'{e}.{x}' for x in leaves[:3]]!r}).")
