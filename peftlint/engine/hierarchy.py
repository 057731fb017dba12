"""Hierarchical settings: each file is linted with the configuration nearest to it (ruff's
discovery), so ``peftlint check proj`` from a parent directory, an editor and a monorepo with one
``[tool.peftlint]`` per project all read the right one.

A directory's configuration is its ``.peftlint.toml``, ``peftlint.toml`` or a ``pyproject.toml``
with a ``[tool.peftlint]`` table (``config.config_in``). Files without one above them use the run's
base settings (the configuration nearest to the current directory). ``--config`` turns this off:
one configuration for every file. The command line's options apply on top of every configuration,
and the settings a repository may not set (``trust-remote-code``, ``online``, ``cache-dir``) are
ignored in each of them as in any other (config.py).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Callable

from peftlint.config import Settings, config_in
from peftlint.engine import discover as disc


class Hierarchy:
    def __init__(self, base: Settings, base_config: Path | None, load: Callable[[Path], Settings]) -> None:
        """``base``: the settings of files with no configuration of their own above them, read from
        ``base_config``; ``load(path)``: the finished settings of another configuration file (the
        command line's options applied; it may raise ``SettingsError``)."""
        self.base = base
        self.base_config = base_config.resolve() if base_config is not None else None
        self.load = load
        self._configs: dict[str, Path | None] = {}
        self._settings: dict[Path, Settings] = {}

    def config_for(self, directory: str, walker: disc.Walker) -> Path | None:
        """The configuration file nearest to ``directory`` (memoised per directory)."""
        chain = []
        d = directory
        found: Path | None = None
        while True:
            if d in self._configs:
                found = self._configs[d]
                break
            chain.append(d)
            listed = walker.config_names.get(d)
            here = config_in(Path(d), listed) if listed is None or listed else None
            if here is not None:
                found = here
                break
            parent = os.path.dirname(d)
            if parent == d:
                break
            d = parent
        for c in chain:
            self._configs[c] = found
        return found

    def settings_for(self, config: Path | None) -> Settings:
        # walked and named paths are already resolved (engine.discover), so are the configs found there
        if config is None or config == self.base_config:
            return self.base
        if config not in self._settings:
            self._settings[config] = self.load(config)
        return self._settings[config]

    def split(self, cands: list[disc.Candidate], walker: disc.Walker) -> list[tuple[Settings, list[disc.Candidate]]] | None:
        """The candidates grouped by their settings (base settings first), or None when every one
        uses the base settings. A file another configuration excludes is dropped, as its own run
        would have: walked files always, files named on the command line with ``force-exclude``."""
        groups: dict[int, tuple[Settings, list[disc.Candidate]]] = {}
        excluders: dict[int, disc.Walker] = {}
        for cand in cands:
            settings = self.settings_for(self.config_for(os.path.dirname(str(cand.path)), walker))
            if settings is not self.base and (settings.exclude or settings.extend_exclude):
                ex = excluders.get(id(settings))
                if ex is None:
                    ex = excluders[id(settings)] = disc.Walker(
                        settings.exclude + settings.extend_exclude, root=Path(settings.project_root or "."),
                        force_exclude=True)
                if (not cand.explicit or settings.force_exclude) and ex.force_excluded(cand.path):
                    continue
            groups.setdefault(id(settings), (settings, []))[1].append(cand)
        if not groups or list(groups) == [id(self.base)]:
            return None
        return sorted(groups.values(), key=lambda g: g[0] is not self.base)
