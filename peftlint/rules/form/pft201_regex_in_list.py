"""PFT201 regex-in-list."""

from __future__ import annotations

from typing import Iterator

from peftlint.codes import Code
from peftlint.diagnostics import Diagnostic, Severity
from peftlint.rules._common import literal_problem, py_example, string_items
from peftlint.rules.base import Expect, Rule
from peftlint.rules.context import Context


class RegexInList(Rule):
    code = Code.REGEX_IN_LIST
    name = "regex-in-list"
    severity = Severity.ERROR
    summary = "A `target_modules` list entry contains regex syntax; list entries are literal names."
    docs = """
    Only a *string* `target_modules` is a regular expression. Inside a list every entry is a
    literal module name (exact, or a suffix at a dot boundary), so `".*q_proj"` or `"q_.*"`
    matches nothing — silently, if another entry matches. (Before PEFT 0.6 list entries were
    searched as regexes; scripts from that time break this way.)

    Fix: use a single string regex, or list the literal names.
    """
    bad = (py_example('config = LoraConfig(target_modules=["q_proj", ".*v_proj"])', model=None,
                      expect=(Expect(3, 47, "`.*v_proj` is in a list, where entries are literal module names"),)),)
    good = (py_example('config = LoraConfig(target_modules=r".*\\.(q_proj|v_proj)")', model=None),)
    needs_model = False

    def check(self, ctx: Context) -> Iterator[Diagnostic]:
        for item in string_items(ctx):
            if literal_problem(item.value) == "regex":
                yield self.diagnostic(
                    ctx, item.span,
                    f"`{item.value}` is in a list, where entries are literal module names, not regexes: it matches "
                    "nothing. Use one string regex for target_modules (e.g. r\".*\\.(q_proj|v_proj)\") or literal names",
                    subject=item.value)
