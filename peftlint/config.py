"""Settings: ``[tool.peftlint]`` in pyproject.toml, overridden by the command line; rule selection.

Settings that widen what peftlint may do — run a model's own code (``trust-remote-code``), use the
network (``online``), write somewhere (``cache-dir``) — come only from the command line or the
user's environment (``PEFTLINT_TRUST_REMOTE_CODE``, ``PEFTLINT_ONLINE``, ``PEFTLINT_CACHE_DIR``),
never from the linted repository: a pull request must not be able to make CI run its code. When a
repository's pyproject.toml asks for one of them, it is ignored and ``Settings.notes`` says how to
enable it.
"""

from __future__ import annotations

import os
import re
import sys
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import ModuleType
from typing import Any, Iterable

from peftlint.reading import DEFAULT_MAX_FILE_SIZE, NotReadable, read_limited, read_text_limited


def _tomllib() -> ModuleType:
    """tomllib, imported when a file is parsed: compiling its patterns costs a run without any
    configuration (most pyproject.toml files fail the cheap text test of ``_has_table``) ~5 ms."""
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover
        import tomli as tomllib
    return tomllib


# Defaults of the limits (documented in docs/configuration.md).
DEFAULT_REGEX_TIMEOUT = 1.0
MAX_REGEX_TIMEOUT = 60.0  # seconds; a larger regex-timeout (or inf) is a configuration error
DEFAULT_MAX_MODEL_MODULES = 10_000  # the largest real models have 1,000-3,000


class SettingsError(Exception):
    """A configuration problem that stops the whole run (exit code 2)."""


@dataclass
class Settings:
    """What a run is allowed and asked to do: ``[tool.peftlint]`` with the command line on top."""

    select: list[str] = field(default_factory=list)  # empty = all rules
    extend_select: list[str] = field(default_factory=list)
    ignore: list[str] = field(default_factory=list)
    per_file_ignores: dict[str, list[str]] = field(default_factory=dict)
    exclude: list[str] = field(default_factory=list)
    extend_exclude: list[str] = field(default_factory=list)
    force_exclude: bool = False  # the excludes apply to paths named on the command line too
    output_format: str | None = None  # --output-format when not given on the command line
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
    config_file: str | None = None  # the configuration file that was read
    # limits (they bound what a run costs, so a repository may set them)
    max_file_size: int = DEFAULT_MAX_FILE_SIZE  # bytes; larger files are not read (PFT907)
    regex_timeout: float = DEFAULT_REGEX_TIMEOUT  # seconds one user regex may spend matching (PFT212)
    max_model_modules: int = DEFAULT_MAX_MODEL_MODULES  # modules a meta-device build may create
    # settings the repository asked for and that were ignored, with how to enable them (stderr)
    notes: list[str] = field(default_factory=list)

    def selects(self, code: str) -> bool:
        """ruff's selection: select (default all) plus extend-select, minus ignore; prefixes allowed.
        As in ruff, the most specific selector naming the code decides (a whole code in select keeps
        it when ignore names only its family's prefix), and ignore wins between equally specific ones."""
        chosen = max(specificity(code, self.select) if self.select else 0, specificity(code, self.extend_select))
        return chosen >= 0 and chosen > specificity(code, self.ignore)

    def cache_directory(self) -> Path | None:
        """Where caches live: ``cache-dir``, else the user cache directory; None with ``--no-cache``."""
        if self.no_cache:
            return None
        from peftlint.store import default_cache_dir

        return Path(self.cache_dir) if self.cache_dir else default_cache_dir()


def specificity(code: str, selectors: list[str]) -> int:
    """How specific the most specific selector naming ``code`` is (its length; ``ALL`` is 0), or -1."""
    code = code.upper()
    return max((0 if s.upper() == "ALL" else len(s) for s in selectors
                if s.upper() == "ALL" or code.startswith(s.upper())), default=-1)


def prefix_hit(code: str, selectors: list[str]) -> bool:
    """Whether ``code`` is named by one of ``selectors`` (codes, prefixes such as ``PFT1``, or ``ALL``)."""
    return specificity(code, selectors) >= 0


_KEYS = {
    "select": "select",
    "extend-select": "extend_select",
    "ignore": "ignore",
    "per-file-ignores": "per_file_ignores",
    "exclude": "exclude",
    "extend-exclude": "extend_exclude",
    "force-exclude": "force_exclude",
    "output-format": "output_format",
    "model": "model",
    "models": "models",
    "online": "online",
    "strict": "strict",
    "cache-dir": "cache_dir",
    "trust-remote-code": "trust_remote_code",
    "max-file-size": "max_file_size",
    "regex-timeout": "regex_timeout",
    "max-model-modules": "max_model_modules",
}

