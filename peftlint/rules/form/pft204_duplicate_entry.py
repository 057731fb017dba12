"""PFT204 duplicate-entry."""

from __future__ import annotations

from typing import Iterator

from peftlint.codes import Code
from peftlint.diagnostics import Applicability, Diagnostic, Fix, Severity
from peftlint.fix.edits import remove_item_edit
from peftlint.fix.ops import Op, OpKind
from peftlint.rules._common import py_example, py_text
from peftlint.rules.base import Expect, Rule
from peftlint.rules.callfix import call_fix
from peftlint.rules.context import Context
from peftlint.spec import Value

MAX_LISTED = 100  # repetitions reported one by one per field; the rest in one finding


class DuplicateEntry(Rule):
    code = Code.DUPLICATE_ENTRY
    name = "duplicate-entry"
    severity = Severity.WARNING
    summary = "The same entry appears twice."
    docs = """
    A repeated entry changes nothing (PEFT turns the list into a set) but usually hides a typo
    for the name that was meant, such as `["q_proj", "q_proj"]` for `["q_proj", "v_proj"]`.

    ## Fix safety

    The fix removes the repetition (with its comma and the comment on its line; the rest of the
    list keeps its layout) and is safe: the set of names PEFT matches does not change. Check
    which name you meant, though.

    A field with more than 100 repetitions gets one finding for each of the first 100 and one
    for all the others (without an automatic fix).
    """
    bad = (py_example('config = LoraConfig(target_modules=["q_proj", "k_proj", "q_proj"])', model=None,
                      expect=(Expect(3, 57, "`q_proj` appears twice in target_modules",
                                     fixed=py_text('config = LoraConfig(target_modules=["q_proj", "k_proj"])', model=None)),)),)
    good = (py_example('config = LoraConfig(target_modules=["q_proj", "k_proj", "v_proj"])', model=None),)
    needs_model = False

    def check(self, ctx: Context) -> Iterator[Diagnostic]:
        for field_name in ("target_modules", "modules_to_save", "exclude_modules", "target_parameters"):
            v = ctx.field(field_name)
            if v is None or v.dynamic or v.items is None:
                continue
            seen: set[str] = set()
            prev: Value | None = None
            reported = 0
            for index, item in enumerate(v.items):
                if not item.dynamic and isinstance(item.value, str):
                    if item.value in seen and reported == MAX_LISTED:
                        rest = sum(1 for i in v.items[index:] if not i.dynamic and isinstance(i.value, str)) - len(
                            {i.value for i in v.items[index:] if not i.dynamic and isinstance(i.value, str)} - seen)
                        yield self.diagnostic(ctx, item.span, f"{rest:,} more repeated entries in {field_name} from "
                                              "here on (not listed one by one); remove the repetitions",
                                              subject=item.value)
                        break
                    if item.value in seen:
                        reported += 1
                        fix = None
                        what = f"remove the repeated `{item.value}`"
                        if prev is None or v.origin or not ctx.text:
                            pass
                        elif ctx.spec.source == "python":
                            fix = call_fix(ctx, Applicability.SAFE, what,
                                           [Op(OpKind.REPLACE_ITEM, field_name, index=index)])
                        else:  # JSON and YAML flow lists: a text edit (YAML's flow syntax is Python's here)
                            edits = remove_item_edit(ctx.spec.path, ctx.text, v.items, index,
                                                     python=ctx.spec.source != "adapter_config", container=v.kind)
                            fix = Fix(Applicability.SAFE, edits, what) if edits else None
                        yield self.diagnostic(ctx, item.span, f"`{item.value}` appears twice in {field_name}; "
                                              "remove the repetition (did you mean another name?)",
                                              subject=item.value, fix=fix)
                    seen.add(item.value)
                prev = item
