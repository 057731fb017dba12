"""PFT307 target-also-saved."""

from __future__ import annotations

from typing import Iterator

from peftlint.codes import Code
from peftlint.diagnostics import Diagnostic, Severity
from peftlint.rules._common import py_example
from peftlint.rules.base import Expect, Rule
from peftlint.rules.context import Context
from peftlint.rules.fields._common import plural, user_saved_items
from peftlint.semantics.matching import entry_matches, modules_to_save_excludes, wrapper_matches
from peftlint.semantics.suggest import format_names


class TargetAlsoSaved(Rule):
    code = Code.TARGET_ALSO_SAVED
    name = "target-also-saved"
    severity = Severity.WARNING
    summary = "A module is both targeted and in `modules_to_save`, or a `modules_to_save` suffix hits other modules."
    docs = """
    `modules_to_save` is matched twice, differently. Before injection, an entry removes the
    module **and everything below it** from the adapter targets (regex at a dot boundary), so a
    module listed in both is silently trained fully instead of with an adapter, and
    `modules_to_save=["mlp"]` silently removes `down_proj` from the targets. Afterwards, the
    wrapper is applied to every module whose name merely **ends with** the entry, with no dot
    boundary: `"head"` also wraps `lm_head`, and `"_proj"` hits adapted layers, which raises
    `TypeError: modules_to_save cannot be applied to modules of type <class '...lora.layer.Linear'>`.

    Fix: list each module in one field only, and use full leaf names in `modules_to_save`.
    """
    bad = (py_example('config = LoraConfig(target_modules=["q_proj", "v_proj", "lm_head"], modules_to_save=["lm_head"])',
                      expect=(Expect(4, 86, "`lm_head` removes the targeted `lm_head` from the adapter"),)),)
    good = (py_example('config = LoraConfig(target_modules=["q_proj", "v_proj"], modules_to_save=["lm_head"])'),)

    def check(self, ctx: Context) -> Iterator[Diagnostic]:
        assert ctx.inventory is not None  # needs_model: the engine runs this rule only with a model
        t = ctx.targeting
        if t is None:
            return
        targeted = set(t.targeted)
        names = ctx.inventory.names()
        for item in user_saved_items(ctx):
            m = item.value
            if not m:
                continue
            removed = [n for n, why in t.excluded.items() if why == "modules_to_save" and modules_to_save_excludes(m, n)]
            wrapped = [n for n in names if wrapper_matches(m, n)]
            on_adapter = [n for n in wrapped if n in targeted]
            loose = [n for n in wrapped if not entry_matches(m, n) and n not in on_adapter]
            if on_adapter:
                yield self.diagnostic(
                    ctx, item.span,
                    f"modules_to_save entry `{m}` ends the names of adapted modules ({format_names(on_adapter, 2)}): "
                    "PEFT wraps by plain suffix and raises \"TypeError: modules_to_save cannot be applied to modules of "
                    "type <class 'peft.tuners.lora.layer.Linear'>\"; use the full leaf name of the layer to train",
                    subject=m, severity=Severity.ERROR)
            elif removed:
                own = [n for n in removed if entry_matches(m, n)]
                below = [n for n in removed if n not in own]
                what = (f"the targeted {format_names(own, 2)}" if own else "") + \
                    (f"{' and ' if own else ''}{plural(len(below), 'targeted module')} inside it "
                     f"({format_names(below, 2)})" if below else "")
                yield self.diagnostic(
                    ctx, item.span,
                    f"modules_to_save entry `{m}` removes {what} from the adapter: PEFT trains "
                    f"{'it' if len(removed) == 1 else 'them'} fully instead, silently. Keep each module in one field",
                    subject=m)
            if loose and not on_adapter:
                yield self.diagnostic(
                    ctx, item.span,
                    f"modules_to_save entry `{m}` also wraps {format_names(loose, 3)}: PEFT matches it as a plain "
                    "suffix without a dot boundary, so those are trained fully and saved too; use the full leaf name",
                    subject=m)
