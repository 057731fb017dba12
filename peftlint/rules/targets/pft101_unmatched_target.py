"""PFT101 unmatched-target."""

from __future__ import annotations

from dataclasses import replace
from typing import Iterator

from peftlint.codes import Code
from peftlint.diagnostics import Applicability, Diagnostic, Fix, Severity
from peftlint.fix.edits import remove_item_edit, replace_string_edit
from peftlint.fix.ops import Op, OpKind
from peftlint.rules._common import py_example, py_text
from peftlint.rules.base import Expect, Rule
from peftlint.rules.callfix import call_fix
from peftlint.rules.context import Context
from peftlint.rules.targets._common import list_entries
from peftlint.semantics.partial import is_partial
from peftlint.semantics.peft_errors import error_class, nothing_targeted
from peftlint.semantics.roles import role_targets
from peftlint.semantics.suggest import adaptable_suffixes, format_names, suggest_target

# Falcon fuses q, k and v: q_proj becomes query_key_value, and v_proj, then already targeted, goes
FALCON_FIXED = py_text('config = LoraConfig(target_modules=["query_key_value"])', "tiiuae/falcon-7b")


class UnmatchedTarget(Rule):
    code = Code.UNMATCHED_TARGET
    name = "unmatched-target"
    severity = Severity.ERROR
    summary = "A `target_modules` list entry matches no module of the base model."
    docs = """
    PEFT matches each list entry against the full dotted module names: an entry matches a module
    whose name equals it or ends with `.` + entry. PEFT raises only when *no* entry matches
    anything; an entry that matches nothing next to one that does is ignored **silently**, so a
    typo (`vproj`) or a name from another architecture (`query_key_value` on Llama, `q` on OPT)
    trains a different adapter from the one you meant.

    peftlint suggests the model's own name by spelling and by role: the query/key/value/output
    projections and the MLP gate/up/down layers are recognised across architectures, so `q` on
    Llama points to `q_proj`, `q_proj` on Falcon to the fused `query_key_value`, and `c_attn`
    (GPT-2's fused qkv) on Qwen2 to `q_proj`, `k_proj`, `v_proj`. When there is exactly one such
    equivalent, or a fused name whose parts this model has separately, `--fix --unsafe-fixes`
    puts them in place (unsafe: it changes what is trained).

    Fix: use the names the model really has. `peftlint modules MODEL` lists them.

    ## Fix safety

    Unsafe: the fix puts the model's equivalent name(s) in place of the entry (or removes the
    entry when they are targeted already), which changes which layers are trained. peft must
    accept the fixed config, else no fix is offered.
    """
    bad = (py_example('config = LoraConfig(target_modules=["q_proj", "vproj"])',
                      expect=(Expect(4, 47, "`vproj` matches no module of HuggingFaceTB/SmolLM2-135M",
                                     fixed=py_text('config = LoraConfig(target_modules=["q_proj", "v_proj"])')),)),
           py_example('config = LoraConfig(target_modules=["q_proj", "v_proj"])', "tiiuae/falcon-7b",
                      expect=(Expect(4, 37, "this model has no separate query projection", fixed=FALCON_FIXED,
                                     detail='PEFT raises NoMatchingPeftModuleError ("Target modules'),
                              Expect(4, 47, "this model has no separate value projection", fixed=FALCON_FIXED))),
           # no module matched, but a parameter is: PEFT warns instead of raising
           py_example('config = LoraConfig(target_modules=["q_prj"], target_parameters=["mlp.experts.down_proj"])',
                      "Qwen/Qwen1.5-MoE-A2.7B",
                      expect=(Expect(4, 37, "`q_prj` matches no module of Qwen/Qwen1.5-MoE-A2.7B: PEFT only warns, "
                                            "as no module matches, and adapts just the target_parameters",
                                     detail="were set but no module was matched"),)),
    )
    good = (py_example('config = LoraConfig(target_modules=["q_proj", "v_proj"])'),)

    def check(self, ctx: Context) -> Iterator[Diagnostic]:
        assert ctx.inventory is not None  # needs_model: the engine runs this rule only with a model
        t = ctx.targeting
        if t is None or t.mode != "list":
            return
        entries = list(list_entries(ctx))
        dead = [(e, item) for e, item in entries if not t.entry_hits.get(e)]
        if not dead or is_partial(ctx.inventory):  # it could match inside a subtree that was not read
            return
        all_dead = len(dead) == len(entries) and ctx.complete and not t.matched and not t.parameters_targeted
        role_map = role_targets(ctx.inventory)
        taken = {e for e, _ in entries if t.entry_hits.get(e)}  # names the list keeps after the fixes
        for entry, item in dead:
            if all_dead:
                raised = nothing_targeted(ctx.view, ctx.inventory, t)
                runtime = f"PEFT raises {error_class(raised)}"
                detail = f"No entry of target_modules matches a module, so PEFT raises {raised}."
            elif not t.targeted and t.parameters_targeted and ctx.complete and not ctx.view.exclude_modules:
                runtime = "PEFT only warns, as no module matches, and adapts just the target_parameters"
                detail = ("No entry of target_modules matches a module, but target_parameters reach parameters, so "
                          "PEFT adapts those and warns (RuntimeWarning: \"target_modules={...} were set but no "
                          "module was matched.\").")
            else:
                runtime = "PEFT ignores it silently"
                detail = "PEFT ignores an entry that matches nothing silently and adapts only the other entries."
            hint = suggest_target(entry, ctx.inventory, role_map)
            fix_hint = hint.describe(4) or (
                f"this model's adaptable layers are {format_names(adaptable_suffixes(ctx.inventory), 6)}")
            yield self.diagnostic(
                ctx, item.span,
                f"`{entry}` matches no module of {ctx.model_label}: {runtime}; {fix_hint}",
                subject=entry, fix=self._fix(ctx, item, hint.replacements, taken), detail=detail)

    @staticmethod
    def _fix(ctx: Context, item, replacements: list[str], taken: set[str]) -> Fix | None:
        """Unsafe: put the equivalent names in place (or drop the entry when the list has them already)."""
        v = ctx.field("target_modules")
        text = ctx.text
        if not replacements or v is None or v.origin or not text or ctx.spec.source not in ("python", "adapter_config"):
            return None
        missing = [r for r in replacements if r not in taken]
        if ctx.spec.source == "python" and v.items is not None:
            index = v.items.index(item)
            what = (f"remove `{item.value}` ({format_names(replacements)} already targeted)" if not missing
                    else f"replace `{item.value}` with {format_names(missing)}")
            if not missing and len(v.items) < 2:
                return None
            fix = call_fix(ctx, Applicability.UNSAFE, what,
                           [Op(OpKind.REPLACE_ITEM, "target_modules", index=index, values=tuple(missing))])
            if fix is not None:
                taken.update(missing)
            return fix
        if ctx.spec.source == "python":
            if not v.is_str or len(missing) != 1:
                return None
            return call_fix(ctx, Applicability.UNSAFE, f"replace `{item.value}` with `{missing[0]}`",
                            [Op(OpKind.SET_ARG, "target_modules", value=missing[0])])
        if not missing:
            assert v.items is not None  # a list's entry: the python case without items returned above
            edits = remove_item_edit(ctx.spec.path, text, v.items, v.items.index(item),
                                     python=ctx.spec.source == "python", container=v.kind)
            what = f"remove `{item.value}` ({format_names(replacements)} already targeted)"
        elif len(missing) > 1 and v.kind not in ("list", "tuple", "set"):
            return None
        else:
            edit = replace_string_edit(ctx.spec.path, text, item, missing[0])
            if edit is not None and len(missing) > 1:
                quote = edit.content[0]
                edit = replace(edit, content=", ".join(f"{quote}{r}{quote}" for r in missing))
            edits = (edit,) if edit else None
            what = f"replace `{item.value}` with {format_names(missing)}"
        if not edits:
            return None
        taken.update(missing)
        return Fix(Applicability.UNSAFE, edits, what)
