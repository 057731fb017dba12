"""The rule registry: every ``Rule`` subclass with a code, one per ``pftNNN_*.py`` file of a family.

The files are named by the one table of codes (``peftlint/codes.py``): ``Code.UNMATCHED_TARGET =
"PFT101"`` is ``targets/pft101_unmatched_target.py``, so a run imports its rules without listing
folders (tests/rules/test_codes.py checks that every rule file is in the table).

A family package may declare ``SOURCES``, the spec sources its rules can say anything about (the
saved-adapter rules look at adapter folders only); a run imports a family's rules only for specs
of those sources, so linting a Python file never loads the weight readers."""

from __future__ import annotations

import importlib
import re
from functools import lru_cache

from peftlint.codes import Code
from peftlint.rules.base import Example, Expect, Rule

# One folder per family: 1xx targets, 2xx form, 3xx fields, 4xx saved adapters, 9xx meta.
FAMILIES = ("targets", "form", "fields", "weights", "meta")
_FAMILY_OF_DIGIT = {"1": "targets", "2": "form", "3": "fields", "4": "weights", "9": "meta"}

__all__ = ["Example", "Expect", "Rule", "all_rules", "rule_by_code", "rules_for"]

_CODE = re.compile(r"PFT\d{3}")


def rule_module(code: Code) -> tuple[str, str]:
    """(family, module) of the file that defines the rule ``code``."""
    return _FAMILY_OF_DIGIT[code.value[3]], f"pft{code.value[3:]}_{code.name.lower()}"


@lru_cache(maxsize=None)
def _rule_modules(family: str) -> tuple[str, ...]:
    return tuple(module for fam, module in map(rule_module, Code) if fam == family)


def _collect(family: str, module: str, found: dict[str, type[Rule]]) -> None:
    """Add the rule classes of ``peftlint.rules.<family>.<module>`` to ``found``."""
    mod = importlib.import_module(f"peftlint.rules.{family}.{module}")
    for obj in vars(mod).values():
        if isinstance(obj, type) and issubclass(obj, Rule) and obj.__module__ == mod.__name__ and getattr(obj, "code", None):
            if obj.code in found:
                raise RuntimeError(f"duplicate rule code {obj.code}")
            found[obj.code] = obj


@lru_cache(maxsize=None)
def _family_rules(family: str) -> tuple[type[Rule], ...]:
    found: dict[str, type[Rule]] = {}
    for module in _rule_modules(family):
        _collect(family, module, found)
    return tuple(found[c] for c in sorted(found))


@lru_cache(maxsize=1)
def all_rules() -> tuple[type[Rule], ...]:
    found: dict[str, type[Rule]] = {}
    for family in FAMILIES:
        for rule in _family_rules(family):
            if rule.code in found:
                raise RuntimeError(f"duplicate rule code {rule.code}")
            found[rule.code] = rule
    return tuple(found[c] for c in sorted(found))


@lru_cache(maxsize=None)
def rules_for(source: str) -> tuple[type[Rule], ...]:
    """The rules of every family whose ``SOURCES`` (all, when it declares none) include ``source``."""
    wanted: list[type[Rule]] = []
    for family in FAMILIES:
        sources = getattr(importlib.import_module(f"peftlint.rules.{family}"), "SOURCES", None)
        if sources is None or source in sources:
            wanted += _family_rules(family)
    return tuple(sorted(wanted, key=lambda r: r.code))


@lru_cache(maxsize=None)  # asked once per finding the engine makes itself (PFT901 on each config)
def rule_by_code(code: str) -> type[Rule] | None:
    """The rule with this code (``PFT101``) or name (``unmatched-target``); a code imports only its file."""
    code = code.upper()
    if _CODE.fullmatch(code):
        stem = f"pft{code[3:]}_"
        for family in FAMILIES:
            for module in _rule_modules(family):
                if module.startswith(stem):
                    found: dict[str, type[Rule]] = {}
                    _collect(family, module, found)
                    if code in found:
                        return found[code]
    for r in all_rules():
        if r.code == code or r.name == code.lower():
            return r
    return None
