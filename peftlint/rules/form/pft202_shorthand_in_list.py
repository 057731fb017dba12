"""PFT202 shorthand-in-list."""

from __future__ import annotations

from typing import Iterator

from peftlint.codes import Code
from peftlint.diagnostics import Diagnostic, Edit, Fix, Severity
from peftlint.rules._common import literal_problem, py_example, py_text, string_items
from peftlint.rules.base import Expect, Rule
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

    Fix (safe, automatic): `target_modules="all-linear"`.
    """
    bad = (py_example('config = LoraConfig(target_modules=["all-linear"])', model=None,
                      expect=(Expect(3, 37, '"all-linear" inside a list is a literal module name',
                                     fixed=py_text('config = LoraConfig(target_modules="all-linear")', model=None)),)),)
    good = (py_example('config = LoraConfig(target_modules="all-linear")', model=None),)
    needs_model = False

    def check(self, ctx: Context) -> Iterator[Diagnostic]:
        v = ctx.field("target_modules")
        items = list(string_items(ctx))
        for item in items:
            if literal_problem(item.value) != "shorthand":
                continue
            fix = None
            if len(v.items) == 1 and not v.origin:
                literal = LineIndex.of(ctx.text).slice(item.span) if ctx.text else ""
                if not literal.endswith(('"', "'")):
                    literal = _quote(ctx, item.value)
                fix = Fix("safe", (Edit(ctx.spec.path, v.span, literal),),
                          f'replace the list with the string "{item.value}"')
            yield self.diagnostic(
                ctx, item.span,
                f'"{item.value}" inside a list is a literal module name and matches nothing; PEFT expands the shorthand '
                f'only as a bare string: target_modules="{item.value}"',
                subject=item.value, fix=fix)
