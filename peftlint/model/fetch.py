"""Put a model's config.json into the Hugging Face cache ahead of a run: what
``peftlint cache fetch`` does for every model a project names, so that later runs resolve them
offline. Uses resolve.py's own lookups and download (only config.json, through huggingface_hub:
token and endpoint from the usual HF environment)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Sequence

from peftlint.model.hub import ResolveFailed, default_hf_cache, download_config, find_bundled, find_in_hf_cache
from peftlint.model.names import named_paths_problem
from peftlint.model.resolve import ResolveOptions, as_repo_id, expand_alias, find_local, split_subfolder


@dataclass
class Fetched:
    """What ``fetch_config`` did for one model reference."""

    ref: str  # as named (before alias expansion)
    outcome: str  # "fetched" | "cached" | "bundled" | "local" | "failed"
    detail: str = ""  # the config.json path, or why it failed


def fetch_config(
    ref: str,
    *,
    revision: str | None = None,
    subfolder: str | None = None,
    base_dirs: Sequence[str] = (),
    options: ResolveOptions,
) -> Fetched:
    """Download ``ref``'s config.json unless it is already available: a local directory, the
    Hugging Face cache at that revision (and subfolder), the bundled set. ``HF_ENDPOINT`` is read
    when called (huggingface_hub reads it once, at import)."""
    bad = named_paths_problem(revision, subfolder)
    if bad is not None:
        return Fetched(ref, "failed", bad)
    expanded, search_dirs = expand_alias(ref, base_dirs, options)
    if subfolder is None:
        expanded, subfolder = split_subfolder(expanded)
    sub = (subfolder or "").strip("/")
    local, _, _ = find_local(expanded, search_dirs, sub or None)
    if local is not None:
        return Fetched(ref, "local", str(local))
    repo_id = as_repo_id(expanded)
    if repo_id is None:
        return Fetched(ref, "failed", f"{expanded} is neither a local directory with a config.json nor a Hugging Face "
                       "Hub id")
    cache_dir = options.hf_cache_dir or default_hf_cache()
    cached = find_in_hf_cache(repo_id, revision, cache_dir, f"{sub}/config.json" if sub else "config.json")
    if cached is not None:
        return Fetched(ref, "cached", cached)
    bundled = find_bundled(repo_id, sub or None)
    if bundled is not None:
        return Fetched(ref, "bundled", str(bundled))
    endpoint = options.endpoint or os.environ.get("HF_ENDPOINT") or None
    try:
        return Fetched(ref, "fetched", download_config(repo_id, revision, cache_dir, endpoint, sub or None))
    except ResolveFailed as exc:
        return Fetched(ref, "failed", str(exc))
