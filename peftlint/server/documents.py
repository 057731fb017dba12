"""Open documents and their latest lint: which file each buffer stands for, the settings of its
nearest ``[tool.peftlint]``, and one warm ``Linter`` per project (its models stay built)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlparse

from peftlint.config import Settings, find_pyproject, load_settings
from peftlint.engine.results import RunResult
from peftlint.engine.run import Linter

# A buffer that is not a file yet (``untitled:``) is linted as a file of its language in the workspace.
_UNTITLED_NAMES = {"python": "untitled.py", "json": "adapter_config.json", "yaml": "untitled.yaml",
                   "jupyter": "untitled.ipynb", "shellscript": "untitled.sh"}


def uri_path(uri: str, language: str | None, root: Path | None) -> Path:
    """The file a document URI stands for."""
    parsed = urlparse(uri)
    if parsed.scheme == "file":
        return Path(unquote(parsed.path))
    return (root or Path.cwd()) / _UNTITLED_NAMES.get(language or "", "untitled.py")


@dataclass
class Linted:
    """One lint of one version of a document."""

    version: int | None
    text: str
    path: Path
    result: RunResult
    linter: Linter


class Projects:
    """One ``Linter`` per ``[tool.peftlint]`` (re-made when its pyproject.toml changes), so the
    models a project's buffers need are resolved and built once per session."""

    def __init__(self, root: Path | None = None) -> None:
        self.root = root
        self._linters: dict[str, tuple[tuple[int, int] | None, Linter]] = {}

    def linter_for(self, path: Path) -> Linter:
        """The linter of ``path``'s project; raises ``SettingsError`` for a bad [tool.peftlint]."""
        pyproject = find_pyproject(path.parent)
        key = str(pyproject.parent) if pyproject else ""
        stamp = _stamp(pyproject)
        known = self._linters.get(key)
        if known is not None and known[0] == stamp:
            return known[1]
        settings: Settings = load_settings(path.parent)
        cwd = Path(settings.project_root) if settings.project_root else (self.root or path.parent)
        linter = Linter(settings, cwd)
        self._linters[key] = (stamp, linter)
        return linter

    def lint(self, text: str, path: Path, version: int | None) -> Linted:
        linter = self.linter_for(path)
        return Linted(version, text, path, linter.lint_text(text, path), linter)


def _stamp(pyproject: Path | None) -> tuple[int, int] | None:
    if pyproject is None:
        return None
    try:
        st = os.stat(pyproject)
    except OSError:
        return None
    return st.st_mtime_ns, st.st_size
