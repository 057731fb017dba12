"""The on-disk cache directory: flat JSON entries written atomically, shared by every cache.

Entries are files ``<prefix><sha256>.json`` holding ``{"format", "key", "payload"}``; a reader gets
the payload only when the stored key equals the one it asks for, so a damaged, foreign or stale
entry reads as a miss and is rebuilt. Nothing here imports torch, transformers or peft: versions
come from package metadata.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import os
import tempfile
from pathlib import Path
from typing import Any

from peftlint.reading import NotReadable, read_limited

CACHE_FORMAT = 2
TEMP_PREFIX = ".tmp-peftlint-"
# Every kind of entry peftlint writes; ``clear`` removes these and nothing else.
PREFIXES = ("inventory-", "peftfacts-", "peftcheck-", "result-")
PACKAGE_DIR = Path(__file__).resolve().parent
# An inventory of a model at the module limit is a few tens of MB; a larger entry is not read.
MAX_ENTRY_SIZE = 64 * 1024 * 1024


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


def source_digest(*relative: str) -> str:
    """Hash of peftlint source files (paths relative to the package), so a changed producer
    invalidates what it produced."""
    h = hashlib.sha256()
    for name in relative:
        try:
            h.update((PACKAGE_DIR / name).read_bytes())
        except OSError:
            raise RuntimeError(f"peftlint source file {name} is missing; the cache key cannot be computed") from None
    return h.hexdigest()


def digest(parts: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode("utf-8")).hexdigest()


def entry_path(directory: Path | None, prefix: str, key: str) -> Path | None:
    return None if directory is None else Path(directory) / f"{prefix}{key}.json"


def read_entry(path: Path | None, key: str, limit: int = MAX_ENTRY_SIZE) -> Any | None:
    """The payload of a cache file written by :func:`write_entry` under ``key``, or None.

    Every cache reads through here, so a cache directory cannot stall or exhaust a run: only a
    regular file of at most ``limit`` bytes is read (a FIFO or a link to ``/dev/zero`` is a miss),
    and anything that is not valid JSON with the right format and key is a miss. Callers still
    check the payload's shape (``peftlint.typedjson``) and rebuild on any doubt.
    """
    if path is None:
        return None
    try:
        data = json.loads(read_limited(path, limit).decode("utf-8"))
    except (OSError, NotReadable, ValueError, RecursionError):  # UnicodeDecodeError is a ValueError
        return None
    if not isinstance(data, dict) or data.get("format") != CACHE_FORMAT or data.get("key") != key:
        return None
    return data.get("payload")


def write_entry(path: Path | None, key: str, payload: Any) -> bool:
    """Atomically write ``payload``; returns False (never raises) when the directory is unwritable."""
    if path is None:
        return False
    # Not sort_keys: the order of a module's own parameters is the order PEFT nests its wrappers in.
    text = json.dumps({"format": CACHE_FORMAT, "key": key, "payload": payload})
    tmp_name = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=TEMP_PREFIX, suffix=".json", dir=path.parent)
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


def clear(directory: Path | None) -> int:
    """Delete peftlint's cache files (and nothing else) from ``directory``; returns how many."""
    if directory is None:
        return 0
    removed = 0
    try:
        entries = list(Path(directory).iterdir())
    except OSError:
        return 0
    for entry in entries:
        if entry.name.startswith((*PREFIXES, TEMP_PREFIX)) and entry.suffix == ".json" and entry.is_file():
            try:
                entry.unlink()
                removed += 1
            except OSError:
                pass
    return removed
