"""Module trees with unknown subtrees (read statically from code, see ``Inventory.unknown``).

Any module name can live inside an unknown subtree (``backbone.<anything>.q_proj`` ends with
``.q_proj``), so on such a tree no entry can be said to match nothing; what was read is still
certain, so what PEFT does with the modules that are known can be said.
"""

from __future__ import annotations

from peftlint.model.inventory import Inventory


def is_partial(inventory: Inventory | None) -> bool:
    """Whether some subtree of the model could not be read, so a name missing here may exist."""
    return inventory is not None and bool(inventory.unknown)


def touches_unknown(inventory: Inventory, name: str) -> bool:
    """Whether an unknown subtree lies at, inside or around the module ``name``."""
    return any(u in ("", name) or u.startswith(name + ".") or name.startswith(u + ".") for u in inventory.unknown)
