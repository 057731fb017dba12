"""The rule registry: every ``Rule`` subclass with a code, from the family modules below."""

from __future__ import annotations

import importlib
from functools import lru_cache

from peftlint.rules.base import Example, Rule

# One module per family: 1xx targets, 2xx form, 3xx fields, 4xx saved adapters, 9xx meta.
FAMILY_MODULES = ("targets", "form", "fields", "weights", "meta")

__all__ = ["Example", "Rule", "all_rules", "rule_by_code", "selected"]


@lru_cache(maxsize=1)
def all_rules() -> tuple[type[Rule], ...]:
    found: dict[str, type[Rule]] = {}
    for mod_name in FAMILY_MODULES:
        try:
            mod = importlib.import_module(f"peftlint.rules.{mod_name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"peftlint.rules.{mod_name}":
                continue
            raise
        for obj in vars(mod).values():
            if isinstance(obj, type) and issubclass(obj, Rule) and getattr(obj, "code", None):
                if obj.code in found and found[obj.code] is not obj:
                    raise RuntimeError(f"duplicate rule code {obj.code}")
                found[obj.code] = obj
    return tuple(found[c] for c in sorted(found))


def rule_by_code(code: str) -> type[Rule] | None:
    code = code.upper()
    for r in all_rules():
        if r.code == code or r.name == code.lower():
            return r
    return None


def _hits(code: str, selectors: list[str]) -> bool:
    return any(s.upper() == "ALL" or code.startswith(s.upper()) for s in selectors)


def selected(code: str, select: list[str], extend_select: list[str], ignore: list[str]) -> bool:
    """ruff's selection: select (default all) plus extend-select, minus ignore; prefixes allowed."""
    chosen = _hits(code, select) if select else True
    chosen = chosen or _hits(code, extend_select)
    return chosen and not _hits(code, ignore)
