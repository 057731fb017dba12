"""Resolutions remembered between runs, re-checked with ``stat`` calls.

Resolving a hub id asks huggingface_hub whether the id is valid and where its ``config.json`` sits in
the Hugging Face cache. Importing huggingface_hub for that costs a few tenths of a second (it brings
in its HTTP client), more than linting a changed file once the model inventories are cached. So
what a reference resolved to is stored (``resolution-<key>.json``) with the stat data of every file
the resolution looked at (:func:`peftlint.model.probe.resolution_probes`); while those are
unchanged the stored answer is the answer, and the ``config.json`` it names is read again. Any
difference, an unreadable entry, or ``--online`` (a download may now succeed) resolves for real.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

from peftlint import __version__, store, typedjson
from peftlint.model.hub import ResolveFailed
from peftlint.model.names import named_paths_problem
from peftlint.model.offload import Offload, in_process
from peftlint.model.probe import resolution_probes
from peftlint.model.resolve import Resolved, ResolveOptions, Unresolved, load_config, resolve, resolve_options

if TYPE_CHECKING:
    from peftlint.config import Settings

RESOLUTION_PREFIX = "resolution-"
_SOURCES = ("model/resolve.py", "model/hub.py", "model/probe.py", "model/model_types.py", "model/resolve_cache.py")


@dataclass
class StoredResolution:
    """A resolution as the cache keeps it, with the probes that validate it."""

    probes: str  # digest of the probes taken right after resolving
    reason: str | None = None  # Unresolved: why
    ref: str = ""  # Resolved: what ``load_config`` needs to read the same file again
    label: str = ""
    source: str = ""
    location: str = ""
    revision: str | None = None
    subfolder: str | None = None


def resolve_memo(ref: str, settings: "Settings", *, revision: str | None = None, base_dirs: Sequence[str] = (),
                 memo: dict | None = None, subfolder: str | None = None,
                 cache_dir: Path | None = None, offload: Offload = in_process) -> Resolved | Unresolved:
    """:func:`resolve` with ``settings``' options, once per (ref, subfolder, revision, base_dirs) in
    ``memo`` and, given ``cache_dir``, remembered there between runs; ``offload`` runs what asks
    transformers (see ``model_types``)."""
    key = (ref, subfolder, revision, tuple(base_dirs))
    bad = named_paths_problem(revision, subfolder)
    if bad is not None:
        return Unresolved(ref, bad)
    if memo is None or key not in memo:
        options = replace(resolve_options(settings), offload=offload)
        res = resolve_cached(ref, revision=revision, base_dirs=tuple(base_dirs), options=options,
                             subfolder=subfolder, cache_dir=cache_dir)
        if memo is None:
            return res
        memo[key] = res
    return memo[key]


def resolve_cached(ref: str, *, revision: str | None, base_dirs: Sequence[str], options: ResolveOptions,
                   subfolder: str | None, cache_dir: Path | None) -> Resolved | Unresolved:
    """:func:`resolve`, answered from ``cache_dir`` while nothing it looked at has changed."""
    if cache_dir is None or options.online:
        return resolve(ref, revision=revision, base_dirs=base_dirs, options=options, subfolder=subfolder)
    key = _key(ref, revision, base_dirs, options, subfolder)
    path = store.entry_path(cache_dir, RESOLUTION_PREFIX, key)
    found = _replay(path, key, ref, revision, base_dirs, options, subfolder)
    if found is not None:
        return found
    res = resolve(ref, revision=revision, base_dirs=base_dirs, options=options, subfolder=subfolder)
    location = res.location if isinstance(res, Resolved) else None
    probes = probe_digest(ref, revision, base_dirs, options, subfolder, location)
    if isinstance(res, Resolved):
        entry = StoredResolution(probes, None, res.ref, res.label, res.source, res.location, res.revision,
                                 res.subfolder)
    else:
        entry = StoredResolution(probes, res.reason, res.ref)
    store.write_entry(path, key, entry.__dict__)
    return res


def _replay(path: Path | None, key: str, ref: str, revision: str | None, base_dirs: Sequence[str],
            options: ResolveOptions, subfolder: str | None) -> Resolved | Unresolved | None:
    payload = store.read_entry(path, key)
    if payload is None:
        return None
    try:
        entry = typedjson.load(StoredResolution, payload, "resolution")
    except ValueError:
        return None
    location = entry.location if entry.reason is None else None
    if probe_digest(ref, revision, base_dirs, options, subfolder, location) != entry.probes:
        return None
    if entry.reason is not None:
        return Unresolved(entry.ref, entry.reason)
    try:
        return load_config(entry.ref, entry.label, Path(entry.location), entry.source, entry.revision,
                           entry.subfolder, options.cache_dir, offload=options.offload)
    except ResolveFailed:  # changed between the probes and the read: resolve for real
        return None


def probe_digest(ref: str, revision: str | None, base_dirs: Sequence[str], options: ResolveOptions,
                 subfolder: str | None, location: str | None) -> str:
    """One value for the stat data of everything resolving ``ref`` reads (equal: the same answer)."""
    return store.digest({"probes": resolution_probes(ref, revision=revision, base_dirs=base_dirs, options=options,
                                                     location=location, subfolder=subfolder)})


def _key(ref: str, revision: str | None, base_dirs: Sequence[str], options: ResolveOptions,
         subfolder: str | None) -> str:
    return store.digest({
        "ref": ref, "revision": revision, "base_dirs": list(base_dirs), "subfolder": subfolder,
        "aliases": options.aliases, "config_dir": options.config_dir, "hf_cache_dir": options.hf_cache_dir,
        "cwd": os.getcwd(),  # relative references are looked up from here
        "peftlint": __version__, "source": store.source_digest(*_SOURCES),
        # which ids are valid and how the cache is laid out are huggingface_hub's; model types, transformers'
        "versions": store.package_versions("huggingface_hub", "transformers"),
    })
