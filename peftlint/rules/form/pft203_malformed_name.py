"""PFT203 malformed-name."""

from __future__ import annotations

import re
from typing import Iterator

from peftlint.codes import Code
from peftlint.diagnostics import Diagnostic, Severity
from peftlint.rules._common import literal_problem, py_example, string_items
from peftlint.rules.base import Expect, Rule
from peftlint.rules.context import Context


class MalformedName(Rule):
    code = Code.MALFORMED_NAME
    name = "malformed-name"
    severity = Severity.ERROR
    summary = "An empty entry, or one with brackets, quotes, commas, spaces or stray dots."
    docs = """
    Module names never contain brackets, quotes, commas or spaces, and never start or end with a
    dot. Such entries usually come from a command-line string passed through unparsed
    (`--lora_target_modules '[Wqkv]'` becomes the single name `"[Wqkv]"`) or from splitting
    `"q_proj, v_proj"` on commas only. They match nothing.

    Fix: pass a real list of names.
    """
    bad = (py_example('config = LoraConfig(target_modules=["q_proj, v_proj"])', model=None,
                      expect=(Expect(3, 37, "`q_proj, v_proj` is not a module name in target_modules"),)),)
    good = (py_example('config = LoraConfig(target_modules=["q_proj", "v_proj"])', model=None),)
    needs_model = False

    def check(self, ctx: Context) -> Iterator[Diagnostic]:
        for field_name in ("target_modules", "modules_to_save", "exclude_modules"):
            for item in string_items(ctx, field_name):
                if literal_problem(item.value) != "malformed":
                    continue
                parts = [p for p in re.split(r"[\[\]'\",\s]+", item.value) if p]
                hint = f"; did you mean the list {parts!r}?" if len(parts) > 1 or (parts and parts[0] != item.value) else ""
                what = "an empty name" if item.value == "" else f"`{item.value}` is not a module name"
                yield self.diagnostic(ctx, item.span, f"{what} in {field_name}: it matches nothing{hint}",
                                      subject=item.value)
