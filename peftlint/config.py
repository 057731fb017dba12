"""Settings: ``[tool.peftlint]`` in pyproject.toml, overridden by the command line; rule selection."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib


class SettingsError(Exception):
    """A configuration problem that stops the whole run (exit code 2)."""


@dataclass
class Settings:
    select: list[str] = field(default_factory=list)  # empty = all rules
    extend_select: list[str] = field(default_factory=list)
    ignore: list[str] = field(default_factory=list)
    per_file_ignores: dict[str, list[str]] = field(default_factory=dict)
    exclude: list[str] = field(default_factory=list)
    model: str | None = None  # the project's base model (fallback for configs the code does not link)
    cli_model: str | None = None  # --model: wins over what the code says
    models: dict[str, str] = field(default_factory=dict)  # alias -> hub id or local path
    online: bool = False
    strict: bool = False
    cache_dir: str | None = None
    no_cache: bool = False
    trust_remote_code: bool = False
    unsafe_fixes: bool = False
    project_root: str | None = None  # directory of the pyproject.toml that was read

    def selects(self, code: str) -> bool:
        """ruff's selection: select (default all) plus extend-select, minus ignore; prefixes allowed."""
        chosen = prefix_hit(code, self.select) if self.select else True
        chosen = chosen or prefix_hit(code, self.extend_select)
        return chosen and not prefix_hit(code, self.ignore)

    def cache_directory(self) -> Path | None:
        """Where caches live: ``cache-dir``, else the user cache directory; None with ``--no-cache``."""
        if self.no_cache:
            return None
        from peftlint.store import default_cache_dir

        return Path(self.cache_dir) if self.cache_dir else default_cache_dir()


def prefix_hit(code: str, selectors: list[str]) -> bool:
    """Whether ``code`` is named by one of ``selectors`` (codes, prefixes such as ``PFT1``, or ``ALL``)."""
    code = code.upper()
    return any(s.upper() == "ALL" or code.startswith(s.upper()) for s in selectors)


_KEYS = {
    "select": "select",
    "extend-select": "extend_select",
    "ignore": "ignore",
    "per-file-ignores": "per_file_ignores",
    "exclude": "exclude",
    "model": "model",
    "models": "models",
    "online": "online",
    "strict": "strict",
    "cache-dir": "cache_dir",
    "trust-remote-code": "trust_remote_code",
}


def find_pyproject(start: Path) -> Path | None:
    start = start.resolve()
    for d in [start, *start.parents]:
        p = d / "pyproject.toml"
        if p.is_file():
            return p
    return None


def load_settings(start: Path, config_file: Path | None = None) -> Settings:
    """Read ``[tool.peftlint]`` from ``config_file`` or the nearest pyproject.toml above ``start``."""
    path = config_file or find_pyproject(start)
    if path is None:
        return Settings()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise SettingsError(f"{path}: cannot read [tool.peftlint]: {exc}") from exc
    table = data.get("tool", {}).get("peftlint", {})
    if not isinstance(table, dict):
        raise SettingsError(f"{path}: [tool.peftlint] must be a table")
    return settings_from_table(table, path)


def settings_from_table(table: dict[str, Any], path: Path) -> Settings:
    values: dict[str, Any] = {"project_root": str(path.parent)}
    for key, value in table.items():
        attr = _KEYS.get(key) or _KEYS.get(key.replace("_", "-"))
        if attr is None:
            known = ", ".join(sorted(_KEYS))
            raise SettingsError(f"{path}: unknown key {key!r} in [tool.peftlint] (known keys: {known})")
        values[attr] = _check_type(path, key, attr, value)
    return Settings(**values)


def _check_type(path: Path, key: str, attr: str, value: Any) -> Any:
    expected = {f.name: f.type for f in fields(Settings)}[attr]
    ok = True
    if "list[str]" in expected and "dict" not in expected:
        ok = isinstance(value, list) and all(isinstance(v, str) for v in value)
    elif "dict[str, list[str]]" in expected:
        ok = isinstance(value, dict) and all(
            isinstance(v, list) and all(isinstance(c, str) for c in v) for v in value.values()
        )
    elif "dict[str, str]" in expected:
        ok = isinstance(value, dict) and all(isinstance(v, str) for v in value.values())
    elif expected == "bool":
        ok = isinstance(value, bool)
    elif "str" in expected:
        ok = isinstance(value, str)
    if not ok:
        raise SettingsError(f"{path}: [tool.peftlint] {key} has the wrong type ({type(value).__name__})")
    return value


def merge_cli(settings: Settings, **cli: Any) -> Settings:
    """CLI values win over the file; None means 'not given'."""
    given = {k: v for k, v in cli.items() if v is not None}
    return replace(settings, **given)
