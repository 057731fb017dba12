"""The inventory cache: one JSON entry per (config text, model class, library versions, builder).

The key covers everything an inventory depends on: the config text, the model class, the library
that builds it and the repository folder it came from, the torch/transformers/peft (and, for
diffusers models, diffusers) versions (read from package metadata, so computing a key imports none of
them), the inventory schema, the peftlint version and the source of the builder itself. A warm run
reads JSON only; the builder (and with it torch, transformers and peft) is imported only on a miss.
"""

from __future__ import annotations

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
        libraries = ("torch", "transformers", "peft") + (("diffusers",) if resolved.library == "diffusers" else ())
        return store.digest({
            "config_text": resolved.config_text,
            "model_class": model_class,
            "library": resolved.library,
            "subfolder": resolved.subfolder,
            "versions": store.package_versions(*libraries),
            "schema": SCHEMA_VERSION,
            "peftlint": __version__,
            "builder": store.source_digest(*BUILDER_FILES),
            # remote code builds another class from the same config text
            "remote": resolved.runs_remote_code(trust_remote_code),
        })

    def path(self, key: str) -> Path | None:
        return store.entry_path(self.directory, INVENTORY_PREFIX, key)

    def load(self, key: str) -> Inventory | None:
        payload = store.read_entry(self.path(key), key)
        if not isinstance(payload, dict):
            return None
        try:
            return Inventory.from_json(payload)
        except (TypeError, ValueError, KeyError, AttributeError):
            return None  # wrong schema or damaged entry: rebuilt and overwritten by the caller

    def store(self, key: str, inv: Inventory) -> None:
        store.write_entry(self.path(key), key, inv.to_json())

    def clear(self) -> int:
        return store.clear(self.directory)
