"""Closest real module names for a target that matches nothing: by spelling and by role
(``q`` on Llama is ``q_proj``; ``q_proj`` on Falcon is fused into ``query_key_value``)."""

from __future__ import annotations

import difflib
from dataclasses import dataclass

from peftlint.model import inventory as inv
from peftlint.model.inventory import Inventory
from peftlint.semantics import roles
from peftlint.semantics.matching import LINEAR_KINDS
from peftlint.semantics.roles import normalize


def adaptable_suffixes(inventory: Inventory, kinds: frozenset[str] | None = None) -> list[str]:
    """Leaf names of adaptable modules, in first-seen order (``q_proj``, ``v_proj``, ...)."""
    kinds = kinds or LINEAR_KINDS
    seen: dict[str, None] = {}
    for m in inventory.modules:
        if m.kind in kinds and m.name != inventory.output_embedding:
            seen.setdefault(m.leaf, None)
    return list(seen)


ADAPTABLE_KINDS = LINEAR_KINDS | {inv.EMBEDDING, inv.CONV1D, inv.CONV2D, inv.CONV3D, inv.MHA}


def closest_names(entry: str, inventory: Inventory, limit: int = 3) -> list[str]:
    """Spelling neighbours among leaf names and dotted suffixes of the model's adaptable modules."""
    leaves: dict[str, None] = {}
    suffixes: dict[str, None] = {}
    positional = roles.positional_lists(inventory)
    for m in inventory.modules:
        if m.kind not in ADAPTABLE_KINDS:  # never suggest a container, norm or activation
            continue
        # `to_out.0`: the index of a positional sequence is part of the name
        leaves.setdefault(roles.entry_leaf(m.name, positional) if positional else m.leaf, None)
        parts = m.name.split(".")
        layer = roles.layer_digits(m.name, positional)
        for n in range(2, min(4, len(parts)) + 1):
            suffix = ".".join(parts[-n:])
            if not any(layer[-n:]) and not parts[-n].isdigit():
                suffixes.setdefault(suffix, None)
    pool = list(suffixes) if "." in entry else list(leaves)
    hits = difflib.get_close_matches(entry, pool, n=limit, cutoff=0.6)
    if not hits and "." in entry:
        hits = difflib.get_close_matches(entry.rsplit(".", 1)[-1], list(leaves), n=limit, cutoff=0.6)
    return hits


def format_names(names: list[str], limit: int = 8) -> str:
    shown = ", ".join(f"`{n}`" for n in names[:limit])
    return shown + (f" (+{len(names) - limit} more)" if len(names) > limit else "")


@dataclass(frozen=True)
class Suggestion:
    """What to write instead of a target that matches nothing."""

    entry: str
    role: str | None = None  # the entry's role as peftlint understands it (roles.Q, roles.QKV, ...)
    by_role: tuple[str, ...] = ()  # this model's entries with that role (or the fused/split equivalent)
    fused: str = ""  # "into" when the model fuses the role, "split" when the model splits a fused one
    spelling: tuple[str, ...] = ()  # further spelling neighbours
    target_role: str | None = None  # the role of ``by_role`` when it differs from ``role``

    @property
    def names(self) -> list[str]:
        return list(dict.fromkeys(self.by_role + self.spelling))

    @property
    def replacement(self) -> str | None:
        """A unique name to put in place of the entry (an unsafe fix), or None."""
        return self.by_role[0] if len(self.by_role) == 1 else None

    @property
    def replacements(self) -> list[str]:
        """The names to put in place of the entry: the unique equivalent, or all parts of a split one."""
        if self.fused == "split" and self.by_role:
            return list(self.by_role)
        return [self.replacement] if self.replacement else []

    def describe(self, limit: int = 8) -> str:
        """The hint for a message: ``the query projection of this model is `q_proj```."""
        if self.by_role and self.role:
            label = roles.ROLE_LABELS[self.role]
            if self.fused == "into":
                fused_label = roles.ROLE_LABELS.get(self.target_role or "", "fused projection")
                text = f"this model has no separate {label}: it is part of the {fused_label} {format_names(list(self.by_role))}"
            elif self.fused == "split":
                text = f"this model has no {label}; it has separate {format_names(list(self.by_role))}"
            elif normalize(self.entry) == normalize(self.by_role[0]):
                text = f"did you mean {format_names(list(self.by_role))}?"
            else:
                text = f"`{self.entry}` is the {label} in other models; here it is {format_names(list(self.by_role))}"
            extra = [n for n in self.spelling if n not in self.by_role]
            return text + (f" (similar names: {format_names(extra, limit)})" if extra else "")
        if self.spelling:
            return f"did you mean {format_names(list(self.spelling), limit)}?"
        return ""


# When a model lacks a role, the equivalent it has instead (fused <-> separate projections).
_EQUIVALENTS: dict[str, tuple[tuple[str, ...], str]] = {
    roles.Q: ((roles.QKV,), "into"),
    roles.K: ((roles.QKV,), "into"),
    roles.V: ((roles.QKV,), "into"),
    roles.QKV: ((roles.Q, roles.K, roles.V), "split"),
    roles.GATE: ((roles.GATE_UP,), "into"),
    roles.UP: ((roles.GATE_UP,), "into"),
    roles.GATE_UP: ((roles.GATE, roles.UP), "split"),
}


def suggest_target(entry: str, inventory: Inventory, role_map: dict[str, list[str]] | None = None) -> Suggestion:
    """Closest real names for ``entry`` by role (across architectures) and by spelling.

    ``role_map`` is ``roles.role_targets(inventory)``; pass it when suggesting for several entries.
    """
    role_map = roles.role_targets(inventory) if role_map is None else role_map
    spelling = tuple(closest_names(entry, inventory))
    leaf = entry.rsplit(".", 1)[-1]
    # A near-spelling of one of this model's own names (`vproj`, `Q_Proj`) is that name.
    role: str | None
    for role, names in role_map.items():
        for n in names:
            if normalize(n.rsplit(".", 1)[-1]) == normalize(leaf):
                return Suggestion(entry, role, (n,), "", spelling)
    role = roles.role_of_name(leaf)
    if role is None:
        return Suggestion(entry, None, (), "", spelling)
    if role_map.get(role):
        return Suggestion(entry, role, tuple(role_map[role]), "", spelling)
    alts, how = _EQUIVALENTS.get(role, ((), ""))
    found = tuple(n for r in alts for n in role_map.get(r, []))
    if not found and role == roles.GATE_UP:
        found, how = tuple(role_map.get(roles.UP, [])), "split"
    target = next((r for r in alts if role_map.get(r)), None) if how == "into" else None
    return Suggestion(entry, role, found, how if found else "", spelling, target)
