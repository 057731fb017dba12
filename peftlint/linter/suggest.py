"""Closest real module names for a target that matches nothing."""

from __future__ import annotations

import difflib

from peftlint.linter.inventory import Inventory
from peftlint.linter.matching import LINEAR_KINDS


def adaptable_suffixes(inventory: Inventory, kinds: frozenset[str] | None = None) -> list[str]:
    """Leaf names of adaptable modules, in first-seen order (``q_proj``, ``v_proj``, ...)."""
    kinds = kinds or LINEAR_KINDS
    seen: dict[str, None] = {}
    for m in inventory.modules:
        if m.kind in kinds and m.name != inventory.output_embedding:
            seen.setdefault(m.leaf, None)
    return list(seen)


def closest_names(entry: str, inventory: Inventory, limit: int = 3) -> list[str]:
    """Spelling neighbours among leaf names and dotted suffixes of the model's modules."""
    leaves: dict[str, None] = {}
    suffixes: dict[str, None] = {}
    for m in inventory.modules:
        leaves.setdefault(m.leaf, None)
        parts = m.name.split(".")
        for n in range(2, min(4, len(parts)) + 1):
            suffix = ".".join(parts[-n:])
            if not any(p.isdigit() for p in parts[-n:]):
                suffixes.setdefault(suffix, None)
    pool = list(suffixes) if "." in entry else list(leaves)
    hits = difflib.get_close_matches(entry, pool, n=limit, cutoff=0.6)
    if not hits and "." in entry:
        hits = difflib.get_close_matches(entry.rsplit(".", 1)[-1], list(leaves), n=limit, cutoff=0.6)
    return hits


def format_names(names: list[str], limit: int = 8) -> str:
    shown = ", ".join(f"`{n}`" for n in names[:limit])
    return shown + (f" (+{len(names) - limit} more)" if len(names) > limit else "")
