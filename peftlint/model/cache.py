"""The inventory cache: one JSON entry per (config text, model class, library versions, builder).

The key covers everything an inventory depends on: the config text, the model class, the library
that builds it and the repository folder it came from, the torch/transformers/peft (and, for
diffusers models, diffusers) versions (read from package metadata, so computing a key imports none of
them), the inventory schema, the peftlint version and the source of the builder itself. A warm run
reads JSON only; the builder (and with it torch, transformers and peft) is imported only on a miss.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from peftlint import __version__, store
from peftlint.model.inventory import SCHEMA_VERSION, Inventory

if TYPE_CHECKING:
    from peftlint.model.resolve import Resolved

INVENTORY_PREFIX = "inventory-"
BUILDER_FILES = ("model/build.py", "model/build_diffusers.py", "model/record.py", "model/inventory.py")


@dataclass
class InventoryCache:
    directory: Path | None  # None = caching disabled (--no-cache)

    def key(self, resolved: "Resolved", model_class: str, *, trust_remote_code: bool = False) -> str:
        return store.digest({
            "config_text": resolved.config_text,
            "model_class": model_class,
            "library": resolved.library,
            "subfolder": resolved.subfolder,
            "versions": store.package_versions(*_libraries(resolved)),
            "schema": SCHEMA_VERSION,
            "peftlint": __version__,
            "builder": store.source_digest(*BUILDER_FILES),
            # remote code builds another class from the same config text
            "remote": resolved.runs_remote_code(trust_remote_code),
        })

    def path(self, key: str) -> Path | None:
        return store.entry_path(self.directory, INVENTORY_PREFIX, key)

    def load(self, key: str, resolved: "Resolved | None" = None) -> Inventory | None:
        """The entry under ``key``, or None (a miss) unless it has the inventory's exact shape and,
        given ``resolved``, was recorded from that very config text with the installed libraries."""
        payload = store.read_entry(self.path(key), key)
        if not isinstance(payload, dict):
            return None
        try:
            inv = Inventory.from_json(payload)
        except ValueError:
            return None  # wrong schema, damaged or crafted entry: rebuilt and overwritten by the caller
        if not inv.modules:
            return None  # every model has modules: an empty tree would silence every check
        if resolved is not None:
            if inv.config_hash != hashlib.sha256(resolved.config_text.encode("utf-8")).hexdigest():
                return None
            if inv.versions != store.package_versions(*_libraries(resolved)):
                return None
        return inv

    def store(self, key: str, inv: Inventory) -> None:
        store.write_entry(self.path(key), key, inv.to_json())

    def clear(self) -> int:
        return store.clear(self.directory)


def _libraries(resolved: "Resolved") -> tuple[str, ...]:
    """The libraries whose versions an inventory of ``resolved`` was built with."""
    return ("torch", "transformers", "peft") + (("diffusers",) if resolved.library == "diffusers" else ())
