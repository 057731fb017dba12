"""The text PEFT raises when nothing ends up targeted (docs/peft-behaviour.md#nothing-targeted).

``BaseTuner.inject_adapter`` sorts every module of the model (the root excepted) into excluded
(by ``exclude_modules`` or ``modules_to_save``, checked first, whether or not the targets name it),
unmatched, or targeted. With nothing targeted (and no parameter), its message depends on the two
other lists, not on why the targets failed:

- some excluded, none unmatched: "All modules were excluded. ...";
- none excluded, ``target_modules`` empty: "No `target_modules` passed but also no `target_parameters` found. ...";
- none excluded: "Target modules {...} not found in the base model. ...";
- otherwise: "No modules were targeted for adaptation. ...".

VeRA, PVeRA, RandLora and FRoD raise "No layers types compatible with <method> were found" before that.

A finding that quotes peft for this case uses ``nothing_targeted``; tests/semantics/
test_claims_differential.py checks the quote against what peft raises.
"""

from __future__ import annotations

from peftlint.model.inventory import Inventory
from peftlint.semantics.matching import PeftView, Targeting, excluded_by

ALL_EXCLUDED = "All modules were excluded"
NO_TARGETS = "No `target_modules` passed but also no `target_parameters` found"
NOT_FOUND = "Target modules ... not found in the base model"
NONE_TARGETED = "No modules were targeted for adaptation"


# Methods that size shared matrices from the targeted layers before injecting: with none to size
# them from they raise their own ValueError first.
_SHARED_MATRICES = {"VERA": "VeRA", "PVERA": "PVeRA", "RANDLORA": "RandLora", "FROD": "FRoD"}


def nothing_targeted(view: PeftView, inventory: Inventory | None, t: Targeting) -> str:
    """``NoMatchingPeftModuleError ("<peft's text>")`` for this config on this model (the rules that
    ask have a model: ``inventory`` is None only for a caller's mistake)."""
    assert inventory is not None, "nothing_targeted needs the model's inventory"
    if view.method in _SHARED_MATRICES:
        return f"ValueError (\"No layers types compatible with {_SHARED_MATRICES[view.method]} were found\")"
    flags = [excluded_by(m.name, view, t.modules_to_save) is not None for m in inventory.modules]
    excluded, unmatched = any(flags), not all(flags)
    if excluded and not unmatched:
        text = ALL_EXCLUDED
    elif not excluded and not t.effective_targets:
        text = NO_TARGETS
    elif not excluded:
        text = NOT_FOUND
    else:
        text = NONE_TARGETED
    return f"NoMatchingPeftModuleError (\"{text}\")"


def error_class(raised: str) -> str:
    """``NoMatchingPeftModuleError`` of ``NoMatchingPeftModuleError ("...")`` (a one-line message
    names the class; its detail quotes peft's text)."""
    return raised.split(" ", 1)[0]


def exclude_warning_first(view: PeftView, inventory: Inventory, t: Targeting) -> bool:
    """With something targeted, PEFT warns about an ``exclude_modules`` that excluded nothing (no
    module excluded by it nor by ``modules_to_save``) *instead of* its warnings about targets or
    parameters that matched nothing (one if/elif chain)."""
    return bool(view.exclude_modules) and not any(
        excluded_by(m.name, view, t.modules_to_save) is not None for m in inventory.modules)
