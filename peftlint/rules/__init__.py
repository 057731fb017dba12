"""The rule registry: every ``Rule`` subclass with a code, one per ``pftNNN_*.py`` file of a family."""

from __future__ import annotations

import importlib
import pkgutil
from functools import lru_cache
from pathlib import Path

from peftlint.rules.base import Example, Expect, Rule

# One folder per family: 1xx targets, 2xx form, 3xx fields, 4xx saved adapters, 9xx meta.
FAMILIES = ("targets", "form", "fields", "weights", "meta")

__all__ = ["Example", "Expect", "Rule", "all_rules", "rule_by_code"]


@lru_cache(maxsize=1)
def all_rules() -> tuple[type[Rule], ...]:
    found: dict[str, type[Rule]] = {}
    here = Path(__file__).resolve().parent
    for family in FAMILIES:
        for info in pkgutil.iter_modules([str(here / family)]):
            if not info.name.startswith("pft"):
                continue
            mod = importlib.import_module(f"peftlint.rules.{family}.{info.name}")
            for obj in vars(mod).values():
                if (isinstance(obj, type) and issubclass(obj, Rule) and obj.__module__ == mod.__name__
                        and getattr(obj, "code", None)):
                    if obj.code in found:
                        raise RuntimeError(f"duplicate rule code {obj.code}")
                    found[obj.code] = obj
    return tuple(found[c] for c in sorted(found))


def rule_by_code(code: str) -> type[Rule] | None:
    code = code.upper()
    for r in all_rules():
        if r.code == code or r.name == code.lower():
            return r
    return None
