"""PFT306 unmatched-modules-to-save."""

from __future__ import annotations

from typing import Iterator

from peftlint.codes import Code
from peftlint.diagnostics import Diagnostic, Severity
from peftlint.model import inventory as inv
from peftlint.rules._common import py_example
from peftlint.rules.base import Expect, Rule
from peftlint.rules.context import Context
from peftlint.rules.fields._common import user_saved_items
from peftlint.semantics.matching import param_owner, wrapper_matches
from peftlint.semantics.partial import is_partial
from peftlint.semantics.suggest import closest_names, format_names


class UnmatchedModulesToSave(Rule):
    code = Code.UNMATCHED_MODULES_TO_SAVE
    name = "unmatched-modules-to-save"
    severity = Severity.ERROR
    summary = "A `modules_to_save` entry matches nothing, or names a module list PEFT cannot wrap."
    docs = """
    PEFT wraps every module whose full name ends with a `modules_to_save` entry and trains it
    fully. An entry that ends no module name (`score` on a causal LM, `classifier` on Llama,
    `lm-head`) is ignored **silently**: the layer you meant to train stays frozen and is not
    saved with the adapter.

    Fix: use the model's own name for the layer (`peftlint modules MODEL` lists them).

    An entry that names a `ModuleList`/`ModuleDict`/`ParameterList`/`ParameterDict` makes
    `get_peft_model` raise `modules_to_save cannot be applied to modules of type ...`.
    So does an entry naming a module whose parameters `target_parameters` wraps (`...ParamWrapper`).
    """
    bad = (py_example('config = LoraConfig(target_modules=["q_proj", "v_proj"], modules_to_save=["classifier"])',
                      expect=(Expect(4, 75, "modules_to_save entry `classifier` ends no module name"),)),)
    good = (py_example('config = LoraConfig(target_modules=["q_proj", "v_proj"], modules_to_save=["lm_head"])'),)

    def check(self, ctx: Context) -> Iterator[Diagnostic]:
        if ctx.inventory is None or is_partial(ctx.inventory):
            return
        names = ctx.inventory.names() + list(ctx.inventory.module_aliases)
        t = ctx.targeting
        owners = list(dict.fromkeys(param_owner(k) for k in t.parameters_targeted)) if t is not None else []
        for item in user_saved_items(ctx):
            m = item.value
            wrapped = [o for o in owners if m and wrapper_matches(m, o)]
            if wrapped:  # the module is a lora.ParamWrapper by the time modules_to_save is applied
                yield self.diagnostic(
                    ctx, item.span,
                    f"modules_to_save entry `{m}` names `{wrapped[0]}`, whose parameters target_parameters wraps: "
                    "get_peft_model raises TypeError (\"modules_to_save cannot be applied to modules of type "
                    "...ParamWrapper\"); keep the module in one of the two fields", subject=m)
                continue
            adapted = set(owners) | (set(t.targeted) if t is not None else set())
            inside = [n for n in names if m and wrapper_matches(m, n) and n.rpartition(".")[0] in adapted]
            if inside:  # its parent became an adapter layer: peft refuses to wrap the child
                yield self.diagnostic(
                    ctx, item.span,
                    f"modules_to_save entry `{m}` names `{inside[0]}`, a child of `{inside[0].rpartition('.')[0]}`, "
                    "which gets an adapter: get_peft_model raises ValueError (\"You are trying to target a module "
                    "with ... that is a child of ...\"); save the parent or another module", subject=m)
                continue
            lists = [mod for mod in ctx.inventory.modules if mod.kind == inv.MODULE_LIST and wrapper_matches(m, mod.name)]
            if m and lists:  # peft's ModulesToSaveWrapper refuses containers it cannot call
                yield self.diagnostic(
                    ctx, item.span,
                    f"modules_to_save entry `{m}` names `{lists[0].name}`, a {lists[0].cls}: get_peft_model raises "
                    f"TypeError (\"modules_to_save cannot be applied to modules of type ...{lists[0].cls}\"); name the "
                    "modules inside it", subject=m)
                continue
            if not m or any(wrapper_matches(m, n) for n in names):
                continue
            hint = closest_names(m, ctx.inventory)
            yield self.diagnostic(
                ctx, item.span,
                f"modules_to_save entry `{m}` ends no module name of {ctx.model_label}: PEFT ignores it silently and "
                "trains nothing fully" + (f"; did you mean {format_names(hint)}?" if hint else ""),
                subject=m)
