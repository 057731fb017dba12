"""PFT311 unmatched-target-parameter."""

from __future__ import annotations

from typing import Iterator

from peftlint.codes import Code
from peftlint.diagnostics import Diagnostic, Severity
from peftlint.rules._common import py_example, string_items
from peftlint.rules.base import Expect, Rule
from peftlint.rules.context import Context
from peftlint.semantics.matching import entry_matches
from peftlint.semantics.partial import is_partial
from peftlint.semantics.peft_errors import exclude_warning_first
from peftlint.semantics.suggest import format_names


class UnmatchedTargetParameter(Rule):
    code = Code.UNMATCHED_TARGET_PARAMETER
    name = "unmatched-target-parameter"
    severity = Severity.ERROR
    summary = "A `target_parameters` entry matches no parameter PEFT can wrap."
    docs = """
    `target_parameters` entries are matched against `<module name>.<parameter name>` of every
    module's **own** parameters, exactly or as a dot-bounded suffix — no regex. A module name
    (`mlp.experts`), a regex (`.*down_proj`) or a v4 name (`w1`) matches nothing: PEFT warns
    `target_parameters=... were set but no parameter was matched` when no entry matched (raises,
    when nothing else matched either; says nothing when another entry matched), and the experts
    stay frozen.

    A parameter registered on the model itself (the module given to `get_peft_model`) exists but
    cannot be targeted: PEFT raises `Targeting an nn.Parameter on the top-level module is not
    supported`.

    Fix: name the parameter, e.g. `mlp.experts.gate_up_proj`; `peftlint modules MODEL` lists
    the models' fused expert parameters.
    """
    bad = (py_example('config = LoraConfig(target_modules=["q_proj"], target_parameters=["mlp.experts"])',
                             "Qwen/Qwen1.5-MoE-A2.7B",
                      expect=(Expect(4, 67, "target_parameters entry `mlp.experts` matches no parameter"),)),)
    good = (py_example('config = LoraConfig(target_modules=["q_proj"], target_parameters=["mlp.experts.down_proj"])',
                "Qwen/Qwen1.5-MoE-A2.7B"),)

    def check(self, ctx: Context) -> Iterator[Diagnostic]:
        assert ctx.inventory is not None  # needs_model: the engine runs this rule only with a model
        t = ctx.targeting
        if t is None or is_partial(ctx.inventory):
            return  # with a subtree not read, a parameter could be there
        for item in string_items(ctx, "target_parameters"):
            e = item.value
            if t.parameter_hits.get(e):
                continue
            if e in t.root_parameter_hits:
                pname = t.root_parameter_hits[e]
                yield self.diagnostic(
                    ctx, item.span,
                    f"target_parameters entry `{e}` names `{pname}`, a parameter of the top-level module of "
                    f"{ctx.model_label}: PEFT raises ValueError; move the parameter into a submodule",
                    subject=e,
                    detail=f"PEFT raises ValueError (\"Targeting an nn.Parameter on the top-level module is not "
                           f"supported (parameter '{pname}')\").")
                continue
            owners = [m for m in ctx.inventory.modules if entry_matches(e, m.name)]
            params = [p for m in owners for p, shape in m.params.items() if len(shape) in (2, 3)]
            if params:
                hint = f"; name its parameters: {[f'{e}.{p}' for p in dict.fromkeys(params)][:3]!r}"
            else:
                cands = list(dict.fromkeys(p for m in ctx.inventory.modules for p, s in m.params.items() if len(s) == 3))
                hint = (f"; this model's fused expert parameters are {format_names(cands, 4)}" if cands else
                        "; entries are `<module>.<parameter>` names (e.g. `q_proj.weight`), not regexes")
            alone = not t.targeted and len(t.parameters_targeted) == 0
            if alone and ctx.complete:
                short = runtime = "PEFT raises because nothing is targeted"
            elif not t.parameters_targeted and not exclude_warning_first(ctx.view, ctx.inventory, t):
                short = "PEFT warns and adapts none"
                runtime = "PEFT warns \"target_parameters=... were set but no parameter was matched\" and adapts none"
            elif t.parameters_targeted:  # peft warns only when no entry matched at all
                short = "PEFT ignores it silently"
                runtime = "PEFT ignores it silently and wraps only the other entries' parameters"
            else:
                short = "PEFT adapts no parameter"
                runtime = "PEFT adapts no parameter and only warns that exclude_modules excluded nothing"
            yield self.diagnostic(
                ctx, item.span,
                f"target_parameters entry `{e}` matches no parameter of {ctx.model_label}: {short}{hint}",
                subject=e, detail=f"{runtime}.")
