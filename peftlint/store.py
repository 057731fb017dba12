"""The on-disk cache directory: flat JSON entries written atomically, shared by every cache.

Entries are files ``<prefix><sha256>.json`` holding ``{"format", "key", "payload"}``; a reader gets
the payload only when the stored key equals the one it asks for, so a damaged, foreign or stale
entry reads as a miss and is rebuilt. Nothing here imports torch, transformers or peft: versions
come from package metadata.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
import re
import sys
from pathlib import Path
from typing import Any, Iterator

from peftlint.reading import NotReadable, read_limited

CACHE_FORMAT = 2
TEMP_PREFIX = ".tmp-peftlint-"
# Every kind of entry peftlint writes; ``clear`` removes these and nothing else.
PREFIXES = ("inventory-", "peftfacts-", "peftcheck-", "result-", "resolution-", "modeltypes-")
# Lock files (``lock-<name>.lock``) serialise builds between processes sharing the directory.
LOCK_PREFIX, LOCK_SUFFIX = "lock-", ".lock"
# How long a run waits for another process's cache lock before it builds the entry itself: far
# above a cold model build, far below "forever" (a run stopped with Ctrl-Z holds its locks).
LOCK_TIMEOUT = 120.0
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
    """Installed versions ("" when absent), as ``importlib.metadata.version`` reports them.

    The ``*.dist-info`` folders on ``sys.path`` are read directly: importing ``importlib.metadata``
    alone costs about 0.1 s, a large part of a warm run. Anything else (an ``.egg-info``, a zip)
    falls back to ``importlib.metadata``.
    """
    out = {}
    found = _dist_infos()  # once per process: a run asks for versions many times
    for dist in dists:
        where = found.get(_normalise(dist))
        version = _metadata_version(where) if where else ""
        if version == "":  # not a plain .dist-info first on sys.path: ask importlib.metadata
            import importlib.metadata

            try:
                version = importlib.metadata.version(dist)
            except importlib.metadata.PackageNotFoundError:
                version = ""
        out[dist] = version
    return out


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "_", name).lower()


@functools.lru_cache(maxsize=1)
def _dist_infos() -> dict[str, str]:
    """normalised distribution name -> its first ``.dist-info`` folder on ``sys.path`` (the one
    importlib.metadata finds); "" when an ``.egg-info`` comes first."""
    found: dict[str, str] = {}
    for entry in sys.path:
        try:
            names = os.listdir(entry or ".")
        except OSError:
            continue
        for name in names:
            if not name.endswith((".dist-info", ".egg-info")):
                continue
            key = _normalise(name.split("-", 1)[0].rsplit(".", 1)[0])
            if key in found:
                continue
            found[key] = os.path.join(entry or ".", name) if name.endswith(".dist-info") else ""
    return found


def _metadata_version(dist_info: str) -> str:
    try:
        with open(os.path.join(dist_info, "METADATA"), encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("Version:"):
                    return line[len("Version:"):].strip()
                if not line.strip():
                    break
    except OSError:
        pass
    return ""


@functools.lru_cache(maxsize=None)
def source_digest(*relative: str) -> str:
    """Hash of peftlint source files (paths relative to the package), so a changed producer
    invalidates what it produced. Read once per process, as ``package_digest``: every inventory,
    resolution and peft verdict key asks for it."""
    h = hashlib.sha256()
    for name in relative:
        try:
            h.update((PACKAGE_DIR / name).read_bytes())
        except OSError:
            raise RuntimeError(f"peftlint source file {name} is missing; the cache key cannot be computed") from None
    return h.hexdigest()


@functools.lru_cache(maxsize=1)
def package_digest() -> str:
    """Hash of every Python file of the installed peftlint (computed once per process): cached findings
    are only reused by the very code that produced them."""
    h = hashlib.sha256()
    for dirpath, dirnames, filenames in os.walk(PACKAGE_DIR):
        dirnames[:] = sorted(d for d in dirnames if d != "__pycache__")
        for name in sorted(filenames):
            if name.endswith(".py"):
                path = os.path.join(dirpath, name)
                h.update(os.path.relpath(path, PACKAGE_DIR).encode("utf-8") + b"\0")
                with open(path, "rb") as fh:
                    h.update(fh.read())
    return h.hexdigest()


def digest(parts: dict[str, Any]) -> str:
    # values read from YAML may be dates or bytes (``2001-12-14``, ``!!binary``): keyed by type and repr
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=_key_of).encode("utf-8")).hexdigest()


def _key_of(value: object) -> str:
    return f"<{type(value).__qualname__}>{value!r}"


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
        # tempfile.mkstemp's own steps (a fresh name, O_EXCL, mode 0600) without importing tempfile,
        # which brings shutil, random, bz2 and lzma into a warm one-file run (~4 ms)
        name = str(path.parent / f"{TEMP_PREFIX}{os.getpid()}-{os.urandom(8).hex()}.json")
        fd = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o600)
        tmp_name = name
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


@contextlib.contextmanager
def file_lock(directory: Path | None, name: str, timeout: float | None = None) -> Iterator[bool]:
    """Hold an exclusive lock on ``lock-<name>.lock`` in ``directory`` for the ``with`` body (filelock).

    Yields whether the lock is held. An unwritable directory, a platform without locks, or a wait
    longer than ``timeout`` seconds (default ``LOCK_TIMEOUT``; the holder may be a hung process)
    yields False and the body runs anyway, without waiting for the other process's entry: locks only
    avoid duplicate work, entries are written atomically. A timeout says so on stderr. The lock is
    released when the body ends or the process dies. The body must re-check for the entry it is
    about to build: another process may have written it while this one waited.
    """
    if directory is None:
        yield False
        return
    path = Path(directory) / f"{LOCK_PREFIX}{name}{LOCK_SUFFIX}"
    from filelock import FileLock, Timeout  # only when building: a warm run takes no lock

    lock = FileLock(path, timeout=lock_timeout() if timeout is None else timeout)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        lock.acquire()
    except Timeout:
        sys.stderr.write(f"peftlint: gave up waiting for the cache lock {path}: another process has held it for "
                         f"more than {lock.timeout:g} s (a peftlint run stopped or hung); going on without waiting "
                         "for it, and without the cache for this entry\n")
        yield False
        return
    except OSError:
        yield False
        return
    try:
        yield True
    finally:
        # Removed while still held: whoever opens the path afterwards gets a fresh lock and finds the
        # entry written by the body (a waiter on the old file re-checks it too).
        try:
            os.unlink(path)
        except OSError:
            pass  # Windows: open files cannot be removed; `cache clear` does it
        lock.release()


def lock_timeout() -> float:
    """Seconds to wait for a cache lock: ``PEFTLINT_LOCK_TIMEOUT``, else ``LOCK_TIMEOUT``."""
    try:
        value = float(os.environ.get("PEFTLINT_LOCK_TIMEOUT", LOCK_TIMEOUT))
    except ValueError:
        return LOCK_TIMEOUT
    return value if 0 <= value < float("inf") else LOCK_TIMEOUT


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
        ours = entry.name.startswith((*PREFIXES, TEMP_PREFIX)) and entry.suffix == ".json"
        lock = entry.name.startswith(LOCK_PREFIX) and entry.name.endswith(LOCK_SUFFIX)
        if (ours or lock) and entry.is_file():
            try:
                entry.unlink()
                removed += ours
            except OSError:
                pass
    return removed
