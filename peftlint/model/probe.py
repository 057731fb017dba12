"""What a resolution depends on, checked without resolving: the stat data of every file
:func:`peftlint.model.resolve.resolve` would look at for a reference. The result cache compares
these to decide, with a few ``stat`` calls and no import of huggingface_hub, whether a model
reference still resolves to what it did."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any, Sequence

from peftlint.model.hub import BUNDLED_INDEX, default_hf_cache
from peftlint.model.resolve import ResolveOptions, _looks_like_path, expand_alias, split_subfolder
from peftlint.reading import NotReadable, read_limited


def resolution_probes(
    ref: str,
    *,
    revision: str | None = None,
    base_dirs: Sequence[str] = (),
    options: ResolveOptions,
    location: str | None = None,
    subfolder: str | None = None,
) -> list[Any]:
    """The state of every file :func:`resolve` would look at for ``ref``, as stat data (no import of
    huggingface_hub beyond its constants, no parsing): equal probes mean an equal resolution.

    Covers the local candidates (each ``<dir>/<ref>`` and its config.json), the Hugging Face cache
    folder of the repo (``refs/<revision>``, ``snapshots/``, ``snapshots/<commit>/config.json``,
    ``.no_exist/<commit>/config.json``: the layout ``try_to_load_from_cache`` reads), the bundled
    index and the file that was read (``location``). A change anywhere there changes the probes; the
    caller then resolves for real.
    """
    ref, search_dirs = expand_alias(ref, base_dirs, options)
    if subfolder is None:
        ref, subfolder = split_subfolder(ref)
    # a diffusers component lives in a folder of its repository; the pipeline's model_index.json
    # says which components exist
    names = [f"{subfolder.strip('/')}/config.json", "model_index.json"] if subfolder else ["config.json", "model_index.json"]
    expanded = os.path.expanduser(ref)
    # string paths, not pathlib: a warm run takes these probes for every model reference of every
    # file, and building Path objects cost more than the stat calls
    join = os.path.join
    probes: list[Any] = [ref, subfolder]
    for cand in [join(os.fspath(b), expanded) for b in search_dirs] + [expanded]:
        probes += [_stat(cand or ".")] + [_stat(join(cand, n)) for n in names]
    if not _looks_like_path(ref) and ref.strip():
        cache_dir = options.hf_cache_dir or default_hf_cache()
        repo = str(Path(cache_dir) / ("models--" + ref.replace("/", "--")))
        probes += [repo, _stat(repo)]
        if probes[-1] is not None:
            wanted = revision or "main"
            commit = _read_small(Path(repo, "refs", wanted))
            snapshots, missing = join(repo, "snapshots"), join(repo, ".no_exist")
            probes += [commit, _stat(snapshots)]
            for rev in dict.fromkeys([commit or wanted, wanted]):
                probes.append(_stat(join(snapshots, rev)))
                for n in names:
                    probes += [_stat(join(snapshots, rev, n)), _stat(join(missing, rev, n))]
        probes.append(_stat(BUNDLED_INDEX))
    if options.online:
        probes.append("online")
    if location:
        probes.append(_stat(location))
    return probes


def _stat(path: str | Path) -> list[int] | None:
    """(kind, size, mtime, inode) of ``path`` following symlinks, None when absent."""
    try:
        st = os.stat(path)
    except (OSError, ValueError):
        return None
    return [int(stat.S_ISDIR(st.st_mode)), st.st_size, st.st_mtime_ns, st.st_ino]


def _read_small(path: Path) -> str | None:
    try:
        return read_limited(path, 4096).decode("utf-8")[:200]  # a ref file holds one commit hash
    except (OSError, NotReadable, UnicodeDecodeError):
        return None
