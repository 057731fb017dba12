"""PFT202 shorthand-in-list."""

from __future__ import annotations

from typing import Iterator

from peftlint.codes import Code
from peftlint.diagnostics import Applicability, Diagnostic, Edit, Fix, Severity
from peftlint.fix.ops import Op, OpKind
from peftlint.rules._common import literal_problem, py_example, py_text, string_items
from peftlint.rules.base import Expect, Rule
from peftlint.rules.callfix import call_fix, layer_filtered, linear_leaves
from peftlint.rules.context import Context
from peftlint.textpos import LineIndex


def _quote(ctx: Context, s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


class ShorthandInList(Rule):
    code = Code.SHORTHAND_IN_LIST
    name = "shorthand-in-list"
    severity = Severity.ERROR
    summary = '`"all-linear"` inside a list; PEFT expands only the bare string.'
    docs = """
    PEFT expands `target_modules="all-linear"` to every linear layer except the output head, but
    only when it is the bare string. In a list, `["all-linear"]` is a literal module name that
    matches nothing: `Target modules {'all-linear'} not found in the base model`.

    ## Fix safety

    The fix is safe: it writes `target_modules="all-linear"` in place of the list. When the config
    also selects layers (`layers_to_transform` or `layers_pattern`), peft rejects a string
    `target_modules` ("`layers_to_transform` cannot be used when `target_modules` is a str"), so
    the fix writes instead the explicit list of the names `"all-linear"` stands for on the base
    model (every linear layer but the output head); without the model there is no fix then.
    """
    bad = (py_example('config = LoraConfig(target_modules=["all-linear"])', model=None,
                      expect=(Expect(3, 37, '"all-linear" inside a list is a literal module name',
                                     fixed=py_text('config = LoraConfig(target_modules="all-linear")', model=None)),)),
           py_example('config = LoraConfig(target_modules=["all-linear"], layers_to_transform=[0, 1])',
                      expect=(Expect(4, 37, '"all-linear" inside a list is a literal module name',
                                     fixed=py_text('config = LoraConfig(target_modules=["q_proj", "k_proj", "v_proj", '
                                                   '"o_proj", "gate_proj", "up_proj", "down_proj"], '
                                                   'layers_to_transform=[0, 1])')),)))
    good = (py_example('config = LoraConfig(target_modules="all-linear")', model=None),)
    needs_model = False

    def check(self, ctx: Context) -> Iterator[Diagnostic]:
        v = ctx.field("target_modules")
        items = list(string_items(ctx))
        for item in items:
            if literal_problem(item.value) != "shorthand":
                continue
            assert v is not None and v.items is not None  # string_items found the item in it
            fix = None
            if len(v.items) == 1 and not v.origin:
                fix = self._fix(ctx, v, item)
            remedy = f'target_modules="{item.value}"'
            short = f"write {remedy}"
            if layer_filtered(ctx):  # peft rejects a string target_modules together with a layer filter
                remedy += ", which cannot be combined with layers_to_transform/layers_pattern"
                short = "list the linear layers instead (a layer filter rules out the shorthand)"
            yield self.diagnostic(
                ctx, item.span,
                f'"{item.value}" inside a list is a literal module name and matches nothing; {short}',
                subject=item.value, fix=fix,
                detail=f"PEFT expands the shorthand only as a bare string: {remedy}.")

    @staticmethod
    def _fix(ctx: Context, v, item) -> Fix | None:
        if ctx.spec.source == "python":
            if layer_filtered(ctx):
                names = linear_leaves(ctx)
                # the item is replaced, so the list keeps its layout and comments
                return call_fix(ctx, Applicability.SAFE, f"list the linear layers: {', '.join(names)}",
                                [Op(OpKind.REPLACE_ITEM, "target_modules", index=0, values=tuple(names))]
                                ) if names else None
            return call_fix(ctx, Applicability.SAFE, f'replace the list with the string "{item.value}"',
                            [Op(OpKind.SET_ARG, "target_modules", value=item.value)])
        if ctx.spec.source not in ("adapter_config", "yaml") or layer_filtered(ctx):
            return None
        literal = LineIndex.of(ctx.text).slice(item.span) if ctx.text else ""
        if not literal.endswith(('"', "'")):
            literal = _quote(ctx, item.value)
        return Fix(Applicability.SAFE, (Edit(ctx.spec.path, v.span, literal),),
                   f'replace the list with the string "{item.value}"')
