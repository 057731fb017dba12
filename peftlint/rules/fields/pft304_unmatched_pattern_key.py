"""PFT304 unmatched-pattern-key."""

from __future__ import annotations

from typing import Iterator

from peftlint.codes import Code
from peftlint.diagnostics import Applicability, Diagnostic, Severity
from peftlint.fix.ops import Op, OpKind
from peftlint.rules._common import py_example, py_text
from peftlint.rules.base import Expect, Rule
from peftlint.rules.callfix import call_fix
from peftlint.rules.context import Context
from peftlint.rules.fields._common import key_span, pattern_dicts
from peftlint.semantics import regex_budget as budgeted
from peftlint.semantics.matching import pattern_key, pattern_key_regex
from peftlint.semantics.suggest import format_names


class UnmatchedPatternKey(Rule):
    code = Code.UNMATCHED_PATTERN_KEY
    name = "unmatched-pattern-key"
    severity = Severity.WARNING
    summary = "A `rank_pattern`/`alpha_pattern` key matches no targeted module."
    docs = """
    PEFT looks each adapted module up in `rank_pattern`/`alpha_pattern` with
    `re.match(rf"(.*\\.)?({key})$", name)`: a key is a regex that must match a dot-bounded
    suffix of the full name. A partial word (`proj`), a container (`self_attn`), a prefix
    (`model.layers.0`) or a module that is not a target matches nothing: that module keeps `r`
    and `lora_alpha`, and PEFT only warns at runtime `The following rank_pattern keys did not
    match any targeted module and were ignored`.

    Fix: use the targeted module's name or a suffix of it (`q_proj`, `layers.0.self_attn.q_proj`).

    ## Fix safety

    The fix removes the key (and its value) from the dict. It is unsafe: it keeps the behaviour
    (PEFT ignores the key), but the key was meant for some module, and the right fix may be to
    rename it instead.
    """
    bad = (py_example('config = LoraConfig(target_modules=["q_proj", "v_proj"], rank_pattern={"self_attn": 16, "q_proj": 4})',
                      expect=(Expect(4, 72, "rank_pattern key `self_attn` applies to no adapted module",
                                     fixed=py_text('config = LoraConfig(target_modules=["q_proj", "v_proj"], '
                                                   'rank_pattern={"q_proj": 4})')),)),)
    good = (py_example('config = LoraConfig(target_modules=["q_proj", "v_proj"], rank_pattern={"q_proj": 16})'),)

    def check(self, ctx: Context) -> Iterator[Diagnostic]:
        assert ctx.inventory is not None  # needs_model: the engine runs this rule only with a model
        t = ctx.targeting
        if t is None or not ctx.complete:
            return
        targets = list(t.targeted) + list(t.parameters_targeted)
        for field_name, v, keys in pattern_dicts(ctx):
            for k in keys:
                exc = budgeted.compile_error(pattern_key_regex(k))
                if exc is not None:
                    yield self.diagnostic(
                        ctx, key_span(v, k),
                        f"{field_name} key `{k}` is not a valid regex ({exc}): get_peft_model raises re.error when it "
                        "looks up the ranks; escape it (keys are regexes matched against module-name suffixes)",
                        subject=k, severity=Severity.ERROR)
                    continue
                if any(pattern_key([k], n) for n in targets):
                    continue
                other = [m.name for m in ctx.inventory.modules if pattern_key([k], m.name)]
                why = (f"it matches {format_names(other, 2)}, which {'is' if len(other) == 1 else 'are'} not adapted"
                       if other else "it matches no module name as a dot-bounded suffix")
                yield self.diagnostic(
                    ctx, key_span(v, k),
                    f"{field_name} key `{k}` applies to no adapted module: PEFT warns and ignores it; use a targeted "
                    "module's name or suffix",
                    detail=f"The key {why}. PEFT warns that it was ignored and those modules keep the default.",
                    subject=k, fix=call_fix(ctx, Applicability.UNSAFE, f"remove the key `{k}` from {field_name}",
                                            [Op(OpKind.REMOVE_KEY, field_name, key=k)]))