# Keys a repository may not set (see the module docstring): key -> (how to enable, widening test)
_USER_ONLY = {
    "online": ("pass --online or set PEFTLINT_ONLINE=1", lambda v: v is True),
    "trust-remote-code": ("pass --trust-remote-code or set PEFTLINT_TRUST_REMOTE_CODE=1", lambda v: v is True),
    "cache-dir": ("pass --cache-dir or set PEFTLINT_CACHE_DIR", lambda v: True),
}
ENV_ONLINE = "PEFTLINT_ONLINE"
ENV_TRUST_REMOTE_CODE = "PEFTLINT_TRUST_REMOTE_CODE"


# A directory's peftlint configuration, first found wins (ruff's order for .ruff.toml, ruff.toml,
# pyproject.toml): peftlint.toml files hold the keys at the top level, pyproject.toml under
# [tool.peftlint] (a pyproject.toml without that table is not a peftlint configuration).
CONFIG_NAMES = (".peftlint.toml", "peftlint.toml", "pyproject.toml")


def config_in(directory: Path, listed: Iterable[str] | None = None) -> Path | None:
    """The peftlint configuration file of ``directory``, or None. ``listed``: the directory's file
    names when the caller has them (then only a pyproject.toml is read, to see its table)."""
    names = set(listed) if listed is not None else None
    for name in CONFIG_NAMES:
        path = directory / name
        if names is not None and name not in names:
            continue
        if names is None and not path.is_file():
            continue
        if name != "pyproject.toml" or _has_table(path):
            return path
    return None


def _has_table(pyproject: Path) -> bool:
    """Whether a pyproject.toml has a [tool.peftlint] table (a cheap text test first). One that names
    peftlint but cannot be read (not UTF-8, not TOML) counts: reading it reports why."""
    try:
        data = read_limited(pyproject, DEFAULT_MAX_FILE_SIZE)
    except (OSError, NotReadable):
        return False
    if b"peftlint" not in data:
        return False
    try:
        tool = _parse_toml(data.decode("utf-8")).get("tool", {})
    except (ValueError, SettingsError):  # UnicodeDecodeError, TOMLDecodeError
        return True
    return isinstance(tool, dict) and "peftlint" in tool


def _parse_toml(text: str) -> dict[str, Any]:
    """``tomllib.loads``; what it raises beyond TOMLDecodeError on hostile text (an integer over
    Python's 4,300-digit limit, arrays nested past the recursion limit) becomes ``SettingsError``."""
    tomllib = _tomllib()
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        raise
    except ValueError as exc:  # int() of a 5,000-digit integer
        raise SettingsError(f"{str(exc).split(';')[0]}") from None
    except RecursionError:
        raise SettingsError("values nested too deeply") from None
    except MemoryError:
        raise SettingsError("too large to parse") from None


def find_config(start: Path) -> Path | None:
    """The configuration nearest to ``start`` (itself or a parent directory)."""
    start = start.resolve()
    for d in [start, *start.parents]:
        found = config_in(d)
        if found is not None:
            return found
    return None


def find_pyproject(start: Path) -> Path | None:
    start = start.resolve()
    for d in [start, *start.parents]:
        p = d / "pyproject.toml"
        if p.is_file():
            return p
    return None


def load_settings(start: Path, config_file: Path | None = None) -> Settings:
    """Settings from ``config_file`` or the configuration nearest to ``start`` (see ``CONFIG_NAMES``)."""
    path = config_file or find_config(start)
    if path is None:
        return apply_environment(Settings())
    return load_settings_file(path)


def load_settings_file(path: Path) -> Settings:
    """``[tool.peftlint]`` of a pyproject.toml, or the top-level keys of a peftlint.toml."""
    tomllib = _tomllib()
    try:
        data = _parse_toml(read_text_limited(path, DEFAULT_MAX_FILE_SIZE))
    except (OSError, UnicodeDecodeError, NotReadable, tomllib.TOMLDecodeError, SettingsError) as exc:
        raise SettingsError(f"{path}: cannot read [tool.peftlint]: {exc}") from None
    if path.name == "pyproject.toml":
        tool = data.get("tool", {})
        table = tool.get("peftlint", {}) if isinstance(tool, dict) else {}
    else:
        table = data
    if not isinstance(table, dict):
        raise SettingsError(f"{path}: [tool.peftlint] must be a table")
    return apply_environment(settings_from_table(table, path))


