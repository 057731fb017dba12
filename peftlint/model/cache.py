"""On-disk JSON cache of inventories (and of the peft facts, see ``peftinfo``).

Entries are flat files ``<kind>-<sha256>.json`` in one directory, written atomically (temp file in
the same directory, then ``os.replace``). The key covers everything the content depends on: the
config text, the model class, the torch/transformers/peft versions (read from package metadata, so
computing a key imports none of them), the inventory schema, the peftlint version and the source of
the builder itself. A warm run reads JSON only; ``build`` (and with it torch, transformers and
peft) is imported only on a miss.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from peftlint import __version__
from peftlint.model.inventory import SCHEMA_VERSION, Inventory

if TYPE_CHECKING:
    from peftlint.model.resolve import Resolved

CACHE_FORMAT = 2
INVENTORY_PREFIX = "inventory-"
FACTS_PREFIX = "peftfacts-"
_TEMP_PREFIX = ".tmp-peftlint-"
_OUR_PREFIXES = (INVENTORY_PREFIX, FACTS_PREFIX, _TEMP_PREFIX)
_HERE = Path(__file__).resolve().parent


def default_cache_dir() -> Path:
    """``PEFTLINT_CACHE_DIR`` if set, else the platform's user cache directory for peftlint."""
    env = os.environ.get("PEFTLINT_CACHE_DIR")
    if env:
        return Path(env).expanduser()
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("peftlint"))


def package_versions(*dists: str) -> dict[str, str]:
    out = {}
    for dist in dists:
        try:
            out[dist] = importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            out[dist] = ""
    return out


def source_digest(*filenames: str) -> str:
    """Hash of peftlint source files, so a changed builder invalidates what it built."""
    h = hashlib.sha256()
    for name in filenames:
        try:
            h.update((_HERE / name).read_bytes())
        except OSError:
            h.update(name.encode())
    return h.hexdigest()


def read_json_entry(path: Path, key: str) -> Any | None:
    """The payload of a cache file written by :func:`write_json_entry` under ``key``, or None."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("format") != CACHE_FORMAT or data.get("key") != key:
        return None
    return data.get("payload")


def write_json_entry(path: Path, key: str, payload: Any) -> bool:
    """Atomically write ``payload``; returns False (never raises) when the directory is unwritable."""
    # Not sort_keys: the order of a module's own parameters is the order PEFT nests its wrappers in.
    text = json.dumps({"format": CACHE_FORMAT, "key": key, "payload": payload})
    tmp_name = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=_TEMP_PREFIX, suffix=".json", dir=path.parent)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp_name, path)
        return True
    except OSError:
        if tmp_name is not None:
            try:
                os.unlink(tmp_name)
            except OSError:
                pass
        return False


@dataclass
class InventoryCache:
    directory: Path | None  # None = caching disabled (--no-cache)

    def key(self, resolved: "Resolved", model_class: str, *, trust_remote_code: bool = False) -> str:
        parts = {
            "config_text": resolved.config_text,
            "model_class": model_class,
            "versions": package_versions("torch", "transformers", "peft"),
            "schema": SCHEMA_VERSION,
            "peftlint": __version__,
            "builder": source_digest("build.py", "inventory.py"),
            # remote code builds another class from the same config text
            "remote": resolved.runs_remote_code(trust_remote_code),
        }
        return hashlib.sha256(json.dumps(parts, sort_keys=True).encode("utf-8")).hexdigest()

    def path(self, key: str) -> Path | None:
        return None if self.directory is None else Path(self.directory) / f"{INVENTORY_PREFIX}{key}.json"

    def load(self, key: str) -> Inventory | None:
        path = self.path(key)
        if path is None:
            return None
        payload = read_json_entry(path, key)
        if not isinstance(payload, dict):
            return None
        try:
            return Inventory.from_json(payload)
        except (TypeError, ValueError, KeyError, AttributeError):
            return None  # wrong schema or damaged entry: rebuilt and overwritten by the caller

    def store(self, key: str, inv: Inventory) -> None:
        path = self.path(key)
        if path is not None:
            write_json_entry(path, key, inv.to_json())

    def clear(self) -> int:
        """Delete peftlint's cache files (and nothing else) from the directory; returns how many."""
        if self.directory is None:
            return 0
        removed = 0
        try:
            entries = list(Path(self.directory).iterdir())
        except OSError:
            return 0
        for entry in entries:
            if entry.name.startswith(_OUR_PREFIXES) and entry.suffix == ".json" and entry.is_file():
                try:
                    entry.unlink()
                    removed += 1
                except OSError:
                    pass
        return removed


def get_inventory(
    resolved: "Resolved", model_class: str, cache: InventoryCache, *, trust_remote_code: bool = False
) -> Inventory:
    """The cached inventory of ``resolved`` built as ``model_class``, building and storing it on a miss.

    Raises ``peftlint.model.build.BuildError`` when the model cannot be built.
    """
    key = cache.key(resolved, model_class, trust_remote_code=trust_remote_code)
    inv = cache.load(key)
    if inv is not None:
        # the same config text can be reached under another name (alias, local copy, legacy id)
        inv.model_id = resolved.label
        return inv
    from peftlint.model.build import build_inventory

    inv = build_inventory(resolved, model_class, trust_remote_code=trust_remote_code)
    cache.store(key, inv)
    return inv