def settings_from_table(table: dict[str, Any], path: Path) -> Settings:
    values: dict[str, Any] = {"project_root": str(path.parent), "config_file": str(path)}
    notes: list[str] = []
    for key, value in table.items():
        attr = _KEYS.get(key) or _KEYS.get(key.replace("_", "-"))
        if attr is None:
            known = ", ".join(sorted(_KEYS))
            raise SettingsError(f"{path}: unknown key {key!r} in [tool.peftlint] (known keys: {known})")
        value = _check_type(path, key, attr, value)
        canonical = attr.replace("_", "-")
        if canonical in _USER_ONLY:
            how, widens = _USER_ONLY[canonical]
            if widens(value):
                notes.append(f"{path}: ignoring `{key} = {_toml(value)}` in [tool.peftlint]: settings that let "
                             f"peftlint run model code, use the network or choose where it writes are not read from "
                             f"the linted repository; {how} to enable it")
            continue
        values[attr] = value
    return Settings(**values, notes=notes)


def _toml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return f'"{value}"' if isinstance(value, str) else str(value)


def apply_environment(settings: Settings) -> Settings:
    """``PEFTLINT_ONLINE`` / ``PEFTLINT_TRUST_REMOTE_CODE`` (1/0, true/false, yes/no, on/off).
    ``PEFTLINT_CACHE_DIR`` is read where the cache directory is chosen (``store.default_cache_dir``)."""
    for var, attr in ((ENV_ONLINE, "online"), (ENV_TRUST_REMOTE_CODE, "trust_remote_code")):
        raw = os.environ.get(var)
        if raw is None or not raw.strip():
            continue
        word = raw.strip().lower()
        if word not in ("1", "true", "yes", "on", "0", "false", "no", "off"):
            raise SettingsError(f"{var}={raw!r}: expected 1 or 0 (true/false, yes/no, on/off)")
        value = word in ("1", "true", "yes", "on")
        settings = replace(settings, online=value) if attr == "online" else replace(settings, trust_remote_code=value)
    return settings


_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(b|kb|k|kib|mb|m|mib|gb|g|gib)?\s*$", re.IGNORECASE)
_UNITS = {"": 1, "b": 1, "k": 1 << 10, "kb": 1 << 10, "kib": 1 << 10, "m": 1 << 20, "mb": 1 << 20,
          "mib": 1 << 20, "g": 1 << 30, "gb": 1 << 30, "gib": 1 << 30}


def parse_size(value: Any) -> int | None:
    """A size in bytes from an int or a string such as ``"20MB"`` (1 MB = 1024 KB); None if invalid."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value > 0 else None
    if isinstance(value, str):
        m = _SIZE.match(value)
        if m:
            n = int(float(m.group(1)) * _UNITS[(m.group(2) or "").lower()])
            return n if n > 0 else None
    return None


def _check_limit(path: Path, key: str, attr: str, value: Any) -> Any:
    if attr == "max_file_size":
        size = parse_size(value)
        if size is None:
            raise SettingsError(f'{path}: [tool.peftlint] {key} must be a size such as 10485760 or "20MB"')
        return size
    if attr == "regex_timeout":
        # inf (and nan) would make the regex budget unbounded: a configuration error, not a crash
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value <= MAX_REGEX_TIMEOUT:
            raise SettingsError(f"{path}: [tool.peftlint] {key} must be a number of seconds above 0 and at most "
                                f"{MAX_REGEX_TIMEOUT:g}")
        return float(value)
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise SettingsError(f"{path}: [tool.peftlint] {key} must be a whole number above 0")
    return value


def _check_type(path: Path, key: str, attr: str, value: Any) -> Any:
    if attr in ("max_file_size", "regex_timeout", "max_model_modules"):
        return _check_limit(path, key, attr, value)
    import typing

    from peftlint import typedjson

    try:
        return typedjson.check(typing.get_type_hints(Settings)[attr], value, key)
    except typedjson.ShapeError:
        raise SettingsError(f"{path}: [tool.peftlint] {key} has the wrong type ({type(value).__name__})") from None


def merge_cli_selection(settings: Settings, select: list[str] | None, extend_select: list[str] | None,
                        ignore: list[str] | None) -> Settings:
    """ruff's layering of the command line's selection over a configuration's: ``--select`` starts
    afresh (the configuration's select, extend-select and ignore are dropped); without it,
    ``--extend-select`` and ``--ignore`` add to the configuration's, and a code the configuration
    ignores is enabled again by an ``--extend-select`` naming it or a prefix of it."""
    if select is not None:
        return replace(settings, select=select, extend_select=extend_select or [], ignore=ignore or [])
    extend = extend_select or []
    kept = [c for c in settings.ignore if not prefix_hit(c, extend)]
    return replace(settings, extend_select=settings.extend_select + extend, ignore=kept + (ignore or []))


def merge_cli(settings: Settings, **cli: Any) -> Settings:
    """CLI values win over the file; None means 'not given'."""
    given = {k: v for k, v in cli.items() if v is not None}
    return replace(settings, **given)
